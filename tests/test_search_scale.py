"""Search at scale: the compiled lexical index, the shared vector index
(HNSW vs exact, memory-mapped, refreshed from the outbox), encoding outside
write transactions, resumable reindex, and a host that joins late.

Most tests use a tiny bag-of-words encoder (no model) so they run in
seconds; the shipped model is covered in tests/test_search.py."""
import logging
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from core.extensions import db
from search import dense as dense_mod
from search.analysis import words
from search.documents import Document, Section
from search.lexical import LexicalIndex, edit_distance
from search.models import SearchOutbox, SearchVector
from search.outbox import drain_all, ensure_local_state, pending_count, reindex

from .conftest import CONTENT, Snapshot, clone, close_app, drop_database, login_client, make_app, post_form

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."


class BowEncoder:
    """Sum of a fixed random vector per word, normalized: similar texts get
    similar vectors, and nothing is loaded.  Counts passages encoded."""

    name = "test-bow"
    dim = 384
    encoded = 0
    fail_after: int | None = None
    in_write_transaction = 0

    def __init__(self, threads: int = 1):
        pass

    @staticmethod
    def _word(word):
        seed = zlib.crc32(word.encode())
        return np.random.default_rng(seed).standard_normal(384).astype(np.float32)

    def _encode(self, texts):
        out = np.zeros((len(texts), 384), np.float32)
        for i, text in enumerate(texts):
            for w in words(text):
                out[i] += self._word(w)
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out

    def queries(self, texts):
        return self._encode(texts)

    def passages(self, texts):
        from core.db import _WRITE_TXN

        if _WRITE_TXN.get():
            BowEncoder.in_write_transaction += 1
        if BowEncoder.fail_after is not None and BowEncoder.encoded >= BowEncoder.fail_after:
            raise RuntimeError("simulated crash during encoding")
        BowEncoder.encoded += len(texts)
        return self._encode(texts)


dense_mod.ENCODERS["test-bow"] = BowEncoder


@pytest.fixture(autouse=True)
def _reset_encoder():
    BowEncoder.encoded, BowEncoder.fail_after, BowEncoder.in_write_transaction = 0, None, 0
    yield


@pytest.fixture(scope="module")
def bow_db(tmp_path_factory, seeded_db):
    """The seed database with bag-of-words vectors for every document."""
    folder = tmp_path_factory.mktemp("bow")
    snapshot = clone(seeded_db, folder, keep=True)
    app = make_app(snapshot, SEARCH_ENCODER="test-bow")
    with app.app_context():
        reindex()
    close_app(app)
    yield snapshot
    drop_database(snapshot)


def bow_app(tmp_path, snapshot, **overrides):
    return make_app(clone(snapshot, tmp_path), SEARCH_ENCODER="test-bow", **overrides)


def new_user(app, name="penanya"):
    from core.auth.services import create_user

    with app.app_context():
        create_user(name, "kata-sandi-aman")


# ---------------------------------------------------------------- lexical engine

def test_lexical_search_is_complete_with_no_time_budget(tmp_path):
    """A term found only in the last of thousands of documents is found:
    there is no budget that could stop the scan early."""
    import inspect

    from search.engine import SearchEngine

    assert "budget" not in inspect.signature(LexicalIndex.search).parameters
    assert "budget" not in inspect.signature(SearchEngine.__init__).parameters
    index = LexicalIndex(tmp_path / "question")
    docs = [Document(doc_id=f"question:{i}", kind="question", title=f"Perpanjang SIM nomor {i}", url=f"/p/{i}",
                     sections=[Section("Pertanyaan", "ktp hilang bagaimana urus " * 5)]) for i in range(3000)]
    docs.append(Document(doc_id="question:9999", kind="question", title="Zebracross di ujian SIM", url="/p/9999",
                         sections=[Section("Pertanyaan", "ktp hilang")]))
    index.swap_to(index.bulk_build(docs))
    assert index.doc_count() == 3001
    assert [d for d, _ in index.search(["zebracross"], 50)] == ["question:9999"]
    hits = index.search(["ktp", "hilang", "zebracross"], 10)
    assert hits[0][0] == "question:9999" and len(hits) == 10
    assert index.stored(["question:9999"])["question:9999"]["title"] == "Zebracross di ujian SIM"


