"""Knowledge-manager pages: /kelola (drafts, review, the regulation registry)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.extensions import db
from core.http import parse_int
from core.i18n import N_, _, ngettext
from core.security import require_capability

from . import bp, editor
from . import curation as cur
from .models import Agency, Category, Regulation, Service, ServiceCitation, ServiceDraft, ServiceFaq
from .presenters import KIND_LABELS, snapshot_diff
from .queries import service_or_none
from .record import GROUPS
from .registry import REG_STATUSES, REG_TYPES, STATUS_LABELS

# Form input -> the record fields whose errors it shows.
INPUT_FIELDS = {"contact_phone": ("contact.phone", "contact"), "contact_email": ("contact.email",),
                "contact_website": ("contact.website",), "contact_note": ("contact.note",),
                **{f"sources_{g}": (f"sources.{g}",) for g in GROUPS}}
YAML_GROUPS = ("fees", "duration", "channels")  # edited as YAML in the file's shape
ITEM_GROUPS = ("requirements", "steps")  # one per line, or YAML when an item has sources or marks


def _errors_for(errors: dict):
    def lookup(name: str) -> list[str]:
        prefixes = INPUT_FIELDS.get(name, (name,))
        return [f"{field}: {_(message)}" if field not in prefixes else _(message) for field, message in errors.items()
                if any(field == p or field.startswith(p + "[") or field.startswith(p + ".") for p in prefixes)]
    return lookup


@bp.errorhandler(cur.CurationError)
def _curation_error(exc: cur.CurationError):
    details = [f"{k}: {_(v)}" for k, v in exc.fields.items()]
    return render_template("problem.html", message=" ".join([_(exc.message)] + details),
                           back=request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                           else url_for("kb.curation_home")), exc.status


# ---------------------------------------------------------------- form <-> snapshot

class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, no anchors: the content file's look."""

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _short_lists_inline(dumper, data):
    """``sources: [pp-76-2020, "perpol-6-2023 Pasal 17"]`` as in content/README.md."""
    inline = bool(data) and all(isinstance(x, str) for x in data) and sum(len(x) + 2 for x in data) < 90
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=inline)


_Dumper.add_representer(list, _short_lists_inline)


def to_yaml(value) -> str:
    if value in (None, [], {}):
        return ""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000,
                     default_flow_style=False)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def form_from_snapshot(s: dict) -> dict:
    values = {
        "title": s.get("title", ""), "summary": s.get("summary", ""), "aliases": ", ".join(s.get("aliases") or []),
        "agency": s.get("agency", ""), "category": s.get("category", ""),
        "local_variation": s.get("local_variation") or "", "legal_basis": "\n".join(s.get("legal_basis") or []),
        "notes": s.get("notes") or "",
    }
    for group in ITEM_GROUPS:
        items = s.get(group) or []
        values[group] = "\n".join(items) if all(isinstance(i, str) for i in items) else to_yaml(items)
    for group in YAML_GROUPS:
        values[group] = to_yaml(s.get(group))
    for group in GROUPS:
        values[f"sources_{group}"] = "\n".join((s.get("sources") or {}).get(group) or [])
    for key in ("phone", "email", "website", "note"):
        values[f"contact_{key}"] = (s.get("contact") or {}).get(key) or ""
    return values


class _Loader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: an editor box never needs
    them, and aliases can make a tiny text expand into a huge structure."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "alias (*) tidak didukung", event.start_mark)
        return super().compose_node(parent, index)


MAX_BOX = 50_000  # characters in one YAML box


def _yaml_box(form, name: str, errors: dict):
    text = (form.get(name) or "").replace("\r\n", "\n")
    if not text.strip():
        return None
    if len(text) > MAX_BOX:
        errors[name] = N_("terlalu panjang (%(n)s karakter, maksimal %(max)s)", n=len(text), max=MAX_BOX)
        return None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc)
        errors[name] = (N_("baris %(line)s: YAML tidak valid: %(problem)s (bandingkan dengan contoh)", line=mark.line + 1,
                           problem=problem) if mark else
                        N_("YAML tidak valid: %(problem)s (bandingkan dengan contoh)", problem=problem))
        return None


def _items_box(form, name: str, errors: dict):
    """Plain lines, unless a line starts with "- " (then the box is YAML)."""
    text = form.get(name) or ""
    if any(line.lstrip().startswith("- ") or line.strip() == "-" for line in text.splitlines()):
        return _yaml_box(form, name, errors)
    return _lines(text)


