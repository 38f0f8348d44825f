"""`flask content check`: a lint over a whole content folder that needs no
database.  Every rule has a failing fixture: a copy of tests/data/content_v2
(which passes) with one thing broken."""
import shutil
from datetime import date
from pathlib import Path

import pytest

from core.contentio import check_content
from core.usernames import imitates_official

FIXTURE = Path(__file__).parent / "data" / "content_v2"
TODAY = date(2026, 11, 25)


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def edit(folder: Path, rel: str, old: str, new: str, count: int = 1) -> None:
    path = folder / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, count))


def found(folder, path, field, fragment="", severity=None):
    result = check_content(folder, today=TODAY)
    for p in result.problems:
        if p.path == path and p.field == field and fragment in p.message and severity in (None, p.severity):
            return p
    raise AssertionError(f"no problem {path}: {field} ({fragment}) in:\n" + "\n".join(map(str, result.problems)))


def test_the_fixture_passes_with_warnings_only():
    result = check_content(FIXTURE, today=TODAY)
    assert result.ok, "\n".join(map(str, result.errors))
    warnings = {(w.path, w.field) for w in result.warnings}
    assert ("regulations/uji.yml", "regulations[4].url") in warnings  # a regulation without a link
    assert ("services/uji-sim.md", "legal_basis") in warnings  # amended, amendment not cited


def test_check_needs_no_app_and_no_database(folder):
    # called outside any app context: nothing may touch a database
    assert check_content(folder, today=TODAY).ok


@pytest.mark.parametrize("rel, old, new, field", [
    ("services/uji-sim.md", "legal_basis: [uu-22-2009,", "legal_basis: [pp-48-2014, uu-22-2009,", "legal_basis[1]"),
    ("services/uji-nikah.md", "  fees: [pp-59-2018]\n", "  fees: [pp-48-2014]\n", "sources.fees[1]"),
    ("services/uji-nikah.md", "    sources: [pp-59-2018]\n    exemptions", "    sources: [\"pp-48-2014 Pasal 6\"]\n    exemptions",
     "fees[2].sources[1]"),
    ("services/uji-sim.md", "        sources: [\"pp-76-2020 Lampiran\"]", "        sources: [pp-48-2014]",
     "fees[4].exemptions[1].sources[1]"),
])
def test_citing_a_repealed_regulation_fails(folder, rel, old, new, field):
    edit(folder, rel, old, new)
    problem = found(folder, rel, field, "dicabut", "error")
    assert "pp-59-2018" in problem.message  # names the successor


def test_a_field_group_without_sources_fails_check_but_may_load(folder):
    edit(folder, "services/uji-nikah.md", "  duration: [pp-59-2018]\n", "")
    problem = found(folder, "services/uji-nikah.md", "sources.duration", "belum menyebut sumber")
    assert problem.fails_check and not problem.blocks_load
    edit(folder, "services/uji-sim.md", "sources:\n  requirements", "sumber_lama:\n  requirements")
    assert not check_content(folder, today=TODAY).ok


def test_unknown_registry_id(folder):
    edit(folder, "services/uji-sim.md", "perpol-5-2021, \"pp-76", "perpol-9-2099, \"pp-76")
    found(folder, "services/uji-sim.md", "legal_basis[2]", "tidak ada di registri", "error")
    edit(folder, "services/uji-nikah.md", "  steps: [https://kemenag.go.id]", "  steps: [pma-99-2030]")
    found(folder, "services/uji-nikah.md", "sources.steps[1]", "pma-99-2030")


@pytest.mark.parametrize("rel, old, new, path_field", [
    ("services/uji-sim.md", "url: https://korlantas.polri.go.id/sim", "url: https://www.samsat.info/sim",
     "channels[2].url"),
    ("services/uji-sim.md", "  website: https://korlantas.polri.go.id\n", "  website: https://polri.example.com\n",
     "contact.website"),
    ("services/uji-nikah.md", "  channels: [https://kemenag.go.id]", "  channels: [https://blog.example.com/kua]",
     "sources.channels[1]"),
    ("services/uji-sim.md", "sources: [https://korlantas.polri.go.id/sim]", "sources: [https://go.id.evil.com/sim]",
     "steps[2].sources[1]"),
])
def test_non_official_links_in_services_fail(folder, rel, old, new, path_field):
    edit(folder, rel, old, new)
    found(folder, rel, path_field, "bukan domain resmi", "error")


