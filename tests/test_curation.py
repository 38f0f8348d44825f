import html
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.contentio import load_content
from core.extensions import db
from core.models import AuditLog, Role, User
from forum.models import Answer, Question
from kb import curation as cur
from kb.models import Regulation, ReviewFlag, Service, ServiceDraft, ServiceFaq, ServiceVersion

from .conftest import BACKEND, act_as, clone, close_app, csrf_from, drop_database, login_client, make_app, post_form

ROLES = {"anon": None, "member": Role.MEMBER, "moderator": Role.MODERATOR, "km": Role.KNOWLEDGE_MANAGER,
         "admin": Role.ADMIN}
FIXTURE = Path(__file__).parent / "data" / "content_v2"
# Sources for the converted skck page (its registry ids exist in the bundled registry).
SKCK_SOURCES = {"requirements": ["perpol-6-2023"], "fees": ["pp-76-2020 Lampiran"], "duration": ["perpol-6-2023"],
                "steps": ["https://skck.polri.go.id"], "channels": ["https://skck.polri.go.id"]}


@pytest.fixture
def staff(app, make_user):
    ids = {name: make_user(f"u_{name}", role=role) for name, role in ROLES.items() if role}
    ids["km2"] = make_user("u_km2", role=Role.KNOWLEDGE_MANAGER)
    return ids


@pytest.fixture(scope="session")
def sourced_seed(seeded_db, tmp_path_factory):
    """The seeded database plus two fully sourced pages (uji-sim, uji-nikah),
    their registry and a thread with an accepted answer linked to uji-sim;
    built once, cloned per test like the seed itself."""
    from search.outbox import drain_all

    snapshot = clone(seeded_db, tmp_path_factory.mktemp("sourced"), "sourced", keep=True)
    seed_app = make_app(snapshot)
    with seed_app.app_context():
        load_content(FIXTURE)
        # the fixture marks uu-22-2009 amended, which flags the bundled pages citing it: start clean
        db.session.execute(sa.update(ReviewFlag).values(resolved_at=sa.func.now()))
        db.session.commit()
        drain_all()
        if BACKEND == "sqlite":
            db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    close_app(seed_app)
    yield snapshot
    drop_database(snapshot)


@pytest.fixture
def app(tmp_path, sourced_seed):
    """Every test here starts from ``sourced_seed`` (overrides conftest's app)."""
    app = make_app(clone(sourced_seed, tmp_path))
    yield app
    close_app(app)


@pytest.fixture
def sourced(app):
    """Marks the tests that use the fixture pages (already in ``app``)."""


def service(slug):
    return db.session.scalar(sa.select(Service).where(Service.slug == slug))


def seeded_answer(app, key="skck-untuk-kerja-di-luar-negeri"):
    with app.app_context():
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == key))
        return q.id, q.accepted_answer_id


def edit_form(client, slug, **changes):
    """The editor's fields in YAML mode (fees, duration, channels as YAML boxes)."""
    page = client.get(f"/kelola/layanan/{slug}/sunting?mode=yaml").get_data(as_text=True)
    data = {m.group(1): m.group(2) for m in re.finditer(r'<input id="([a-z_]+)" name="\1" type="(?:text|number)" value="([^"]*)"', page)}
    for m in re.finditer(r'<textarea id="([a-z_]+)" name="\1" rows="\d+"[^>]*>(.*?)</textarea>', page, re.S):
        data[m.group(1)] = m.group(2)
    data = {k: html.unescape(v) for k, v in data.items()}
    data.update(changes)
    data["csrf_token"] = csrf_from(page)
    data["mode"] = "yaml"
    return data


def publish(app, staff, slug, snapshot):
    """Draft by u_km, published by u_km2 (service layer)."""
    with app.app_context():
        km1, km2 = db.session.get(User, staff["km"]), db.session.get(User, staff["km2"])
        draft = cur.create_draft(km1, slug, snapshot)
        cur.submit_draft(km1, draft.id)
        cur.publish_draft(km2, draft.id)
        return draft.id


# ---------------------------------------------------------------- the editor

