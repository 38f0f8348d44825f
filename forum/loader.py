"""Seed threads from ``threads/*.yml`` in a content folder (format in
content/README.md).  Threads are keyed by ``key``; loading again adds what
is missing, edits what changed (as a new revision), and never duplicates."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.contentio import LINT, ContentError, ContentProblem, parse_yaml, read_text
from core.extensions import db
from core.models import Role, User
from core.usernames import imitates_official

from .models import Answer, Comment, Post, Question
from .services import (BODY_MAX, BODY_MIN, COMMENT_MAX, COMMENT_MIN, MAX_SERVICES, MAX_TAGS, TAG_RE, TITLE_MAX,
                       TITLE_MIN, accept_answer, add_comment, ask_question, edit_post, post_answer, stored_body,
                       stored_title)

KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
USER_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
SEED_PASSWORD = "!seed-account-cannot-log-in"


@dataclass
class SeedComment:
    author: str
    body: str
    when: datetime


@dataclass
class SeedAnswer:
    author: str
    body: str  # as stored: the file's body plus a "Sumber:" list built from ``sources``
    when: datetime
    accepted: bool
    comments: list[SeedComment]
    sources: list[str] = field(default_factory=list)


@dataclass
class SeedThread:
    rel: str
    key: str
    title: str
    author: str
    body: str
    when: datetime
    tags: list[str]
    services: list[str]
    comments: list[SeedComment]
    answers: list[SeedAnswer]


@dataclass
class ParsedThreads:
    threads: list[SeedThread] = field(default_factory=list)
    problems: list[ContentProblem] = field(default_factory=list)

    def raise_for_errors(self) -> None:
        blocking = [p for p in self.problems if p.blocks_load]
        if blocking:
            raise ContentError(blocking)


@dataclass
class ThreadReport:
    created: int = 0
    answers_added: int = 0
    edited: int = 0
    unchanged: int = 0
    users_created: int = 0

    def summary(self) -> str:
        return (f"utas baru: {self.created}, jawaban baru: {self.answers_added}, disunting: {self.edited}, "
                f"tetap: {self.unchanged}, akun contoh baru: {self.users_created}")


class _Checker:
    def __init__(self, rel: str, problems: list[ContentProblem]):
        self.rel, self.problems = rel, problems

    def add(self, where: str, message: str) -> None:
        self.problems.append(ContentProblem(self.rel, where, message))

    def text(self, item: dict, key: str, where: str, low: int, high: int) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            self.add(f"{where}.{key}", "wajib diisi (teks)")
            return ""
        value = value.strip()
        if not low <= len(value) <= high:
            self.add(f"{where}.{key}", f"panjang {len(value)} karakter; harus {low}–{high}")
        return value

    def author(self, item: dict, where: str) -> str:
        value = item.get("author")
        if not isinstance(value, str) or not USER_RE.match(value):
            self.add(f"{where}.author", "wajib: nama pengguna 3–40 karakter (huruf, angka, . _ -)")
            return ""
        if imitates_official(value):
            self.problems.append(ContentProblem(
                self.rel, f"{where}.author", f"'{value}' terdengar seperti petugas atau instansi resmi; pakai nama "
                                             "warga biasa (hanya akun terverifikasi yang boleh tampil resmi)", LINT))
        return value

    def when(self, item: dict, key: str, where: str, default: datetime | None) -> datetime:
        value = item.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, date):
            return datetime.combine(value, time(9, 0))
        self.add(f"{where}.{key}", f"harus tanggal YYYY-MM-DD (tertulis: {value!r})")
        return default or datetime(2026, 1, 1)

    def known(self, item: dict, allowed: set[str], where: str) -> None:
        for key in item:
            if key not in allowed:
                self.add(f"{where}.{key}" if where else str(key), f"kolom tidak dikenal (yang dikenal: {', '.join(sorted(allowed))})")

    def comments(self, raw: Any, where: str, default: datetime) -> list[SeedComment]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add(where, "harus berupa daftar")
            return []
        out = []
        for i, item in enumerate(raw, start=1):
            w = f"{where}[{i}]"
            if not isinstance(item, dict):
                self.add(w, "harus berupa pemetaan")
                continue
            self.known(item, {"author", "body", "date"}, w)
            out.append(SeedComment(self.author(item, w), self.text(item, "body", w, COMMENT_MIN, COMMENT_MAX),
                                   self.when(item, "date", w, default)))
        return out


class _Sources:
    """Resolves an answer's ``sources`` and renders them as a Markdown list."""

    def __init__(self, parsed, use_db: bool):
        from kb.registry import Registry

        self.registry = parsed.registry if parsed is not None else Registry()
        self.services = {r.slug: r.title for _rel, r in (parsed.services if parsed is not None else [])}
        if use_db:
            from kb.loader import db_registry
            from kb.models import Service

            known = db_registry()
            self.registry.regulations = {**known.regulations, **self.registry.regulations}
            if parsed is None:
                self.registry.domains = known.domains
            for slug, title in db.session.execute(sa.select(Service.slug, Service.title)):
                self.services.setdefault(slug, title)

    def check(self, c: _Checker, raw, where: str) -> list[str]:
        from kb.lint import cite_problem
        from kb.record import parse_source

        if raw is None:
            return []
        if not isinstance(raw, list):
            c.add(where, "harus berupa daftar sumber")
            return []
        out = []
        for i, value in enumerate(raw, start=1):
            w = f"{where}[{i}]"
            if not isinstance(value, str) or not value.strip():
                c.add(w, "harus teks: slug layanan, id registri peraturan, atau URL resmi")
                continue
            value = " ".join(value.split())
            if value in self.services:
                out.append(value)
                continue
            src = parse_source(value)
            problem = cite_problem(value, self.registry) if src is not None else None
            if src is None or (src.kind == "regulation" and src.ref not in self.registry.regulations):
                c.add(w, f"'{value}' bukan slug layanan yang dikenal, id di registri peraturan, atau URL resmi")
            elif problem is not None:
                c.add(w, problem.message)
            else:
                out.append(value)
        return out

    def markdown(self, sources: list[str]) -> str:
        from kb.record import parse_source

        lines = []
        for value in sources:
            if value in self.services:
                # the public path of kb.service, built here so `content check` needs no app
                lines.append(f"- [{self.services[value]}](/layanan/{value})")
                continue
            src = parse_source(value)
            if src.kind == "url":
                lines.append(f"- <{src.ref}>")
                continue
            reg = self.registry.regulations[src.ref]
            label = f"{reg.label} {src.locator}".strip()
            lines.append(f"- [{label}]({reg.url}) tentang {reg.title}" if reg.url else f"- {label} tentang {reg.title}")
        return "\n\n**Sumber:**\n\n" + "\n".join(lines) if lines else ""


