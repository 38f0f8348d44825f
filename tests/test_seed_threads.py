"""Seeded threads: answers cite sources, shown under the answer; reloading
stays idempotent."""
import shutil
from pathlib import Path

import sqlalchemy as sa

from core.contentio import load_content
from core.extensions import db
from forum.models import Answer, Question

FIXTURE = Path(__file__).parent / "data" / "content_v2"


def accepted_answer():
    q = db.session.scalar(sa.select(Question).where(Question.seed_key == "uji-sim-berapa"))
    return db.session.get(Answer, q.accepted_answer_id)


def test_answer_sources_are_listed_under_the_answer(app, client):
    with app.app_context():
        load_content(FIXTURE)
        answer = accepted_answer()
        assert answer.body_md.startswith("PNBP SIM A baru Rp120.000")
        assert "**Sumber:**" in answer.body_md
        assert "- [Pembuatan SIM Uji (A dan C)](/layanan/uji-sim)" in answer.body_md
        assert ("- [PP 76/2020 Lampiran](https://peraturan.bpk.go.id/Details/150594) tentang Jenis dan Tarif"
                in answer.body_md)
        assert "- <https://korlantas.polri.go.id/sim>" in answer.body_md
        qid, version = answer.question_id, answer.version
    page = client.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert 'href="/layanan/uji-sim"' in page and 'href="https://peraturan.bpk.go.id/Details/150594"' in page
    with app.app_context():
        assert "utas baru: 0" in load_content(FIXTURE)[1] and "disunting: 0" in load_content(FIXTURE)[1]
        assert accepted_answer().version == version  # reloading changes nothing


def test_changed_sources_edit_the_answer_once(app, tmp_path):
    folder = tmp_path / "c"
    shutil.copytree(FIXTURE, folder)
    with app.app_context():
        load_content(folder)
        version = accepted_answer().version
    path = folder / "threads" / "uji.yml"
    path.write_text(path.read_text().replace('sources: [uji-sim, "pp-76-2020 Lampiran", https://korlantas.polri.go.id/sim]',
                                             "sources: [uji-sim]"))
    with app.app_context():
        assert "disunting: 1" in load_content(folder)[1]
        answer = accepted_answer()
        assert answer.version == version + 1 and "korlantas" not in answer.body_md
        assert "disunting: 0" in load_content(folder)[1]
