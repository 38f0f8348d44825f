"""Schema migrations (Alembic through Flask-Migrate), on SQLite and PostgreSQL."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.cli import BASELINE, _current_revision, import_models
from core.extensions import db

from .conftest import Snapshot, make_app, new_database


def schema_diff() -> list:
    import_models()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, db.metadata)


def head() -> str:
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    from core import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_build_exactly_the_models(empty_app):
    with empty_app.app_context():
        assert _current_revision() == head()
        assert schema_diff() == []


def test_downgrade_to_nothing_and_back(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "kosong -> " in result.output, result.output
    with empty_app.app_context():
        assert schema_diff() == []


def test_init_db_is_idempotent(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and result.output.strip() == "Basis data siap."


def test_a_database_from_before_migrations_is_adopted_and_keeps_its_data(tmp_path):
    """Databases made by the old ``create_all`` (no alembic_version) get their
    missing columns, are stamped as the baseline and upgraded."""
    app = make_app(Snapshot(new_database(tmp_path, "legacy"), tmp_path / "search"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade", BASELINE])  # the schema create_all made then
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE alembic_version")
            conn.exec_driver_sql("ALTER TABLE users DROP COLUMN reputation")
            conn.exec_driver_sql("ALTER TABLE forum_posts DROP COLUMN hidden_at")
            conn.exec_driver_sql("DROP INDEX ix_forum_posts_needs_review")
            conn.exec_driver_sql("INSERT INTO users (username, password_hash, role, created_at, session_version)"
                                 " VALUES ('lama', 'x', 'MEMBER', CURRENT_TIMESTAMP, 0)")
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "users.reputation" in result.output and "forum_posts.hidden_at" in result.output
    assert "ix_forum_posts_needs_review" in result.output and BASELINE in result.output
    with app.app_context():
        assert _current_revision() == head()
        assert schema_diff() == []
        assert db.session.execute(sa.text("SELECT reputation FROM users WHERE username = 'lama'")).scalar() == 1


V1 = {"slug": "lama", "title": "Layanan Lama", "agency": "a", "category": "c", "summary": "Ringkas.", "aliases": ["x"],
      "requirements": ["KTP"], "fees": [{"label": "PNBP", "kind": "fixed", "amount": 30000, "legal_basis": "PP 76/2020",
                                         "note": None},
                                        {"label": "Pajak", "kind": "variable", "amount": None, "legal_basis": None,
                                         "note": None}],
      "duration": {"text": "Paling lama 3 hari kerja.", "max_days": 3}, "steps": ["Datang"],
      "channels": [{"kind": "online", "name": "Situs", "address": None, "url": "https://x.go.id", "hours": None,
                    "note": None}],
      "legal_basis": ["Undang-Undang Nomor 1 Tahun 2000"], "contact": {"phone": "1", "email": None, "website": None,
                                                                      "note": None},
      "last_reviewed": "2026-01-02", "notes": "Catatan."}


def test_format_1_rows_are_converted_and_history_is_kept(tmp_path):
    """Upgrading a database with format-1 pages: the record JSON is built
    from the child tables, open drafts are converted, versions and FAQ
    entries survive the table rebuild; downgrading restores the child rows."""
    import json

    app = make_app(Snapshot(new_database(tmp_path, "v1"), tmp_path / "search"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", BASELINE]).exit_code == 0
    snap = json.dumps(V1)
    with app.app_context():
        with db.engine.begin() as conn:
            for sql in (
                "INSERT INTO users (id, username, password_hash, role, session_version, reputation, created_at)"
                " VALUES (1, 'km', 'x', 'KNOWLEDGE_MANAGER', 0, 1, CURRENT_TIMESTAMP)",
                "INSERT INTO kb_categories (id, slug, name, description, position) VALUES (1, 'c', 'C', '', 0)",
                "INSERT INTO kb_agencies (id, slug, name, description) VALUES (1, 'a', 'A', '')",
                "INSERT INTO kb_services (id, slug, title, agency_id, category_id, summary, aliases, duration_text,"
                " duration_days, contact_phone, notes_md, notes_html, last_reviewed, review_interval_days, version,"
                " created_at, updated_at) VALUES (1, 'lama', 'Layanan Lama', 1, 1, 'Ringkas.', '[\"x\"]',"
                " 'Paling lama 3 hari kerja.', 3, '1', 'Catatan.', '<p>Catatan.</p>', '2026-01-02', 180, 1,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO kb_requirements (service_id, position, text) VALUES (1, 0, 'KTP')",
                "INSERT INTO kb_steps (service_id, position, text) VALUES (1, 0, 'Datang')",
                "INSERT INTO kb_fees (service_id, position, label, kind, amount, legal_basis) VALUES"
                " (1, 0, 'PNBP', 'fixed', 30000, 'PP 76/2020'), (1, 1, 'Pajak', 'variable', NULL, NULL)",
                "INSERT INTO kb_channels (service_id, position, kind, name, url) VALUES (1, 0, 'online', 'Situs', 'https://x.go.id')",
                "INSERT INTO kb_legal_bases (service_id, position, title) VALUES (1, 0, 'Undang-Undang Nomor 1 Tahun 2000')",
                "INSERT INTO kb_service_faqs (service_id, question, answer_md, answer_html, created_by_id, created_at)"
                " VALUES (1, 'Berapa lama?', 'Tiga hari.', '<p>Tiga hari.</p>', 1, CURRENT_TIMESTAMP)",
            ):
                conn.exec_driver_sql(sql)
            conn.execute(sa.text("INSERT INTO kb_service_versions (service_id, number, snapshot, changed_fields, source,"
                                 " note, created_at) VALUES (1, 1, :s, '[]', 'content', '', CURRENT_TIMESTAMP)"),
                         {"s": snap})
            conn.execute(sa.text("INSERT INTO kb_service_drafts (service_id, status, snapshot, base_version, summary,"
                                 " author_id, review_note, created_at) VALUES (1, 'draft', :s, 1, '', 1, '',"
                                 " CURRENT_TIMESTAMP)"), {"s": snap})
        db.engine.dispose()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert schema_diff() == []
        from kb.models import Service, ServiceDraft, ServiceFaq, ServiceVersion

        svc = db.session.get(Service, 1)
        assert svc.record["fees"] == [{"label": "PNBP", "kind": "fixed", "amount": 30000,
                                       "note": "Dasar tarif: PP 76/2020."},
                                      {"label": "Pajak", "kind": "by_region",
                                       "note": "Besarnya berbeda; tanyakan ke kantor layanan."}]
        assert svc.record["duration"] == {"processing": {"max": 3, "unit": "working_days"},
                                          "note": "Paling lama 3 hari kerja."}
        assert svc.record["channels"] == [{"kind": "online", "name": "Situs", "url": "https://x.go.id"}]
        assert svc.record["contact"] == {"phone": "1"} and svc.record["notes"] == "Catatan."
        assert db.session.scalar(sa.select(sa.func.count(ServiceVersion.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(ServiceFaq.id))) == 1
        assert db.session.get(ServiceDraft, 1).snapshot["duration"]["processing"]["max"] == 3
        db.session.remove()
        db.engine.dispose()
    page = app.test_client().get("/layanan/lama/riwayat/1")  # a version stored in format 1 still shows
    assert page.status_code == 200 and "Paling lama 3 hari kerja. (maks. 3 hari)" in page.get_data(as_text=True)
    assert app.test_client().get("/layanan/lama").status_code == 200
    result = runner.invoke(args=["db", "downgrade", BASELINE])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT kind, amount FROM kb_fees ORDER BY position").all() == [
                ("fixed", 30000), ("variable", None)]
            assert conn.exec_driver_sql("SELECT count(*) FROM kb_service_versions").scalar() == 1
        db.engine.dispose()
