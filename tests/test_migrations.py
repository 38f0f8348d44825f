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