def test_snippet_marks_exactly_the_words_that_stem_to_a_query_term():
    """Only whole words are marked (not "ktp" inside "ektp"), every
    occurrence, across punctuation and capitals."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from search.analysis import stem
    from search.snippets import make_snippet

    pieces = ["ktp", "KTP", "ektp", "ktp-el", "hilang", "kehilangan", "Hilang.", "(ktp)", "ktpktp", "polisi,",
              "kepolisian", "1×24", "é", "surat"]

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.lists(st.sampled_from(pieces), min_size=1, max_size=30),
           st.sets(st.sampled_from(["ktp", "hilang", "polisi", "surat"]), min_size=1))
    def check(tokens, wanted):
        text = " ".join(tokens)
        terms = {stem(w) for w in wanted}
        marked = re.findall(r"<mark>(.*?)</mark>", make_snippet(text, terms, width=10_000))
        assert marked == [text[i:i + len(w)] for i, w in _positions(text, terms)]

    check()


def test_lexical_updates_deletes_and_readers_in_other_processes_see_commits(tmp_path):
    writer, reader = LexicalIndex(tmp_path / "q"), LexicalIndex(tmp_path / "q")
    doc = Document(doc_id="question:1", kind="question", title="Delman butuh pelat nomor", url="/p/1")
    writer.apply({"question:1": doc})
    assert reader.search(["delman"], 10)[0][0] == "question:1"
    writer.apply({"question:1": Document(doc_id="question:1", kind="question", title="Kuda lumping", url="/p/1")})
    reader._checked = 0.0
    assert reader.search(["delman"], 10) == [] and reader.doc_count() == 1
    writer.apply({"question:1": None})
    reader._checked = 0.0
    assert reader.doc_count() == 0
    # A slower worker of the same host does not re-apply an older batch over a newer one.
    writer.set_cursor(7)
    assert writer.apply({"question:2": doc}, after=5) is False


def test_vocabulary_for_did_you_mean(app):
    with app.app_context():
        services = app.extensions["search"].lexicals["service"]
        assert services.has_term("syarat") and services.doc_frequency("syarat") > 5
        assert not services.has_term("zzzqqq")
        assert services.word_frequency("sertifikat") > 0
        candidates = services.spelling_candidates("sertifkat", maxdist=2)
        assert candidates[0][:2] == ("sertifikat", 1)
        assert all(dist <= 2 for _, dist, _ in candidates)
        assert services.suggest("sertifkat") == "sertifikat"
    assert edit_distance("paspor", "pasport", 2) == 1 and edit_distance("ktp", "sim", 2) == 3
    assert edit_distance("sertifkat", "sertifikat", 2) == 1 and edit_distance("ab", "ba", 2) == 1


# ---------------------------------------------------------------- vector index

def test_rescoring_codes_are_close_to_float32_and_old_folders_still_load(tmp_path):
    """Two-level codes (int8 residuals on one step for the part + 4-bit
    remainder): scores within 1e-4 of the float32 dot product; without the
    second level (folders built before it) less precise but still right;
    a folder of the older layout (one int8 scale per vector) still loads."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal(384).astype(np.float32) * 3  # e5 vectors share a large common component
    raw = base + rng.standard_normal((2000, 384)).astype(np.float32)
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    step = dense_mod.write_codes(tmp_path, "question", raw)
    assert not (tmp_path / "question.scales.npy").exists()
    np.save(tmp_path / "question.refs.npy", np.arange(2000))
    np.save(tmp_path / "question.chunk_doc.npy", np.arange(2000, dtype=np.int32))
    part = dense_mod._Part(tmp_path, "question", {"ann": False, "step": step})
    q = raw[7] + 0.1 * rng.standard_normal(384).astype(np.float32)
    q /= np.linalg.norm(q)
    rows = np.arange(0, 2000, 3)
    exact = raw[rows] @ q
    fine_error = np.abs(part.scores(q, rows) - exact).max()
    assert fine_error < 1e-4
    assert part.search(q, 1)[0][0] == 7
    # The graph's query: the int8 residual on the same step (a query inside
    # the data's range is not clipped).
    near = raw[11]
    assert np.abs(part.graph_query(near).astype(np.float32) * step - (near - part.mean)).max() <= step / 2 + 1e-7
    for name in ("question.fine.npy", "question.fine_scales.npy"):
        (tmp_path / name).unlink()
    coarse = dense_mod._Part(tmp_path, "question", {"ann": False, "step": step})
    coarse_error = np.abs(coarse.scores(q, rows) - exact).max()
    assert fine_error * 5 < coarse_error < 2e-3
    assert coarse.search(q, 1)[0][0] == 7
    # The layout before one step per part: a scale per vector in scales.npy.
    residual = raw - part.mean
    top = np.abs(residual).max(axis=1)
    np.save(tmp_path / "question.codes.npy", np.round(residual * (127.0 / top)[:, None]).astype(np.int8))
    np.save(tmp_path / "question.scales.npy", (top / 127.0).astype(np.float32))
    old = dense_mod._Part(tmp_path, "question", {"ann": False})
    assert old.step is None and np.abs(old.scores(q, rows) - exact).max() < 2e-3
    assert old.search(q, 1)[0][0] == 7


