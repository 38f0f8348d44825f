"""The service record: one typed shape shared by content files, the database,
versions and the API.

``parse_record`` validates a raw mapping (YAML front matter plus the Markdown
body) and returns a :class:`ServiceRecord` or raises :class:`RecordError`
listing *every* problem with the field it concerns, so an author can fix a
file in one pass.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
MAX_FEE = 10**12  # rupiah; far above any public-service fee, well inside BIGINT
MAX_DAYS = 3650
FEE_WORDS_FREE = {"gratis", "free", "0"}
FEE_WORDS_VARIABLE = {"variabel", "variable"}
CHANNEL_KINDS = {"kantor": "office", "office": "office", "online": "online", "daring": "online",
                 "telepon": "phone", "phone": "phone"}

FIELDS = ("slug", "title", "agency", "category", "summary", "aliases", "requirements", "fees",
          "duration", "steps", "channels", "legal_basis", "contact", "last_reviewed", "notes")

# Labels used in error messages, diffs and the version history.
FIELD_LABELS = {
    "slug": "Slug", "title": "Judul", "agency": "Instansi", "category": "Kategori",
    "summary": "Ringkasan", "aliases": "Nama lain", "requirements": "Persyaratan", "fees": "Biaya",
    "duration": "Waktu Penyelesaian", "steps": "Prosedur", "channels": "Tempat & Cara Pengajuan",
    "legal_basis": "Dasar Hukum", "contact": "Kontak", "last_reviewed": "Terakhir ditinjau",
    "notes": "Keterangan",
}


@dataclass(frozen=True)
class FeeItem:
    label: str
    kind: str  # fixed | free | variable
    amount: int | None = None
    legal_basis: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Duration:
    text: str
    max_days: int | None = None


@dataclass(frozen=True)
class ChannelItem:
    kind: str  # office | online | phone
    name: str
    address: str | None = None
    url: str | None = None
    hours: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ServiceRecord:
    slug: str
    title: str
    agency: str
    category: str
    summary: str
    requirements: tuple[str, ...]
    fees: tuple[FeeItem, ...]
    duration: Duration
    steps: tuple[str, ...]
    channels: tuple[ChannelItem, ...]
    legal_basis: tuple[str, ...]
    contact: Contact
    last_reviewed: date
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-able form, used for versions, diffs and the API."""
        data = asdict(self)
        data["last_reviewed"] = self.last_reviewed.isoformat()
        for key in ("requirements", "steps", "legal_basis", "aliases"):
            data[key] = list(data[key])
        data["fees"] = [dict(f) for f in data["fees"]]
        data["channels"] = [dict(c) for c in data["channels"]]
        return {k: data[k] for k in FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceRecord:
        """Rebuild from :meth:`to_dict` output (trusted data, no validation)."""
        return cls(
            slug=data["slug"], title=data["title"], agency=data["agency"], category=data["category"],
            summary=data["summary"], aliases=tuple(data.get("aliases") or ()),
            requirements=tuple(data["requirements"]), fees=tuple(FeeItem(**f) for f in data["fees"]),
            duration=Duration(**data["duration"]), steps=tuple(data["steps"]),
            channels=tuple(ChannelItem(**c) for c in data["channels"]),
            legal_basis=tuple(data["legal_basis"]), contact=Contact(**data["contact"]),
            last_reviewed=date.fromisoformat(data["last_reviewed"]), notes=data.get("notes") or "",
        )


def changed_fields(old: dict | None, new: dict) -> list[str]:
    if old is None:
        return list(FIELDS)
    return [k for k in FIELDS if old.get(k) != new.get(k)]


class RecordError(ValueError):
    """All problems found in one record: a list of (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


@dataclass
class _Checker:
    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def text(self, value: Any, where: str, *, required: bool = True, max_len: int = 2000) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(where, "wajib diisi")
            return None
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            self.add(where, f"harus berupa teks, bukan {_type_name(value)}")
            return None
        value = str(value).strip()
        if len(value) > max_len:
            self.add(where, f"terlalu panjang ({len(value)} karakter, maksimal {max_len})")
            return None
        return value

    def text_list(self, value: Any, where: str, *, required: bool = True, max_len: int = 1000) -> tuple[str, ...]:
        if value is None or value == []:
            if required:
                self.add(where, "wajib diisi, minimal satu butir")
            return ()
        if not isinstance(value, list):
            self.add(where, f"harus berupa daftar (list), bukan {_type_name(value)}")
            return ()
        items = [self.text(item, f"{where}[{i + 1}]", max_len=max_len) for i, item in enumerate(value)]
        return tuple(i for i in items if i is not None)

    def mapping(self, value: Any, where: str) -> dict | None:
        if not isinstance(value, dict):
            self.add(where, "wajib diisi" if value is None else f"harus berupa pemetaan (key: value), bukan {_type_name(value)}")
            return None
        return value

    def unknown_keys(self, value: dict, allowed: set[str], where: str) -> None:
        for key in value:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.add(f"{where}.{key}" if where else str(key), f"kolom tidak dikenal (yang dikenal: {hint})")

    def url(self, value: Any, where: str, *, required: bool = False) -> str | None:
        text = self.text(value, where, required=required, max_len=300)
        if text is not None and not URL_RE.match(text):
            self.add(where, f"harus URL lengkap yang diawali http:// atau https:// (tertulis: {text!r})")
            return None
        return text


def _type_name(value: Any) -> str:
    return {dict: "pemetaan", list: "daftar", bool: "ya/tidak", int: "angka", float: "angka",
            str: "teks"}.get(type(value), type(value).__name__)


def parse_record(meta: Any, notes: str = "") -> ServiceRecord:
    """Validate front matter (already YAML-decoded) and build a record."""
    c = _Checker()
    if not isinstance(meta, dict):
        raise RecordError([("front matter", "harus berupa pemetaan YAML (key: value)")])
    c.unknown_keys(meta, set(FIELDS) - {"notes"}, "")

    slug = c.text(meta.get("slug"), "slug", max_len=80)
    if slug is not None and not SLUG_RE.match(slug):
        c.add("slug", f"hanya huruf kecil, angka dan tanda hubung (tertulis: {slug!r})")
    title = c.text(meta.get("title"), "title", max_len=200)
    agency = c.text(meta.get("agency"), "agency", max_len=80)
    category = c.text(meta.get("category"), "category", max_len=80)
    summary = c.text(meta.get("summary"), "summary", max_len=1000)
    aliases = c.text_list(meta.get("aliases"), "aliases", required=False, max_len=120)
    requirements = c.text_list(meta.get("requirements"), "requirements")
    steps = c.text_list(meta.get("steps"), "steps")
    legal_basis = c.text_list(meta.get("legal_basis"), "legal_basis", max_len=500)
    fees = _parse_fees(c, meta.get("fees"))
    duration = _parse_duration(c, meta.get("duration"))
    channels = _parse_channels(c, meta.get("channels"))
    contact = _parse_contact(c, meta.get("contact"))
    last_reviewed = _parse_date(c, meta.get("last_reviewed"), "last_reviewed")
    if not isinstance(notes, str):
        c.add("notes", "harus berupa teks Markdown")
        notes = ""

    if c.problems:
        raise RecordError(c.problems)
    return ServiceRecord(
        slug=slug, title=title, agency=agency, category=category, summary=summary, aliases=aliases,
        requirements=requirements, fees=fees, duration=duration, steps=steps, channels=channels,
        legal_basis=legal_basis, contact=contact, last_reviewed=last_reviewed, notes=notes.strip(),
    )


def _parse_fees(c: _Checker, value: Any) -> tuple[FeeItem, ...]:
    if not isinstance(value, list) or not value:
        c.add("fees", "wajib diisi: daftar biaya, masing-masing dengan label dan amount (angka rupiah, 'gratis' atau 'variabel')")
        return ()
    out = []
    for i, raw in enumerate(value):
        where = f"fees[{i + 1}]"
        item = c.mapping(raw, where)
        if item is None:
            continue
        c.unknown_keys(item, {"label", "amount", "legal_basis", "note"}, where)
        label = c.text(item.get("label"), f"{where}.label", max_len=300)
        legal = c.text(item.get("legal_basis"), f"{where}.legal_basis", required=False, max_len=300)
        note = c.text(item.get("note"), f"{where}.note", required=False)
        amount_raw = item.get("amount")
        kind, amount = None, None
        if isinstance(amount_raw, bool):
            c.add(f"{where}.amount", "harus angka rupiah, 'gratis' atau 'variabel'")
        elif isinstance(amount_raw, int):
            if amount_raw < 0:
                c.add(f"{where}.amount", "tidak boleh negatif")
            elif amount_raw > MAX_FEE:
                c.add(f"{where}.amount", f"terlalu besar (paling banyak {MAX_FEE:,} rupiah)".replace(",", "."))
            elif amount_raw == 0:
                kind = "free"
            else:
                kind, amount = "fixed", amount_raw
        elif isinstance(amount_raw, str) and amount_raw.strip().lower() in FEE_WORDS_FREE:
            kind = "free"
        elif isinstance(amount_raw, str) and amount_raw.strip().lower() in FEE_WORDS_VARIABLE:
            kind = "variable"
            if not note:
                c.add(f"{where}.note", "wajib diisi bila amount 'variabel': jelaskan cara menghitung biayanya")
        elif amount_raw is None:
            c.add(f"{where}.amount", "wajib diisi: angka rupiah tanpa titik (mis. 350000), 'gratis' atau 'variabel'")
        else:
            c.add(f"{where}.amount", f"harus angka rupiah tanpa titik (mis. 350000), 'gratis' atau 'variabel' (tertulis: {amount_raw!r})")
        if label and kind:
            out.append(FeeItem(label=label, kind=kind, amount=amount, legal_basis=legal, note=note))
    return tuple(out)


def _parse_duration(c: _Checker, value: Any) -> Duration | None:
    item = c.mapping(value, "duration")
    if item is None:
        return None
    c.unknown_keys(item, {"text", "max_days"}, "duration")
    text = c.text(item.get("text"), "duration.text", max_len=300)
    max_days = item.get("max_days")
    if max_days is not None and (isinstance(max_days, bool) or not isinstance(max_days, int)
                                 or not 0 <= max_days <= MAX_DAYS):
        c.add("duration.max_days", f"harus bilangan bulat hari 0–{MAX_DAYS} (tertulis: {max_days!r})")
        max_days = None
    return Duration(text=text, max_days=max_days) if text else None


def _parse_channels(c: _Checker, value: Any) -> tuple[ChannelItem, ...]:
    if not isinstance(value, list) or not value:
        c.add("channels", "wajib diisi: minimal satu tempat atau kanal pengajuan")
        return ()
    out = []
    for i, raw in enumerate(value):
        where = f"channels[{i + 1}]"
        item = c.mapping(raw, where)
        if item is None:
            continue
        c.unknown_keys(item, {"type", "name", "address", "url", "hours", "note"}, where)
        kind_raw = item.get("type")
        kind = CHANNEL_KINDS.get(str(kind_raw).strip().lower()) if kind_raw is not None else None
        if kind is None:
            c.add(f"{where}.type", f"harus salah satu dari kantor, online, telepon (tertulis: {kind_raw!r})")
        name = c.text(item.get("name"), f"{where}.name", max_len=300)
        url = c.url(item.get("url"), f"{where}.url", required=(kind == "online"))
        address = c.text(item.get("address"), f"{where}.address", required=False)
        hours = c.text(item.get("hours"), f"{where}.hours", required=False, max_len=300)
        note = c.text(item.get("note"), f"{where}.note", required=False)
        if kind and name:
            out.append(ChannelItem(kind=kind, name=name, address=address, url=url, hours=hours, note=note))
    return tuple(out)


def _parse_contact(c: _Checker, value: Any) -> Contact | None:
    item = c.mapping(value, "contact")
    if item is None:
        return None
    c.unknown_keys(item, {"phone", "email", "website", "note"}, "contact")
    phone = c.text(item.get("phone"), "contact.phone", required=False, max_len=100)
    email = c.text(item.get("email"), "contact.email", required=False, max_len=200)
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        c.add("contact.email", f"bukan alamat email (tertulis: {email!r})")
    website = c.url(item.get("website"), "contact.website")
    note = c.text(item.get("note"), "contact.note", required=False)
    if not any((phone, email, website, note)):
        c.add("contact", "isi minimal satu dari phone, email, website, note")
    return Contact(phone=phone, email=email, website=website, note=note)


def _parse_date(c: _Checker, value: Any, where: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    c.add(where, "wajib diisi" if value is None else f"harus tanggal berformat YYYY-MM-DD (tertulis: {value!r})")
    return None