def parse_threads(directory: str | Path, *, parsed=None, use_db: bool = True) -> ParsedThreads:
    """Parse and check ``threads/*.yml``; ``parsed`` (kb.loader.ParsedContent
    of the same folder) supplies its services and registry.  Never raises
    for content problems: they are in ``.problems`` with their severity."""
    root = Path(directory)
    folder = root / "threads"
    result = ParsedThreads()
    if not folder.is_dir():
        return result
    problems = result.problems
    resolver = _Sources(parsed, use_db)
    # a service file with problems of its own is still a known slug (no second report here)
    known_services = set(resolver.services) | (parsed.service_files if parsed is not None else set())
    threads = result.threads
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")):
        rel = str(path.relative_to(root))
        text = read_text(path, rel, problems)
        data = parse_yaml(text, rel, problems) if text is not None else None
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(ContentProblem(rel, "threads", "harus berupa daftar YAML (setiap utas diawali '- ')"))
            continue
        c = _Checker(rel, problems)
        for i, item in enumerate(data, start=1):
            where = f"[{i}]"
            if not isinstance(item, dict):
                c.add(where, "harus berupa pemetaan")
                continue
            c.known(item, {"key", "title", "author", "date", "tags", "services", "body", "comments", "answers"}, where)
            key = item.get("key")
            if not isinstance(key, str) or not KEY_RE.match(key) or len(key) > 100:
                c.add(f"{where}.key", "wajib: huruf kecil, angka, tanda hubung (maks. 100)")
                key = ""
            elif key in seen:
                c.add(f"{where}.key", f"'{key}' sudah dipakai di {seen[key]}")
            seen[key] = rel
            when = c.when(item, "date", where, None)
            tags = item.get("tags") or []
            if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) and TAG_RE.match(t) for t in tags):
                c.add(f"{where}.tags", f"daftar sampai {MAX_TAGS} tag: huruf kecil, angka, tanda hubung")
                tags = []
            services = item.get("services") or []
            if not isinstance(services, list) or len(services) > MAX_SERVICES:
                c.add(f"{where}.services", f"daftar sampai {MAX_SERVICES} slug layanan")
                services = []
            for slug in services:
                if slug not in known_services:
                    c.add(f"{where}.services", f"layanan '{slug}' tidak dikenal")
            answers_raw = item.get("answers") or []
            answers = []
            if not isinstance(answers_raw, list):
                c.add(f"{where}.answers", "harus berupa daftar")
                answers_raw = []
            for j, a in enumerate(answers_raw, start=1):
                w = f"{where}.answers[{j}]"
                if not isinstance(a, dict):
                    c.add(w, "harus berupa pemetaan")
                    continue
                c.known(a, {"author", "body", "date", "accepted", "comments", "sources"}, w)
                a_when = c.when(a, "date", w, when)
                accepted = a.get("accepted", False)
                if not isinstance(accepted, bool):
                    c.add(f"{w}.accepted", "harus true atau false")
                    accepted = False
                sources = resolver.check(c, a.get("sources"), f"{w}.sources")
                if accepted and not a.get("sources"):
                    problems.append(ContentProblem(rel, f"{w}.sources", "jawaban yang diterima wajib menyebut sumber "
                                                                        "(slug layanan, id registri, atau URL resmi)",
                                                   LINT))
                body = c.text(a, "body", w, BODY_MIN, BODY_MAX)
                if body and sources:
                    body += resolver.markdown(sources)
                    if len(body) > BODY_MAX:
                        c.add(f"{w}.sources", f"jawaban dengan daftar sumber terlalu panjang ({len(body)} karakter, "
                                              f"maksimal {BODY_MAX})")
                answers.append(SeedAnswer(c.author(a, w), body, a_when, accepted,
                                          c.comments(a.get("comments"), f"{w}.comments", a_when), sources))
            if sum(a.accepted for a in answers) > 1:
                c.add(f"{where}.answers", "paling banyak satu jawaban accepted: true")
            threads.append(SeedThread(
                rel=rel, key=key, title=c.text(item, "title", where, TITLE_MIN, TITLE_MAX), author=c.author(item, where),
                body=c.text(item, "body", where, BODY_MIN, BODY_MAX), when=when, tags=list(tags),
                services=list(services), comments=c.comments(item.get("comments"), f"{where}.comments", when),
                answers=answers))
    return result


