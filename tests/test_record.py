"""The service record (content format 2): shape rules and round trips."""
from datetime import date

import pytest

from kb.record import RecordError, ServiceRecord, changed_fields, parse_record, parse_source


def valid_meta(**overrides):
    meta = {
        "slug": "contoh-layanan", "title": "Contoh Layanan", "agency": "dukcapil", "category": "kependudukan",
        "summary": "Ringkasan.", "aliases": ["contoh"],
        "requirements": ["KTP-el", {"text": "Surat pengantar RT/RW", "unverified": True, "note": "Beda per daerah."},
                         {"text": "Bukti JKN", "sources": ["perpol-2-2023 Pasal 8"]}],
        "fees": [{"label": "Penerbitan", "kind": "free"},
                 {"label": "PNBP", "kind": "fixed", "amount": 30000, "sources": ["pp-76-2020 Lampiran"],
                  "exemptions": [{"who": "Warga tidak mampu", "amount": 0, "proof": "SKTM"}]},
                 {"label": "Foto", "kind": "range", "min": 10000, "max": 25000, "per": "per lembar"},
                 {"label": "Denda", "kind": "maximum", "amount": 50000},
                 {"label": "Pajak", "kind": "by_region", "note": "Perda provinsi."}],
        "duration": {"processing": {"max": 3, "unit": "working_days"},
                     "lead_time": {"min": 0, "max": 14, "unit": "calendar_days", "note": "Antrean."},
                     "waiting": {"min": 10, "unit": "working_days", "sources": ["pma-30-2024"]},
                     "note": "Ringkas."},
        "steps": ["Datang", {"text": "Ambil", "sources": ["https://contoh.go.id/ambil"]}],
        "channels": [{"kind": "office", "name": "Kantor"}, {"kind": "online", "name": "Situs", "url": "https://contoh.go.id"},
                     {"kind": "app", "name": "Aplikasi", "url": "https://contoh.go.id/app"}],
        "legal_basis": ["uu-1-2000", "pp-76-2020 Lampiran"], "contact": {"phone": "123"},
        "local_variation": "Jam layanan berbeda per kantor.",
        "sources": {"requirements": ["perpol-2-2023"], "fees": ["pp-76-2020 Lampiran"],
                    "duration": ["https://contoh.go.id"], "steps": ["uu-1-2000"], "channels": ["https://contoh.go.id"]},
        "last_reviewed": date(2026, 1, 2),
    }
    meta.update(overrides)
    return meta


def problems(meta, notes=""):
    with pytest.raises(RecordError) as exc:
        parse_record(meta, notes)
    return dict(exc.value.problems)


def test_valid_record_is_typed():
    record = parse_record(valid_meta(), "Catatan **penting**")
    assert [f.kind for f in record.fees] == ["free", "fixed", "range", "maximum", "by_region"]
    assert record.fees[1].amount == 30000 and record.fees[1].exemptions[0].amount == 0
    assert record.fees[2].min == 10000 and record.fees[2].max == 25000 and record.fees[2].per == "per lembar"
    assert record.duration.processing.max == 3 and record.duration.processing.unit == "working_days"
    assert record.duration.lead_time.min == 0 and record.duration.waiting.sources == ("pma-30-2024",)
    assert [c.kind for c in record.channels] == ["office", "online", "app"]
    assert record.requirements[1].unverified and record.requirements[2].sources == ("perpol-2-2023 Pasal 8",)
    assert record.last_reviewed == date(2026, 1, 2)
    assert record.notes == "Catatan **penting**"
    assert record.unsourced_groups() == []


def test_to_dict_is_the_file_shape_and_round_trips():
    meta = valid_meta()
    record = parse_record(meta, "Catatan")
    data = record.to_dict()
    # plain items stay plain strings; mapping items keep only what was written
    assert data["requirements"][0] == "KTP-el"
    assert data["requirements"][1] == {"text": "Surat pengantar RT/RW", "unverified": True, "note": "Beda per daerah."}
    assert data["fees"][0] == {"label": "Penerbitan", "kind": "free"}
    assert data["fees"][1]["exemptions"] == [{"who": "Warga tidak mampu", "amount": 0, "proof": "SKTM"}]
    assert data["duration"]["lead_time"] == {"min": 0, "max": 14, "unit": "calendar_days", "note": "Antrean."}
    assert data["channels"][0] == {"kind": "office", "name": "Kantor"}
    assert data["last_reviewed"] == "2026-01-02" and data["notes"] == "Catatan"
    for key in ("requirements", "fees", "duration", "steps", "channels", "legal_basis", "contact", "sources",
                "local_variation"):
        assert data[key] == (meta[key] if key != "duration" else data[key]), key
    assert ServiceRecord.from_dict(data) == record
    assert ServiceRecord.from_dict(data).to_dict() == data
    assert "max_days" not in str(data)


def test_missing_sources_is_not_a_shape_error():
    record = parse_record(valid_meta(sources=None))
    assert record.unsourced_groups() == ["requirements", "fees", "duration", "steps", "channels"]
    assert record.to_dict()["sources"] == {}
    assert "sources.harga" in problems(valid_meta(sources={"harga": ["pp-1-2000"]}))