def test_edit_review_publish_flow(app, staff, sourced):
    km1, km2 = login_client(app, "u_km"), login_client(app, "u_km2")
    data = edit_form(km1, "uji-sim")
    assert "  kind: fixed\n  amount: 120000\n" in data["fees"]  # the file's shape, as YAML
    assert "who: Penyandang disabilitas" in data["fees"]
    assert data["sources_fees"] == "pp-76-2020 Lampiran"
    assert "last_reviewed" not in data  # not typed by the draft author
    data["fees"] = data["fees"].replace("amount: 120000", "amount: 125000")
    data.update(summary_change="Tarif PNBP baru", submit="review")
    resp = km1.post("/kelola/layanan/uji-sim/sunting", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    draft_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = km1.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    assert "Menunggu tinjauan" in page and "Rp125.000" in page and 'class="diff-del"' in page
    assert "Belum dapat diterbitkan" not in page
    # The author cannot sign off their own draft.
    assert post_form(km1, f"/kelola/draf/{draft_id}", {"action": "publish"}).status_code == 403
    resp = post_form(km2, f"/kelola/draf/{draft_id}", {"action": "publish", "note": "Sesuai PP terbaru"})
    assert resp.status_code == 302, re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))[-600:]
    with app.app_context():
        svc = service("uji-sim")
        assert svc.version == 2 and svc.record["fees"][0]["amount"] == 125000
        # "Terakhir ditinjau" is set by publishing a reviewed change
        assert svc.last_reviewed == date.today() and svc.record["last_reviewed"] == date.today().isoformat()
        version = db.session.scalar(sa.select(ServiceVersion).where(ServiceVersion.service_id == svc.id,
                                                                    ServiceVersion.number == 2))
        assert version.changed_fields == ["fees", "last_reviewed"]
        assert "u_km2" in version.note and version.author.username == "u_km2"
        draft = db.session.get(ServiceDraft, draft_id)
        assert draft.status == "published" and draft.reviewer.username == "u_km2"
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert ["draft.create", "draft.submit", "draft.publish"] == actions[-3:]
    assert "Rp125.000" in app.test_client().get("/layanan/uji-sim").get_data(as_text=True)


@pytest.mark.parametrize("slug", ["uji-sim", "uji-nikah", "skck", "paspor-baru"])
def test_saving_the_editor_unchanged_changes_nothing(app, staff, sourced, slug):
    """Record -> form -> record is the identity: nothing is recorded as changed."""
    km = login_client(app, "u_km")
    data = edit_form(km, slug, submit="save")
    resp = km.post(f"/kelola/layanan/{slug}/sunting", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    with app.app_context():
        draft = db.session.scalars(sa.select(ServiceDraft).order_by(ServiceDraft.id.desc())).first()
        assert draft.snapshot == service(slug).record
    assert "sama dengan versi yang terbit" in post_form(km, f"/kelola/draf/{draft.id}",
                                                        {"action": "submit"}).get_data(as_text=True)


def test_editor_can_add_every_part_of_the_shape(app, staff, sourced):
    km = login_client(app, "u_km")
    data = edit_form(km, "uji-nikah", submit="save")
    data["requirements"] = ("- Surat pengantar nikah dari kelurahan\n- text: Pas foto 2x3\n  unverified: true\n"
                            "  note: Jumlah berbeda per KUA.\n- text: Akta kelahiran\n  sources: [\"pp-59-2018 Pasal 6\"]\n")
    data["duration"] += "lead_time:\n  min: 1\n  max: 5\n  unit: working_days\n"
    data["channels"] += "- kind: app\n  name: Simkah\n  url: https://simkah4.kemenag.go.id\n"
    data["local_variation"] = "Jadwal akad di luar KUA diatur tiap kecamatan."
    assert '<option value="uji-kua" selected>' in km.get("/kelola/layanan/uji-nikah/sunting").get_data(as_text=True)
    data["agency"] = "uji-polri"  # a service that moved to another agency
    assert km.post("/kelola/layanan/uji-nikah/sunting", data=data).status_code == 302
    with app.app_context():
        snapshot = db.session.scalars(sa.select(ServiceDraft).order_by(ServiceDraft.id.desc())).first().snapshot
    assert snapshot["requirements"][1] == {"text": "Pas foto 2x3", "unverified": True, "note": "Jumlah berbeda per KUA."}
    assert snapshot["requirements"][2] == {"text": "Akta kelahiran", "sources": ["pp-59-2018 Pasal 6"]}
    assert snapshot["duration"]["lead_time"] == {"min": 1, "max": 5, "unit": "working_days"}
    assert snapshot["channels"][-1]["kind"] == "app" and snapshot["local_variation"].startswith("Jadwal")
    assert snapshot["agency"] == "uji-polri" and snapshot["category"] == "uji-agama"
    data["agency"] = "tidak-ada"
    assert "agency: " in km.post("/kelola/layanan/uji-nikah/sunting", data=data).get_data(as_text=True)


def test_invalid_edit_is_refused_and_kept(app, staff, sourced):
    km = login_client(app, "u_km")
    data = edit_form(km, "uji-sim")
    data["fees"] = "- label: PNBP penerbitan SIM A baru\n  kind: fixed\n  amount: tiga puluh ribu\n"
    resp = km.post("/kelola/layanan/uji-sim/sunting", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "fees[1].amount" in page and "tiga puluh ribu" in page
    data = edit_form(km, "uji-sim", sources_steps="https://www.samsat.info")
    page = km.post("/kelola/layanan/uji-sim/sunting", data=data).get_data(as_text=True)
    assert "bukan domain resmi" in page and "https://www.samsat.info</textarea>" in page
    data["fees"] = "- label: [tidak ditutup\n"
    page = km.post("/kelola/layanan/uji-sim/sunting", data=data).get_data(as_text=True)
    assert "YAML tidak valid" in page and "baris" in page and "- label: [tidak ditutup" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ServiceDraft.id))) == 0


