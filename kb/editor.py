"""The service editor's structured rows: fees (with exemptions), places to
apply (channels) and duration parts as form fields instead of YAML.

Works without JavaScript: rows are added, removed and moved with submit
buttons (``op`` = ``add:fees``, ``del:fees-2``, ``up:channels-1``,
``add:fees-0-ex``, ``del:fees-0-ex-1``); the server re-renders the form with
what was typed.  Blank rows are ignored.  Numbers are typed as people write
them ("Rp350.000"); amounts a fee's kind does not use are dropped, so
switching a fee to "gratis" never leaves a hidden amount behind.  Errors
from the record's validation (``fees[2].amount``) are mapped back to the
form field that row came from (``fees-1-amount``).

Input names:
  fees-N-{label,kind,amount,min,max,per,note,sources,unverified}
  fees-N-ex-M-{who,amount,proof,note,sources,unverified}
  channels-N-{kind,name,address,url,hours,note,sources,unverified}
  duration-{processing,lead_time,waiting}-{min,max,unit,note,sources,unverified}, duration-note
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.i18n import N_

from .record import CHANNEL_KINDS, DURATION_PARTS, FEE_KINDS, FEE_NUMBERS, UNITS

MAX_ROWS = 40
MAX_EXEMPTIONS = 20

FEE_FIELDS = ("label", "kind", "amount", "min", "max", "per", "note", "sources", "unverified")
EX_FIELDS = ("who", "amount", "proof", "note", "sources", "unverified")
CHANNEL_FIELDS = ("kind", "name", "address", "url", "hours", "note", "sources", "unverified")
PART_FIELDS = ("min", "max", "unit", "note", "sources", "unverified")

FEE_KIND_LABELS = {"fixed": N_("Tetap"), "maximum": N_("Paling banyak"), "range": N_("Rentang (min–max)"),
                   "by_region": N_("Ditetapkan daerah"), "free": N_("Gratis")}
CHANNEL_KIND_LABELS = {"office": N_("Kantor"), "online": N_("Situs (online)"), "app": N_("Aplikasi ponsel"),
                       "phone": N_("Telepon/WhatsApp")}
UNIT_LABELS = {"minutes": N_("menit"), "hours": N_("jam"), "working_days": N_("hari kerja"), "calendar_days": N_("hari kalender"),
               "months": N_("bulan")}
PART_LABELS = {"processing": N_("Waktu proses"), "lead_time": N_("Sebelum dilayani (antrean, jadwal)"),
               "waiting": N_("Masa tunggu wajib")}


def _text(value) -> str:
    return "" if value is None else str(value)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _number_text(value) -> str:
    return "" if value is None else str(value)


# ---------------------------------------------------------------- record -> rows

def rows_from_snapshot(s: dict) -> dict:
    """Form values (strings) for the rows, from a snapshot in the record's shape."""
    fees = []
    for fee in s.get("fees") or []:
        if not isinstance(fee, dict):
            continue
        row = {k: _text(fee.get(k)) for k in ("label", "kind", "per", "note")}
        row.update({k: _number_text(fee.get(k)) for k in ("amount", "min", "max")})
        row["sources"] = "\n".join(fee.get("sources") or [])
        row["unverified"] = bool(fee.get("unverified"))
        row["exemptions"] = [{"who": _text(e.get("who")), "amount": _number_text(e.get("amount")),
                              "proof": _text(e.get("proof")), "note": _text(e.get("note")),
                              "sources": "\n".join(e.get("sources") or []), "unverified": bool(e.get("unverified"))}
                             for e in fee.get("exemptions") or [] if isinstance(e, dict)]
        fees.append(row)
    channels = []
    for ch in s.get("channels") or []:
        if not isinstance(ch, dict):
            continue
        row = {k: _text(ch.get(k)) for k in ("kind", "name", "address", "url", "hours", "note")}
        row["sources"] = "\n".join(ch.get("sources") or [])
        row["unverified"] = bool(ch.get("unverified"))
        channels.append(row)
    duration = {}
    d = s.get("duration") or {}
    for name in DURATION_PARTS:
        part = d.get(name) if isinstance(d.get(name), dict) else {}
        duration[name] = {"min": _number_text(part.get("min")), "max": _number_text(part.get("max")),
                          "unit": _text(part.get("unit")), "note": _text(part.get("note")),
                          "sources": "\n".join(part.get("sources") or []), "unverified": bool(part.get("unverified"))}
    return {"fees": fees, "channels": channels, "duration": duration, "duration_note": _text(d.get("note"))}


# ---------------------------------------------------------------- form -> rows (raw, as typed)

_INDEX = {name: re.compile(rf"^{name}-(\d+)-") for name in ("fees", "channels")}
_EX_INDEX = re.compile(r"^fees-(\d+)-ex-(\d+)-")


def _indices(form, group: str) -> list[int]:
    found = set()
    for key in form.keys():
        m = _INDEX[group].match(key)
        if m and len(m.group(1)) < 4:
            found.add(int(m.group(1)))
    return sorted(found)[:MAX_ROWS]