@pytest.mark.parametrize("fee, field", [
    ({"label": "A", "amount": 5}, "fees[1].kind"),
    ({"label": "A", "kind": "mahal", "amount": 5}, "fees[1].kind"),
    ({"label": "A", "kind": "fixed"}, "fees[1].amount"),
    ({"label": "A", "kind": "fixed", "amount": "Rp350.000"}, "fees[1].amount"),
    ({"label": "A", "kind": "fixed", "amount": 0}, "fees[1].amount"),
    ({"label": "A", "kind": "fixed", "amount": -5}, "fees[1].amount"),
    ({"label": "A", "kind": "fixed", "amount": True}, "fees[1].amount"),
    ({"label": "A", "kind": "fixed", "amount": 3.5}, "fees[1].amount"),
    ({"label": "A", "kind": "fixed", "amount": 5, "min": 1}, "fees[1].min"),
    ({"label": "A", "kind": "maximum"}, "fees[1].amount"),
    ({"label": "A", "kind": "range", "min": 5}, "fees[1].max"),
    ({"label": "A", "kind": "range", "min": 5, "max": 5}, "fees[1].max"),
    ({"label": "A", "kind": "range", "amount": 5, "min": 1, "max": 9}, "fees[1].amount"),
    ({"label": "A", "kind": "free", "amount": 0}, "fees[1].amount"),
    ({"label": "A", "kind": "by_region"}, "fees[1].note"),
    ({"label": "A", "kind": "by_region", "amount": 5, "note": "x"}, "fees[1].amount"),
    ({"label": "A", "kind": "free", "exemptions": [{"who": "X", "amount": 0}]}, "fees[1].exemptions[1].proof"),
    ({"label": "A", "kind": "free", "exemptions": [{"who": "X", "proof": "Y"}]}, "fees[1].exemptions[1].amount"),
    ({"label": "A", "kind": "free", "legal_basis": "PP 1/2000"}, "fees[1].legal_basis"),
])
def test_fee_kinds_need_their_amount_fields(fee, field):
    assert field in problems(valid_meta(fees=[fee]))


@pytest.mark.parametrize("duration, field", [
    ({"text": "1 hari", "max_days": 1}, "duration.max_days"),
    ({"note": "hanya catatan"}, "duration"),
    ({"processing": {"max": 3}}, "duration.processing.unit"),
    ({"processing": {"max": 3, "unit": "hari"}}, "duration.processing.unit"),
    ({"processing": {"unit": "working_days"}}, "duration.processing"),
    ({"processing": {"min": 5, "max": 3, "unit": "working_days"}}, "duration.processing.max"),
    ({"waiting": {"min": -1, "unit": "months"}}, "duration.waiting.min"),
])
def test_duration_parts_need_numbers_and_a_unit(duration, field):
    assert field in problems(valid_meta(duration=duration))


def test_sources_syntax():
    assert parse_source("pp-76-2020").kind == "regulation"
    assert parse_source("perpol-6-2023  Pasal 17").text == "perpol-6-2023 Pasal 17"
    assert parse_source("https://www.imigrasi.go.id/x").kind == "url"
    for bad in ("PP 76/2020", "pp_76_2020", "javascript:alert(1)", "", "sumber"):
        assert parse_source(bad) is None, bad
    found = problems(valid_meta(legal_basis=["Undang-Undang Nomor 6 Tahun 2011", "https://jdih.go.id/x"],
                                sources={"fees": ["PP 76/2020"]}))
    assert {"legal_basis[1]", "legal_basis[2]", "sources.fees[1]"} <= set(found)


def test_every_problem_reported_at_once():
    found = problems(valid_meta(slug="Bukan Slug", requirements=[], last_reviewed="1 Okt 2026",
                                channels=[{"kind": "online", "name": "x"}], contact={}, extra_field=1))
    assert {"slug", "requirements", "last_reviewed", "channels[1].url", "contact", "extra_field"} <= set(found)


def test_missing_required_fields():
    found = problems({"slug": "x"})
    for name in ("title", "agency", "category", "summary", "requirements", "fees", "duration", "steps",
                 "channels", "legal_basis", "contact", "last_reviewed"):
        assert name in found, name


def test_wrong_types_are_explained():
    found = problems(valid_meta(requirements="KTP", duration="1 hari", title=["a"]))
    assert "daftar" in found["requirements"]
    assert "pemetaan" in found["duration"]
    assert "teks" in found["title"]


def test_channel_kinds_and_urls():
    found = problems(valid_meta(channels=[{"kind": "kantor", "name": "x"},
                                          {"kind": "app", "name": "y"},
                                          {"kind": "online", "name": "z", "url": "javascript:alert(1)"}]))
    assert {"channels[1].kind", "channels[2].url", "channels[3].url"} <= set(found)


def test_changed_fields():
    a = parse_record(valid_meta()).to_dict()
    b = parse_record(valid_meta(title="Baru", fees=[{"label": "X", "kind": "fixed", "amount": 5}])).to_dict()
    assert changed_fields(a, b) == ["title", "fees"]
    assert changed_fields(a, a) == []
