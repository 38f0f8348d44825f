"""The service record (content format version 2, see content/README.md):
one typed shape shared by content files, the database row, version
snapshots, the API and the editor.

``parse_record`` validates a raw mapping (YAML front matter plus the Markdown
body) and returns a :class:`ServiceRecord`, or raises :class:`RecordError`
listing *every* problem with the field it concerns, so an author can fix a
file in one pass.  ``ServiceRecord.to_dict`` gives back exactly the file's
shape (a requirement or step without extras stays a plain string, optional
keys that are empty are left out), so ``parse_record(to_dict())`` round-trips.

This module checks the shape only.  Whether a cited regulation exists or is
repealed, whether a link is on an official domain, whether every field group
has sources: those need the registry and are checked by ``kb.lint``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.i18n import N_

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REG_ID_RE = SLUG_RE  # registry ids: lowercase <type>-<number>-<year>
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)
MAX_FEE = 10**12  # rupiah; far above any public-service fee, well inside BIGINT
MAX_DURATION = 100_000  # in any unit; an upper bound against typos, not a rule

GROUPS = ("requirements", "fees", "duration", "steps", "channels")
FEE_KINDS = ("fixed", "maximum", "range", "by_region", "free")
UNITS = ("minutes", "hours", "working_days", "calendar_days", "months")
CHANNEL_KINDS = ("office", "online", "app", "phone")
DURATION_PARTS = ("processing", "lead_time", "waiting")

FIELDS = ("slug", "title", "agency", "category", "summary", "aliases", "requirements", "fees", "duration",
          "steps", "channels", "legal_basis", "contact", "local_variation", "sources", "last_reviewed", "notes")

# Labels used in error messages, diffs and the version history.
FIELD_LABELS = {
    "slug": N_("Slug"), "title": N_("Judul"), "agency": N_("Instansi"), "category": N_("Kategori"),
    "summary": N_("Ringkasan"), "aliases": N_("Nama lain"), "requirements": N_("Persyaratan"), "fees": N_("Biaya"),
    "duration": N_("Waktu Penyelesaian"), "steps": N_("Prosedur"), "channels": N_("Tempat & Cara Pengajuan"),
    "legal_basis": N_("Dasar Hukum"), "contact": N_("Kontak"), "local_variation": N_("Perbedaan antardaerah"),
    "sources": N_("Sumber"), "last_reviewed": N_("Terakhir ditinjau"), "notes": N_("Keterangan"),
}


# ---------------------------------------------------------------- sources

@dataclass(frozen=True)
class Source:
    """One parsed source: a registry id (with an optional article) or a URL."""

    kind: str  # "regulation" | "url"
    ref: str  # registry id or the URL
    locator: str = ""  # "Pasal 17", "Lampiran"

    @property
    def text(self) -> str:
        return f"{self.ref} {self.locator}".strip()


def parse_source(value: str) -> Source | None:
    """``"pp-76-2020 Lampiran"`` -> regulation; ``https://...`` -> url; else None."""
    value = (value or "").strip()
    if not value:
        return None
    if re.match(r"^https?://", value, re.I):
        return Source("url", value) if URL_RE.match(value) else None
    ref, _, locator = value.partition(" ")
    if not REG_ID_RE.match(ref) or not re.search(r"\d", ref):
        return None
    return Source("regulation", ref, " ".join(locator.split()))


# ---------------------------------------------------------------- the record