def test_graph_rows_are_matched_to_chunks_by_content():
    """usearch stores vectors in the order its threads added them; the
    slots found by content map every chunk to a row with its codes."""
    rng = np.random.default_rng(5)
    codes = rng.integers(-127, 128, size=(5000, 384), dtype=np.int8)
    codes[10] = codes[20]  # identical codes are interchangeable
    order = rng.permutation(5000)
    graph_rows = codes[order]
    slots = dense_mod.graph_slots(graph_rows, codes, block=1234)
    assert np.array_equal(graph_rows[slots], codes)
    with pytest.raises(ValueError):
        dense_mod.graph_slots(graph_rows[::-1].copy() + np.int8(1), codes)


def test_ann_equals_exact_search_on_a_small_index(tmp_path, bow_db):
    app = bow_app(tmp_path, bow_db)
    queries = ["ktp hilang", "perpanjang paspor", "akta kelahiran anak", "pajak kendaraan", "nikah di kua",
               "sertifikat halal umkm", "bpjs kesehatan pindah faskes", "skck untuk melamar kerja"]
    with app.app_context():
        dense = app.extensions["search"].dense
        enc = dense.encoder
        dense.build(exact_below=10**9)
        dense.sync(force=True)
        assert not any(p.ann for p in dense._main.parts.values())
        exact = {q: dense.search_vector(enc.queries([q])[0], 20) for q in queries}
        dense.build(exact_below=0)  # every kind through the int8 HNSW graph
        dense.sync(force=True)
        assert all(p.ann for p in dense._main.parts.values())
        folder = Path(app.config["SEARCH_DIR"]) / "dense" / dense.status()["folder"]
        # The graph files hold the int8 codes: no second copy beside them.
        assert not list(folder.glob("*.codes.npy")) and (folder / "question.slots.npy").exists()
        for q in queries:
            approx = dense.search_vector(enc.queries([q])[0], 20)
            # The graph finds exactly what a scan of the same int8 vectors finds...
            scan = dense.search_vector(enc.queries([q])[0], 20, exact=True)
            assert [d for d, _ in approx] == [d for d, _ in scan], q  # scores agree up to float summation order
            assert all(abs(a[1] - b[1]) < 1e-5 for a, b in zip(approx, scan)), q
            # ...and int8 barely moves the float32 ranking (near-ties may swap).
            assert approx[0][0] == exact[q][0][0]
            assert len({d for d, _ in approx} & {d for d, _ in exact[q]}) >= 18
            assert all(abs(a[1] - e[1]) < 0.02 for a, e in zip(approx, exact[q]))
            only = dense.search_vector(enc.queries([q])[0], 5, kinds=["service"])
            assert only and all(d.startswith("service:") for d, _ in only)