def test_a_draft_cannot_set_its_review_date(app, staff, sourced):
    with app.app_context():
        km = db.session.get(User, staff["km"])
        base = dict(service("uji-sim").record)
        draft = cur.create_draft(km, "uji-sim", {**base, "last_reviewed": "2030-01-01", "summary": "Baru."})
        assert draft.snapshot["last_reviewed"] == base["last_reviewed"]


# ---------------------------------------------------------------- review means checked

def test_publish_and_reviewed_are_refused_without_sources(app, staff, tmp_path):
    import shutil

    from kb.loader import load_directory

    # The bundled SKCK page cites a source for every group; take them away
    # (a content file may load unsourced: it then shows "belum terverifikasi").
    folder = tmp_path / "unsourced"
    shutil.copytree(Path(__file__).parent.parent / "content", folder)
    path = folder / "services" / "skck.md"
    text = path.read_text()
    start = text.index("\nsources:\n")
    end = text.index("\nlast_reviewed:")
    path.write_text(text[:start] + text[end:])
    with app.app_context():
        load_directory(folder)
        version = service("skck").version
    km1, km2 = login_client(app, "u_km"), login_client(app, "u_km2")
    data = edit_form(km1, "skck", submit="review")
    data["summary"] = "Ringkasan yang lebih jelas tentang SKCK."
    resp = km1.post("/kelola/layanan/skck/sunting", data=data)
    draft_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert "Belum dapat diterbitkan" in km2.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    resp = post_form(km2, f"/kelola/draf/{draft_id}", {"action": "publish"})
    page = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 400
    assert "kelompok tanpa sumber: Persyaratan, Biaya, Waktu Penyelesaian, Prosedur, Tempat & Cara Pengajuan" in page
    resp = post_form(km2, "/kelola/layanan/skck/tinjau", {})
    assert resp.status_code == 400 and "kelompok tanpa sumber" in resp.get_data(as_text=True)
    with app.app_context():
        assert service("skck").version == version and db.session.get(ServiceDraft, draft_id).status == "in_review"
    # With every group sourced the same page publishes, reviewed today.
    with app.app_context():
        snapshot = {**service("skck").record, "sources": SKCK_SOURCES}
    publish(app, staff, "skck", snapshot)
    with app.app_context():
        assert service("skck").version == version + 1 and service("skck").last_reviewed == date.today()


def test_publish_refused_while_citing_a_repealed_regulation(app, staff, sourced):
    with app.app_context():
        km = db.session.get(User, staff["km"])
        draft = cur.create_draft(km, "uji-sim", {**service("uji-sim").record, "summary": "Ringkasan baru SIM."})
        cur.submit_draft(km, draft.id)
        reg = db.session.scalar(sa.select(Regulation).where(Regulation.key == "perpol-5-2021"))
        reg.status, reg.replaced_by = "repealed", ["uu-6-2023"]
        db.session.commit()
        km2 = db.session.get(User, staff["km2"])
        with pytest.raises(cur.CurationError, match="dicabut"):
            cur.publish_draft(km2, draft.id)
        with pytest.raises(cur.CurationError, match="dicabut"):
            cur.mark_reviewed(km2, "uji-sim")
        with pytest.raises(cur.CurationError) as exc:  # nor can a draft be saved citing it
            cur.create_draft(km, "uji-sim", dict(service("uji-sim").record))
        assert "legal_basis[2]" in exc.value.fields


def test_overdue_list_and_mark_reviewed(app, staff, sourced):
    with app.app_context():
        svc = service("uji-nikah")
        svc.last_reviewed = date.today() - timedelta(days=400)
        db.session.commit()
    km = login_client(app, "u_km")
    page = km.get("/kelola").get_data(as_text=True)
    assert "Pencatatan Nikah Uji" in page and "Lewat jadwal tinjauan" in page
    assert post_form(km, "/kelola/layanan/uji-nikah/tinjau", {}).status_code == 302
    overdue = km.get("/kelola").get_data(as_text=True).split("Lewat jadwal")[1].split("Mungkin sudah")[0]
    assert "Pencatatan Nikah Uji" not in overdue
    with app.app_context():
        svc = service("uji-nikah")
        assert svc.last_reviewed == date.today() and svc.version == 2
    assert post_form(km, "/kelola/layanan/uji-nikah/tinjau", {"days": "30"}).status_code == 302
    assert post_form(km, "/kelola/layanan/uji-nikah/tinjau", {"days": "3"}).status_code == 400
    assert post_form(km, "/kelola/layanan/uji-nikah/tinjau", {"days": "abc"}).status_code == 400


# ---------------------------------------------------------------- repeal propagates