class _Newlines:
    """A form whose text has the line breaks it was shown with: browsers send
    textarea text with CRLF, which would otherwise record an untouched
    multi-line field (the notes) as changed."""

    def __init__(self, form):
        self.form = form

    def get(self, name, default=None):
        value = self.form.get(name, default)
        return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value

    def keys(self):
        return self.form.keys()


def snapshot_from_form(form, base: dict, *, yaml_groups: bool = True) -> tuple[dict, dict]:
    """(snapshot in the record's shape, YAML syntax errors by input name).
    What the editor does not change (slug, review date) comes from ``base``;
    without ``yaml_groups`` fees, duration and channels are left to the
    structured rows (kb.editor)."""
    form = _Newlines(form)
    errors: dict = {}
    snapshot = {
        "slug": base["slug"], "agency": form.get("agency") or base["agency"],
        "category": form.get("category") or base["category"],
        "title": form.get("title", ""), "summary": form.get("summary", ""),
        "aliases": [a.strip() for a in form.get("aliases", "").split(",") if a.strip()],
        "legal_basis": _lines(form.get("legal_basis")),
        "contact": {k: v for k in ("phone", "email", "website", "note")
                    if (v := (form.get(f"contact_{k}") or "").strip())},
        "local_variation": (form.get("local_variation") or "").strip() or None,
        "sources": {g: lines for g in GROUPS if (lines := _lines(form.get(f"sources_{g}")))},
        "last_reviewed": base["last_reviewed"], "notes": form.get("notes", ""),
    }
    for group in ITEM_GROUPS:
        snapshot[group] = _items_box(form, group, errors)
    if yaml_groups:
        for group in YAML_GROUPS:
            snapshot[group] = _yaml_box(form, group, errors)
    return snapshot, errors


# ---------------------------------------------------------------- pages

@bp.route("/kelola")
@require_capability("curate")
def curation_home():
    drafts = db.session.scalars(sa.select(ServiceDraft).where(ServiceDraft.status.in_(("draft", "in_review")))
                                .order_by(ServiceDraft.submitted_at.desc().nulls_last(), ServiceDraft.id.desc())).all()
    stale_faqs = db.session.scalars(sa.select(ServiceFaq).where(ServiceFaq.stale_since.is_not(None))).all()
    from flask import current_app

    from core import signals

    # Other packages add their queues (the forum: answers that may be outdated).
    extras = {"stale_answers": [], **signals.collect(signals.curation_queue_shown, current_app._get_current_object())}
    return render_template("kb/kelola/home.html", drafts=drafts, overdue=cur.overdue_services(),
                           flags=cur.open_flags(), stale_faqs=stale_faqs, **extras)


FIELD_WORDS = {"label": "nama biaya", "kind": "jenis", "amount": "jumlah", "min": "minimal", "max": "maksimal",
               "per": "satuan", "note": "keterangan", "sources": "sumber", "unverified": "belum terverifikasi",
               "who": "siapa", "proof": "bukti", "name": "nama", "address": "alamat", "url": "alamat situs",
               "hours": "jam layanan", "unit": "satuan waktu"}


def _friendly(path: str) -> str:
    """"fees[2].exemptions[1].amount" -> "Biaya #2, keringanan #1: jumlah"."""
    import re

    text = re.sub(r"fees\[(\d+)\]", r"Biaya #\1", path)
    text = re.sub(r"channels\[(\d+)\]", r"Tempat #\1", text)
    text = re.sub(r"\.exemptions\[(\d+)\]", r", keringanan #\1", text)
    for name, label in editor.PART_LABELS.items():
        text = text.replace(f"duration.{name}", f"Waktu: {label.lower()}")
    head, _, last = text.rpartition(".")
    last = re.sub(r"\[\d+\]$", "", last)
    return f"{head}: {FIELD_WORDS.get(last, last)}" if head else FIELD_WORDS.get(last, text)


