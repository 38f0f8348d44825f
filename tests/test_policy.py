"""One visibility policy (forum.policy), proven by walking every route that
takes a post id: hidden and deleted content is unreachable for those who may
not see it, and nobody can comment on, vote on, flag, accept, answer or
close onto hidden content.  Plus trust levels for voting and flagging."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Role, User, utcnow
from forum.models import Answer, Comment, Flag, Post, Question, Revision, Vote

from .conftest import csrf_from, login_client

BODY = "Isi yang cukup panjang untuk diterima sistem, tentang zirkonium, dengan penanda {m}."
ROLES = ("anon", "member", "author", "moderator", "admin")


def _world(app, make_user):
    """Posts in every state, each with a marker string in its text."""
    from forum import moderation
    from forum.services import ask_question, post_answer

    ids = {}
    for name, role in (("u_member", Role.MEMBER), ("u_author", Role.MEMBER), ("u_moderator", Role.MODERATOR),
                       ("u_admin", Role.ADMIN), ("u_km", Role.KNOWLEDGE_MANAGER)):
        make_user(name, role=role)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        author, mod = users["u_author"], users["u_moderator"]

        def ask(marker):
            return ask_question(author, f"Pertanyaan {marker} tentang KTP", BODY.format(m=marker)).id

        ids["q_public"] = ask("QPUBLIKX")
        ids["q_hidden"] = ask("QSEMBUNYIX")
        ids["q_deleted"] = ask("QHAPUSX")
        ids["a_public"] = post_answer(author, ids["q_public"], BODY.format(m="APUBLIKX")).id
        ids["a_hidden"] = post_answer(author, ids["q_public"], BODY.format(m="ASEMBUNYIX")).id
        ids["a_deleted"] = post_answer(author, ids["q_public"], BODY.format(m="AHAPUSX")).id
        ids["a_on_hidden_q"] = post_answer(author, ids["q_hidden"], BODY.format(m="ADIQSEMBUNYIX")).id
        moderation.hide_post(mod, ids["q_hidden"], "spam sekali")
        moderation.delete_post(users["u_admin"], ids["q_deleted"], "melanggar aturan")
        moderation.hide_post(mod, ids["a_hidden"], "kasar sekali")
        moderation.delete_post(users["u_admin"], ids["a_deleted"], "melanggar aturan")
        from search.outbox import drain_all

        drain_all()
    return ids


MARKERS = {"q_hidden": "QSEMBUNYIX", "q_deleted": "QHAPUSX", "a_hidden": "ASEMBUNYIX", "a_deleted": "AHAPUSX",
           "a_on_hidden_q": "ADIQSEMBUNYIX"}


def may_see(role: str, target: str) -> bool:
    if target.endswith("deleted"):
        return role == "admin"
    if "hidden" in target:
        return role in ("moderator", "admin")
    return True


def _state(app):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in
                     (Comment, Vote, Flag, Revision, Answer)) + tuple(db.session.execute(
                         sa.select(Question.id, Question.closed_at, Question.duplicate_of_id, Question.accepted_answer_id)
                         .order_by(Question.id)).all())


def _client(app, role):
    if role == "anon":
        return app.test_client()
    return login_client(app, f"u_{role}")


POST_DATA = {
    "forum.answer": {"body": "Jawaban baru yang cukup panjang untuk diterima."},
    "forum.comment": {"body": "Komentar baru di sini"},
    "forum.vote": {"value": "1"},
    "forum.flag": {"reason": "spam"},
    "forum.close": {"target": "{q_public}"},
    "forum.reopen": {},
    "forum.edit": {"version": "1", "body": "Suntingan baru yang cukup panjang untuk diterima.", "title": "Judul baru untuk pertanyaan ini"},
    "forum.accept": {},
}
ID_ARGS = {"post_id", "question_id", "answer_id"}
MODERATION = {"forum.post_action", "forum.thread_action", "forum.promote", "forum.confirm_answer"}


def test_every_route_with_a_post_id_respects_the_policy(app, make_user):
    ids = _world(app, make_user)
    rules = [r for r in app.url_map.iter_rules() if r.arguments & ID_ARGS and r.endpoint not in MODERATION]
    assert {r.endpoint for r in rules} >= {"forum.question", "forum.history", "forum.edit", "forum.comment",
                                          "forum.vote", "forum.flag", "forum.accept", "forum.answer", "forum.close",
                                          "forum.reopen", "forum_api.question_detail", "forum_api.create_answer"}
    checked = 0
    for role in ROLES:
        client = _client(app, role)
        token = csrf_from(client.get("/masuk" if role == "anon" else "/").get_data(as_text=True))
        for rule in rules:
            for target, post_id in ids.items():
                if target == "q_public" or target == "a_public":
                    continue
                arg = next(iter(rule.arguments & ID_ARGS))
                if arg == "question_id" and not target.startswith("q_"):
                    continue
                if arg == "answer_id" and not target.startswith("a_"):
                    continue
                values = {arg: post_id}
                if "slug" in rule.arguments:
                    values["slug"] = "x"
                path = rule.build(values)[1]
                for method in sorted(rule.methods & {"GET", "POST"}):
                    before = _state(app)
                    if method == "GET":
                        resp = client.get(path)
                    elif rule.endpoint.startswith("forum_api."):
                        resp = client.post(path, json=POST_DATA.get("forum.answer"), headers={"X-CSRFToken": token})
                    else:
                        data = {k: v.format(**ids) for k, v in POST_DATA.get(rule.endpoint, {}).items()}
                        resp = client.post(path, data={"csrf_token": token, **data})
                    checked += 1
                    text = resp.get_data(as_text=True)
                    where = f"{role} {method} {path} ({target})"
                    assert resp.status_code != 500, where
                    for other, marker in MARKERS.items():
                        if not may_see(role, other):
                            assert marker not in text, f"{where} shows {other}"
                    if not may_see(role, target):
                        assert resp.status_code in (302, 401, 403, 404), where
                        if resp.status_code == 302:
                            assert "/masuk" in resp.headers["Location"], where
                    if method == "POST" and rule.endpoint not in ("forum.edit", "forum.reopen"):
                        # nobody acts on hidden or deleted content, staff included
                        assert _state(app) == before, where
    assert checked > 200


def test_history_of_hidden_and_deleted_posts(app, make_user):
    ids = _world(app, make_user)
    for role in ROLES:
        client = _client(app, role)
        for target in ("q_hidden", "q_deleted", "a_hidden", "a_deleted", "a_on_hidden_q"):
            resp = client.get(f"/pos/{ids[target]}/riwayat")
            assert resp.status_code == (200 if may_see(role, target) else 404), (role, target)


def test_closing_as_duplicate_of_a_hidden_or_deleted_question_shows_nothing(app, make_user):
    ids = _world(app, make_user)
    author = login_client(app, "u_author")
    token = csrf_from(author.get("/").get_data(as_text=True))
    for target in ("q_deleted", "q_hidden"):
        resp = author.post(f"/pertanyaan/{ids['q_public']}/tutup", data={"csrf_token": token,
                                                                         "target": str(ids[target])})
        assert resp.status_code == 400
        assert MARKERS[target] not in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Question, ids["q_public"]).duplicate_of_id is None
    # a question closed earlier onto one that is hidden later no longer shows its title
    with app.app_context():
        db.session.execute(sa.update(Question).where(Question.id == ids["q_public"])
                           .values(duplicate_of_id=ids["q_hidden"], closed_at=utcnow()))
        db.session.commit()
    for path in (f"/pertanyaan/{ids['q_public']}", f"/api/v1/questions/{ids['q_public']}"):
        text = app.test_client().get(path).get_data(as_text=True)
        assert "QSEMBUNYIX" not in text and f"/pertanyaan/{ids['q_hidden']}" not in text
    assert app.test_client().get(f"/api/v1/questions/{ids['q_public']}").get_json()["duplicate_of"] is None


def test_search_results_ask_the_policy_even_when_the_index_lags(app, make_user):
    ids = _world(app, make_user)
    paths = ("/cari?q=zirkonium", "/api/v1/search?q=zirkonium", "/api/v1/questions/similar?title=zirkonium")
    for path in paths:
        assert "QPUBLIKX" in app.test_client().get(path).get_data(as_text=True), path
    with app.app_context():  # hidden behind the index's back: no outbox row
        db.session.execute(sa.update(Post).where(Post.id == ids["q_public"]).values(hidden_at=utcnow()))
        db.session.commit()
    client = app.test_client()
    for path in paths:
        text = client.get(path).get_data(as_text=True)
        assert "QPUBLIKX" not in text, path


def test_search_results_are_checked_in_one_query_with_the_same_rule(app, make_user):
    """filter_visible asks the forum once per page of results
    (policy.visible_refs); it agrees with the one-by-one rule for every role."""
    from core.models import User
    from flask_login import AnonymousUserMixin

    from forum.policy import can_see_ref, visible_refs

    ids = _world(app, make_user)
    refs = [str(ids[t]) for t in ("q_public", "q_hidden", "q_deleted")] + ["999999", "x"]
    with app.app_context():
        for role in ROLES:
            user = AnonymousUserMixin() if role == "anon" else db.session.scalar(
                sa.select(User).where(User.username == f"u_{role}"))
            expected = {r for r in refs if can_see_ref(user, "question", r)}
            assert visible_refs(user, "question", refs) == expected, role
            assert (str(ids["q_hidden"]) in expected) == may_see(role, "q_hidden")


def test_thread_page_lists_only_answers_the_viewer_may_see(app, make_user):
    ids = _world(app, make_user)
    for role in ROLES:
        text = _client(app, role).get(f"/pertanyaan/{ids['q_public']}").get_data(as_text=True)
        assert "APUBLIKX" in text
        assert ("ASEMBUNYIX" in text) == may_see(role, "a_hidden"), role
        assert ("AHAPUSX" in text) == may_see(role, "a_deleted"), role


# ---------------------------------------------------------------- trust levels

def test_new_accounts_cannot_move_reputation(app, make_user):
    """The attack: 13 fresh accounts lifted one author's reputation from 1
    to 66.  New accounts may ask, answer and report personal data, but
    votes and other flags wait until they have taken part."""
    from forum.services import ask_question

    app.config.update(TRUST_LEVELS_ENABLED=True)
    make_user("u_target")
    with app.app_context():
        target = db.session.scalar(sa.select(User).where(User.username == "u_target"))
        qid = ask_question(target, "Pertanyaan tentang paspor anak", BODY.format(m="x")).id
    for i in range(13):
        make_user(f"sybil{i:02d}")
        c = login_client(app, f"sybil{i:02d}")
        token = csrf_from(c.get("/").get_data(as_text=True))
        assert c.post(f"/pos/{qid}/suara", data={"csrf_token": token, "value": "1"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(User.reputation).where(User.username == "u_target")) == 1
    c = login_client(app, "sybil00")
    token = csrf_from(c.get("/").get_data(as_text=True))
    assert c.post(f"/pos/{qid}/tandai", data={"csrf_token": token, "reason": "spam"}).status_code == 403
    assert c.post(f"/pos/{qid}/tandai", data={"csrf_token": token, "reason": "data-pribadi"}).status_code == 302


def test_members_who_took_part_may_vote_and_flag(app, make_user):
    from forum.services import ask_question, post_answer

    app.config.update(TRUST_LEVELS_ENABLED=True)
    make_user("u_target")
    make_user("u_veteran")
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        qid = ask_question(users["u_target"], "Pertanyaan tentang paspor anak", BODY.format(m="x")).id
        for i in range(3):
            post_answer(users["u_veteran"], qid, BODY.format(m=f"jawaban {i}"))
        db.session.execute(sa.update(User).where(User.username == "u_veteran")
                           .values(created_at=utcnow() - timedelta(days=4)))
        db.session.execute(sa.update(Post).values(needs_review=False))
        db.session.commit()
    c = login_client(app, "u_veteran")
    token = csrf_from(c.get("/").get_data(as_text=True))
    assert c.post(f"/pos/{qid}/suara", data={"csrf_token": token, "value": "1"}).status_code == 302
    assert c.post(f"/pos/{qid}/tandai", data={"csrf_token": token, "reason": "spam"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.reputation).where(User.username == "u_target")) == 6


@pytest.mark.parametrize("action", ["comment", "vote", "flag"])
def test_services_refuse_acting_on_hidden_answers(app, make_user, action):
    from forum import services
    from forum.services import ForumError

    ids = _world(app, make_user)
    with app.app_context():
        for name in ("u_member", "u_moderator"):
            user = db.session.scalar(sa.select(User).where(User.username == name))
            with pytest.raises(ForumError):
                {"comment": lambda: services.add_comment(user, ids["a_hidden"], "komentar di sini"),
                 "vote": lambda: services.cast_vote(user, ids["a_hidden"], 1),
                 "flag": lambda: services.flag_post(user, ids["a_hidden"], "spam")}[action]()