def test_repeal_in_the_browser_flags_pages_faqs_and_answers(app, staff, sourced):
    with app.app_context():
        faq = cur.add_faq(db.session.get(User, staff["km2"]), "uji-sim", "Berapa PNBP SIM A baru?",
                          "Rp120.000 sesuai PP 76/2020, dibayar di bank.")
        faq_id = faq.id
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == "uji-sim-berapa"))
        answer_id = q.accepted_answer_id
    km = login_client(app, "u_km")
    form = km.get("/kelola/regulasi/pp-76-2020/sunting").get_data(as_text=True)
    assert 'value="Jenis dan Tarif atas Jenis Penerimaan' in form
    values = {"type": "PP", "number": "76", "year": "2020", "status": "repealed", "replaced_by": "pp-59-2018",
              "title": "Jenis dan Tarif atas Jenis PNBP yang Berlaku pada Polri", "checked": "2026-11-25",
              "url": "https://peraturan.bpk.go.id/Details/150594"}
    resp = post_form(km, "/kelola/regulasi/pp-76-2020/sunting", values, "/kelola/regulasi")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    with app.app_context():
        flags = db.session.scalars(sa.select(ReviewFlag).where(ReviewFlag.resolved_at.is_(None))).all()
        # the bundled pages citing it too; uji-nikah does not cite it
        flag = next(f for f in flags if f.service.slug == "uji-sim")
        assert "uji-nikah" not in {f.service.slug for f in flags} and "skck" in {f.service.slug for f in flags}
        assert "PP 76/2020 (pp-76-2020) dicabut" in flag.reason and "Biaya" in flag.reason
        assert db.session.get(ServiceFaq, faq_id).stale_since is not None
        assert db.session.get(Answer, answer_id).stale_since is not None
        audit = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert audit.action == "regulation.update" and audit.detail["old_status"] == "in_force"
    home = km.get("/kelola").get_data(as_text=True)
    assert "Pembuatan SIM Uji" in home and "PP 76/2020 (pp-76-2020) dicabut" in home
    page = app.test_client().get("/layanan/uji-sim").get_data(as_text=True)
    assert "Sedang ditinjau ulang" in page and "dicabut" in page
    # "still valid" is refused while the page cites it; a reviewed change that drops it settles the flag
    assert post_form(km, "/kelola/layanan/uji-sim/tinjau", {}).status_code == 400
    with app.app_context():
        record = dict(service("uji-sim").record)
    record["legal_basis"] = ["uu-22-2009", "perpol-5-2021"]
    record["sources"] = {**record["sources"], "fees": ["pp-59-2018"]}
    record["fees"] = [{**f, "exemptions": [{**e, "sources": ["pp-59-2018"]} for e in f.get("exemptions", [])]}
                      if f.get("exemptions") else f for f in record["fees"]]
    publish(app, staff, "uji-sim", record)
    with app.app_context():
        assert not db.session.scalars(sa.select(ReviewFlag).where(ReviewFlag.resolved_at.is_(None),
                                                                  ReviewFlag.service_id == service("uji-sim").id)).all()
    assert "Sedang ditinjau ulang" not in app.test_client().get("/layanan/uji-sim").get_data(as_text=True)


def test_amendment_by_content_load_flags_pages_and_still_valid_settles_it(app, staff, sourced, tmp_path):
    import shutil

    folder = tmp_path / "c"
    shutil.copytree(FIXTURE, folder)
    path = folder / "regulations" / "uji.yml"
    path.write_text(path.read_text().replace("  status: in_force\n  checked: 2026-11-20\n  note: Tautan",
                                             "  status: amended\n  amended_by: [uu-6-2023]\n  checked: 2026-11-25\n"
                                             "  note: Tautan"))
    with app.app_context():
        lines = load_content(folder)
        assert "ditandai perlu ditinjau: " in lines[0] and "uji-sim" in lines[0] and "uji-nikah" not in lines[0]
        flag = db.session.scalar(sa.select(ReviewFlag).where(ReviewFlag.service_id == service("uji-sim").id,
                                                             ReviewFlag.resolved_at.is_(None)))
        flag_id = flag.id
        assert flag.regulation_key == "perpol-5-2021" and "diubah oleh uu-6-2023" in flag.reason
        assert "Dasar Hukum" in flag.reason and "Persyaratan" in flag.reason
        flags = db.session.scalar(sa.select(sa.func.count(ReviewFlag.id)))
        assert load_content(folder)[0].endswith("tetap: 2")  # loading again flags nothing new
        assert db.session.scalar(sa.select(sa.func.count(ReviewFlag.id))) == flags
    km = login_client(app, "u_km")
    assert post_form(km, "/kelola/layanan/uji-sim/tinjau", {}).status_code == 302  # amended may still be cited
    with app.app_context():
        assert db.session.get(ReviewFlag, flag_id).resolved_at is not None


def test_repeal_in_a_partial_folder_flags_pages_already_loaded(app, tmp_path):
    folder = tmp_path / "reg"
    (folder / "regulations").mkdir(parents=True)
    (folder / "regulations" / "pp.yml").write_text(
        "- id: pp-76-2020\n  type: PP\n  number: '76'\n  year: 2020\n  title: PNBP Polri\n  status: repealed\n"
        "  replaced_by: [uu-22-2009]\n  checked: 2026-11-25\n")
    with app.app_context():
        citing = db.session.scalar(sa.select(sa.func.count(sa.distinct(Service.id))).join(Service.citations)
                                   .where(sa.text("regulation_key = 'pp-76-2020'")))
        load_content(folder)
        flagged = db.session.scalars(sa.select(ReviewFlag).where(ReviewFlag.resolved_at.is_(None))).all()
        assert citing > 1 and len(flagged) == citing and all("dicabut" in f.reason for f in flagged)