def test_non_official_agency_website_and_regulation_link(folder):
    edit(folder, "agencies/uji.yml", "website: https://www.polri.go.id", "website: https://www.samsat.info")
    found(folder, "agencies/uji.yml", "agencies[1].website", "bukan domain resmi")
    edit(folder, "regulations/uji.yml", "url: https://peraturan.bpk.go.id/Details/38654",
         "url: https://hukumonline.com/pusatdata/uu-22-2009")
    found(folder, "regulations/uji.yml", "regulations[1].url", "bukan domain resmi")


def test_official_domains_can_be_extended(folder):
    edit(folder, "agencies/uji.yml", "website: https://www.polri.go.id", "website: https://www.bpjs-kesehatan.co.id")
    found(folder, "agencies/uji.yml", "agencies[1].website", "bukan domain resmi")
    edit(folder, "official_domains.yml", "hosts: []", "hosts: [www.bpjs-kesehatan.co.id]")
    assert check_content(folder, today=TODAY).ok


@pytest.mark.parametrize("old, new, field", [
    ("    kind: fixed\n    amount: 120000\n", "    amount: 120000\n", "fees[1].kind"),
    ("    kind: fixed\n    amount: 120000\n", "    kind: variabel\n    amount: 120000\n", "fees[1].kind"),
    ("    kind: fixed\n    amount: 120000\n", "    kind: range\n    amount: 120000\n", "fees[1].amount"),
    ("    kind: maximum\n    amount: 50000\n", "    kind: maximum\n", "fees[4].amount"),
    ("    kind: by_region\n    note: Dibayar", "    kind: by_region\n    catatan: Dibayar", "fees[2].note"),
])
def test_fee_without_a_valid_kind_or_with_the_wrong_amount_fields(folder, old, new, field):
    edit(folder, "services/uji-sim.md", old, new)
    found(folder, "services/uji-sim.md", field, "", "error")


def test_amended_and_repealed_need_their_links(folder):
    edit(folder, "regulations/uji.yml", "  amended_by: [uu-6-2023]\n", "")
    found(folder, "regulations/uji.yml", "regulations[1].amended_by", "wajib")
    edit(folder, "regulations/uji-agama.yml", "  replaced_by: [pp-59-2018]\n", "")
    found(folder, "regulations/uji-agama.yml", "regulations[1].replaced_by", "wajib")


def test_links_between_regulations_must_exist(folder):
    edit(folder, "regulations/uji.yml", "amended_by: [uu-6-2023]", "amended_by: [uu-7-2099]")
    found(folder, "regulations/uji.yml", "regulations[1].amended_by[1]", "tidak ada di registri")


def test_repealed_without_successor_needs_a_note(folder):
    edit(folder, "regulations/uji-agama.yml", "replaced_by: [pp-59-2018]", "replaced_by: []")
    found(folder, "regulations/uji-agama.yml", "regulations[1].note", "tanpa pengganti")


def test_duplicate_ids_and_slugs_across_files(folder):
    (folder / "regulations" / "lain.yml").write_text((folder / "regulations" / "uji-agama.yml").read_text())
    found(folder, "regulations/uji-agama.yml", "regulations[1].id", "sudah ada di regulations/lain.yml")
    (folder / "agencies" / "lain.yml").write_text((folder / "agencies" / "uji.yml").read_text())
    found(folder, "agencies/uji.yml", "agencies[1].slug", "sudah ada di agencies/lain.yml")
    edit(folder, "categories.yml", "- slug: uji-agama", "- slug: uji-kepolisian")
    found(folder, "categories.yml", "categories[2].slug", "sudah ada")


