import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditLog, Role, User
from forum.models import Answer, Question
from kb import curation as cur
from kb.models import Service, ServiceDraft, ServiceFaq, ServiceVersion

from .conftest import act_as, csrf_from, login_client, post_form

ROLES = {"anon": None, "member": Role.MEMBER, "moderator": Role.MODERATOR, "km": Role.KNOWLEDGE_MANAGER,
         "admin": Role.ADMIN}


@pytest.fixture
def staff(app, make_user):
    ids = {name: make_user(f"u_{name}", role=role) for name, role in ROLES.items() if role}
    ids["km2"] = make_user("u_km2", role=Role.KNOWLEDGE_MANAGER)
    return ids


def seeded_answer(app, key="skck-untuk-kerja-di-luar-negeri"):
    with app.app_context():
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == key))
        return q.id, q.accepted_answer_id


def edit_form(client, slug, **changes):
    page = client.get(f"/kelola/layanan/{slug}/sunting").get_data(as_text=True)

    data = {m.group(1): m.group(2) for m in re.finditer(r'<input id="([a-z_]+)" name="\1" type="(?:text|number)" value="([^"]*)"', page)}
    for m in re.finditer(r'<textarea id="([a-z_]+)" name="\1" rows="\d+">(.*?)</textarea>', page, re.S):
        data[m.group(1)] = m.group(2)
    data = {k: html.unescape(v) for k, v in data.items()}
    data.update(changes)
    data["csrf_token"] = csrf_from(page)
    return data


def test_edit_review_publish_flow(app, staff):
    km1, km2 = login_client(app, "u_km"), login_client(app, "u_km2")
    data = edit_form(km1, "skck")
    assert "PNBP penerbitan SKCK | 30000 | PP 76/2020" in data["fees"]
    data["fees"] = data["fees"].replace("| 30000 |", "| 35000 |")
    data.update(summary_change="Tarif PNBP baru", submit="review")
    resp = km1.post("/kelola/layanan/skck/sunting", data=data)
    assert resp.status_code == 302
    draft_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = km1.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    assert "Menunggu tinjauan" in page and "Rp35.000" in page and 'class="diff-del"' in page
    # The author cannot sign off their own draft.
    resp = post_form(km1, f"/kelola/draf/{draft_id}", {"action": "publish"})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(Service).where(Service.slug == "skck")).version == 1
    resp = post_form(km2, f"/kelola/draf/{draft_id}", {"action": "publish", "note": "Sesuai PP terbaru"})
    assert resp.status_code == 302, re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))[-600:]
    with app.app_context():
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "skck"))
        assert svc.version == 2 and svc.fees[0].amount == 35000
        version = db.session.scalar(sa.select(ServiceVersion).where(ServiceVersion.service_id == svc.id,
                                                                    ServiceVersion.number == 2))
        assert version.changed_fields == ["fees"] and "u_km2" in version.note and version.author.username == "u_km2"
        draft = db.session.get(ServiceDraft, draft_id)
        assert draft.status == "published" and draft.reviewer.username == "u_km2"
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert ["draft.create", "draft.submit", "draft.publish"] == actions[-3:]
    assert "Rp35.000" in app.test_client().get("/layanan/skck").get_data(as_text=True)


def test_invalid_edit_is_refused_and_kept(app, staff):
    km = login_client(app, "u_km")
    data = edit_form(km, "skck")
    data["fees"] = "PNBP penerbitan SKCK | tiga puluh ribu"
    resp = km.post("/kelola/layanan/skck/sunting", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "fees[1].amount" in html and "tiga puluh ribu" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ServiceDraft.id))) == 0


def test_publish_conflict_reject_and_withdraw(app, staff):
    with app.app_context():
        km1, km2 = db.session.get(User, staff["km"]), db.session.get(User, staff["km2"])
        base = cur.create_draft(km1, "skck").snapshot
        d1 = cur.create_draft(km1, "skck", {**base, "summary": "Ringkasan baru satu."})
        d2 = cur.create_draft(km1, "skck", {**base, "summary": "Ringkasan baru dua."})
        cur.submit_draft(km1, d1.id)
        cur.submit_draft(km1, d2.id)
        cur.publish_draft(km2, d1.id)
        with pytest.raises(cur.CurationConflict):
            cur.publish_draft(km2, d2.id)
        with pytest.raises(cur.CurationError):
            cur.reject_draft(km2, d2.id, "")
        cur.withdraw_draft(km1, d2.id)
        assert db.session.get(ServiceDraft, d2.id).status == "draft"
        cur.submit_draft(km1, d2.id)
        cur.reject_draft(km2, d2.id, "Sudah diperbarui di draf lain.")
        assert db.session.get(ServiceDraft, d2.id).status == "rejected"
        with pytest.raises(cur.CurationError):
            cur.submit_draft(km1, cur.create_draft(km1, "skck").id)  # identical to the published page