def test_regulation_form_validates_like_the_content_file(app, staff, sourced):
    km = login_client(app, "u_km")
    base = {"type": "PP", "number": "1", "year": "2026", "title": "Contoh", "checked": "2026-11-25"}
    cases = [({"id": "pp-1-2026", "status": "repealed"}, "replaced_by"),
             ({"id": "pp-1-2026", "status": "amended", "amended_by": "pp-404-2030"}, "amended_by[1]"),
             ({"id": "pp-1-2026", "status": "in_force", "url": "https://hukumonline.com/x"}, "url"),
             ({"id": "PP 1/2026", "status": "in_force"}, "id"),
             ({"id": "pp-76-2020", "status": "in_force"}, "id")]
    for extra, field in cases:
        resp = post_form(km, "/kelola/regulasi/baru", {**base, **extra}, "/kelola/regulasi")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400 and f"{field}: " in page, (extra, page[-1500:])
    resp = post_form(km, "/kelola/regulasi/baru", {**base, "id": "pp-1-2026", "status": "in_force",
                                                   "url": "https://peraturan.bpk.go.id/Details/1"}, "/kelola/regulasi")
    assert resp.status_code == 302
    assert "pp-1-2026" in km.get("/kelola/regulasi").get_data(as_text=True)


# ---------------------------------------------------------------- answers and FAQ

def test_promote_answer_to_faq_credits_author(app, staff):
    qid, aid = seeded_answer(app)
    km = login_client(app, "u_km")
    page = km.get(f"/jawaban/{aid}/promosikan").get_data(as_text=True)
    assert "@wawan_hidayat" in page
    resp = post_form(km, f"/jawaban/{aid}/promosikan", {"service": "skck", "kind": "faq",
                                                        "question": "SKCK untuk kerja di luar negeri dibuat di mana?",
                                                        "answer": "Di Mabes Polri; daftar dulu di skck.polri.go.id."})
    # An FAQ entry goes through the same review as a page edit: nothing is published yet.
    assert resp.status_code == 302 and "/kelola/draf/" in resp.headers["Location"]
    draft_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    service_page = app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert "SKCK untuk kerja di luar negeri dibuat di mana?" not in service_page
    assert "Jawaban ini dijadikan informasi resmi" not in app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)
    draft_page = km.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    assert "Menunggu tinjauan" in draft_page and "Di Mabes Polri" in draft_page
    assert "FAQ baru" in km.get("/kelola").get_data(as_text=True)
    # The proposer cannot sign it off; a second knowledge manager can.
    assert post_form(km, f"/kelola/draf/{draft_id}", {"action": "publish"}).status_code == 403
    km2 = login_client(app, "u_km2")
    assert post_form(km2, f"/kelola/draf/{draft_id}", {"action": "publish", "note": "Benar"}).status_code == 302
    service_page = app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert "SKCK untuk kerja di luar negeri dibuat di mana?" in service_page and "@wawan_hidayat" in service_page
    thread = app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert "Jawaban ini dijadikan informasi resmi" in thread and "/layanan/skck#faq-" in thread
    with app.app_context():
        draft = db.session.get(ServiceDraft, draft_id)
        assert draft.kind == "faq" and draft.status == "published" and draft.reviewer.username == "u_km2"
        faq = db.session.get(ServiceFaq, draft.published_faq_id)
        assert faq.credited_user.username == "wawan_hidayat" and faq.created_by_id == staff["km"]
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions[-4:] == ["draft.create", "draft.submit", "answer.promote_faq", "draft.publish"]


def test_faq_draft_can_be_withdrawn_edited_and_rejected(app, staff):
    qid, aid = seeded_answer(app)
    km, km2 = login_client(app, "u_km"), login_client(app, "u_km2")
    resp = post_form(km, f"/jawaban/{aid}/promosikan", {"service": "skck", "kind": "faq",
                                                        "question": "SKCK luar negeri di mana?",
                                                        "answer": "Di Mabes Polri; daftar dulu secara daring."})
    draft_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert post_form(km, f"/kelola/draf/{draft_id}", {"action": "withdraw"}).status_code == 302
    assert 'name="question"' in km.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    resp = post_form(km, f"/kelola/draf/{draft_id}", {"action": "edit-faq", "question": "pendek", "answer": "x"})
    assert resp.status_code == 400 and "10–200" in resp.get_data(as_text=True)
    assert post_form(km, f"/kelola/draf/{draft_id}", {"action": "edit-faq", "question": "SKCK untuk luar negeri di mana?",
                                                      "answer": "Di Bareskrim Mabes Polri, Jakarta."}).status_code == 302
    assert post_form(km, f"/kelola/draf/{draft_id}", {"action": "submit"}).status_code == 302
    assert post_form(km2, f"/kelola/draf/{draft_id}", {"action": "reject", "note": "Belum ada sumber"}).status_code == 302
    with app.app_context():
        draft = db.session.get(ServiceDraft, draft_id)
        assert draft.status == "rejected" and draft.snapshot["question"] == "SKCK untuk luar negeri di mana?"
        assert db.session.scalar(sa.select(sa.func.count(ServiceFaq.id))) == 0


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
    data.update({f"sources_{g}": "\n".join(v) for g, v in SKCK_SOURCES.items()})
    data["submit"] = "review"
    assert km.post(f"/kelola/layanan/skck/sunting?draf={draft_id}", data=data).status_code == 302
    assert "u_km" in km2.get(f"/kelola/draf/{draft_id}").get_data(as_text=True)
    assert post_form(km2, f"/kelola/draf/{draft_id}", {"action": "publish"}).status_code == 302
    service_page = app.test_client().get("/layanan/skck").get_data(as_text=True)
    assert "diterbitkan Mabes Polri" in service_page and "@wawan_hidayat" in service_page
    assert "Jawaban ini dijadikan informasi resmi" in app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)


