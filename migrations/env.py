"""Alembic environment for Layanan (run through Flask-Migrate: ``flask db ...``
or ``flask init-db``).  The app's engine and metadata are used as they are;
Python logging is left to the app (no fileConfig, which would silence the
app's own loggers)."""
import logging

from alembic import context
from flask import current_app

from core.cli import import_models

logger = logging.getLogger("alembic.env")
config = context.config
import_models()
target_db = current_app.extensions["migrate"].db


def process_revision_directives(ctx, revision, directives):
    # `flask db migrate` with no model changes writes no empty revision.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline() -> None:
    """``flask db upgrade --sql``: print the SQL instead of running it."""
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True,
                      **current_app.extensions["migrate"].configure_args)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        # SQLite: batch mode rebuilds a table (copy, drop, rename); with foreign
        # keys on, dropping the old table would cascade into its children
        # (versions, drafts, FAQ entries).  The pragma only works outside a
        # transaction, so it is set on the driver connection before Alembic begins.
        raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