def test_overdue_list_and_mark_reviewed(app, staff):
    with app.app_context():
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "pkh"))
        svc.last_reviewed = date.today() - timedelta(days=400)
        db.session.commit()
    km = login_client(app, "u_km")
    page = km.get("/kelola").get_data(as_text=True)
    assert "Program Keluarga Harapan (PKH)" in page and "Lewat jadwal tinjauan" in page
    assert post_form(km, "/kelola/layanan/pkh/tinjau", {}).status_code == 302
    assert "Program Keluarga Harapan (PKH)" not in km.get("/kelola").get_data(as_text=True).split("Lewat jadwal")[1].split("Mungkin sudah")[0]
    with app.app_context():
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "pkh"))
        assert svc.last_reviewed == date.today() and svc.version == 2
    assert post_form(km, "/kelola/layanan/pkh/tinjau", {"days": "30"}).status_code == 302
    assert post_form(km, "/kelola/layanan/pkh/tinjau", {"days": "3"}).status_code == 400
    assert post_form(km, "/kelola/layanan/pkh/tinjau", {"days": "abc"}).status_code == 400


def test_promote_answer_to_faq_credits_author(app, staff):
    qid, aid = seeded_answer(app)
    km = login_client(app, "u_km")
    page = km.get(f"/jawaban/{aid}/promosikan").get_data(as_text=True)
    assert "@bripka_wawan" in page
    resp = post_form(km, f"/jawaban/{aid}/promosikan", {"service": "skck", "kind": "faq",
                                                        "question": "SKCK untuk kerja di luar negeri dibuat di mana?",
                                                        "answer": "Di Mabes Polri; daftar dulu di skck.polri.go.id."})
    assert resp.status_code == 302 and "#faq-" in resp.headers["Location"]
    service_page = app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert "SKCK untuk kerja di luar negeri dibuat di mana?" in service_page and "@bripka_wawan" in service_page
    thread = app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert "Jawaban ini dijadikan informasi resmi" in thread and "/layanan/skck#faq-" in thread


def test_propose_change_from_answer_goes_through_review(app, staff):
    qid, aid = seeded_answer(app)
    km, km2 = login_client(app, "u_km"), login_client(app, "u_km2")
    resp = post_form(km, f"/jawaban/{aid}/promosikan", {"service": "skck", "kind": "change",
                                                        "summary": "Tambah keperluan luar negeri"})
    assert resp.status_code == 302 and "draf=" in resp.headers["Location"]
    draft_id = int(resp.headers["Location"].split("draf=")[1])
    data = edit_form(km, "skck")
    data["draf"] = str(draft_id)
    data["steps"] += "\nUntuk keperluan luar negeri, SKCK diterbitkan Mabes Polri."
    data["submit"] = "review"
    assert km.post(f"/kelola/layanan/skck/sunting?draf={draft_id}", data=data).status_code == 302
    assert "u_km" in km2.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    assert post_form(km2, f"/kelola/draf/{draft_id}", {"action": "publish"}).status_code == 302
    service_page = app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert "diterbitkan Mabes Polri" in service_page and "@bripka_wawan" in service_page
    assert "Jawaban ini dijadikan informasi resmi" in app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)


def test_fee_change_flags_faq_and_linked_answers_until_confirmed(app, staff):
    qid, aid = seeded_answer(app, "skck-online-bayar-di-mana")
    with app.app_context():
        km1, km2 = db.session.get(User, staff["km"]), db.session.get(User, staff["km2"])
        faq = cur.add_faq(km1, "skck", "Berapa biaya SKCK resmi?", "Rp30.000, dibayar saat pengambilan.")
        snapshot = cur.create_draft(km1, "skck").snapshot
        snapshot["fees"][0]["amount"] = 35000
        draft = cur.create_draft(km1, "skck", snapshot)
        cur.submit_draft(km1, draft.id)
        cur.publish_draft(km2, draft.id)
        assert db.session.get(ServiceFaq, faq.id).stale_since is not None
        assert db.session.get(Answer, aid).stale_since is not None
        faq_id = faq.id
    warning = "Mungkin sudah tidak berlaku"
    assert warning in app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert warning in app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)
    km = login_client(app, "u_km")
    page = km.get("/kelola").get_data(as_text=True)
    assert "Berapa biaya SKCK resmi?" in page
    assert post_form(km, f"/kelola/faq/{faq_id}/konfirmasi", {}).status_code == 302
    assert post_form(km, f"/jawaban/{aid}/konfirmasi", {}).status_code == 302
    assert warning not in app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert warning not in app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)