def test_a_large_part_is_split_into_graphs_searched_side_by_side(tmp_path, bow_db):
    """Above SHARD_CHUNKS a part's graph is split over consecutive chunk
    ranges; the merged candidates find what one graph finds, and rescoring
    reads each chunk's codes from its own graph's file."""
    queries = ["ktp hilang", "perpanjang paspor", "akta kelahiran anak", "pajak kendaraan", "nikah di kua"]
    app = bow_app(tmp_path, bow_db)
    with app.app_context():
        dense = app.extensions["search"].dense
        enc = dense.encoder
        dense.build(exact_below=0)
        dense.sync(force=True)
        one = {q: dense.search_vector(enc.queries([q])[0], 20) for q in queries}
        chunks = dense._main.parts["question"].n_chunks
        dense.SHARD_CHUNKS = max(2, chunks // 3)
        dense.build(exact_below=0)
        dense.sync(force=True)
        part = dense._main.parts["question"]
        assert len(part.indexes) >= 3 and part.codes is None
        assert {ix.expansion_search for ix in part.indexes} == {dense_mod.DenseIndex.SHARD_EXPANSION}
        folder = Path(app.config["SEARCH_DIR"]) / "dense" / dense.status()["folder"]
        assert (folder / "question.0.usearch").exists() and not (folder / "question.usearch").exists()
        for q in queries:
            split = dense.search_vector(enc.queries([q])[0], 20)
            scan = dense.search_vector(enc.queries([q])[0], 20, exact=True)
            assert [d for d, _ in split] == [d for d, _ in scan] == [d for d, _ in one[q]], q
            assert all(abs(a[1] - b[1]) < 1e-5 for a, b in zip(split, one[q])), q


def test_vector_index_is_memory_mapped_shared_and_refreshed_from_the_outbox(tmp_path, bow_db):
    """Two workers of one host map the same files; a thread posted through
    one is found by the other through the outbox (read back from the
    database, not encoded again); a rebuild swaps both to a new folder."""
    app = bow_app(tmp_path, bow_db)
    worker_b = dense_mod.DenseIndex(BowEncoder(), app.config["SEARCH_DIR"] + "/dense")
    with app.app_context():
        dense = app.extensions["search"].dense
        dense.build(exact_below=0)
        dense.sync(force=True)
        worker_b.sync(force=True)
        maps = Path("/proc/self/maps").read_text()
        folder = dense.status()["folder"]
        assert folder == worker_b.status()["folder"]
        assert f"{folder}/question.usearch" in maps  # viewed through mmap, not loaded
    new_user(app)
    c = login_client(app, "penanya")
    post_form(c, "/pertanyaan/tanya", {"title": "Apakah delman perlu pelat nomor dari samsat?", "body": BODY},
              "/pertanyaan/tanya")
    with app.app_context():
        qid = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id)))
        assert pending_count() == 0
        encoded = BowEncoder.encoded
        worker_b._last_checked = 0.0
        q = BowEncoder().queries(["delman pelat nomor samsat"])[0]
        top = worker_b.search_vector(q, 3)
        assert top[0][0].startswith("question:") and worker_b.status()["delta_docs"] >= 1
        assert BowEncoder.encoded == encoded  # worker B read the vectors, it did not encode
        # Compaction: the delta is folded into a rebuilt folder that both workers switch to.
        old = worker_b.status()["folder"]
        dense.COMPACT_AT = 0
        drain_all()
        dense.COMPACT_AT = dense_mod.DenseIndex.COMPACT_AT
        worker_b._last_checked = 0.0
        assert worker_b.search_vector(q, 3)[0][0] == top[0][0]
        st = worker_b.status()
        assert st["folder"] != old and st["cursor"] >= qid and st["delta_docs"] == 0
        assert not (tmp_path / "search" / "dense" / old).exists()


def test_passages_are_encoded_outside_the_write_transaction(tmp_path, bow_db):
    app = bow_app(tmp_path, bow_db)
    new_user(app)
    c = login_client(app, "penanya")
    post_form(c, "/pertanyaan/tanya", {"title": "Apakah kuda lumping butuh izin keramaian?", "body": BODY},
              "/pertanyaan/tanya")
    assert BowEncoder.encoded > 0 and BowEncoder.in_write_transaction == 0
    with app.app_context():
        before = BowEncoder.encoded
        reindex(resume=False)
        assert BowEncoder.encoded == before  # nothing changed: nothing encoded
        assert BowEncoder.in_write_transaction == 0


def test_reindex_resumes_after_an_interruption(tmp_path, seeded_db):
    app = make_app(clone(seeded_db, tmp_path), SEARCH_ENCODER="test-bow")
    with app.app_context():
        total = sum(len(d.chunks()) for d in _all_documents())
        BowEncoder.fail_after = 100
        with pytest.raises(RuntimeError):
            reindex(batch_docs=8)
        state = app.extensions["search"].root / "REINDEX.json"
        assert state.exists()
        stored = db.session.scalar(sa.select(sa.func.count(SearchVector.id)))
        assert 0 < stored < total
        BowEncoder.fail_after, first = None, BowEncoder.encoded
        result = app.test_cli_runner().invoke(args=["search", "reindex"])
        assert result.exit_code == 0, result.output
        assert "resume" in result.output and "chunks/s" in result.output and "reindexed" in result.output
        assert BowEncoder.encoded - first == total - stored  # only what the first run had not stored
        assert not state.exists()
        assert db.session.scalar(sa.select(sa.func.count(SearchVector.id))) == total


