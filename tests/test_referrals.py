"""Referrals (issue 13): a question our pages do not answer, close to a topic
we know we do not cover, is told who handles that topic instead, with the
sources behind the sentence (content/referrals.yml, kb.referrals).  What
/cari and the API show is tested in test_search.py, beside the topic (it
needs the dense index built there)."""
from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _folder(tmp_path: Path, referrals: str) -> Path:
    root = tmp_path / "content"
    (root / "agencies").mkdir(parents=True)
    (root / "regulations").mkdir()
    (root / "official_domains.yml").write_text("suffixes: [.go.id]\nhosts: []\nprefixes: []\n", encoding="utf-8")
    (root / "agencies" / "a.yml").write_text(textwrap.dedent("""\
        - slug: ojk
          name: Otoritas Jasa Keuangan
          short_name: OJK
          website: https://www.ojk.go.id
        """), encoding="utf-8")
    (root / "regulations" / "r.yml").write_text(textwrap.dedent("""\
        - id: uu-21-2011
          type: UU
          number: "21"
          year: 2011
          title: Otoritas Jasa Keuangan
          status: in_force
          checked: 2026-11-01
        - id: uu-1-1990
          type: UU
          number: "1"
          year: 1990
          title: Yang Sudah Dicabut
          status: repealed
          replaced_by: [uu-21-2011]
          checked: 2026-11-01
        """), encoding="utf-8")
    (root / "referrals.yml").write_text(textwrap.dedent(referrals), encoding="utf-8")
    return root


GOOD = """\
- topic: bank-atm-dan-dompet-digital
  agency: ojk
  text: Hubungi dulu bank Anda; bila tidak selesai, adukan ke OJK.
  text_en: Contact your bank first; if it is not resolved, complain to OJK.
  sources: ["uu-21-2011 Pasal 29", "https://www.ojk.go.id"]
  last_reviewed: 2026-11-01
"""


def test_a_referral_is_an_official_claim_and_is_checked(tmp_path):
    """Each referral names a known topic and agency, says its sentence in
    both languages and cites sources that may be cited; anything else fails
    ``flask content check`` and refuses to load, with the entry named."""
    from core.contentio import check_content
    from kb.loader import parse_directory

    timestamped = GOOD.replace("last_reviewed: 2026-11-01", "last_reviewed: 2026-11-01 09:30:00")
    parsed = parse_directory(_folder(tmp_path / "ts", timestamped), use_db=False, today=date(2026, 11, 27))
    assert parsed.referrals[0].last_reviewed == date(2026, 11, 1)
    parsed = parse_directory(_folder(tmp_path / "ok", GOOD), use_db=False, today=date(2026, 11, 27))
    assert [p for p in parsed.problems if p.severity != "warning"] == [] and len(parsed.referrals) == 1
    entry = parsed.referrals[0]
    assert (entry.topic, entry.agency, entry.last_reviewed) == ("bank-atm-dan-dompet-digital", "ojk", date(2026, 11, 1))

    bad = GOOD + """\
- topic: no-such-topic
  agency: ojk
  text: x
  text_en: x
  sources: ["uu-21-2011"]
  last_reviewed: 2026-11-01
- topic: resep-dan-makanan
  agency: bmkg
  text: x
  text_en: x
  sources: ["uu-21-2011"]
  last_reviewed: 2026-11-01
- topic: resep-dan-makanan
  agency: ojk
  text: Tanpa sumber.
  text_en: No source.
  last_reviewed: 2026-11-01
- topic: cuaca-dan-bencana
  agency: ojk
  text: Mengutip yang sudah dicabut.
  text_en: Cites a repealed law.
  sources: ["uu-1-1990", "https://example.com/blog"]
  last_reviewed: 2026-11-01
- topic: olahraga
  agency: ojk
  text: Hanya bahasa Indonesia.
  sources: ["uu-21-2011"]
  last_reviewed: 2026-11-01
- topic: pemilu-dan-politik
  agency: ojk
  text: Ditinjau besok.
  text_en: Reviewed tomorrow.
  sources: ["uu-21-2011"]
  last_reviewed: 2026-11-28 08:00:00
- topic: bank-atm-dan-dompet-digital
  agency: ojk
  text: Dua kali.
  text_en: Twice.
  sources: ["uu-21-2011"]
  last_reviewed: 2026-11-01
  phone: "157"
"""
    result = check_content(_folder(tmp_path / "bad", bad), today=date(2026, 11, 27))
    messages = {(p.field, p.message) for p in result.problems if p.path == "referrals.yml"}
    fields = {f for f, _m in messages}
    assert {"[1].topic", "[2].agency", "[3].sources", "[4].sources[0]", "[4].sources[1]", "[5].text_en",
            "[6].last_reviewed", "[7]"} <= fields, messages
    assert any("kolom tidak dikenal: phone" in m for f, m in messages if f == "[7]")
    assert any("dicabut" in m for f, m in messages if f == "[4].sources[0]")
    assert any("bukan domain resmi" in m for f, m in messages if f == "[4].sources[1]")
    assert not result.ok and all(p.blocks_load for p in result.problems if p.path == "referrals.yml")


def test_the_bundled_referrals_pass_the_check():
    """content/referrals.yml: every entry is valid, names a topic of the
    outside list and cites at least one source."""
    from core.contentio import check_content
    from kb.loader import parse_directory
    from search.engine import outside_topic

    problems = [p for p in check_content(ROOT / "content").problems if p.path == "referrals.yml"]
    assert problems == []
    parsed = parse_directory(ROOT / "content", use_db=False)
    assert len(parsed.referrals) >= 10
    assert all(outside_topic(r.topic) is not None and r.sources for r in parsed.referrals)