@bp.route("/kelola/layanan/<slug>/sunting", methods=["GET", "POST"])
@require_capability("curate")
def curation_edit(slug: str):
    """The editor.  Fees, duration and places to apply are structured rows
    (kb.editor) by default; ``?mode=yaml`` edits them as YAML in the file's
    shape instead (for people who know content/README.md)."""
    service = service_or_none(slug)
    if service is None:
        abort(404, _("Layanan tidak ditemukan."))
    current = service.record
    draft_id = parse_int(request.values.get("draf", ""))
    draft = db.session.get(ServiceDraft, draft_id) if draft_id else None
    if draft is not None and (draft.service_id != service.id or draft.kind != "page"):
        abort(404)
    yaml_mode = request.values.get("mode") == "yaml"
    errors, field_errors, rows, status = {}, {}, None, 200
    if request.method == "POST":
        values = dict(request.form)
        snapshot, errors = snapshot_from_form(request.form, current, yaml_groups=yaml_mode)
        parsed = None
        if not yaml_mode:
            rows = editor.rows_from_form(request.form)
            op = request.form.get("op")
            if op:  # add, remove or move a row; nothing is saved
                if not editor.apply_op(rows, op):
                    abort(400)
                return _editor_page(service, draft, values, rows, {}, {}, yaml_mode), 200
            parsed = editor.snapshot_parts(rows)
            snapshot.update(fees=parsed.fees, channels=parsed.channels, duration=parsed.duration)
            field_errors = {name: [message] for name, message in parsed.errors.items()}
        summary = request.form.get("summary_change", "")
        try:
            if errors:
                raise cur.CurationError(N_("Periksa kembali isian draf."), errors)
            if field_errors:  # typing errors in rows: show them with the record's own findings
                cur.validate(snapshot)
                raise cur.CurationError(N_("Periksa kembali isian draf."), {})
            if draft is None:
                draft = cur.create_draft(current_user, slug, snapshot, summary=summary)
            else:
                draft = cur.update_draft(current_user, draft.id, snapshot, summary)
            if request.form.get("submit") == "review":
                cur.submit_draft(current_user, draft.id)
                flash(_("Draf diajukan untuk ditinjau."), "success")
            else:
                flash(_("Draf disimpan."), "success")
            return redirect(url_for("kb.curation_draft", draft_id=draft.id))
        except cur.CurationError as exc:
            if not exc.fields and not field_errors:
                raise
            errors = dict(exc.fields)
            if parsed is not None:
                summary = [(_friendly_field(name), " ".join(m), name) for name, m in field_errors.items()]
                summary += [(_friendly(path), message, editor.field_for(path, parsed.where))
                            for path, message in errors.items()
                            if editor.field_for(path, parsed.where) not in field_errors or
                            editor.field_for(path, parsed.where) is None]
                by_field, errors = editor.row_errors(errors, parsed.where)
                for name, messages in by_field.items():
                    if name not in field_errors:  # a typing error already says it
                        field_errors[name] = messages
                return _editor_page(service, draft, values, rows, errors, field_errors, yaml_mode,
                                    summary=summary), 400
            status = 400
    else:
        source = draft.snapshot if draft else current
        values = form_from_snapshot(source)
        rows = None if yaml_mode else editor.rows_from_snapshot(source)
    return _editor_page(service, draft, values, rows, errors, field_errors, yaml_mode), status


def _friendly_field(name: str) -> str:
    """"fees-0-ex-1-amount" -> "Biaya #1, keringanan #2: jumlah"."""
    import re

    m = re.match(r"^(fees|channels)-(\d+)(?:-ex-(\d+))?-([a-z_]+)$", name)
    if m:
        head = f"{'Biaya' if m.group(1) == 'fees' else 'Tempat'} #{int(m.group(2)) + 1}"
        if m.group(3) is not None:
            head += f", keringanan #{int(m.group(3)) + 1}"
        return f"{head}: {FIELD_WORDS.get(m.group(4), m.group(4))}"
    m = re.match(r"^duration-([a-z_]+)-([a-z_]+)$", name)
    if m and m.group(1) in editor.PART_LABELS:
        return f"Waktu: {editor.PART_LABELS[m.group(1)].lower()}: {FIELD_WORDS.get(m.group(2), m.group(2))}"
    return name


def _editor_page(service, draft, values, rows, errors, field_errors, yaml_mode, summary=None):
    """``summary``: [(label, message, input name or None)] listed above the form."""
    agencies = db.session.execute(sa.select(Agency.slug, Agency.name).order_by(Agency.name)).all()
    categories = db.session.execute(sa.select(Category.slug, Category.name).order_by(Category.position)).all()
    if summary is None:
        summary = [(k if yaml_mode else _friendly(k), v, None) for k, v in errors.items()]
    return render_template("kb/kelola/edit.html", service=service, draft=draft, values=values, errors=errors,
                           errors_for=_errors_for(errors), kind_labels=KIND_LABELS, agencies=agencies,
                           categories=categories, rows=rows, field_errors=field_errors, yaml_mode=yaml_mode,
                           choices=editor.CHOICES, error_summary=summary,
                           row_error_count=sum(len(v) for v in field_errors.values()))