def rows_from_form(form) -> dict:
    """The rows exactly as typed (strings), in form order."""
    def get(name: str) -> str:
        return (form.get(name) or "").replace("\r\n", "\n").replace("\r", "\n")

    ex_found: dict[int, set[int]] = {}
    for key in form.keys():
        m = _EX_INDEX.match(key)
        if m and len(m.group(1)) < 4 and len(m.group(2)) < 4:
            ex_found.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    fees = []
    for i in _indices(form, "fees"):
        row = {k: get(f"fees-{i}-{k}") for k in FEE_FIELDS if k != "unverified"}
        row["unverified"] = bool(form.get(f"fees-{i}-unverified"))
        row["exemptions"] = []
        for j in sorted(ex_found.get(i, ()))[:MAX_EXEMPTIONS]:
            ex = {k: get(f"fees-{i}-ex-{j}-{k}") for k in EX_FIELDS if k != "unverified"}
            ex["unverified"] = bool(form.get(f"fees-{i}-ex-{j}-unverified"))
            row["exemptions"].append(ex)
        fees.append(row)
    channels = []
    for i in _indices(form, "channels"):
        row = {k: get(f"channels-{i}-{k}") for k in CHANNEL_FIELDS if k != "unverified"}
        row["unverified"] = bool(form.get(f"channels-{i}-unverified"))
        channels.append(row)
    duration = {}
    for name in DURATION_PARTS:
        part = {k: get(f"duration-{name}-{k}") for k in PART_FIELDS if k != "unverified"}
        part["unverified"] = bool(form.get(f"duration-{name}-unverified"))
        duration[name] = part
    return {"fees": fees, "channels": channels, "duration": duration, "duration_note": get("duration-note")}


def blank_fee() -> dict:
    return {**{k: "" for k in FEE_FIELDS}, "unverified": False, "exemptions": []}


def blank_exemption() -> dict:
    return {**{k: "" for k in EX_FIELDS}, "unverified": False}


def blank_channel() -> dict:
    return {**{k: "" for k in CHANNEL_FIELDS}, "unverified": False}


_OP = re.compile(r"^(add|del|up|down):(fees|channels)(?:-(\d{1,3}))?(?:-ex(?:-(\d{1,3}))?)?$")


def apply_op(rows: dict, op: str) -> bool:
    """Add, remove or move a row (or an exemption); False for an unknown op."""
    m = _OP.match(op or "")
    if not m:
        return False
    action, group, index, ex = m.group(1), m.group(2), m.group(3), m.group(4)
    items = rows[group]
    is_ex = op.endswith("-ex") or ex is not None
    if action == "add" and index is None and not is_ex:
        if len(items) < MAX_ROWS:
            items.append(blank_fee() if group == "fees" else blank_channel())
        return True
    if index is None or int(index) >= len(items):
        return False
    i = int(index)
    if is_ex:
        if group != "fees":
            return False
        exemptions = items[i]["exemptions"]
        if action == "add" and ex is None:
            if len(exemptions) < MAX_EXEMPTIONS:
                exemptions.append(blank_exemption())
            return True
        if action == "del" and ex is not None and int(ex) < len(exemptions):
            exemptions.pop(int(ex))
            return True
        return False
    if action == "del":
        items.pop(i)
    elif action == "up" and i > 0:
        items[i - 1], items[i] = items[i], items[i - 1]
    elif action == "down" and i < len(items) - 1:
        items[i + 1], items[i] = items[i], items[i + 1]
    return True


# ---------------------------------------------------------------- rows -> record

@dataclass
class Parsed:
    fees: list
    channels: list
    duration: dict
    errors: dict = field(default_factory=dict)  # form field name -> message (typing errors)
    where: dict = field(default_factory=dict)  # record path ("fees[2]") -> form row ("fees-1")


_RUPIAH = re.compile(r"^(?:rp\.?)?\s*([\d.,\s]+)(?:,-|,00)?$", re.I)


def parse_amount(text: str) -> int | None | str:
    """"Rp350.000", "350.000", "350000" -> 350000; "" -> None; anything else -> the text back."""
    text = (text or "").strip()
    if not text:
        return None
    m = _RUPIAH.match(text)
    if m:
        digits = re.sub(r"[.,\s]", "", m.group(1))
        if digits.isdigit() and len(digits) <= 13:
            return int(digits)
    return text


def parse_count(text: str) -> int | None | str:
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) <= 6 else text


def _blank(row: dict, keys) -> bool:
    return not any((row.get(k) or "").strip() for k in keys if k != "unverified") and not row.get("unverified")


def _optional(value: str) -> str | None:
    value = (value or "").strip()
    return value or None


