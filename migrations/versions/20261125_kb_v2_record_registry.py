"""content format 2: the service record as JSON on kb_services (one shape
end to end), the regulation registry, the citation index and review flags;
the per-field child tables (requirements, fees, steps, channels, legal
bases) and the duplicated columns go.

Existing pages and open drafts are converted mechanically (fee amount words
-> kind, duration text/max_days -> processing part + note, channel type ->
kind); their legal basis stays as text until the next ``flask content load``
replaces them with registry ids.  Stored versions keep the shape they were
published in; the history pages read both.

Revision ID: c5d1e2a7b9f0
Revises: 7a63d63223c0
Create Date: 2026-11-25 16:30:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = "c5d1e2a7b9f0"
down_revision = "b1a7c0de0012"
branch_labels = None
depends_on = None

CHILD_TABLES = ("kb_requirements", "kb_fees", "kb_steps", "kb_channels", "kb_legal_bases")
OLD_COLUMNS = ("aliases", "duration_text", "duration_days", "contact_phone", "contact_email", "contact_website",
               "contact_note", "notes_md")


def _compact(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def v1_to_v2(s: dict) -> dict:
    """A format-1 snapshot (ServiceRecord.to_dict of issue 7) in format 2."""
    fees = []
    for f in s.get("fees") or []:
        kind = {"fixed": "fixed", "free": "free", "variable": "by_region"}.get(f.get("kind"), "by_region")
        note = f.get("note")
        if f.get("legal_basis"):
            note = (note + " " if note else "") + f"Dasar tarif: {f['legal_basis']}."
        if kind == "by_region" and not note:
            note = "Besarnya berbeda; tanyakan ke kantor layanan."
        fees.append(_compact({"label": f.get("label"), "kind": kind,
                              "amount": f.get("amount") if kind == "fixed" else None, "note": note}))
    d = s.get("duration") or {}
    text = d.get("text") or ""
    duration = {}
    if d.get("max_days") is not None:
        duration["processing"] = {"max": d["max_days"],
                                  "unit": "working_days" if "hari kerja" in text else "calendar_days"}
    if text:
        duration["note"] = text
    return {
        "slug": s["slug"], "title": s["title"], "agency": s["agency"], "category": s["category"],
        "summary": s["summary"], "aliases": list(s.get("aliases") or []),
        "requirements": list(s.get("requirements") or []), "fees": fees, "duration": duration,
        "steps": list(s.get("steps") or []),
        "channels": [_compact({**c, "kind": c.get("kind") or c.get("type"), "type": None})
                     for c in s.get("channels") or []],
        "legal_basis": list(s.get("legal_basis") or []), "contact": _compact(dict(s.get("contact") or {})),
        "local_variation": None, "sources": {}, "last_reviewed": s["last_reviewed"], "notes": s.get("notes") or "",
    }


def _load(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    op.create_table(
        "kb_regulations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("amended_by", sa.JSON(), nullable=False),
        sa.Column("replaced_by", sa.JSON(), nullable=True),
        sa.Column("checked", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('in_force', 'amended', 'repealed')",
                           name=op.f("ck_kb_regulations_regulation_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_regulations")),
        sa.UniqueConstraint("key", name=op.f("uq_kb_regulations_key")),
    )
    op.create_table(
        "kb_service_citations",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("field_group", sa.String(length=20), nullable=False),
        sa.Column("regulation_key", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["regulation_key"], ["kb_regulations.key"],
                                name=op.f("fk_kb_service_citations_regulation_key_kb_regulations")),
        sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"],
                                name=op.f("fk_kb_service_citations_service_id_kb_services"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("service_id", "field_group", "regulation_key", name=op.f("pk_kb_service_citations")),
    )
    with op.batch_alter_table("kb_service_citations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_service_citations_regulation_key"), ["regulation_key"], unique=False)
    op.create_table(
        "kb_review_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("regulation_key", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"], name=op.f("fk_kb_review_flags_resolved_by_id_users")),
        sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"],
                                name=op.f("fk_kb_review_flags_service_id_kb_services"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_review_flags")),
    )
    with op.batch_alter_table("kb_review_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_review_flags_resolved_at"), ["resolved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_review_flags_service_id"), ["service_id"], unique=False)
    with op.batch_alter_table("kb_agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent", sa.String(length=200), nullable=True))
    with op.batch_alter_table("kb_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record", sa.JSON(), nullable=True))

    conn = op.get_bind()
    _convert_services(conn)
    drafts = sa.table("kb_service_drafts", sa.column("id", sa.Integer), sa.column("status", sa.String),
                      sa.column("snapshot", sa.JSON))
    for draft_id, snapshot in conn.execute(sa.select(drafts.c.id, drafts.c.snapshot)
                                           .where(drafts.c.status.in_(("draft", "in_review")))).all():
        snapshot = _load(snapshot)
        if isinstance(snapshot, dict) and "text" in (snapshot.get("duration") or {}):
            conn.execute(drafts.update().where(drafts.c.id == draft_id).values(snapshot=v1_to_v2(snapshot)))

    with op.batch_alter_table("kb_services", schema=None) as batch_op:
        batch_op.alter_column("record", existing_type=sa.JSON(), nullable=False)
        for column in OLD_COLUMNS:
            batch_op.drop_column(column)
    for table in CHILD_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_service_id"))
        op.drop_table(table)


def _convert_services(conn) -> None:
    meta = sa.MetaData()
    services = sa.Table("kb_services", meta, autoload_with=conn)
    agencies = sa.Table("kb_agencies", meta, autoload_with=conn)
    categories = sa.Table("kb_categories", meta, autoload_with=conn)
    children = {t: sa.Table(t, meta, autoload_with=conn) for t in CHILD_TABLES}

    def rows(table, service_id):
        t = children[table]
        return conn.execute(sa.select(t).where(t.c.service_id == service_id).order_by(t.c.position)).mappings().all()

    query = (sa.select(services, agencies.c.slug.label("agency_slug"), categories.c.slug.label("category_slug"))
             .join(agencies, agencies.c.id == services.c.agency_id)
             .join(categories, categories.c.id == services.c.category_id))
    for s in conn.execute(query).mappings().all():
        v1 = {
            "slug": s["slug"], "title": s["title"], "agency": s["agency_slug"], "category": s["category_slug"],
            "summary": s["summary"], "aliases": _load(s["aliases"]) or [],
            "requirements": [r["text"] for r in rows("kb_requirements", s["id"])],
            "fees": [{"label": f["label"], "kind": f["kind"], "amount": f["amount"], "legal_basis": f["legal_basis"],
                      "note": f["note"]} for f in rows("kb_fees", s["id"])],
            "duration": {"text": s["duration_text"], "max_days": s["duration_days"]},
            "steps": [r["text"] for r in rows("kb_steps", s["id"])],
            "channels": [{k: c[k] for k in ("kind", "name", "address", "url", "hours", "note")}
                         for c in rows("kb_channels", s["id"])],
            "legal_basis": [b["title"] for b in rows("kb_legal_bases", s["id"])],
            "contact": {"phone": s["contact_phone"], "email": s["contact_email"], "website": s["contact_website"],
                        "note": s["contact_note"]},
            "last_reviewed": s["last_reviewed"].isoformat() if hasattr(s["last_reviewed"], "isoformat")
            else str(s["last_reviewed"]),
            "notes": s["notes_md"] or "",
        }
        conn.execute(services.update().where(services.c.id == s["id"]).values(record=v1_to_v2(v1)))


def downgrade():
    """Back to the child tables, filled from the records (fee kinds that
    format 1 cannot express become "variable"; sources are dropped)."""
    op.create_table(
        "kb_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=300), nullable=True),
        sa.Column("hours", sa.String(length=300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"], name=op.f("fk_kb_channels_service_id_kb_services"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_channels")),
    )
    op.create_table(
        "kb_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("legal_basis", sa.String(length=300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('fixed', 'free', 'variable')", name=op.f("ck_kb_fees_fee_kind")),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name=op.f("ck_kb_fees_fee_amount")),
        sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"], name=op.f("fk_kb_fees_service_id_kb_services"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_fees")),
    )
    for table, column in (("kb_legal_bases", "title"), ("kb_requirements", "text"), ("kb_steps", "text")):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("service_id", sa.Integer(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column(column, sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"], name=op.f(f"fk_{table}_service_id_kb_services"),
                                    ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
    for table in CHILD_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_service_id"), ["service_id"], unique=False)
    with op.batch_alter_table("kb_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("duration_text", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("duration_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("contact_website", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("contact_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("notes_md", sa.Text(), nullable=True))

    conn = op.get_bind()
    meta = sa.MetaData()
    services = sa.Table("kb_services", meta, autoload_with=conn)
    tables = {t: sa.Table(t, meta, autoload_with=conn) for t in CHILD_TABLES}
    for service_id, record in conn.execute(sa.select(services.c.id, services.c.record)).all():
        r = _load(record)
        text = lambda item: item if isinstance(item, str) else item.get("text", "")  # noqa: E731
        duration = r.get("duration") or {}
        parts = [duration.get(k) for k in ("processing", "lead_time", "waiting") if duration.get(k)]
        days = next((p.get("max") for p in parts if p.get("unit") in ("working_days", "calendar_days")), None)
        contact = r.get("contact") or {}
        conn.execute(services.update().where(services.c.id == service_id).values(
            aliases=r.get("aliases") or [], duration_text=(duration.get("note") or "-")[:300], duration_days=days,
            contact_phone=contact.get("phone"), contact_email=contact.get("email"),
            contact_website=contact.get("website"), contact_note=contact.get("note"), notes_md=r.get("notes") or ""))
        for i, item in enumerate(r.get("requirements") or []):
            conn.execute(tables["kb_requirements"].insert().values(service_id=service_id, position=i, text=text(item)))
        for i, item in enumerate(r.get("steps") or []):
            conn.execute(tables["kb_steps"].insert().values(service_id=service_id, position=i, text=text(item)))
        for i, ref in enumerate(r.get("legal_basis") or []):
            conn.execute(tables["kb_legal_bases"].insert().values(service_id=service_id, position=i, title=ref))
        for i, f in enumerate(r.get("fees") or []):
            kind = f["kind"] if f.get("kind") in ("fixed", "free") else "variable"
            conn.execute(tables["kb_fees"].insert().values(
                service_id=service_id, position=i, label=f.get("label", ""), kind=kind,
                amount=f.get("amount") if kind == "fixed" else None, note=f.get("note")))
        for i, c in enumerate(r.get("channels") or []):
            conn.execute(tables["kb_channels"].insert().values(
                service_id=service_id, position=i, kind="online" if c.get("kind") == "app" else c.get("kind"),
                name=c.get("name", ""), address=c.get("address"), url=c.get("url"), hours=c.get("hours"),
                note=c.get("note")))
    with op.batch_alter_table("kb_services", schema=None) as batch_op:
        batch_op.alter_column("aliases", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("duration_text", existing_type=sa.String(length=300), nullable=False)
        batch_op.alter_column("notes_md", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("record")
    with op.batch_alter_table("kb_agencies", schema=None) as batch_op:
        batch_op.drop_column("parent")
    with op.batch_alter_table("kb_review_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_review_flags_service_id"))
        batch_op.drop_index(batch_op.f("ix_kb_review_flags_resolved_at"))
    op.drop_table("kb_review_flags")
    with op.batch_alter_table("kb_service_citations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_service_citations_regulation_key"))
    op.drop_table("kb_service_citations")
    op.drop_table("kb_regulations")
