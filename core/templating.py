"""Jinja filters and globals shared by every blueprint."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from .i18n import current_language

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]


def format_rupiah(amount: int | None) -> str:
    if amount is None:
        return ""
    return "Rp" + f"{amount:,}".replace(",", ".")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    months = MONTHS_EN if current_language() == "en" else MONTHS_ID
    return f"{value.day} {months[value.month - 1]} {value.year}"


# Waktu Indonesia Barat: UTC+7 all year (Indonesia has no daylight saving),
# so a fixed offset needs no time-zone database on the server.
WIB = timezone(timedelta(hours=7), "WIB")


def to_wib(value: datetime) -> datetime:
    """Stored times are naive UTC; shown in WIB."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(WIB)


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = to_wib(value)
    return f"{format_date(local)}, {local:%H:%M} WIB"


def init_app(app) -> None:
    app.jinja_env.filters.update(rupiah=format_rupiah, tanggal=format_date, waktu=format_datetime)

    @app.context_processor
    def _page_chrome():
        # What other packages add to every page (the header's notification
        # count, the follow button) arrives through a read-side event, not
        # through Jinja globals set by those packages.
        from . import signals

        return signals.collect(signals.page_chrome_shown, app)

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