def snapshot_parts(rows: dict) -> Parsed:
    """The fees, channels and duration of a snapshot, from rows as typed."""
    out = Parsed([], [], {})
    for i, row in enumerate(rows["fees"]):
        exemptions = [e for e in row.get("exemptions", []) if not _blank(e, EX_FIELDS)]
        if _blank(row, FEE_FIELDS) and not exemptions:
            continue
        name = f"fees-{i}"
        out.where[f"fees[{len(out.fees) + 1}]"] = name
        kind = (row.get("kind") or "").strip()
        fee = {"label": (row.get("label") or "").strip(), "kind": kind or None}
        used = FEE_NUMBERS.get(kind, ("amount", "min", "max"))
        for key in ("amount", "min", "max"):
            if key not in used:
                continue  # a number this kind does not use is dropped, not an error
            value = parse_amount(row.get(key, ""))
            if isinstance(value, str):
                out.errors[f"{name}-{key}"] = f"tulis angka rupiah, mis. 350000 (tertulis: {value!r})"
                value = None
            if value is not None:
                fee[key] = value
        for key in ("per", "note"):
            if _optional(row.get(key)):
                fee[key] = _optional(row.get(key))
        if _lines(row.get("sources")):
            fee["sources"] = _lines(row.get("sources"))
        if row.get("unverified"):
            fee["unverified"] = True
        kept = []
        for j, ex in enumerate(row.get("exemptions", [])):
            if _blank(ex, EX_FIELDS):
                continue
            ex_name = f"{name}-ex-{j}"
            out.where[f"fees[{len(out.fees) + 1}].exemptions[{len(kept) + 1}]"] = ex_name
            item = {"who": (ex.get("who") or "").strip(), "proof": (ex.get("proof") or "").strip()}
            amount = parse_amount(ex.get("amount", ""))
            if isinstance(amount, str):
                out.errors[f"{ex_name}-amount"] = f"tulis angka rupiah, 0 bila gratis (tertulis: {amount!r})"
                amount = None
            item["amount"] = amount
            if _optional(ex.get("note")):
                item["note"] = _optional(ex.get("note"))
            if _lines(ex.get("sources")):
                item["sources"] = _lines(ex.get("sources"))
            if ex.get("unverified"):
                item["unverified"] = True
            kept.append(item)
        if kept:
            fee["exemptions"] = kept
        out.fees.append(fee)
    for i, row in enumerate(rows["channels"]):
        if _blank(row, CHANNEL_FIELDS):
            continue
        out.where[f"channels[{len(out.channels) + 1}]"] = f"channels-{i}"
        channel = {"kind": (row.get("kind") or "").strip() or None, "name": (row.get("name") or "").strip()}
        for key in ("address", "url", "hours", "note"):
            if _optional(row.get(key)):
                channel[key] = _optional(row.get(key))
        if _lines(row.get("sources")):
            channel["sources"] = _lines(row.get("sources"))
        if row.get("unverified"):
            channel["unverified"] = True
        out.channels.append(channel)
    for name in DURATION_PARTS:
        row = rows["duration"].get(name) or {}
        if _blank(row, PART_FIELDS):
            continue
        part = {}
        for key in ("min", "max"):
            value = parse_count(row.get(key, ""))
            if isinstance(value, str):
                out.errors[f"duration-{name}-{key}"] = f"tulis bilangan bulat, mis. 14 (tertulis: {value!r})"
                value = None
            if value is not None:
                part[key] = value
        part["unit"] = (row.get("unit") or "").strip() or None
        if _optional(row.get("note")):
            part["note"] = _optional(row.get("note"))
        if _lines(row.get("sources")):
            part["sources"] = _lines(row.get("sources"))
        if row.get("unverified"):
            part["unverified"] = True
        out.duration[name] = part
    if _optional(rows.get("duration_note")):
        out.duration["note"] = _optional(rows["duration_note"])
    return out


_PATH = re.compile(r"^((?:fees|channels)\[\d+\](?:\.exemptions\[\d+\])?)(?:\.([a-z_]+))?")


def field_for(path: str, where: dict) -> str | None:
    """Record error path -> form input name: "fees[2].exemptions[1].amount"
    -> "fees-1-ex-0-amount"; "duration.processing.max" -> "duration-processing-max";
    a whole row -> its row name ("channels-0"); None if it is not a row's."""
    m = _PATH.match(path)
    if m:
        row = where.get(m.group(1))
        if row is None:
            return None
        return f"{row}-{m.group(2)}" if m.group(2) else row
    parts = path.split(".")
    if parts[0] == "duration" and len(parts) >= 2 and parts[1] in DURATION_PARTS:
        key = re.sub(r"\[\d+\]$", "", parts[2]) if len(parts) > 2 else None
        return f"duration-{parts[1]}-{key}" if key else f"duration-{parts[1]}"
    if path == "duration.note":
        return "duration-note"
    return None


def row_errors(errors: dict, where: dict) -> tuple[dict, dict]:
    """Split record errors into (per form field, everything else)."""
    by_field, other = {}, {}
    for path, message in errors.items():
        name = field_for(path, where)
        if name is None:
            other[path] = message
        else:
            by_field.setdefault(name, []).append(message)
    return by_field, other


CHOICES = {"fee_kinds": [(k, FEE_KIND_LABELS[k]) for k in FEE_KINDS],
           "channel_kinds": [(k, CHANNEL_KIND_LABELS[k]) for k in CHANNEL_KINDS],
           "units": [(u, UNIT_LABELS[u]) for u in UNITS], "parts": PART_LABELS}
