"""Command-line interface: ``flask init-db``, ``flask content load``,
``flask create-user``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .extensions import db
from .models import Role


def init_db() -> list[str]:
    """Create missing tables, and add columns that newer code defines but an
    older database lacks (only nullable or defaulted ones).  This bridges
    development databases until Alembic migrations exist (issue 7).
    Returns the "table.column" names added."""
    # Import every module that defines tables before creating them.
    import analytics.models  # noqa: F401
    import forum.models  # noqa: F401
    import kb.models  # noqa: F401
    import search.models  # noqa: F401
    from . import models, ratelimit  # noqa: F401

    db.create_all()
    return add_missing_columns()


def add_missing_columns() -> list[str]:
    import sqlalchemy as sa

    inspector = sa.inspect(db.engine)
    added = []
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            existing = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in existing:
                    continue
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


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create missing tables and columns (existing data is kept)."""
    for name in init_db():
        click.echo(f"kolom ditambahkan: {name}")
    click.echo("Basis data siap.")


content_cli = AppGroup("content", help="Load content folders (services, categories, agencies).")


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


def init_app(app) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(content_cli)
    app.cli.add_command(create_user_command)