def _compact(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A mapping without the optional keys that are empty (file shape)."""
    return {k: v for k, v in pairs
            if not (v is None or v is False or (isinstance(v, (str, list, tuple, dict)) and not v))}


@dataclass(frozen=True)
class Item:
    """A requirement or a procedure step."""

    text: str
    sources: tuple[str, ...] = ()
    unverified: bool = False
    note: str | None = None

    def to_dict(self) -> str | dict:
        if not (self.sources or self.unverified or self.note):
            return self.text
        return _compact([("text", self.text), ("sources", list(self.sources)), ("unverified", self.unverified),
                         ("note", self.note)])


@dataclass(frozen=True)
class Exemption:
    who: str
    amount: int
    proof: str
    sources: tuple[str, ...] = ()
    unverified: bool = False
    note: str | None = None

    def to_dict(self) -> dict:
        out = {"who": self.who, "amount": self.amount, "proof": self.proof}
        out.update(_compact([("sources", list(self.sources)), ("unverified", self.unverified), ("note", self.note)]))
        return out


@dataclass(frozen=True)
class Fee:
    label: str
    kind: str  # see FEE_KINDS
    amount: int | None = None
    min: int | None = None
    max: int | None = None
    per: str | None = None
    note: str | None = None
    sources: tuple[str, ...] = ()
    unverified: bool = False
    exemptions: tuple[Exemption, ...] = ()

    def to_dict(self) -> dict:
        return _compact([("label", self.label), ("kind", self.kind), ("amount", self.amount), ("min", self.min),
                         ("max", self.max), ("per", self.per), ("note", self.note),
                         ("sources", list(self.sources)), ("unverified", self.unverified),
                         ("exemptions", [e.to_dict() for e in self.exemptions])])


@dataclass(frozen=True)
class DurationPart:
    unit: str  # see UNITS
    min: int | None = None
    max: int | None = None
    note: str | None = None
    sources: tuple[str, ...] = ()
    unverified: bool = False

    def to_dict(self) -> dict:
        out = _compact([("min", self.min), ("max", self.max), ("unit", self.unit)])
        out.update(_compact([("note", self.note), ("sources", list(self.sources)), ("unverified", self.unverified)]))
        return out


@dataclass(frozen=True)
class Duration:
    processing: DurationPart | None = None
    lead_time: DurationPart | None = None
    waiting: DurationPart | None = None
    note: str | None = None

    def parts(self) -> list[tuple[str, DurationPart]]:
        return [(name, getattr(self, name)) for name in DURATION_PARTS if getattr(self, name) is not None]

    def to_dict(self) -> dict:
        out = {name: part.to_dict() for name, part in self.parts()}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Channel:
    kind: str  # see CHANNEL_KINDS
    name: str
    address: str | None = None
    url: str | None = None
    hours: str | None = None
    note: str | None = None
    sources: tuple[str, ...] = ()
    unverified: bool = False

    def to_dict(self) -> dict:
        return _compact([("kind", self.kind), ("name", self.name), ("address", self.address), ("url", self.url),
                         ("hours", self.hours), ("note", self.note), ("sources", list(self.sources)),
                         ("unverified", self.unverified)])


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return _compact([("phone", self.phone), ("email", self.email), ("website", self.website),
                         ("note", self.note)])


@dataclass(frozen=True)
class ServiceRecord:
    slug: str
    title: str
    agency: str
    category: str
    summary: str
    requirements: tuple[Item, ...]
    fees: tuple[Fee, ...]
    duration: Duration
    steps: tuple[Item, ...]
    channels: tuple[Channel, ...]
    legal_basis: tuple[str, ...]
    contact: Contact
    last_reviewed: date
    aliases: tuple[str, ...] = ()
    local_variation: str | None = None
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group -> sources
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The file's shape, JSON-able: stored on the service row and in
        versions, sent by the API, edited in the editor.  Top-level keys are
        always present (``aliases`` [], ``local_variation`` None, ``sources``
        {}); inside items, empty optional keys are left out."""
        return {
            "slug": self.slug, "title": self.title, "agency": self.agency, "category": self.category,
            "summary": self.summary, "aliases": list(self.aliases),
            "requirements": [i.to_dict() for i in self.requirements],
            "fees": [f.to_dict() for f in self.fees], "duration": self.duration.to_dict(),
            "steps": [i.to_dict() for i in self.steps],
            "channels": [c.to_dict() for c in self.channels], "legal_basis": list(self.legal_basis),
            "contact": self.contact.to_dict(), "local_variation": self.local_variation,
            "sources": {g: list(self.sources[g]) for g in GROUPS if self.sources.get(g)},
            "last_reviewed": self.last_reviewed.isoformat(), "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceRecord:
        """Rebuild from :meth:`to_dict` output (validated again; raises RecordError)."""
        return parse_record({k: v for k, v in data.items() if k != "notes"}, data.get("notes") or "")

    # ------------------------------------------------ what cites what

    def group_sources(self, group: str) -> list[str]:
        return list(self.sources.get(group, ()))

    def citations(self) -> list[tuple[str, str, str]]:
        """Every source string with the field group it belongs to and its
        field path: [(group, path, source)], legal basis as its own group."""
        def each(group: str, where: str, sources) -> list[tuple[str, str, str]]:
            return [(group, f"{where}[{k}]", s) for k, s in enumerate(sources, 1)]

        out = each("legal_basis", "legal_basis", self.legal_basis)
        for group in GROUPS:
            out += each(group, f"sources.{group}", self.sources.get(group, ()))
        for name, items in (("requirements", self.requirements), ("steps", self.steps)):
            for i, item in enumerate(items, 1):
                out += each(name, f"{name}[{i}].sources", item.sources)
        for i, fee in enumerate(self.fees, 1):
            out += each("fees", f"fees[{i}].sources", fee.sources)
            for j, ex in enumerate(fee.exemptions, 1):
                out += each("fees", f"fees[{i}].exemptions[{j}].sources", ex.sources)
        for name, part in self.duration.parts():
            out += each("duration", f"duration.{name}.sources", part.sources)
        for i, ch in enumerate(self.channels, 1):
            out += each("channels", f"channels[{i}].sources", ch.sources)
        return out

    def cited_regulations(self) -> set[tuple[str, str]]:
        """{(group, registry id)} for the citation index."""
        out = set()
        for group, _where, text in self.citations():
            src = parse_source(text)
            if src is not None and src.kind == "regulation":
                out.add((group, src.ref))
        return out

    def links(self) -> list[tuple[str, str]]:
        """Every URL the page shows as official: [(field path, url)]."""
        out = [(f"channels[{i}].url", c.url) for i, c in enumerate(self.channels, 1) if c.url]
        if self.contact.website:
            out.append(("contact.website", self.contact.website))
        for _group, where, text in self.citations():
            src = parse_source(text)
            if src is not None and src.kind == "url":
                out.append((where, src.ref))
        return out

    def unsourced_groups(self) -> list[str]:
        return [g for g in GROUPS if not self.sources.get(g)]


def changed_fields(old: dict | None, new: dict) -> list[str]:
    if old is None:
        return list(FIELDS)
    return [k for k in FIELDS if old.get(k) != new.get(k)]


# ---------------------------------------------------------------- validation

class RecordError(ValueError):
    """All problems found in one record: a list of (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


def _type_name(value: Any) -> str:
    return {dict: "pemetaan", list: "daftar", bool: "ya/tidak", int: "angka", float: "angka",
            str: "teks"}.get(type(value), type(value).__name__)


@dataclass
class Checker:
    """Collects (field, message) problems; each method returns the cleaned
    value or None.  Shared with the registry and thread checkers."""

    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def text(self, value: Any, where: str, *, required: bool = True, max_len: int = 2000) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(where, "wajib diisi")
            return None
        if isinstance(value, (bool, dict, list, date)):
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
            self.add(where, "wajib diisi" if value is None else
                     f"harus berupa pemetaan (kunci: nilai), bukan {_type_name(value)}")
            return None
        return value

    def entries(self, value: list, where: str, allowed: tuple[str, ...] | set[str]):
        """Each mapping in the list ``value`` as (``where[i]``, mapping), after
        reporting non-mappings and unknown keys (those entries are skipped)."""
        for i, raw in enumerate(value, 1):
            w = f"{where}[{i}]"
            item = self.mapping(raw, w)
            if item is not None:
                self.unknown_keys(item, allowed, w)
                yield w, item

    def unknown_keys(self, value: dict, allowed: tuple[str, ...] | set[str], where: str) -> None:
        for key in value:
            if key not in allowed:
                hint = ", ".join(allowed)
                self.add(f"{where}.{key}" if where else str(key), f"kolom tidak dikenal (yang dikenal: {hint})")

    def url(self, value: Any, where: str, *, required: bool = False) -> str | None:
        text = self.text(value, where, required=required, max_len=500)
        if text is not None and not URL_RE.match(text):
            self.add(where, f"harus URL lengkap yang diawali http:// atau https:// (tertulis: {text!r})")
            return None
        return text

    def integer(self, value: Any, where: str, *, required: bool = False, low: int = 0,
                high: int = MAX_FEE, what: str = "bilangan bulat tanpa titik atau huruf") -> int | None:
        if value is None:
            if required:
                self.add(where, f"wajib diisi: {what}")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"harus {what} (tertulis: {value!r})")
            return None
        if not low <= value <= high:
            self.add(where, f"harus antara {low:,} dan {high:,} (tertulis: {value:,})".replace(",", "."))
            return None
        return value

    def flag(self, value: Any, where: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(where, f"harus true atau false (tertulis: {value!r})")
            return False
        return value

    def sources(self, value: Any, where: str, *, urls: bool = True) -> tuple[str, ...]:
        """A list of sources: registry ids (with an optional article) or URLs."""
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.add(where, f"harus berupa daftar sumber, bukan {_type_name(value)}")
            return ()
        out = []
        for i, raw in enumerate(value, 1):
            text = self.text(raw, f"{where}[{i}]", max_len=500)
            if text is None:
                continue
            src = parse_source(text)
            if src is None or (src.kind == "url" and not urls):
                expected = ("id registri peraturan (mis. pp-76-2020, boleh diikuti pasal) atau URL resmi"
                            if urls else "id registri peraturan (mis. pp-76-2020, boleh diikuti pasal)")
                self.add(f"{where}[{i}]", f"harus {expected} (tertulis: {text!r})")
                continue
            out.append(src.text)
        return tuple(out)


def parse_date(c: Checker, value: Any, where: str) -> date | None:
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


TOP_KEYS = tuple(k for k in FIELDS if k != "notes")


def parse_record(meta: Any, notes: str = "") -> ServiceRecord:
    """Validate front matter (already YAML-decoded) and build a record."""
    c = Checker()
    if not isinstance(meta, dict):
        raise RecordError([("front matter", "harus berupa pemetaan YAML (kunci: nilai)")])
    c.unknown_keys(meta, TOP_KEYS, "")

    slug = c.text(meta.get("slug"), "slug", max_len=80)
    if slug is not None and not SLUG_RE.match(slug):
        c.add("slug", f"hanya huruf kecil, angka dan tanda hubung (tertulis: {slug!r})")
    title = c.text(meta.get("title"), "title", max_len=200)
    agency = c.text(meta.get("agency"), "agency", max_len=80)
    category = c.text(meta.get("category"), "category", max_len=80)
    summary = c.text(meta.get("summary"), "summary", max_len=1000)
    aliases = c.text_list(meta.get("aliases"), "aliases", required=False, max_len=120)
    requirements = _parse_items(c, meta.get("requirements"), "requirements")
    steps = _parse_items(c, meta.get("steps"), "steps")
    legal_basis = _parse_legal_basis(c, meta.get("legal_basis"))
    fees = _parse_fees(c, meta.get("fees"))
    duration = _parse_duration(c, meta.get("duration"))
    channels = _parse_channels(c, meta.get("channels"))
    contact = _parse_contact(c, meta.get("contact"))
    local_variation = c.text(meta.get("local_variation"), "local_variation", required=False)
    sources = _parse_group_sources(c, meta.get("sources"))
    last_reviewed = parse_date(c, meta.get("last_reviewed"), "last_reviewed")
    if not isinstance(notes, str):
        c.add("notes", "harus berupa teks Markdown")
        notes = ""

    if c.problems:
        raise RecordError(c.problems)
    return ServiceRecord(
        slug=slug, title=title, agency=agency, category=category, summary=summary, aliases=aliases,
        requirements=requirements, fees=fees, duration=duration, steps=steps, channels=channels,
        legal_basis=legal_basis, contact=contact, local_variation=local_variation, sources=sources,
        last_reviewed=last_reviewed, notes=notes.strip(),
    )


ITEM_KEYS = ("text", "sources", "unverified", "note")


def _parse_items(c: Checker, value: Any, where: str) -> tuple[Item, ...]:
    if value is None or value == []:
        c.add(where, "wajib diisi, minimal satu butir")
        return ()
    if not isinstance(value, list):
        c.add(where, f"harus berupa daftar (list), bukan {_type_name(value)}")
        return ()
    out = []
    for i, raw in enumerate(value, 1):
        w = f"{where}[{i}]"
        if isinstance(raw, dict):
            c.unknown_keys(raw, ITEM_KEYS, w)
            text = c.text(raw.get("text"), f"{w}.text", max_len=1000)
            item = Item(text or "", c.sources(raw.get("sources"), f"{w}.sources"),
                        c.flag(raw.get("unverified"), f"{w}.unverified"),
                        c.text(raw.get("note"), f"{w}.note", required=False))
        else:
            text = c.text(raw, w, max_len=1000)
            item = Item(text or "")
        if text:
            out.append(item)
    return tuple(out)


def _parse_legal_basis(c: Checker, value: Any) -> tuple[str, ...]:
    if value is None or value == []:
        c.add("legal_basis", "wajib diisi: daftar id registri peraturan (mis. uu-22-2009)")
        return ()
    if not isinstance(value, list):
        c.add("legal_basis", f"harus berupa daftar id registri, bukan {_type_name(value)}")
        return ()
    return c.sources(value, "legal_basis", urls=False)


FEE_KEYS = ("label", "kind", "amount", "min", "max", "per", "note", "sources", "unverified", "exemptions")
EXEMPTION_KEYS = ("who", "amount", "proof", "sources", "unverified", "note")
FEE_NUMBERS = {"fixed": ("amount",), "maximum": ("amount",), "range": ("min", "max"), "by_region": (), "free": ()}


def _parse_fees(c: Checker, value: Any) -> tuple[Fee, ...]:
    if not isinstance(value, list) or not value:
        c.add("fees", "wajib diisi: daftar biaya, masing-masing dengan label dan kind "
                      "(fixed, maximum, range, by_region, free)")
        return ()
    out = []
    for where, item in c.entries(value, "fees", FEE_KEYS):
        label = c.text(item.get("label"), f"{where}.label", max_len=300)
        kind = item.get("kind")
        if kind not in FEE_KINDS:
            c.add(f"{where}.kind", ("wajib diisi" if kind is None else f"tidak dikenal (tertulis: {kind!r})")
                  + ": fixed (tetap), maximum (paling banyak), range (antara), by_region (ditetapkan daerah), free (gratis)")
            kind = None
        numbers = {}
        for key in ("amount", "min", "max"):
            raw_n = item.get(key)
            if kind is not None and key not in FEE_NUMBERS[kind]:
                if raw_n is not None:
                    used = ", ".join(FEE_NUMBERS[kind]) or "tidak ada"
                    c.add(f"{where}.{key}", f"tidak dipakai untuk kind {kind} (kolom angka: {used})")
                continue
            numbers[key] = c.integer(raw_n, f"{where}.{key}", required=kind is not None,
                                     what="angka rupiah tanpa titik (mis. 350000)")
        if kind == "fixed" and numbers.get("amount") == 0:
            c.add(f"{where}.amount", "0 berarti gratis: tulis kind: free")
        if kind == "range" and None not in (numbers.get("min"), numbers.get("max")) and numbers["min"] >= numbers["max"]:
            c.add(f"{where}.max", "harus lebih besar dari min")
        note = c.text(item.get("note"), f"{where}.note", required=False)
        if kind == "by_region" and note is None and not isinstance(item.get("note"), (dict, list, bool)):
            c.add(f"{where}.note", "wajib diisi untuk kind by_region: jelaskan cara menghitung biayanya "
                                   "atau di mana melihatnya")
        per = c.text(item.get("per"), f"{where}.per", required=False, max_len=100)
        sources = c.sources(item.get("sources"), f"{where}.sources")
        unverified = c.flag(item.get("unverified"), f"{where}.unverified")
        exemptions = _parse_exemptions(c, item.get("exemptions"), f"{where}.exemptions")
        if label and kind:
            out.append(Fee(label=label, kind=kind, amount=numbers.get("amount"), min=numbers.get("min"),
                           max=numbers.get("max"), per=per, note=note, sources=sources, unverified=unverified,
                           exemptions=exemptions))
    return tuple(out)


def _parse_exemptions(c: Checker, value: Any, where: str) -> tuple[Exemption, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        c.add(where, f"harus berupa daftar, bukan {_type_name(value)}")
        return ()
    out = []
    for w, item in c.entries(value, where, EXEMPTION_KEYS):
        who = c.text(item.get("who"), f"{w}.who", max_len=300)
        amount = c.integer(item.get("amount"), f"{w}.amount", required=True,
                           what="angka rupiah tanpa titik (0 = gratis)")
        proof = c.text(item.get("proof"), f"{w}.proof", max_len=500)
        sources = c.sources(item.get("sources"), f"{w}.sources")
        unverified = c.flag(item.get("unverified"), f"{w}.unverified")
        note = c.text(item.get("note"), f"{w}.note", required=False)
        if who and amount is not None and proof:
            out.append(Exemption(who, amount, proof, sources, unverified, note))
    return tuple(out)


PART_KEYS = ("min", "max", "unit", "note", "sources", "unverified")


def _parse_duration(c: Checker, value: Any) -> Duration | None:
    item = c.mapping(value, "duration")
    if item is None:
        return None
    c.unknown_keys(item, DURATION_PARTS + ("note",), "duration")
    parts = {}
    for name in DURATION_PARTS:
        if item.get(name) is None:
            continue
        where = f"duration.{name}"
        raw = c.mapping(item[name], where)
        if raw is None:
            continue
        c.unknown_keys(raw, PART_KEYS, where)
        low = c.integer(raw.get("min"), f"{where}.min", high=MAX_DURATION)
        high = c.integer(raw.get("max"), f"{where}.max", high=MAX_DURATION)
        if raw.get("min") is None and raw.get("max") is None:
            c.add(where, "isi min dan/atau max (bilangan bulat)")
        if low is not None and high is not None and low > high:
            c.add(f"{where}.max", "tidak boleh lebih kecil dari min")
        unit = raw.get("unit")
        if unit not in UNITS:
            c.add(f"{where}.unit", ("wajib diisi" if unit is None else f"tidak dikenal (tertulis: {unit!r})")
                  + ": minutes, hours, working_days (hari kerja), calendar_days (hari kalender), months")
            unit = None
        note = c.text(raw.get("note"), f"{where}.note", required=False, max_len=500)
        sources = c.sources(raw.get("sources"), f"{where}.sources")
        unverified = c.flag(raw.get("unverified"), f"{where}.unverified")
        if unit and (low is not None or high is not None):
            parts[name] = DurationPart(unit=unit, min=low, max=high, note=note, sources=sources, unverified=unverified)
    if not any(item.get(name) is not None for name in DURATION_PARTS):
        c.add("duration", "isi minimal satu dari processing (waktu proses), lead_time (waktu sebelum dilayani), "
                          "waiting (masa tunggu wajib)")
    note = c.text(item.get("note"), "duration.note", required=False, max_len=500)
    return Duration(note=note, **parts)


CHANNEL_KEYS = ("kind", "name", "address", "url", "hours", "note", "sources", "unverified")


def _parse_channels(c: Checker, value: Any) -> tuple[Channel, ...]:
    if not isinstance(value, list) or not value:
        c.add("channels", "wajib diisi: minimal satu tempat atau kanal pengajuan")
        return ()
    out = []
    for where, item in c.entries(value, "channels", CHANNEL_KEYS):
        kind = item.get("kind")
        if kind not in CHANNEL_KINDS:
            c.add(f"{where}.kind", ("wajib diisi" if kind is None else f"tidak dikenal (tertulis: {kind!r})")
                  + ": office (kantor), online (situs), app (aplikasi ponsel), phone (telepon/WhatsApp)")
            kind = None
        name = c.text(item.get("name"), f"{where}.name", max_len=300)
        url = c.url(item.get("url"), f"{where}.url", required=kind in ("online", "app"))
        address = c.text(item.get("address"), f"{where}.address", required=False)
        hours = c.text(item.get("hours"), f"{where}.hours", required=False, max_len=300)
        note = c.text(item.get("note"), f"{where}.note", required=False)
        sources = c.sources(item.get("sources"), f"{where}.sources")
        unverified = c.flag(item.get("unverified"), f"{where}.unverified")
        if kind and name:
            out.append(Channel(kind=kind, name=name, address=address, url=url, hours=hours, note=note,
                               sources=sources, unverified=unverified))
    return tuple(out)


def _parse_contact(c: Checker, value: Any) -> Contact | None:
    item = c.mapping(value, "contact")
    if item is None:
        return None
    c.unknown_keys(item, ("phone", "email", "website", "note"), "contact")
    phone = c.text(item.get("phone"), "contact.phone", required=False, max_len=100)
    email = c.text(item.get("email"), "contact.email", required=False, max_len=200)
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        c.add("contact.email", f"bukan alamat email (tertulis: {email!r})")
    website = c.url(item.get("website"), "contact.website")
    note = c.text(item.get("note"), "contact.note", required=False)
    if not any((phone, email, website, note)):
        c.add("contact", "isi minimal satu dari phone, email, website, note")
    return Contact(phone=phone, email=email, website=website, note=note)


def _parse_group_sources(c: Checker, value: Any) -> dict[str, tuple[str, ...]]:
    """Missing ``sources`` is not a shape error: the page loads and shows its
    groups as unverified; ``kb.lint`` reports it and publishing refuses it."""
    if value is None:
        return {}
    item = c.mapping(value, "sources")
    if item is None:
        return {}
    c.unknown_keys(item, GROUPS, "sources")
    out = {}
    for group in GROUPS:
        found = c.sources(item.get(group), f"sources.{group}")
        if found:
            out[group] = found
    return out
