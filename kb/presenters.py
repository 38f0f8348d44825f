"""Records for people: the service page's view of a record (sources
resolved against the registry) and readable lines for version history and
diffs.  The diff lines read both the current shape and snapshots stored
in format 1 (versions are kept as they were published)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from core.diffing import line_diff
from core.extensions import db
from core.templating import format_rupiah

from .record import DURATION_PARTS, FIELD_LABELS, FIELDS, GROUPS, parse_source

KIND_LABELS = {"office": "Kantor", "online": "Online", "app": "Aplikasi", "phone": "Telepon"}
UNIT_WORDS = {"minutes": "menit", "hours": "jam", "working_days": "hari kerja", "calendar_days": "hari kalender",
              "months": "bulan"}
PART_WORDS = {"processing": "Waktu proses", "lead_time": "Sebelum dilayani", "waiting": "Masa tunggu wajib"}


# ---------------------------------------------------------------- the page

@dataclass(frozen=True)
class SourceView:
    text: str  # as written in the record
    label: str  # "PP 76/2020 Lampiran", "korlantas.polri.go.id"
    url: str | None
    title: str  # shown on hover: the regulation's title or the URL
    status: str | None = None  # regulation status; None for URLs and unknown ids
    known: bool = True

    @property
    def repealed(self) -> bool:
        return self.status == "repealed"


@dataclass(frozen=True)
class ItemView:
    text: str
    sources: list[SourceView]
    unverified: bool
    note: str | None


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or url).lower()
    return host.removeprefix("www.")


class PageView:
    """What the service page shows, built from ``Service.record`` (tolerant
    of a record migrated from format 1) and the registry rows it cites."""

    def __init__(self, service, regulations: dict | None = None, flags: list | None = None):
        from .models import Regulation

        self.service = service
        self.r: dict = service.record or {}
        if regulations is None:
            keys = {s.ref for s in map(parse_source, self.source_texts()) if s and s.kind == "regulation"}
            regulations = {reg.key: reg for reg in db.session.scalars(
                sa.select(Regulation).where(Regulation.key.in_(keys)))} if keys else {}
        self.regs = regulations
        self.flags = flags or []

    def source_texts(self) -> list[str]:
        r = self.r
        out = list(r.get("legal_basis") or [])
        for group in GROUPS:
            out += (r.get("sources") or {}).get(group) or []
        for name in ("requirements", "steps", "fees", "channels"):
            for item in r.get(name) or []:
                if isinstance(item, dict):
                    out += item.get("sources") or []
                    for ex in item.get("exemptions") or []:
                        out += ex.get("sources") or []
        for part in (r.get("duration") or {}).values():
            if isinstance(part, dict):
                out += part.get("sources") or []
        return [s for s in out if isinstance(s, str)]

    # ------------------------------------------------ sources

    def source(self, text: str) -> SourceView:
        src = parse_source(text)
        if src is None:
            return SourceView(text, text, None, text, known=False)
        if src.kind == "url":
            return SourceView(text, _host(src.ref), src.ref, src.ref)
        reg = self.regs.get(src.ref)
        if reg is None:
            return SourceView(text, text, None, text, known=False)
        label = f"{reg.label} {src.locator}".strip()
        return SourceView(text, label, reg.url, f"{reg.label} tentang {reg.title}", reg.status)

    def sources(self, texts) -> list[SourceView]:
        return [self.source(t) for t in (texts or []) if isinstance(t, str)]

    def group_sources(self, group: str) -> list[SourceView]:
        return self.sources((self.r.get("sources") or {}).get(group))

    def unsourced(self, group: str) -> bool:
        return not (self.r.get("sources") or {}).get(group)

    @property
    def unsourced_groups(self) -> list[str]:
        return [g for g in GROUPS if self.unsourced(g)]

    @property
    def cited_keys(self) -> list[str]:
        return sorted({s.ref for s in map(parse_source, self.source_texts()) if s and s.kind == "regulation"})

    @property
    def cites_repealed(self) -> bool:
        return any(self.source(t).repealed for t in self.source_texts())

    # ------------------------------------------------ groups

    def items(self, group: str) -> list[ItemView]:
        out = []
        for item in self.r.get(group) or []:
            if isinstance(item, str):
                out.append(ItemView(item, [], False, None))
            else:
                out.append(ItemView(item.get("text", ""), self.sources(item.get("sources")),
                                    bool(item.get("unverified")), item.get("note")))
        return out

    @property
    def fees(self) -> list[dict]:
        return [f for f in self.r.get("fees") or [] if isinstance(f, dict)]

    @property
    def channels(self) -> list[dict]:
        return [c for c in self.r.get("channels") or [] if isinstance(c, dict)]

    @property
    def duration(self) -> dict:
        return self.r.get("duration") or {}

    @property
    def duration_parts(self) -> list[tuple[str, dict]]:
        d = self.duration
        return [(name, d[name]) for name in DURATION_PARTS if isinstance(d.get(name), dict)]

    @property
    def legal_basis(self) -> list[tuple[SourceView, Any]]:
        out = []
        for text in self.r.get("legal_basis") or []:
            src = parse_source(text)
            out.append((self.source(text), self.regs.get(src.ref) if src and src.kind == "regulation" else None))
        return out

    @property
    def contact(self) -> dict:
        return self.r.get("contact") or {}

    @property
    def requirement_count(self) -> int:
        return len(self.r.get("requirements") or [])

    # ------------------------------------------------ first screen

    @property
    def fee_summary(self) -> tuple[str, int | None]:
        """("free" | "partly_free" | "from" | "maximum" | "by_region" | "none", amount)."""
        fees = self.fees
        if not fees:
            return "none", None
        if all(f.get("kind") == "free" for f in fees):
            return "free", None
        low = self.service.lowest_fee
        if any(f.get("kind") == "free" for f in fees):
            return "partly_free", low
        if low is not None:
            return "from", low
        maxima = [f["amount"] for f in fees if f.get("kind") == "maximum" and f.get("amount") is not None]
        if maxima:
            return "maximum", max(maxima)
        return "by_region", None

    def requirement_preview(self, n: int = 3) -> list[str]:
        """The first requirements' texts, for "what to bring" on the first screen."""
        return [item.text for item in self.items("requirements")[:n]]

    @property
    def channel_kinds(self) -> list[str]:
        """Kinds of place to apply, in page order, each once (office, online, ...)."""
        out = []
        for c in self.channels:
            kind = c.get("kind")
            if kind and kind not in out:
                out.append(kind)
        return out

    @property
    def duration_summary(self) -> tuple[str, dict] | None:
        parts = self.duration_parts
        return parts[0] if parts else None


