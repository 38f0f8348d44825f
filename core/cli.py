"""Command-line interface: ``flask init-db``, ``flask content check``,
``flask content load``, ``flask create-user``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .extensions import db
from .models import Role


def import_models() -> None:
    """Import every module that defines tables, so the metadata is complete."""
    import analytics.models  # noqa: F401
    import forum.models  # noqa: F401
    import kb.models  # noqa: F401
    import notify.models  # noqa: F401
    import search.models  # noqa: F401

    from . import models, ratelimit  # noqa: F401


BASELINE = "7a63d63223c0"  # migrations/versions/*_baseline_schema.py


def init_db() -> list[str]:
    """Bring the database schema to the newest migration (``flask db upgrade``).

    A database made before migrations existed (by ``create_all``) has tables
    but no ``alembic_version``: its missing nullable or defaulted columns are
    added, it is stamped as the baseline, and the later migrations run.
    Returns what was done, one line each, for the CLI to print.
    """
    import sqlalchemy as sa
    from flask_migrate import stamp, upgrade

    import_models()
    done = []
    tables = set(sa.inspect(db.engine).get_table_names())
    if "alembic_version" not in tables and tables & set(db.metadata.tables):
        # Bring it to the baseline's schema (not the models': later migrations
        # change tables), stamp it as the baseline, then migrate as usual.
        baseline = baseline_metadata()
        done += [f"kolom ditambahkan: {name}" for name in add_missing_columns(baseline)]
        missing = [t for name, t in baseline.tables.items() if name not in tables]
        if missing:  # tables newer than that database; the baseline has them all
            import warnings

            with warnings.catch_warnings():  # the questions <-> answers key cycle cannot be sorted
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                baseline.create_all(db.engine, tables=missing)
        done += [f"indeks ditambahkan: {name}" for name in add_missing_indexes(baseline)]
        stamp(revision=BASELINE)
        done.append(f"basis data lama ditandai sebagai revisi {BASELINE}")
    before = _current_revision()
    upgrade()
    after = _current_revision()
    if after != before:
        done.append(f"skema dimutakhirkan: {before or 'kosong'} -> {after}")
    db.engine.dispose()  # migrations may have altered tables under pooled connections
    return done


def _current_revision() -> str | None:
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def baseline_metadata():
    """The schema of the baseline migration, built in a throw-away in-memory
    SQLite database and reflected (pre-migration databases are SQLite)."""
    import importlib.util
    import os

    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from . import MIGRATIONS_DIR

    folder = os.path.join(MIGRATIONS_DIR, "versions")
    name = next(f for f in os.listdir(folder) if f.endswith(f"{BASELINE}_baseline_schema.py"))
    spec = importlib.util.spec_from_file_location("layanan_baseline", os.path.join(folder, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            module.upgrade()
    metadata = sa.MetaData()
    metadata.reflect(engine)
    engine.dispose()
    return metadata


def add_missing_columns(reference) -> list[str]:
    """Columns of ``reference`` (the baseline) that the database lacks, with
    the models' defaults where the models still have the column."""
    import sqlalchemy as sa

    inspector = sa.inspect(db.engine)
    added = []
    with db.engine.begin() as conn:
        for table in reference.tables.values():
            if not inspector.has_table(table.name):
                continue
            existing = {c["name"] for c in inspector.get_columns(table.name)}
            model = db.metadata.tables.get(table.name)
            for column in table.columns:
                if column.name in existing:
                    continue
                if model is not None and column.name in model.c:
                    column = model.c[column.name]
                default = column.default.arg if column.default is not None and column.default.is_scalar else None
                if not column.nullable and default is None:
                    raise click.ClickException(
                        f"{table.name}.{column.name} is missing and has no default; recreate the database")
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(db.engine.dialect)}"
                if default is not None:
                    literal = sa.literal(default, column.type).compile(db.engine, compile_kwargs={"literal_binds": True})
                    ddl += f" NOT NULL DEFAULT {literal}" if not column.nullable else f" DEFAULT {literal}"
                conn.exec_driver_sql(ddl)
                added.append(f"{table.name}.{column.name}")
    return added


def add_missing_indexes(reference) -> list[str]:
    import sqlalchemy as sa

    inspector = sa.inspect(db.engine)
    added = []
    for table in reference.tables.values():
        existing = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in existing:
                index.create(db.engine)
                added.append(index.name)
    return added


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the schema to the newest migration (data is kept)."""
    for line in init_db():
        click.echo(line)
    click.echo("Basis data siap.")


content_cli = AppGroup("content", help="Check and load content folders (services, registry, agencies, threads).")


@content_cli.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def content_check(directory: str | None) -> None:
    """Lint DIRECTORY (default: the bundled content/) without a database.

    Prints every problem as ``file: field: message``, then the warnings;
    exits 1 if there is any problem (warnings alone do not fail)."""
    from .contentio import check_content

    directory = directory or current_app.config["CONTENT_DIR"]
    result = check_content(directory)
    for problem in result.errors:
        click.echo(str(problem))
    if result.warnings:
        click.echo(f"\nPeringatan ({len(result.warnings)}):")
        for problem in result.warnings:
            click.echo(f"  {problem}")
    if result.errors:
        click.echo(f"\n{directory}: {len(result.errors)} masalah, {len(result.warnings)} peringatan.")
        raise SystemExit(1)
    click.echo(f"{directory}: tidak ada masalah ({len(result.warnings)} peringatan).")


@content_cli.command("load")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def content_load(directory: str | None) -> None:
    """Load DIRECTORY (default: the bundled content/) idempotently."""
    from .contentio import ContentError, load_content

    directory = directory or current_app.config["CONTENT_DIR"]
    init_db()
    try:
        summary = load_content(directory)
    except ContentError as exc:
        click.echo(f"Konten di {directory} tidak dimuat; perbaiki {len(exc.problems)} masalah berikut:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"Konten dimuat dari {directory}:")
    for line in summary:
        click.echo(f"  {line}")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value, show_default=True)
@click.option("--email", default=None)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="LAYANAN_PASSWORD", help="Prompted for when not given (or set LAYANAN_PASSWORD).")
@with_appcontext
def create_user_command(username: str, role: str, email: str | None, password: str) -> None:
    """Create an account with the given role."""
    from .auth.services import AccountError, create_user

    init_db()
    try:
        user = create_user(username, password, email=email, role=Role(role), allow_reserved=True)
    except AccountError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}")
    click.echo(f"Pengguna {user.username} dibuat dengan peran {user.role.value}.")


retention_cli = AppGroup("retention", help="Delete data older than the periods stated in the privacy notice.")


@retention_cli.command("prune")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def retention_prune(dry_run: bool) -> None:
    """Apply core.retention's rules (run daily, e.g. from cron)."""
    from . import retention

    for rule, n in retention.prune(dry_run=dry_run):
        verb = "akan diproses" if dry_run else ("dihapus" if rule.action == "delete" else "dikosongkan")
        click.echo(f"{rule.name}: {n} baris {verb} (lebih dari {retention.days(rule)} hari)")
    if not dry_run:
        click.echo(f"ledger: {retention.prune_ledger()} baris dihapus (batas laju dan kegagalan masuk > 1 hari)")


def init_app(app) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(content_cli)
    app.cli.add_command(create_user_command)
    app.cli.add_command(retention_cli)