def _all_documents():
    from search.registry import load_documents, providers

    docs = []
    for p in providers():
        docs += [d for d in load_documents([f"{p.kind}:{r}" for r in p.all_refs()]).values() if d is not None]
    return docs


def test_a_host_joining_late_catches_up_from_the_database_without_encoding(tmp_path, bow_db, caplog):
    """A new host with an empty disk: its drainer builds the lexical index
    from the documents and the vector index from the stored vectors."""
    app = make_app(Snapshot(clone(bow_db, tmp_path).url, tmp_path / "empty-disk"), SEARCH_ENCODER="test-bow")
    with app.app_context():
        eng = app.extensions["search"]
        assert not any(ix.exists() for ix in eng.lexicals.values())
        with caplog.at_level(logging.INFO, logger="layanan.search"):
            ensure_local_state()
        assert "building it from the database" in caplog.text
        assert all(ix.exists() for ix in eng.lexicals.values())
        assert eng.lexicals["service"].doc_count() == len(list(CONTENT.joinpath("services").glob("*.md")))
        assert eng.dense.status()["chunks"] > 300
        assert BowEncoder.encoded == 0
        data = app.test_client().get("/api/v1/search?q=paspor+hilang&k=3").get_json()
        assert data["mode"] == "hybrid" and data["results"]
        assert BowEncoder.encoded == 0


def test_reindex_local_cli_writes_nothing(tmp_path, bow_db):
    app = bow_app(tmp_path, bow_db)
    with app.app_context():
        rows = db.session.scalar(sa.select(sa.func.count(SearchOutbox.id)))
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--local"])
    assert result.exit_code == 0 and "encoded 0 chunks" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SearchOutbox.id))) == rows
    status = app.test_cli_runner().invoke(args=["search", "status"]).output
    assert "int8 HNSW" in status or "exact" in status


def test_a_reindex_elsewhere_makes_other_hosts_rebuild_their_vector_index(tmp_path, bow_db):
    host_a = bow_app(tmp_path, bow_db)
    shutil.copytree(tmp_path / "search", tmp_path / "search-b")
    host_b = make_app(Snapshot(host_a.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "search-b"),
                      SEARCH_ENCODER="test-bow")
    with host_b.app_context():
        before = host_b.extensions["search"].dense.status()["folder"]
    with host_a.app_context():
        db.session.execute(sa.delete(SearchVector).where(SearchVector.doc_id == "service:skck"))
        db.session.commit()
        reindex(resume=False)  # re-encodes the missing chunks and announces the bulk change
        assert db.session.scalar(sa.select(SearchOutbox.doc_id).order_by(SearchOutbox.id.desc()).limit(1)) == "*:vectors"
    with host_b.app_context():
        drain_all()
        assert host_b.extensions["search"].dense.status()["folder"] != before


def _reference_window(starts, width):
    best, best_count = starts[0], 0
    for i, first in enumerate(starts):
        count = sum(1 for p in starts[i:] if p < first + width)
        if count > best_count:
            best, best_count = first, count
    return best


def test_snippet_window_is_the_densest_and_linear_in_the_matches():
    """The snippet starts near the window holding the most query words (the
    same choice as the quadratic scan it replaced), and a long body with
    thousands of matches is handled in one pass."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from search.analysis import stem
    from search.snippets import make_snippet

    words_ = ["ktp", "hilang", "surat", "polisi", "kelurahan", "foto", "biaya", "gratis"]

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.lists(st.sampled_from(words_), min_size=1, max_size=120), st.sets(st.sampled_from(words_), min_size=1))
    def check(tokens, wanted):
        text = " ".join(tokens)
        terms = {stem(w) for w in wanted}
        snippet = make_snippet(text, terms, width=60)
        starts = [i for i, _ in _positions(text, terms)]
        if starts:
            best = max(0, _reference_window(starts, 60) - 40)
            if best:
                space = text.rfind(" ", 0, best)
                best = space + 1 if space != -1 else best
            plain = snippet.replace("<mark>", "").replace("</mark>", "").removeprefix("… ")
            assert text[best:].startswith(plain.removesuffix(" …"))

    check()
    long_text = " ".join(["ktp hilang lapor polisi"] * 5000)
    assert make_snippet(long_text, {stem("ktp"), stem("polisi")}).count("<mark>") >= 10


def _positions(text, terms):
    import re

    from search.analysis import stem

    return [(m.start(), m.group()) for m in re.finditer(r"[0-9A-Za-z\u00c0-\u024f]+", text.lower())
            if stem(m.group()) in terms]
