"""``flask notify send | worker | digest | status``."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

cli = AppGroup("notify", help="Notification e-mail: send the outbox, run the worker, queue daily digests.")


def _unconfigured(pending: int) -> str:
    return (f"SMTP belum diatur (LAYANAN_SMTP_HOST kosong): {pending} email tetap dalam antrean; "
            "atur LAYANAN_SMTP_HOST lalu jalankan lagi.")


@cli.command("send")
@click.option("--limit", default=50, show_default=True, help="Rows claimed per batch.")
def send_command(limit: int) -> None:
    """Send every due e-mail once, then exit."""
    from .mailer import send_all

    report = send_all(max(1, min(limit, 500)))
    if not report.configured:
        click.echo(_unconfigured(report.pending))
        return
    click.echo(f"terkirim {report.sent}, dilewati {report.skipped}, dicoba lagi nanti {report.retried}, "
               f"gagal {report.failed}; masih antre {report.pending}")
    for error in dict.fromkeys(report.errors):
        click.echo(f"  galat: {error}", err=True)


@cli.command("worker")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
def worker_command(interval: float) -> None:
    """Send due e-mail in a loop until stopped (SIGTERM or Ctrl-C)."""
    from .mailer import run_worker

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"pekerja email berjalan (tiap {interval:g} detik); hentikan dengan Ctrl-C")
    run_worker(current_app._get_current_object(), max(0.5, interval), stop, echo=click.echo)
    click.echo("pekerja email berhenti")


@cli.command("digest")
def digest_command() -> None:
    """Queue today's digest for everyone who chose the daily summary (run once a day, e.g. from cron)."""
    from .mailer import queue_digests, smtp_configured

    n = queue_digests()
    click.echo(f"{n} ringkasan harian dimasukkan ke antrean")
    if not smtp_configured():
        from .mailer import pending_count

        click.echo(_unconfigured(pending_count()))


@cli.command("status")
def status_command() -> None:
    """Outbox rows by status."""
    from .mailer import smtp_configured, status_counts

    counts = status_counts()
    for name in ("pending", "sending", "sent", "skipped", "failed"):
        click.echo(f"{name}: {counts.get(name, 0)}")
    if not smtp_configured():
        click.echo("SMTP belum diatur (LAYANAN_SMTP_HOST kosong)")


def init_app(app) -> None:
    app.cli.add_command(cli)
