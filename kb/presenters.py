"""Turn record snapshots into readable lines (for version history and diffs)."""
from __future__ import annotations

from typing import Any

from core.diffing import line_diff
from core.templating import format_rupiah

from .record import FIELD_LABELS, FIELDS

KIND_LABELS = {"office": "Kantor", "online": "Online", "phone": "Telepon"}


def fee_text(fee: dict) -> str:
    if fee["kind"] == "free":
        amount = "Gratis"
    elif fee["kind"] == "variable":
        amount = "Bervariasi"
    else:
        amount = format_rupiah(fee["amount"])
    parts = [f"{fee['label']}: {amount}"]
    if fee.get("note"):
        parts.append(f"({fee['note']})")
    if fee.get("legal_basis"):
        parts.append(f"[dasar: {fee['legal_basis']}]")
    return " ".join(parts)


def field_lines(name: str, value: Any) -> list[str]:
    if value in (None, "", [], {}):
        return []
    if name in ("requirements", "steps", "legal_basis", "aliases"):
        return [f"{i}. {v}" for i, v in enumerate(value, start=1)]
    if name == "fees":
        return [fee_text(f) for f in value]
    if name == "duration":
        extra = f" (maks. {value['max_days']} hari)" if value.get("max_days") is not None else ""
        return [value["text"] + extra]
    if name == "channels":
        lines = []
        for c in value:
            bits = [f"{KIND_LABELS.get(c['kind'], c['kind'])}: {c['name']}"]
            bits += [c[k] for k in ("address", "url", "hours", "note") if c.get(k)]
            lines.append(" | ".join(bits))
        return lines
    if name == "contact":
        return [f"{k}: {v}" for k, v in value.items() if v]
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
        out.append({"field": name, "label": FIELD_LABELS[name],
                    "rows": line_diff(field_lines(name, before), field_lines(name, after))})
    return out
