"""Shared pieces of the content loaders (kb services, forum threads),
``check_content`` (``flask content check``: a lint that needs no database)
and ``load_content`` (``flask content load``: check, then write services and
threads in one transaction)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ERROR, LINT, WARNING = "error", "lint", "warning"


@dataclass
class ContentProblem:
    path: str
    field: str
    message: str
    severity: str = ERROR  # error: refuses to load; lint: fails `content check` only; warning: printed

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"

    @property
    def blocks_load(self) -> bool:
        return self.severity == ERROR

    @property
    def fails_check(self) -> bool:
        return self.severity in (ERROR, LINT)


class ContentError(Exception):
    def __init__(self, problems: list[ContentProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def read_text(path: Path, rel: str, problems: list[ContentProblem]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(ContentProblem(rel, "file", "bukan teks UTF-8"))
    except OSError as exc:
        problems.append(ContentProblem(rel, "file", f"tidak bisa dibaca: {exc.strerror}"))
    return None


def parse_yaml(text: str, rel: str, problems: list[ContentProblem]) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"baris {mark.line + 1}" if mark else "YAML"
        problems.append(ContentProblem(rel, where, f"YAML tidak valid: {getattr(exc, 'problem', exc)}"))
        return None


@dataclass
class CheckResult:
    problems: list[ContentProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[ContentProblem]:
        return [p for p in self.problems if p.fails_check]

    @property
    def warnings(self) -> list[ContentProblem]:
        return [p for p in self.problems if not p.fails_check]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_content(directory: str | Path, *, today=None) -> CheckResult:
    """Lint a content folder as a whole, without a database: every file
    format rule plus the rules of kb.lint and the thread checks."""
    from forum.loader import parse_threads
    from kb.loader import parse_directory

    parsed = parse_directory(directory, use_db=False, today=today)
    problems = list(parsed.problems)
    if Path(directory).is_dir():
        problems += parse_threads(directory, parsed=parsed, use_db=False).problems
    return CheckResult(problems)


def load_content(directory: str | Path) -> list[str]:
    """Check everything in the folder, then write services and threads in
    one transaction.  Returns summary lines (with what loaded but still
    fails ``content check``); raises ContentError."""
    from forum.loader import parse_threads, write_threads
    from kb.loader import parse_directory, prepare, write_parsed

    from .db import write_transaction

    parsed = parse_directory(directory, allow_empty=True)
    threads = parse_threads(directory, parsed=parsed) if Path(directory).is_dir() else None
    problems = parsed.problems + (threads.problems if threads else [])
    blocking = [p for p in problems if p.blocks_load]
    if blocking:
        raise ContentError(blocking)
    if parsed.is_empty() and not (threads and threads.threads):
        raise ContentError([ContentProblem(str(directory), "folder",
                                           "tidak berisi categories.yml, agencies/, regulations/, services/*.md "
                                           "maupun threads/*.yml")])
    rendered = prepare(parsed)  # Markdown is rendered before the write lock is taken
    with write_transaction():
        kb_report = write_parsed(parsed, rendered)
        forum_report = write_threads(threads.threads if threads else [])
    lines = [kb_report.summary(), forum_report.summary()]
    gaps = [p for p in problems if p.severity == LINT]
    if gaps:
        lines.append(f"dimuat dengan {len(gaps)} kekurangan yang ditampilkan sebagai \"belum terverifikasi\" "
                     "(lihat flask content check)")
    return lines