def test_fee_change_flags_faq_and_linked_answers_until_confirmed(app, staff):
    qid, aid = seeded_answer(app, "skck-online-bayar-di-mana")
    with app.app_context():
        faq = cur.add_faq(db.session.get(User, staff["km"]), "skck", "Berapa biaya SKCK resmi?",
                          "Rp30.000, dibayar saat pengambilan.")
        faq_id = faq.id
        snapshot = {**service("skck").record, "sources": SKCK_SOURCES}
    snapshot["fees"] = [{**snapshot["fees"][0], "amount": 35000}]
    publish(app, staff, "skck", snapshot)
    with app.app_context():
        assert db.session.get(ServiceFaq, faq_id).stale_since is not None
        assert db.session.get(Answer, aid).stale_since is not None
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


def test_a_summary_change_does_not_flag_anything(app, staff, sourced):
    with app.app_context():
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == "uji-sim-berapa"))
        aid = q.accepted_answer_id
        snapshot = {**service("uji-sim").record, "summary": "Ringkasan yang lebih jelas."}
    publish(app, staff, "uji-sim", snapshot)
    with app.app_context():
        assert db.session.get(Answer, aid).stale_since is None


# ---------------------------------------------------------------- role x action

def cur_snapshot():
    return (db.session.execute(sa.select(ServiceDraft.id, ServiceDraft.status)).all(),
            db.session.execute(sa.select(Service.id, Service.version, Service.review_interval_days,
                                         Service.last_reviewed)).all(),
            db.session.execute(sa.select(ServiceFaq.id, ServiceFaq.stale_since)).all(),
            db.session.execute(sa.select(Answer.id, Answer.promoted_at, Answer.stale_since)).all(),
            db.session.execute(sa.select(Regulation.key, Regulation.status, Regulation.title)).all(),
            db.session.scalar(sa.select(sa.func.count(AuditLog.id))))


@pytest.fixture
def curation_world(app, staff, sourced):
    qid, aid = seeded_answer(app)
    with app.app_context():
        km2 = db.session.get(User, staff["km2"])
        faq = cur.add_faq(km2, "skck", "Berapa biaya SKCK resmi?", "Rp30.000, dibayar saat pengambilan.")
        faq.stale_since = sa.func.now()
        db.session.get(Answer, aid).stale_since = sa.func.now()
        base = cur.create_draft(km2, "uji-sim").snapshot
        draft = cur.create_draft(km2, "uji-sim", {**base, "summary": "Ringkasan yang diperbaiki."})
        cur.submit_draft(km2, draft.id)
        db.session.commit()
        from kb import best_bets

        bet = best_bets.add(km2, "uji bantuan keluarga", "pkh")
        return {"answer": aid, "faq": faq.id, "draft": draft.id, "bet": bet.id}


REG_FORM = {"type": "PP", "number": "59", "year": "2018", "status": "in_force", "checked": "2026-11-25",
            "title": "Jenis dan Tarif PNBP Kementerian Agama (judul diperbaiki)"}