def test_unknown_agency_and_category(folder):
    edit(folder, "services/uji-sim.md", "agency: uji-polri", "agency: polri-lain")
    edit(folder, "services/uji-sim.md", "category: uji-kepolisian", "category: lain")
    found(folder, "services/uji-sim.md", "agency", "polri-lain")
    found(folder, "services/uji-sim.md", "category", "lain")


def test_agencies_yml_must_move_to_the_folder(folder):
    (folder / "agencies.yml").write_text("- slug: a\n  name: A\n")
    found(folder, "agencies.yml", "file", "agencies/*.yml")


def test_review_dates(folder):
    edit(folder, "services/uji-sim.md", "last_reviewed: 2026-11-20", "last_reviewed: 2026-12-01")
    found(folder, "services/uji-sim.md", "last_reviewed", "masa depan", "error")
    edit(folder, "services/uji-nikah.md", "last_reviewed: 2026-11-20", "last_reviewed: 2025-01-01")
    found(folder, "services/uji-nikah.md", "last_reviewed", "lebih dari 180 hari", "warning")


def test_accepted_answer_without_sources(folder):
    edit(folder, "threads/uji.yml", "      sources: [uji-sim, \"pp-76-2020 Lampiran\", https://korlantas.polri.go.id/sim]\n", "")
    problem = found(folder, "threads/uji.yml", "[1].answers[1].sources", "wajib menyebut sumber")
    assert problem.fails_check and not problem.blocks_load


@pytest.mark.parametrize("source, fragment", [
    ("https://www.samsat.info", "bukan domain resmi"),
    ("pp-48-2014", "dicabut"),
    ("layanan-lain", "bukan slug layanan"),
])
def test_answer_sources_are_checked(folder, source, fragment):
    edit(folder, "threads/uji.yml", "sources: [uji-sim,", f"sources: [{source}, uji-sim,")
    found(folder, "threads/uji.yml", "[1].answers[1].sources[1]", fragment, "error")


def test_official_sounding_seed_usernames(folder):
    edit(folder, "threads/uji.yml", "author: dimas_aditya", "author: bripka_dimas")
    found(folder, "threads/uji.yml", "[1].answers[1].author", "petugas atau instansi")


@pytest.mark.parametrize("name", ["bripka_wawan", "yusuf_imigrasi", "mega_pajak", "hendra_jkn", "ratna_bpn",
                                  "wahyu_oss", "dimas_adm", "dewi_pendamping", "ustadz_fikri", "petugasimigrasi",
                                  "rina_admin", "official123", "resmi.dukcapil", "Kompol-Budi", "cs_bpjs"])
def test_imitates_official(name):
    assert imitates_official(name)


@pytest.mark.parametrize("name", ["wawan_hidayat", "yusuf_ramadhan", "dimas_aditya", "dewi_anggraini", "rina_bdg",
                                  "bu_endang", "pak_harjo", "badminton_fan", "warga01", "mayora99", "tono_dev"])
def test_ordinary_names_pass(name):
    assert not imitates_official(name)


def test_cli(runner, folder):
    ok = runner.invoke(args=["content", "check", str(FIXTURE)])
    assert ok.exit_code == 0 and "tidak ada masalah" in ok.output and "Peringatan (" in ok.output
    edit(folder, "services/uji-sim.md", "legal_basis: [uu-22-2009,", "legal_basis: [pp-48-2014, uu-22-2009,")
    edit(folder, "services/uji-nikah.md", "  duration: [pp-59-2018]\n", "")
    bad = runner.invoke(args=["content", "check", str(folder)])
    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert any(line.startswith("services/uji-sim.md: legal_basis[1]: ") for line in lines)
    assert "services/uji-nikah.md: sources.duration: Waktu Penyelesaian belum menyebut sumber" in lines
    # errors first, then the warnings under their own heading
    assert bad.output.index("Peringatan (") > bad.output.index("legal_basis[1]")
    missing = runner.invoke(args=["content", "check", str(folder / "tidak-ada")])
    assert missing.exit_code == 1 and "tidak ditemukan" in missing.output
