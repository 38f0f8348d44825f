"""Shared pieces of the content loaders (kb services, forum threads) and
``load_content``, which loads both from one folder in one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass
class ContentProblem:
    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


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


def load_content(directory: str | Path) -> list[str]:
    """Check everything in the folder, then write services and threads in
    one transaction.  Returns summary lines; raises ContentError."""
    from forum.loader import parse_threads, write_threads
    from kb.loader import parse_directory, write_parsed

    from .db import write_transaction

    problems: list[ContentProblem] = []
    try:
        parsed = parse_directory(directory, allow_empty=True)
    except ContentError as exc:
        problems.extend(exc.problems)
        parsed = None
    service_slugs = {record.slug for _, record in parsed[2]} if parsed else set()
    try:
        threads = parse_threads(directory, extra_service_slugs=service_slugs)
    except ContentError as exc:
        problems.extend(exc.problems)
        threads = None
    if problems:
        raise ContentError(problems)
    if not parsed[0] and not parsed[1] and not parsed[2] and not threads:
        raise ContentError([ContentProblem(str(directory), "folder",
                                           "tidak berisi categories.yml, agencies.yml, services/*.md maupun threads/*.yml")])
    with write_transaction():
        kb_report = write_parsed(parsed)
        forum_report = write_threads(threads)
    return [kb_report.summary(), forum_report.summary()]