def test_a_summary_change_does_not_flag_anything(app, staff):
    qid, aid = seeded_answer(app, "skck-online-bayar-di-mana")
    with app.app_context():
        km1, km2 = db.session.get(User, staff["km"]), db.session.get(User, staff["km2"])
        snapshot = cur.create_draft(km1, "skck").snapshot
        draft = cur.create_draft(km1, "skck", {**snapshot, "summary": "Ringkasan yang lebih jelas."})
        cur.submit_draft(km1, draft.id)
        cur.publish_draft(km2, draft.id)
        assert db.session.get(Answer, aid).stale_since is None


# ---------------------------------------------------------------- role x action

def cur_snapshot():
    return (db.session.execute(sa.select(ServiceDraft.id, ServiceDraft.status)).all(),
            db.session.execute(sa.select(Service.id, Service.version, Service.review_interval_days,
                                         Service.last_reviewed)).all(),
            db.session.execute(sa.select(ServiceFaq.id, ServiceFaq.stale_since)).all(),
            db.session.execute(sa.select(Answer.id, Answer.promoted_at, Answer.stale_since)).all(),
            db.session.scalar(sa.select(sa.func.count(AuditLog.id))))


@pytest.fixture
def curation_world(app, staff):
    qid, aid = seeded_answer(app)
    with app.app_context():
        km2 = db.session.get(User, staff["km2"])
        faq = cur.add_faq(km2, "skck", "Berapa biaya SKCK resmi?", "Rp30.000, dibayar saat pengambilan.")
        faq.stale_since = sa.func.now()
        db.session.get(Answer, aid).stale_since = sa.func.now()
        base = cur.create_draft(km2, "skck").snapshot
        draft = cur.create_draft(km2, "skck", {**base, "summary": "Ringkasan yang diperbaiki."})
        cur.submit_draft(km2, draft.id)
        db.session.commit()
        return {"answer": aid, "faq": faq.id, "draft": draft.id}


CURATION_ACTIONS = {
    "dashboard": ("GET", "/kelola", {}),
    "edit_page": ("GET", "/kelola/layanan/skck/sunting", {}),
    "draft_page": ("GET", "/kelola/draf/{draft}", {}),
    "publish": ("POST", "/kelola/draf/{draft}", {"action": "publish"}),
    "reject": ("POST", "/kelola/draf/{draft}", {"action": "reject", "note": "belum tepat"}),
    "reviewed": ("POST", "/kelola/layanan/pkh/tinjau", {}),
    "interval": ("POST", "/kelola/layanan/pkh/tinjau", {"days": "30"}),
    "confirm_faq": ("POST", "/kelola/faq/{faq}/konfirmasi", {}),
    "promote_page": ("GET", "/jawaban/{answer}/promosikan", {}),
    "promote": ("POST", "/jawaban/{answer}/promosikan", {"service": "skck", "kind": "faq",
                                                         "question": "Di mana membuat SKCK luar negeri?",
                                                         "answer": "Di Mabes Polri setelah daftar daring."}),
    "confirm_answer": ("POST", "/jawaban/{answer}/konfirmasi", {}),
}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(CURATION_ACTIONS))
def test_curation_role_action_matrix(app, curation_world, role, action):
    method, path, data = CURATION_ACTIONS[action]
    path = path.format(**curation_world)
    with app.app_context():
        before = cur_snapshot()
    resp = act_as(app, role, method, path, data)
    with app.app_context():
        after = cur_snapshot()
    if role in ("km", "admin"):
        assert resp.status_code in (200, 302), (role, action, resp.status_code)
        if method == "POST":
            assert after != before and after[4] > before[4], (role, action)
    else:
        assert resp.status_code == (302 if role == "anon" else 403), (role, action, resp.status_code)
        assert after == before, (role, action)


def test_content_reload_with_a_new_fee_flags_faq(app, staff, tmp_path):
    import shutil

    from core.contentio import load_content

    from .conftest import CONTENT

    with app.app_context():
        faq = cur.add_faq(db.session.get(User, staff["km"]), "skck", "Berapa biaya SKCK resmi?",
                          "Rp30.000, dibayar saat pengambilan.")
        folder = tmp_path / "c"
        shutil.copytree(CONTENT, folder)
        path = folder / "services" / "skck.md"
        path.write_text(path.read_text().replace("amount: 30000", "amount: 40000"))
        load_content(folder)
        assert db.session.get(ServiceFaq, faq.id).stale_since is not None
