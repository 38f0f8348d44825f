"""Rules that need more than one record: registry references, repealed
regulations, official links, sources per field group, review dates.

Every finding has a severity:

* ``error``: refuses to load (and fails ``flask content check``): unknown or
  repealed regulations, non-official links, unknown agency or category, a
  review date in the future;
* ``lint``: fails ``flask content check`` but may load; the page shows the
  gap ("Belum terverifikasi"): a field group without sources;
* ``warning``: printed, never fails: a regulation without a link, a page
  whose review is overdue, an amended regulation cited without its amendment.

Used by the content loader, the checker, the editor and publishing, so the
same rule gives the same message everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .record import FIELD_LABELS, ServiceRecord, parse_source
from .registry import Registry, RegulationEntry

ERROR, LINT, WARNING = "error", "lint", "warning"
DEFAULT_REVIEW_INTERVAL = 180  # days; kb_services.review_interval_days starts here


@dataclass(frozen=True)
class Finding:
    field: str
    message: str
    severity: str = ERROR


def cite_problem(text: str, registry: Registry) -> Finding | None:
    """Why one source string cannot be cited, or None."""
    src = parse_source(text)
    if src is None:
        return Finding("", f"bukan id registri atau URL (tertulis: {text!r})")
    if src.kind == "url":
        if not registry.domains.is_official(src.ref):
            return Finding("", f"{src.ref} bukan domain resmi (lihat official_domains.yml)")
        return None
    reg = registry.regulations.get(src.ref)
    if reg is None:
        return Finding("", f"peraturan '{src.ref}' tidak ada di registri (regulations/*.yml)")
    if reg.status == "repealed":
        successor = ", ".join(reg.replaced_by or ()) or "tanpa pengganti"
        return Finding("", f"{reg.label} ({src.ref}) sudah dicabut; kutip penggantinya ({successor})")
    return None


def lint_record(record: ServiceRecord, registry: Registry, *, today: date | None = None,
                review_interval: int = DEFAULT_REVIEW_INTERVAL) -> list[Finding]:
    today = today or date.today()
    out: list[Finding] = []
    if registry.agencies is not None and record.agency not in registry.agencies:
        out.append(Finding("agency", f"'{record.agency}' tidak ada di agencies/"))
    if registry.categories is not None and record.category not in registry.categories:
        out.append(Finding("category", f"'{record.category}' tidak ada di categories.yml"))
    cited = set()
    for _group, where, text in record.citations():
        problem = cite_problem(text, registry)
        if problem is not None:
            out.append(Finding(where, problem.message))
        src = parse_source(text)
        if src is not None and src.kind == "regulation":
            cited.add(src.ref)
    for where, url in record.links():
        if where.startswith(("channels", "contact")) and not registry.domains.is_official(url):
            out.append(Finding(where, f"{url} bukan domain resmi (lihat official_domains.yml); "
                                      "tautkan hanya situs instansi"))
    for ref in sorted(cited):
        reg = registry.regulations.get(ref)
        if reg is not None and reg.status == "amended" and not cited & set(reg.amended_by):
            out.append(Finding("legal_basis", f"{reg.label} ({ref}) telah diubah oleh {', '.join(reg.amended_by)}; "
                                              "kutip juga pengubahnya bila isi yang dikutip berubah", WARNING))
    for group in record.unsourced_groups():
        out.append(Finding(f"sources.{group}", f"{FIELD_LABELS[group]} belum menyebut sumber", LINT))
    if record.last_reviewed > today:
        out.append(Finding("last_reviewed", f"{record.last_reviewed.isoformat()} ada di masa depan"))
    elif record.last_reviewed + timedelta(days=review_interval) < today:
        out.append(Finding("last_reviewed", f"terakhir ditinjau {record.last_reviewed.isoformat()}, lebih dari "
                                            f"{review_interval} hari lalu; periksa lagi terhadap sumbernya", WARNING))
    return out


def publish_blockers(record: ServiceRecord, registry: Registry) -> list[str]:
    """Why a page cannot be published or marked reviewed: groups without
    sources, repealed or unknown regulations, non-official links.  Empty
    when it can."""
    problems = []
    missing = record.unsourced_groups()
    if missing:
        problems.append("kelompok tanpa sumber: " + ", ".join(FIELD_LABELS[g] for g in missing))
    for f in lint_record(record, registry, today=date.max):
        if f.severity == ERROR and f.field != "last_reviewed":
            group = f.field.split(".")[0].split("[")[0]
            if group == "sources":
                group = f.field.split(".")[1].split("[")[0]
            problems.append(f"{FIELD_LABELS.get(group, group)} ({f.field}): {f.message}")
    return problems


def lint_regulations(entries: list[tuple[str, str, RegulationEntry]], registry: Registry) -> list[tuple[str, Finding]]:
    """Rules across the registry: [(file, finding)].  ``entries`` are
    (file, where, entry); ``registry`` holds every known regulation."""
    out = []
    for rel, where, reg in entries:
        for key, ids in (("amended_by", reg.amended_by), ("replaced_by", reg.replaced_by or ())):
            for i, ref in enumerate(ids, 1):
                if ref not in registry.regulations:
                    out.append((rel, Finding(f"{where}.{key}[{i}]", f"'{ref}' tidak ada di registri")))
        if reg.url is None:
            out.append((rel, Finding(f"{where}.url", f"{reg.label} belum bertaut ke naskah resmi (JDIH atau "
                                                     "peraturan.bpk.go.id)", WARNING)))
        elif not registry.domains.is_official(reg.url):
            out.append((rel, Finding(f"{where}.url", f"{reg.url} bukan domain resmi (lihat official_domains.yml)")))
    return out