CURATION_ACTIONS = {
    "dashboard": ("GET", "/kelola", {}),
    "edit_page": ("GET", "/kelola/layanan/skck/sunting", {}),
    "draft_page": ("GET", "/kelola/draf/{draft}", {}),
    "publish": ("POST", "/kelola/draf/{draft}", {"action": "publish"}),
    "reject": ("POST", "/kelola/draf/{draft}", {"action": "reject", "note": "belum tepat"}),
    "reviewed": ("POST", "/kelola/layanan/uji-nikah/tinjau", {}),
    "interval": ("POST", "/kelola/layanan/pkh/tinjau", {"days": "30"}),
    "confirm_faq": ("POST", "/kelola/faq/{faq}/konfirmasi", {}),
    "promote_page": ("GET", "/jawaban/{answer}/promosikan", {}),
    "promote": ("POST", "/jawaban/{answer}/promosikan", {"service": "skck", "kind": "faq",
                                                         "question": "Di mana membuat SKCK luar negeri?",
                                                         "answer": "Di Mabes Polri setelah daftar daring."}),
    "confirm_answer": ("POST", "/jawaban/{answer}/konfirmasi", {}),
    "regulations": ("GET", "/kelola/regulasi", {}),
    "regulation_page": ("GET", "/kelola/regulasi/pp-59-2018/sunting", {}),
    "regulation_edit": ("POST", "/kelola/regulasi/pp-59-2018/sunting", REG_FORM),
    "best_bets": ("GET", "/kelola/pencarian", {}),
    "best_bet_add": ("POST", "/kelola/pencarian", {"query": "uji surat polisi", "slug": "skck"}),
    "best_bet_remove": ("POST", "/kelola/pencarian/{bet}/hapus", {}),
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
        assert resp.status_code in (200, 302), (role, action, resp.status_code, resp.get_data(as_text=True)[-800:])
        if method == "POST":
            assert after != before and after[-1] > before[-1], (role, action)
    else:
        assert resp.status_code == (302 if role == "anon" else 403), (role, action, resp.status_code)
        assert after == before, (role, action)


def test_content_reload_with_a_new_fee_flags_faq(app, staff, tmp_path):
    import shutil

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


ODD_BOXES = ["- label: x\n  kind: fixed\n  amount: 99999999999999999999999", "a: &x [1, 2]\nb: *x",
             "!!python/object/apply:os.system ['true']", "- [1, [2, [3]]]", "- 2026-01-01", "{a: b}", "- null",
             "- label: x\n  kind: range\n  min: 1.5\n  max: true", "processing: {max: -1, unit: months}",
             "- kind: online\n  name: x\n  url: javascript:alert(1)", "x" * 60_000, "- ²\n- \u202e"]


def test_editor_and_registry_form_answer_odd_input_without_500(app, staff, sourced):
    km = login_client(app, "u_km")
    base = edit_form(km, "uji-sim", submit="save")
    for odd in ODD_BOXES:
        for name in ("requirements", "fees", "duration", "channels", "sources_fees", "legal_basis", "contact_website"):
            resp = km.post("/kelola/layanan/uji-sim/sunting", data={**base, name: odd})
            assert resp.status_code in (302, 400), (name, odd[:40], resp.status_code)
    token = csrf_from(km.get("/kelola/regulasi").get_data(as_text=True))
    form = {"csrf_token": token, "id": "pp-2-2026", "type": "PP", "number": "2", "year": "2026", "title": "X",
            "status": "in_force", "checked": "2026-11-25"}
    for key, odd in (("year", "²"), ("year", "99999999999999999999"), ("checked", "2026-13-45"), ("type", "Qanun"),
                     ("status", "hampir"), ("amended_by", "!! ??"), ("url", "javascript:alert(1)"), ("id", "../x"),
                     ("replaced_by", "pp-59-2018"), ("number", "")):
        resp = km.post("/kelola/regulasi/baru", data={**form, key: odd})
        assert resp.status_code == 400, (key, odd, resp.status_code)


# ---------------------------------------------------------------- the editor's structured rows

def rows_page(client, slug, query=""):
    return client.get(f"/kelola/layanan/{slug}/sunting{query}").get_data(as_text=True)


def browser_submit(client, slug, html, button=("submit", "save"), **changes):
    """Post the editor form as a browser does (textareas with CRLF)."""
    from .forms import as_dict, form_fields

    data = as_dict(form_fields(html, "editor-form"))
    data.update(changes)
    name, value = button
    data[name] = value
    return client.post(f"/kelola/layanan/{slug}/sunting", data=data)


@pytest.mark.parametrize("slug", ["uji-sim", "uji-nikah", "akta-kelahiran", "paspor-baru"])
def test_rows_editor_unchanged_records_nothing(app, staff, sourced, slug):
    """What a browser sends back untouched (CRLF line breaks included) is the
    published record exactly: notes and every other field unchanged."""
    km = login_client(app, "u_km")
    resp = browser_submit(km, slug, rows_page(km, slug))
    assert resp.status_code == 302, re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))[-1500:]
    with app.app_context():
        draft = db.session.scalars(sa.select(ServiceDraft).order_by(ServiceDraft.id.desc())).first()
        record = service(slug).record
        assert {k for k in record if draft.snapshot.get(k) != record.get(k)} == set()
    page = km.get(f"/kelola/draf/{draft.id}").get_data(as_text=True)
    assert "Belum ada perubahan." in page


def test_rows_editor_shows_fees_as_fields(app, staff, sourced):
    km = login_client(app, "u_km")
    html = rows_page(km, "uji-sim")
    assert 'id="fees-0-label"' in html and 'value="PNBP penerbitan SIM A baru"' in html
    assert '<option value="fixed" selected>' in html and 'id="fees-0-amount"' in html and 'value="120000"' in html
    assert 'id="fees-3-ex-0-who"' in html and 'value="Penyandang disabilitas"' in html  # exemptions: rows of their fee
    assert 'id="channels-0-kind"' in html and 'id="duration-processing-max"' in html
    assert 'name="fees"' not in html  # no YAML box unless asked for
    assert 'name="fees"' in rows_page(km, "uji-sim", "?mode=yaml")


