"""The regulation registry, agencies, categories and official domains as
typed entries (content/README.md).  Pure: no database, no Flask.

Each ``parse_*`` takes one raw YAML mapping and a :class:`~kb.record.Checker`
and returns an entry or None; cross-entry rules (duplicates, references
between regulations, official links) are in :mod:`kb.lint`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .record import REG_ID_RE, SLUG_RE, Checker, parse_date

REG_TYPES = ("UU", "Perppu", "PP", "Perpres", "Keppres", "Inpres", "Permen", "Perpol", "Perkap", "Perban", "Perda",
             "Kepmen", "SE", "Lainnya")
REG_STATUSES = ("in_force", "amended", "repealed")
STATUS_LABELS = {"in_force": "Berlaku", "amended": "Berlaku dengan perubahan", "repealed": "Dicabut"}
REG_KEYS = ("id", "type", "number", "year", "title", "issuer", "url", "status", "amended_by", "replaced_by",
            "checked", "note")
AGENCY_KEYS = ("slug", "name", "short_name", "website", "parent", "description")
CATEGORY_KEYS = ("slug", "name", "name_en", "description")


@dataclass(frozen=True)
class RegulationEntry:
    id: str
    type: str
    number: str
    year: int
    title: str
    status: str
    checked: date
    issuer: str | None = None
    url: str | None = None
    amended_by: tuple[str, ...] = ()
    replaced_by: tuple[str, ...] | None = None  # None: not given; () given as [] (repealed without successor)
    note: str | None = None

    @property
    def label(self) -> str:
        """Short citation: "PP 76/2020"."""
        return f"{self.type} {self.number}/{self.year}"

    def to_dict(self) -> dict[str, Any]:
        """The file's shape."""
        out: dict[str, Any] = {"id": self.id, "type": self.type, "number": self.number, "year": self.year,
                               "title": self.title}
        if self.issuer:
            out["issuer"] = self.issuer
        if self.url:
            out["url"] = self.url
        out["status"] = self.status
        if self.amended_by:
            out["amended_by"] = list(self.amended_by)
        if self.replaced_by is not None:
            out["replaced_by"] = list(self.replaced_by)
        out["checked"] = self.checked.isoformat()
        if self.note:
            out["note"] = self.note
        return out