@bp.route("/kelola/draf/<int:draft_id>", methods=["GET", "POST"])
@require_capability("curate")
def curation_draft(draft_id: int):
    draft = db.session.get(ServiceDraft, draft_id)
    if draft is None:
        abort(404, _("Draf tidak ditemukan."))
    if request.method == "POST":
        action = request.form.get("action")
        note = request.form.get("note", "")
        if action == "edit-faq":
            cur.update_faq_draft(current_user, draft.id, request.form.get("question", ""), request.form.get("answer", ""))
            flash(_("Draf disimpan."), "success")
        elif action == "submit":
            cur.submit_draft(current_user, draft.id)
        elif action == "withdraw":
            cur.withdraw_draft(current_user, draft.id)
        elif action == "publish":
            cur.publish_draft(current_user, draft.id, note)
            if draft.kind == "faq":
                flash(_("Draf diterbitkan sebagai entri FAQ."), "success")
                return redirect(url_for("kb.service", slug=draft.service.slug) + f"#faq-{draft.published_faq_id}")
            flash(_("Draf diterbitkan sebagai versi baru."), "success")
            return redirect(url_for("kb.service", slug=draft.service.slug))
        elif action == "reject":
            cur.reject_draft(current_user, draft.id, note)
        else:
            abort(400)
        return redirect(url_for("kb.curation_draft", draft_id=draft.id))
    blockers = cur.draft_blockers(draft) if draft.status in ("draft", "in_review") else []
    diff = snapshot_diff(draft.service.record, draft.snapshot) if draft.kind == "page" else []
    return render_template("kb/kelola/draft.html", draft=draft, blockers=blockers, diff=diff)


@bp.route("/kelola/layanan/<slug>/tinjau", methods=["POST"])
@require_capability("curate")
def curation_reviewed(slug: str):
    days = request.form.get("days", "")
    if days:
        if parse_int(days) is None:
            raise cur.CurationError(N_("Interval tinjauan harus angka hari."))
        cur.set_review_interval(current_user, slug, int(days))
        flash(_("Interval tinjauan disimpan."), "success")
    else:
        cur.mark_reviewed(current_user, slug)
        flash(_("Ditandai sudah ditinjau hari ini."), "success")
    return redirect(url_for("kb.curation_home"))


@bp.route("/kelola/faq/<int:faq_id>/konfirmasi", methods=["POST"])
@require_capability("curate")
def curation_confirm_faq(faq_id: int):
    faq = cur.confirm_faq(current_user, faq_id)
    flash(_("Entri FAQ dikonfirmasi masih berlaku."), "success")
    return redirect(url_for("kb.service", slug=faq.service.slug) + f"#faq-{faq.id}")


# ---------------------------------------------------------------- regulation registry

@bp.route("/kelola/regulasi")
@require_capability("curate")
def curation_regulations():
    regulations = db.session.scalars(sa.select(Regulation).order_by(Regulation.type, Regulation.year.desc(),
                                                                    Regulation.key)).all()
    counts = dict(db.session.execute(sa.select(ServiceCitation.regulation_key,
                                               sa.func.count(sa.distinct(ServiceCitation.service_id)))
                                     .group_by(ServiceCitation.regulation_key)).all())
    return render_template("kb/kelola/regulations.html", regulations=regulations, counts=counts,
                           status_labels=STATUS_LABELS)


def _regulation_form(reg: Regulation | None) -> dict:
    if reg is None:
        return {"checked": date.today().isoformat(), "status": "in_force"}
    return {"id": reg.key, "type": reg.type, "number": reg.number, "year": str(reg.year), "title": reg.title,
            "issuer": reg.issuer or "", "url": reg.url or "", "status": reg.status,
            "amended_by": ", ".join(reg.amended_by or []),
            "replaced_by": "" if reg.replaced_by is None else (", ".join(reg.replaced_by) or "-"),
            "checked": reg.checked.isoformat(), "note": reg.note or ""}


def _ids(text: str):
    text = (text or "").strip()
    if not text:
        return None
    if text in ("-", "[]"):
        return []
    return [part for part in text.replace(",", " ").split() if part]


def _raw_regulation(form) -> dict:
    year = form.get("year", "").strip()
    return {"type": form.get("type") or None, "number": form.get("number", "").strip() or None,
            "year": parse_int(year, 0, 10_000) if parse_int(year, 0, 10_000) is not None else (year or None),
            "title": form.get("title", ""), "issuer": form.get("issuer", "").strip() or None,
            "url": form.get("url", "").strip() or None, "status": form.get("status") or None,
            "amended_by": _ids(form.get("amended_by")), "replaced_by": _ids(form.get("replaced_by")),
            "checked": form.get("checked", "").strip() or None, "note": form.get("note", "").strip() or None}


