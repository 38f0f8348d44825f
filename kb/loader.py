"""Load a content folder (see content/README.md) into the knowledge base.

Parsing reports every problem with its file, field and severity (see
``kb.lint``) and touches the database only to resolve references to
categories, agencies and regulations loaded earlier (``use_db=False`` for
``flask content check``).  The load is all-or-nothing: only a folder without
blocking problems is written, in one transaction.  Loading the same folder
again changes nothing; a changed file produces exactly one new version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.contentio import ERROR, ContentError, ContentProblem, parse_yaml, read_text

from .lint import lint_record, lint_regulations
from .record import Checker, RecordError, ServiceRecord, parse_record
from .registry import (AGENCY_KEYS, CATEGORY_KEYS, OfficialDomains, Registry, RegulationEntry, domains_from_folder,
                       parse_domains, parse_regulation, parse_simple)


@dataclass
class LoadReport:
    categories: int = 0
    agencies: int = 0
    regulations: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # pages flagged for review by a regulation change
    best_bets: int | None = None  # pages pinned by content/best_bets.yml (None: no such file)
    referrals: int | None = None  # topic referrals from content/referrals.yml (None: no such file)

    def summary(self) -> str:
        text = (f"kategori diperbarui: {self.categories}, instansi diperbarui: {self.agencies}, "
                f"peraturan diperbarui: {self.regulations}, layanan baru: {len(self.created)}, "
                f"diubah: {len(self.updated)}, tetap: {len(self.unchanged)}")
        if self.flagged:
            text += f", ditandai perlu ditinjau: {', '.join(self.flagged)}"
        if self.best_bets is not None:
            text += f", pilihan utama pencarian: {self.best_bets}"
        if self.referrals is not None:
            text += f", rujukan topik: {self.referrals}"
        return text


@dataclass
class ParsedContent:
    root: Path
    categories: list[dict] = field(default_factory=list)
    agencies: list[dict] = field(default_factory=list)
    regulations: list[RegulationEntry] = field(default_factory=list)
    services: list[tuple[str, ServiceRecord]] = field(default_factory=list)
    service_files: set[str] = field(default_factory=set)  # every services/*.md name, parsed or not
    registry: Registry = field(default_factory=Registry)
    problems: list[ContentProblem] = field(default_factory=list)
    best_bets: list | None = None  # kb.best_bets.BetEntry from best_bets.yml (None: no such file)
    referrals: list | None = None  # kb.referrals.ReferralEntry from referrals.yml (None: no such file)

    def is_empty(self) -> bool:
        return not (self.categories or self.agencies or self.regulations or self.services)

    def raise_for_errors(self) -> None:
        blocking = [p for p in self.problems if p.blocks_load]
        if blocking:
            raise ContentError(blocking)


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


def _read_list(path: Path, rel: str, kind: str, problems: list[ContentProblem]) -> list | None:
    """A YAML file holding a list (an empty file or ``[]`` is an empty list)."""
    text = read_text(path, rel, problems)
    if text is None:
        return None
    n = len(problems)
    data = parse_yaml(text, rel, problems)
    if len(problems) > n:
        return None
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(ContentProblem(rel, kind, "harus berupa daftar YAML (setiap butir diawali '- ')"))
        return None
    return data


def _checked(rel: str, problems: list[ContentProblem]):
    """A Checker whose problems land in ``problems`` under file ``rel``."""
    c = Checker()

    def flush():
        problems.extend(ContentProblem(rel, f, m) for f, m in c.problems)
        c.problems.clear()
    return c, flush


def _parse_keyed(root: Path, files: list[Path], kind: str, parse, key: str,
                 problems: list[ContentProblem]) -> list[tuple[str, str, object]]:
    """Entries of several list files, each keyed by ``key``; a key seen
    twice (in one file or across files) is an error."""
    out, seen = [], {}
    for path in files:
        rel = str(path.relative_to(root))
        data = _read_list(path, rel, kind, problems)
        for i, raw in enumerate(data or [], start=1):
            where = f"{kind}[{i}]"
            c, flush = _checked(rel, problems)
            entry = parse(raw, where, c)
            flush()
            if entry is None:
                continue
            value = entry[key] if isinstance(entry, dict) else getattr(entry, key)
            if value in seen:
                problems.append(ContentProblem(rel, f"{where}.{key}", f"'{value}' sudah ada di {seen[value]}"))
                continue
            seen[value] = f"{rel} ({where})"
            out.append((rel, where, entry))
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
    n = len(problems)
    meta = parse_yaml(front, rel, problems)
    if len(problems) > n:
        return None
    if meta is None:
        problems.append(ContentProblem(rel, "front matter", "kosong"))
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


def db_registry() -> Registry:
    """What the database already knows: regulations, agencies, categories."""
    import sqlalchemy as sa
    from flask import current_app

    from core.extensions import db

    from .models import Agency, Category, Regulation

    return Registry(
        regulations={r.key: r.entry() for r in db.session.scalars(sa.select(Regulation))},
        domains=domains_from_folder(current_app.config.get("CONTENT_DIR")),
        agencies=set(db.session.scalars(sa.select(Agency.slug))),
        categories=set(db.session.scalars(sa.select(Category.slug))),
    )


def parse_directory(directory: str | Path, *, use_db: bool = True, allow_empty: bool = False,
                    today: date | None = None) -> ParsedContent:
    """Parse and check a folder.  Never raises for content problems: they
    are in ``.problems`` with their severity."""
    root = Path(directory)
    parsed = ParsedContent(root=root)
    problems = parsed.problems
    if not root.is_dir():
        problems.append(ContentProblem(str(directory), "folder", "tidak ditemukan atau bukan folder"))
        return parsed

    if (root / "categories.yml").exists():
        parsed.categories = [e for _r, _w, e in _parse_keyed(
            root, [root / "categories.yml"], "categories",
            lambda raw, where, c: parse_simple(raw, where, c, CATEGORY_KEYS, ("slug", "name")), "slug", problems)]
    if (root / "agencies.yml").exists():
        problems.append(ContentProblem("agencies.yml", "file", "format versi 2: pindahkan instansi ke "
                                                               "agencies/*.yml (lihat content/README.md)"))
    agency_entries = _parse_keyed(
        root, sorted((root / "agencies").glob("*.yml")), "agencies",
        lambda raw, where, c: parse_simple(raw, where, c, AGENCY_KEYS, ("slug", "name")), "slug", problems)
    parsed.agencies = [e for _r, _w, e in agency_entries]
    reg_entries = _parse_keyed(root, sorted((root / "regulations").glob("*.yml")), "regulations",
                               parse_regulation, "id", problems)
    parsed.regulations = [e for _r, _w, e in reg_entries]

    domains = None
    if (root / "official_domains.yml").exists():
        text = read_text(root / "official_domains.yml", "official_domains.yml", problems)
        data = parse_yaml(text, "official_domains.yml", problems) if text is not None else None
        c, flush = _checked("official_domains.yml", problems)
        domains = parse_domains(data, c)
        flush()

    known = db_registry() if use_db else Registry(agencies=set(), categories=set())
    registry = parsed.registry
    registry.regulations = {**known.regulations, **{r.id: r for r in parsed.regulations}}
    registry.domains = domains or (known.domains if use_db else OfficialDomains())
    registry.agencies = known.agencies | {a["slug"] for a in parsed.agencies}
    registry.categories = known.categories | {c["slug"] for c in parsed.categories}

    for rel, where, agency in agency_entries:
        if agency.get("website") and not registry.domains.is_official(agency["website"]):
            problems.append(ContentProblem(rel, f"{where}.website", f"{agency['website']} bukan domain resmi "
                                                                    "(lihat official_domains.yml)"))
    for rel, finding in lint_regulations(reg_entries, registry):
        problems.append(ContentProblem(rel, finding.field, finding.message, finding.severity))

    service_dir = root / "services"
    files = sorted(service_dir.glob("*.md")) if service_dir.is_dir() else []
    seen: dict[str, str] = {}
    parsed.service_files = {path.stem for path in files}
    for path in files:
        rel = str(path.relative_to(root))
        record = parse_service_file(path, rel, problems)
        if record is None:
            continue
        if record.slug in seen:
            problems.append(ContentProblem(rel, "slug", f"'{record.slug}' sudah dipakai oleh {seen[record.slug]}"))
            continue
        seen[record.slug] = rel
        for f in lint_record(record, registry, today=today):
            problems.append(ContentProblem(rel, f.field, f.message, f.severity))
        parsed.services.append((rel, record))

    if (root / "best_bets.yml").exists():
        from .best_bets import parse_entries

        text = read_text(root / "best_bets.yml", "best_bets.yml", problems)
        data = parse_yaml(text, "best_bets.yml", problems) if text is not None else None
        known_slugs = {record.slug for _rel, record in parsed.services}
        if use_db:
            from core.extensions import db

            from .models import Service

            known_slugs |= set(db.session.scalars(db.select(Service.slug)))
        parsed.best_bets = parse_entries(data, "best_bets.yml", known_slugs, problems)

    if (root / "referrals.yml").exists():
        from .referrals import parse_entries as parse_referrals

        text = read_text(root / "referrals.yml", "referrals.yml", problems)
        data = parse_yaml(text, "referrals.yml", problems) if text is not None else None
        parsed.referrals = parse_referrals(data, "referrals.yml", registry, problems, today=today)

    if parsed.is_empty() and not allow_empty and not (root / "threads").is_dir():
        problems.append(ContentProblem(str(directory), "folder", "tidak berisi categories.yml, agencies/, "
                                                                 "regulations/ maupun services/*.md"))
    return parsed


def prepare(parsed: ParsedContent) -> dict[str, str]:
    """Slow work done before the write transaction: notes rendered to HTML."""
    from core.markup import render_markdown

    return {record.slug: render_markdown(record.notes) for _rel, record in parsed.services}


def load_directory(directory: str | Path) -> LoadReport:
    """Load only the knowledge-base part of a folder."""
    from core.db import write_transaction

    parsed = parse_directory(directory)
    parsed.raise_for_errors()
    rendered = prepare(parsed)
    with write_transaction():
        return write_parsed(parsed, rendered)


def write_parsed(parsed: ParsedContent, rendered: dict[str, str] | None = None) -> LoadReport:
    """Write what parse_directory returned; the caller holds the transaction."""
    from core.extensions import db

    from .services import save_regulation, save_service, upsert_agency, upsert_category

    report = LoadReport()
    for position, c in enumerate(parsed.categories):
        report.categories += upsert_category(c["slug"], c["name"], name_en=c.get("name_en"),
                                             description=c.get("description") or "", position=position)
    for a in parsed.agencies:
        report.agencies += upsert_agency(a["slug"], a["name"], short_name=a.get("short_name"),
                                         website=a.get("website"), parent=a.get("parent"),
                                         description=a.get("description") or "")
    db.session.flush()
    changed_regulations = []
    # Regulations before pages (the citation index refers to them); their
    # changes are propagated after the pages are saved, so a page loaded in
    # the same run is flagged with its new content.
    for entry in parsed.regulations:
        result = save_regulation(entry, propagate=False)
        report.regulations += result.changed
        if result.status_changed:
            changed_regulations.append(result)
    db.session.flush()
    for rel, record in parsed.services:
        result = save_service(record, source=f"content:{rel}", note="Dimuat dari berkas konten",
                              notes_html=(rendered or {}).get(record.slug), reviewed_in_file=True)
        bucket = report.created if result.created else report.updated if result.changed else report.unchanged
        bucket.append(record.slug)
    from .curation import propagate_regulation_change

    for result in changed_regulations:
        report.flagged += propagate_regulation_change(result.regulation, result.old_status)
    if parsed.best_bets is not None:
        from .best_bets import replace_from_content
        from .models import Service

        db.session.flush()
        slugs = dict(db.session.execute(db.select(Service.slug, Service.id)).all())
        report.best_bets = replace_from_content(parsed.best_bets, slugs)
    if parsed.referrals is not None:
        from .models import Agency
        from .referrals import replace_from_content as replace_referrals

        db.session.flush()
        agencies = dict(db.session.execute(db.select(Agency.slug, Agency.id)).all())
        report.referrals = replace_referrals(parsed.referrals, agencies)
    return report


__all__ = ["ContentError", "ContentProblem", "ERROR", "LoadReport", "OfficialDomains", "ParsedContent",
           "load_directory", "parse_directory", "split_front_matter", "write_parsed"]
