"""Load a content folder (see content/README.md) into the knowledge base.

The load is all-or-nothing: every file is parsed and checked first, every
problem is reported with its file and field, and only a folder without
problems is written, in one transaction.  Loading the same folder again
changes nothing; a changed file produces exactly one new version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db

from core.contentio import ContentError, ContentProblem, parse_yaml, read_text

from .models import Agency, Category
from .record import SLUG_RE, RecordError, ServiceRecord, parse_record
from .services import save_service, upsert_agency, upsert_category


@dataclass
class LoadReport:
    categories: int = 0
    agencies: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"kategori diperbarui: {self.categories}, instansi diperbarui: {self.agencies}, "
                f"layanan baru: {len(self.created)}, diubah: {len(self.updated)}, tetap: {len(self.unchanged)}")


def split_front_matter(text: str) -> tuple[str, str]:
    """Return (yaml, markdown body).  Raises ValueError if there is no front matter."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise ValueError("file harus diawali baris '---' (front matter YAML)")
    end = text.find("\n---", 4)
    while end != -1 and text[end + 4:end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise ValueError("front matter tidak ditutup dengan baris '---'")
    return text[4:end + 1], text[end + 5:]


def _parse_simple_list(path: Path, rel: str, kind: str, allowed: dict[str, bool],
                       problems: list[ContentProblem]) -> list[dict]:
    """categories.yml / agencies.yml: a YAML list of mappings."""
    text = read_text(path, rel, problems)
    if text is None:
        return []
    data = parse_yaml(text, rel, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(ContentProblem(rel, kind, "harus berupa daftar YAML (setiap butir diawali '- ')"))
        return []
    out, seen = [], set()
    for i, item in enumerate(data, start=1):
        where = f"{kind}[{i}]"
        if not isinstance(item, dict):
            problems.append(ContentProblem(rel, where, "harus berupa pemetaan (slug: ..., name: ...)"))
            continue
        ok = True
        for key in item:
            if key not in allowed:
                problems.append(ContentProblem(rel, f"{where}.{key}",
                                               f"kolom tidak dikenal (yang dikenal: {', '.join(allowed)})"))
                ok = False
        for key, required in allowed.items():
            value = item.get(key)
            if required and (value is None or not str(value).strip()):
                problems.append(ContentProblem(rel, f"{where}.{key}", "wajib diisi"))
                ok = False
            elif value is not None and not isinstance(value, (str, int)):
                problems.append(ContentProblem(rel, f"{where}.{key}", "harus berupa teks"))
                ok = False
        slug = str(item.get("slug") or "")
        if slug and not SLUG_RE.match(slug):
            problems.append(ContentProblem(rel, f"{where}.slug", f"hanya huruf kecil, angka dan tanda hubung (tertulis: {slug!r})"))
            ok = False
        if slug in seen:
            problems.append(ContentProblem(rel, f"{where}.slug", f"'{slug}' muncul lebih dari sekali"))
            ok = False
        seen.add(slug)
        if ok:
            out.append({k: (str(v).strip() if v is not None else None) for k, v in item.items()})
    return out


def parse_service_file(path: Path, rel: str, problems: list[ContentProblem]) -> ServiceRecord | None:
    text = read_text(path, rel, problems)
    if text is None:
        return None
    try:
        front, body = split_front_matter(text)
    except ValueError as exc:
        problems.append(ContentProblem(rel, "front matter", str(exc)))
        return None
    meta = parse_yaml(front, rel, problems)
    if meta is None and not front.strip():
        problems.append(ContentProblem(rel, "front matter", "kosong"))
        return None
    if meta is None:
        return None
    try:
        record = parse_record(meta, body)
    except RecordError as exc:
        problems.extend(ContentProblem(rel, f, m) for f, m in exc.problems)
        return None
    if path.stem != record.slug:
        problems.append(ContentProblem(rel, "slug", f"nama file harus sama dengan slug: '{record.slug}.md'"))
        return None
    return record


def parse_directory(directory: str | Path, *, allow_empty: bool = False) -> tuple[list[dict], list[dict], list[tuple[str, ServiceRecord]]]:
    """Parse and check a folder without touching the database (except to
    resolve references to categories and agencies loaded earlier)."""
    root = Path(directory)
    problems: list[ContentProblem] = []
    if not root.is_dir():
        raise ContentError([ContentProblem(str(directory), "folder", "tidak ditemukan atau bukan folder")])

    categories: list[dict] = []
    agencies: list[dict] = []
    if (root / "categories.yml").exists():
        categories = _parse_simple_list(root / "categories.yml", "categories.yml", "categories",
                                        {"slug": True, "name": True, "name_en": False, "description": False},
                                        problems)
    if (root / "agencies.yml").exists():
        agencies = _parse_simple_list(root / "agencies.yml", "agencies.yml", "agencies",
                                      {"slug": True, "name": True, "short_name": False, "website": False,
                                       "description": False}, problems)

    services: list[tuple[str, ServiceRecord]] = []
    service_dir = root / "services"
    files = sorted(service_dir.glob("*.md")) if service_dir.is_dir() else []
    for path in files:
        rel = str(path.relative_to(root))
        record = parse_service_file(path, rel, problems)
        if record is not None:
            services.append((rel, record))

    known_categories = {c["slug"] for c in categories} | set(db.session.scalars(sa.select(Category.slug)))
    known_agencies = {a["slug"] for a in agencies} | set(db.session.scalars(sa.select(Agency.slug)))
    seen: dict[str, str] = {}
    for rel, record in services:
        if record.category not in known_categories:
            problems.append(ContentProblem(rel, "category", f"'{record.category}' tidak ada di categories.yml"))
        if record.agency not in known_agencies:
            problems.append(ContentProblem(rel, "agency", f"'{record.agency}' tidak ada di agencies.yml"))
        if record.slug in seen:
            problems.append(ContentProblem(rel, "slug", f"'{record.slug}' sudah dipakai oleh {seen[record.slug]}"))
        seen[record.slug] = rel

    if not categories and not agencies and not files and not allow_empty:
        problems.append(ContentProblem(str(directory), "folder",
                                       "tidak berisi categories.yml, agencies.yml maupun services/*.md"))
    if problems:
        raise ContentError(problems)
    return categories, agencies, services


def load_directory(directory: str | Path) -> LoadReport:
    """Load only the knowledge-base part of a folder."""
    parsed = parse_directory(directory)
    with write_transaction():
        return write_parsed(parsed)


def write_parsed(parsed) -> LoadReport:
    """Write what parse_directory returned; the caller holds the transaction."""
    categories, agencies, services = parsed
    report = LoadReport()
    for position, c in enumerate(categories):
        report.categories += upsert_category(c["slug"], c["name"], name_en=c.get("name_en"),
                                             description=c.get("description") or "", position=position)
    for a in agencies:
        report.agencies += upsert_agency(a["slug"], a["name"], short_name=a.get("short_name"),
                                         website=a.get("website"), description=a.get("description") or "")
    db.session.flush()
    for rel, record in services:
        result = save_service(record, source=f"content:{rel}", note="Dimuat dari berkas konten")
        bucket = report.created if result.created else report.updated if result.changed else report.unchanged
        bucket.append(record.slug)
    return report