def _seed_user(username: str, report: ThreadReport, cache: dict[str, User]) -> User:
    if username in cache:
        return cache[username]
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = User(username=username, password_hash=SEED_PASSWORD, role=Role.MEMBER)
        db.session.add(user)
        db.session.flush()
        report.users_created += 1
    cache[username] = user
    return user


def write_threads(threads: list[SeedThread]) -> ThreadReport:
    """Write parsed threads; the caller holds the write transaction."""
    report = ThreadReport()
    users: dict[str, User] = {}
    for t in threads:
        author = _seed_user(t.author, report, users)
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == t.key))
        changed = False
        existed = q is not None
        if q is None:
            q = ask_question(author, t.title, t.body, t.tags, t.services, created_at=t.when, seed_key=t.key)
            report.created += 1
        elif (q.title != stored_title(t.title) or q.body_md != stored_body(t.body)
              or sorted(x.name for x in q.tags) != sorted(t.tags)):
            edit_post(_author_of(q), q.id, q.version, t.body, title=t.title, tags=t.tags,
                      comment="Diperbarui dari berkas konten")
            changed = True
        _sync_comments(q, t.comments, f"{t.key}#c", report, users)
        for n, a in enumerate(t.answers, start=1):
            key = f"{t.key}#a{n}"
            answer = db.session.scalar(sa.select(Answer).where(Answer.seed_key == key))
            if answer is None:
                answer = post_answer(_seed_user(a.author, report, users), q.id, a.body, created_at=a.when, seed_key=key)
                report.answers_added += 1
            elif answer.body_md != stored_body(a.body):
                edit_post(_author_of(answer), answer.id, answer.version, a.body, comment="Diperbarui dari berkas konten")
                changed = True
            _sync_comments(answer, a.comments, f"{key}#c", report, users)
            db.session.flush()
            if a.accepted and q.accepted_answer_id != answer.id:
                accept_answer(_author_of(q), answer.id)
        if existed:
            report.edited += changed
            report.unchanged += not changed
    return report


def _author_of(post: Post) -> User:
    return db.session.get(User, post.author_id)


def _sync_comments(post: Post, comments: list[SeedComment], prefix: str, report: ThreadReport,
                   users: dict[str, User]) -> None:
    for n, c in enumerate(comments, start=1):
        key = f"{prefix}{n}"
        if db.session.scalar(sa.select(Comment.id).where(Comment.seed_key == key)) is None:
            add_comment(_seed_user(c.author, report, users), post.id, c.body, created_at=c.when, seed_key=key)