# ---------------------------------------------------------------- text lines (history, diffs, search)

def _sources_suffix(item: dict) -> str:
    bits = []
    if item.get("sources"):
        bits.append("sumber: " + ", ".join(item["sources"]))
    if item.get("unverified"):
        bits.append("belum terverifikasi")
    if item.get("note") and "text" in item:
        bits.append(item["note"])
    return f" [{'; '.join(bits)}]" if bits else ""


def amount_text(fee: dict) -> str:
    kind = fee.get("kind")
    if kind == "free":
        text = "Gratis"
    elif kind in ("variable", "by_region"):
        text = "Ditetapkan daerah" if kind == "by_region" else "Bervariasi"
    elif kind == "maximum":
        text = f"paling banyak {format_rupiah(fee.get('amount'))}"
    elif kind == "range":
        text = f"{format_rupiah(fee.get('min'))}–{format_rupiah(fee.get('max'))}"
    else:
        text = format_rupiah(fee.get("amount"))
    return f"{text} {fee['per']}" if fee.get("per") else text


def fee_text(fee: dict) -> str:
    parts = [f"{fee.get('label', '')}: {amount_text(fee)}"]
    if fee.get("note"):
        parts.append(f"({fee['note']})")
    if fee.get("legal_basis"):  # format 1
        parts.append(f"[dasar: {fee['legal_basis']}]")
    text = " ".join(parts) + _sources_suffix({k: v for k, v in fee.items() if k in ("sources", "unverified")})
    return text


def exemption_text(ex: dict) -> str:
    amount = "gratis" if ex.get("amount") == 0 else format_rupiah(ex.get("amount"))
    return (f"Pengecualian: {ex.get('who', '')}: {amount}; bukti: {ex.get('proof', '')}"
            + _sources_suffix({k: v for k, v in ex.items() if k in ("sources", "unverified")}))


def span_text(part: dict) -> str:
    unit = UNIT_WORDS.get(part.get("unit"), part.get("unit") or "")
    low, high = part.get("min"), part.get("max")
    if low is not None and high is not None:
        return f"{low}–{high} {unit}" if low != high else f"{low} {unit}"
    if high is not None:
        return f"paling lama {high} {unit}"
    return f"minimal {low} {unit}"


def duration_lines(value: dict) -> list[str]:
    if "text" in value:  # format 1
        extra = f" (maks. {value['max_days']} hari)" if value.get("max_days") is not None else ""
        return [value["text"] + extra]
    lines = []
    for name in DURATION_PARTS:
        part = value.get(name)
        if isinstance(part, dict):
            note = f" ({part['note']})" if part.get("note") else ""
            lines.append(f"{PART_WORDS[name]}: {span_text(part)}{note}"
                         + _sources_suffix({k: v for k, v in part.items() if k in ("sources", "unverified")}))
    if value.get("note"):
        lines.append(value["note"])
    return lines


def item_line(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("text", "")) + _sources_suffix(item)
    return str(item)


def field_lines(name: str, value: Any) -> list[str]:
    if value in (None, "", [], {}):
        return []
    if name in ("requirements", "steps", "legal_basis", "aliases"):
        return [f"{i}. {item_line(v)}" for i, v in enumerate(value, start=1)]
    if name == "fees":
        lines = []
        for f in value:
            lines.append(fee_text(f))
            lines += ["  " + exemption_text(ex) for ex in f.get("exemptions") or []]
        return lines
    if name == "duration":
        return duration_lines(value)
    if name == "channels":
        lines = []
        for c in value:
            kind = c.get("kind") or c.get("type")
            bits = [f"{KIND_LABELS.get(kind, kind)}: {c.get('name', '')}"]
            bits += [c[k] for k in ("address", "url", "hours", "note") if c.get(k)]
            lines.append(" | ".join(bits) + _sources_suffix({k: v for k, v in c.items()
                                                            if k in ("sources", "unverified")}))
        return lines
    if name == "contact":
        return [f"{k}: {v}" for k, v in value.items() if v]
    if name == "sources":
        return [f"{FIELD_LABELS.get(g, g)}: {', '.join(v)}" for g, v in value.items() if v]
    if name == "notes":
        return str(value).splitlines()
    return [str(value)]


def snapshot_diff(old: dict | None, new: dict) -> list[dict]:
    """Per changed field: label and line diff between two snapshots."""
    out = []
    for name in FIELDS:
        before = (old or {}).get(name)
        after = new.get(name)
        if old is not None and before == after:
            continue
        if old is None and after in (None, "", [], {}):
            continue
        out.append({"field": name, "label": FIELD_LABELS[name],
                    "rows": line_diff(field_lines(name, before), field_lines(name, after))})
    return out
