"""Forum actions a visitor may start before logging in (core.resume): a
vote and an answer draft.  Each completes through the normal service
function, with its policy checks and rate limit, right after login."""
from __future__ import annotations

from core import resume
from core.i18n import N_, _

ANSWER = "answer"
VOTE = "vote"


def _post_and_anchor(post_id: int):
    from .queries import post_or_none
    from .services import NotFound
    from .views import post_anchor

    post = post_or_none(post_id)
    if post is None:
        raise NotFound(N_("Tulisan tidak ditemukan."))
    return post, post_anchor(post)


def _refusal_text(exc) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return " ".join(_(m) for m in errors.values())
    return _(getattr(exc, "message", None) or getattr(exc, "description", None) or N_("Periksa kembali isian Anda."))


# ---------------------------------------------------------------- vote

def defer_vote(post, value: int, back: str):
    return resume.defer(VOTE, {"post_id": post.id, "value": value, "answer": not post.is_question}, back)


def _describe_vote(payload: dict) -> str:
    what = _("jawaban ini") if payload.get("answer") else _("pertanyaan ini")
    if payload.get("value") == -1:
        return _("suara turun Anda untuk %(what)s", what=what)
    return _("suara naik Anda untuk %(what)s", what=what)


def _perform_vote(user, payload: dict) -> resume.Outcome:
    from core.ratelimit import check

    from .services import cast_vote

    post, url = _post_and_anchor(int(payload["post_id"]))
    check("vote")
    cast_vote(user, post.id, int(payload["value"]))  # forum.policy decides, as for any vote
    return resume.Outcome(_("Suara Anda tercatat."), url)


# ---------------------------------------------------------------- answer draft

def defer_answer(question, body: str, back: str):
    """The draft is redacted like a post before it is kept (core.pii)."""
    from core.markup import clean_text
    from core.pii import protect_markdown

    from .services import BODY_MAX

    text, kinds = protect_markdown(clean_text(body).strip()[:BODY_MAX + 1])
    return resume.defer(ANSWER, {"question_id": question.id, "body": text, "pii": kinds,
                                 "title": question.title[:150]}, back)


def _describe_answer(payload: dict) -> str:
    return _("menerbitkan jawaban Anda untuk “%(title)s”", title=payload.get("title", ""))


def _perform_answer(user, payload: dict) -> resume.Outcome:
    from werkzeug.exceptions import TooManyRequests

    from core.ratelimit import check

    from .services import ForumError, pii_message, post_answer
    from .views import post_anchor, question_url
    from .queries import question_or_none

    question = question_or_none(int(payload["question_id"]))
    back = question_url(question) if question is not None else "/pertanyaan"
    try:
        check("post")
        answer = post_answer(user, int(payload["question_id"]), str(payload.get("body", "")))
    except (ForumError, TooManyRequests) as exc:
        if question is None:
            raise
        # Nothing typed is lost: the draft waits in the answer form.
        token = resume.keep(user, ANSWER, payload, back)
        return resume.Outcome(_refusal_text(exc) + " " + _("Draf jawaban Anda masih ada di formulir di bawah."),
                              f"{back}?draf={token}#jawab-h", "error")
    message = _("Jawaban Anda sudah terbit. Terima kasih!")
    kinds = list(payload.get("pii") or []) + [k for k in getattr(answer, "pii_found", []) if k not in
                                                (payload.get("pii") or [])]
    if kinds:
        message += " " + _(pii_message(kinds))
    return resume.Outcome(message, post_anchor(answer))


def kept_answer(user, token: str | None, question_id: int) -> str | None:
    """The text of a draft kept for ``user`` on this question, if any."""
    payload = resume.kept(user, token, ANSWER)
    if payload and payload.get("question_id") == question_id:
        return str(payload.get("body", ""))
    return None


resume.register(VOTE, perform=_perform_vote, describe=_describe_vote)
resume.register(ANSWER, perform=_perform_answer, describe=_describe_answer)