def _id_list(c: Checker, value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        c.add(where, "harus berupa daftar id registri (mis. [pp-45-2024])")
        return None
    out = []
    for i, raw in enumerate(value, 1):
        text = c.text(raw, f"{where}[{i}]", max_len=80)
        if text is not None and not REG_ID_RE.match(text):
            c.add(f"{where}[{i}]", f"bukan id registri (huruf kecil, angka, tanda hubung; tertulis: {text!r})")
        elif text is not None:
            out.append(text)
    return tuple(out)


def parse_regulation(raw: Any, where: str, c: Checker) -> RegulationEntry | None:
    if not isinstance(raw, dict):
        c.add(where, "harus berupa pemetaan (id: ..., type: ..., ...)")
        return None
    n = len(c.problems)
    c.unknown_keys(raw, REG_KEYS, where)
    reg_id = c.text(raw.get("id"), f"{where}.id", max_len=80)
    if reg_id is not None and (not REG_ID_RE.match(reg_id) or not any(ch.isdigit() for ch in reg_id)):
        c.add(f"{where}.id", f"harus huruf kecil <jenis>-<nomor>-<tahun>, mis. pp-76-2020 (tertulis: {reg_id!r})")
    reg_type = raw.get("type")
    if reg_type not in REG_TYPES:
        c.add(f"{where}.type", ("wajib diisi" if reg_type is None else f"tidak dikenal (tertulis: {reg_type!r})")
              + f": salah satu dari {', '.join(REG_TYPES)}")
    number = raw.get("number")
    number = c.text(str(number) if isinstance(number, int) and not isinstance(number, bool) else number,
                    f"{where}.number", max_len=60)
    year = c.integer(raw.get("year"), f"{where}.year", required=True, low=1900, high=2100, what="tahun (mis. 2020)")
    title = c.text(raw.get("title"), f"{where}.title", max_len=1000)
    issuer = c.text(raw.get("issuer"), f"{where}.issuer", required=False, max_len=200)
    url = c.url(raw.get("url"), f"{where}.url")
    status = raw.get("status")
    if status not in REG_STATUSES:
        c.add(f"{where}.status", ("wajib diisi" if status is None else f"tidak dikenal (tertulis: {status!r})")
              + ": in_force (berlaku), amended (berlaku dengan perubahan), repealed (dicabut)")
    amended_by = _id_list(c, raw.get("amended_by"), f"{where}.amended_by")
    replaced_by = _id_list(c, raw.get("replaced_by"), f"{where}.replaced_by")
    if status == "amended" and not amended_by:
        c.add(f"{where}.amended_by", "wajib diisi bila status amended: id peraturan pengubah")
    if status == "repealed" and replaced_by is None:
        c.add(f"{where}.replaced_by", "wajib diisi bila status repealed: id peraturan pengganti "
                                      "([] bila dicabut tanpa pengganti, jelaskan di note)")
    if status in ("in_force", "amended") and replaced_by:
        c.add(f"{where}.replaced_by", "hanya untuk status repealed")
    if reg_id and reg_id in (amended_by or ()) + (replaced_by or ()):
        c.add(where, "tidak boleh merujuk dirinya sendiri")
    checked = parse_date(c, raw.get("checked"), f"{where}.checked")
    note = c.text(raw.get("note"), f"{where}.note", required=False)
    if status == "repealed" and replaced_by == () and not note:
        c.add(f"{where}.note", "wajib diisi bila dicabut tanpa pengganti (replaced_by: [])")
    if len(c.problems) > n:
        return None
    return RegulationEntry(id=reg_id, type=reg_type, number=number, year=year, title=title, status=status,
                           checked=checked, issuer=issuer, url=url, amended_by=amended_by or (),
                           replaced_by=replaced_by, note=note)


def parse_simple(raw: Any, where: str, c: Checker, keys: tuple[str, ...], required: tuple[str, ...]) -> dict | None:
    """A category or agency: flat mapping of text, keyed by slug."""
    if not isinstance(raw, dict):
        c.add(where, "harus berupa pemetaan (slug: ..., name: ...)")
        return None
    n = len(c.problems)
    c.unknown_keys(raw, keys, where)
    out = {}
    for key in keys:
        if key == "website":
            out[key] = c.url(raw.get(key), f"{where}.{key}")
        else:
            out[key] = c.text(raw.get(key), f"{where}.{key}", required=key in required,
                              max_len=2000 if key == "description" else 300)
    if out.get("slug") and not SLUG_RE.match(out["slug"]):
        c.add(f"{where}.slug", f"hanya huruf kecil, angka dan tanda hubung (tertulis: {out['slug']!r})")
    return out if len(c.problems) == n else None


# ---------------------------------------------------------------- official domains

DEFAULT_SUFFIXES = (".go.id", ".mil.id", ".desa.id")


@dataclass(frozen=True)
class OfficialDomains:
    suffixes: tuple[str, ...] = DEFAULT_SUFFIXES
    hosts: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def is_official(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower().rstrip(".")
        except ValueError:
            return False
        if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
            return False
        for suffix in self.suffixes:
            s = suffix.lower()
            if (s.startswith(".") and host.endswith(s)) or host == s or host.endswith("." + s):
                return True
        if host in {h.lower() for h in self.hosts}:
            return True
        return any(url.startswith(p) for p in self.prefixes)


def parse_domains(data: Any, c: Checker) -> OfficialDomains:
    if data is None:
        return OfficialDomains()
    if not isinstance(data, dict):
        c.add("official_domains", "harus berupa pemetaan dengan suffixes, hosts, prefixes")
        return OfficialDomains()
    c.unknown_keys(data, ("suffixes", "hosts", "prefixes"), "")
    lists = {}
    for key in ("suffixes", "hosts", "prefixes"):
        lists[key] = c.text_list(data.get(key), key, required=False, max_len=300)
    for i, p in enumerate(lists["prefixes"], 1):
        if not p.lower().startswith("https://") or p.count("/") < 3:
            c.add(f"prefixes[{i}]", f"harus awalan URL lengkap https://host/... (tertulis: {p!r})")
    for i, s in enumerate(lists["suffixes"], 1):
        if s.lstrip(".").count(".") < 1:
            c.add(f"suffixes[{i}]", f"terlalu umum (tertulis: {s!r}); contoh: .go.id")
    return OfficialDomains(suffixes=lists["suffixes"] or DEFAULT_SUFFIXES, hosts=lists["hosts"],
                           prefixes=lists["prefixes"])


def domains_from_folder(folder: str | Path | None) -> OfficialDomains:
    """The official domains of a content folder (defaults when absent or broken);
    used where no problem report is wanted (the editor, the thread loader)."""
    import yaml

    path = Path(folder) / "official_domains.yml" if folder else None
    if path is None or not path.is_file():
        return OfficialDomains()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return OfficialDomains()
    c = Checker()
    domains = parse_domains(data, c)
    return OfficialDomains() if c.problems else domains


@dataclass
class Registry:
    """What a record's references are resolved against."""

    regulations: dict[str, RegulationEntry] = field(default_factory=dict)
    domains: OfficialDomains = field(default_factory=OfficialDomains)
    agencies: set[str] | None = None  # None: not checked
    categories: set[str] | None = None