@bp.route("/kelola/regulasi/baru", methods=["GET", "POST"])
@require_capability("curate")
def curation_regulation_new():
    return _regulation_page(None)


@bp.route("/kelola/regulasi/<key>/sunting", methods=["GET", "POST"])
@require_capability("curate")
def curation_regulation_edit(key: str):
    return _regulation_page(key)


def _regulation_page(key: str | None):
    reg = None
    if key is not None:
        reg = db.session.scalar(sa.select(Regulation).where(Regulation.key == key))
        if reg is None:
            abort(404, _("Peraturan tidak ditemukan."))
    errors = {}
    if request.method == "POST":
        raw = _raw_regulation(request.form)
        if key is None:
            raw["id"] = request.form.get("id", "").strip() or None
        try:
            result = cur.save_regulation_form(current_user, key, raw)
        except cur.CurationError as exc:
            if not exc.fields:
                raise
            errors = exc.fields
            values = dict(request.form)
        else:
            message = _("Peraturan disimpan.")
            if result.flagged:
                message += " " + ngettext("%(num)s halaman yang mengutipnya ditandai perlu ditinjau.", "%(num)s halaman yang mengutipnya ditandai perlu ditinjau.", len(result.flagged))
            flash(message, "success")
            return redirect(url_for("kb.curation_regulations") + f"#reg-{result.regulation.key}")
    else:
        values = _regulation_form(reg)
    return render_template("kb/kelola/regulation_edit.html", regulation=reg, values=values, errors=errors,
                           errors_for=_errors_for(errors), types=REG_TYPES, statuses=REG_STATUSES,
                           status_labels=STATUS_LABELS), (400 if errors else 200)


# ---------------------------------------------------------------- best bets (search)

CANDIDATE_DAYS = 90  # /kelola/pencarian suggests best bets from this many days of searches


@bp.route("/kelola/pencarian", methods=["GET", "POST"])
@require_capability("curate")
def curation_best_bets():
    from . import best_bets

    errors, values = {}, {}
    if request.method == "GET":  # from the analytics content-gap tables: the query, ready to pin
        values = {"query": request.args.get("kueri", "")[:best_bets.QUERY_CHARS]}
    if request.method == "POST":
        values = {k: request.form.get(k, "")[:best_bets.NOTE_CHARS + 100] for k in ("query", "slug", "note")}
        try:
            bet = best_bets.add(current_user, values["query"], values["slug"], values["note"])
        except cur.CurationError as exc:
            errors = {k: _(v) for k, v in exc.fields.items()} or {"query": _(exc.message)}
        else:
            flash(_("Pilihan utama disimpan: pencarian “%(q)s” kini menampilkan %(title)s paling atas.",
                    q=bet.query, title=bet.service.title), "success")
            return redirect(url_for("kb.curation_best_bets") + f"#bet-{bet.id}")
    services = db.session.execute(sa.select(Service.slug, Service.title).order_by(Service.title)).all()
    bets = best_bets.all_bets()
    from flask import current_app

    from core import signals

    # Analytics adds what citizens searched most (read only): short queries
    # with the official page they clicked most, for those without a best bet.
    extra = signals.collect(signals.best_bets_shown, current_app._get_current_object(), days=CANDIDATE_DAYS,
                            max_words=best_bets.QUERY_WORDS)
    pinned_keys = {b.key for b in bets}
    titles = dict(services)
    candidates = [{**row, "title": titles.get(row["page"])} for row in extra.get("frequent_short_queries", [])
                  if best_bets.key_for(row["query"]) not in pinned_keys]
    return render_template("kb/kelola/best_bets.html", bets=bets, services=services, candidates=candidates,
                           days=CANDIDATE_DAYS, values=values, errors=errors, errors_for=_errors_for(errors),
                           max_words=best_bets.QUERY_WORDS,
                           per_query=best_bets.PAGES_PER_QUERY), (400 if errors else 200)


@bp.route("/kelola/pencarian/<int:bet_id>/hapus", methods=["POST"])
@require_capability("curate")
def curation_best_bet_remove(bet_id: int):
    from . import best_bets

    bet = best_bets.remove(current_user, bet_id)
    flash(_("Pilihan utama untuk “%(q)s” dihapus.", q=bet.query), "success")
    return redirect(url_for("kb.curation_best_bets"))