def test_rows_add_move_remove_without_javascript(app, staff, sourced):
    km = login_client(app, "u_km")
    html = rows_page(km, "uji-sim")
    n = html.count('class="row-box fee-row"')
    resp = browser_submit(km, "uji-sim", html, ("op", "add:fees"))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.count('class="row-box fee-row"') == n + 1 and f'id="fees-{n}-label" name="fees-{n}-label" type="text" value=""' in html
    # Type into the new row, move it to the top, add an exemption to it: nothing typed is lost.
    resp = browser_submit(km, "uji-sim", html, ("op", f"up:fees-{n}"), **{
        f"fees-{n}-label": "Biaya tes kesehatan", f"fees-{n}-kind": "range", f"fees-{n}-min": "Rp25.000",
        f"fees-{n}-max": "50.000", f"fees-{n}-sources": "https://korlantas.polri.go.id"})
    html = resp.get_data(as_text=True)
    assert f'id="fees-{n - 1}-label" name="fees-{n - 1}-label" type="text" value="Biaya tes kesehatan"' in html
    resp = browser_submit(km, "uji-sim", html, ("op", f"del:fees-{n - 1}"))
    html = resp.get_data(as_text=True)
    assert "Biaya tes kesehatan" not in html and html.count('class="row-box fee-row"') == n
    resp = browser_submit(km, "uji-sim", html, ("op", "add:channels"))
    assert resp.get_data(as_text=True).count('class="row-box channel-row"') == html.count('class="row-box channel-row"') + 1
    assert browser_submit(km, "uji-sim", html, ("op", "del:fees-99")).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ServiceDraft.id))) == 0  # row buttons save nothing


def test_rows_save_a_new_fee_with_rupiah_as_typed(app, staff, sourced):
    km = login_client(app, "u_km")
    html = browser_submit(km, "uji-sim", rows_page(km, "uji-sim"), ("op", "add:fees")).get_data(as_text=True)
    n = html.count('class="row-box fee-row"') - 1
    html = browser_submit(km, "uji-sim", html, ("op", f"add:fees-{n}-ex")).get_data(as_text=True)
    resp = browser_submit(km, "uji-sim", html, **{
        f"fees-{n}-label": "Tes psikologi", f"fees-{n}-kind": "range", f"fees-{n}-min": "Rp25.000",
        f"fees-{n}-max": "75.000", f"fees-{n}-amount": "999",  # not used by a range: dropped
        f"fees-{n}-per": "per tes", f"fees-{n}-ex-0-who": "Penyandang disabilitas", f"fees-{n}-ex-0-amount": "0",
        f"fees-{n}-ex-0-proof": "Kartu penyandang disabilitas"})
    assert resp.status_code == 302, re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))[-1500:]
    with app.app_context():
        fee = db.session.scalars(sa.select(ServiceDraft).order_by(ServiceDraft.id.desc())).first().snapshot["fees"][-1]
    assert fee == {"label": "Tes psikologi", "kind": "range", "min": 25000, "max": 75000, "per": "per tes",
                   "exemptions": [{"who": "Penyandang disabilitas", "amount": 0,
                                   "proof": "Kartu penyandang disabilitas"}]}


def test_rows_errors_are_shown_on_their_row_and_keep_what_was_typed(app, staff, sourced):
    km = login_client(app, "u_km")
    html = rows_page(km, "uji-sim")
    resp = browser_submit(km, "uji-sim", html, **{
        "fees-0-amount": "seratus ribu", "fees-3-ex-0-proof": "",
        "duration-processing-max": "tiga"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'value="seratus ribu"' in page and 'value="tiga"' in page

    def error_after(field):
        rest = page[page.index(f'id="{field}"'):]
        return rest[:rest.index("</div>")]

    assert "tulis angka rupiah" in error_after("fees-0-amount") and 'aria-invalid="true"' in error_after("fees-0-amount")
    assert "wajib diisi" in error_after("fees-3-ex-0-proof")
    assert "bilangan bulat" in error_after("duration-processing-max")
    assert "isian pada baris biaya, waktu atau tempat perlu diperbaiki" in page
    # Registry rules (official domains) are checked once the shape is right.
    resp = browser_submit(km, "uji-sim", html, **{"channels-1-url": "https://www.samsat.info"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "resmi" in error_after("channels-1-url")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ServiceDraft.id))) == 0


def test_rows_kind_without_amount_and_by_region_without_note(app, staff, sourced):
    km = login_client(app, "u_km")
    resp = browser_submit(km, "uji-sim", rows_page(km, "uji-sim"), **{"fees-0-kind": "by_region", "fees-0-note": ""})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    rest = page[page.index('id="fees-0-note"'):]
    assert "wajib diisi untuk kind by_region" in rest[:rest.index("</div>")]
    assert "Biaya #1: keterangan" in page  # the summary names the row in words
