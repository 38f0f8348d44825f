from datetime import date

import pytest

from kb.record import RecordError, ServiceRecord, changed_fields, parse_record


def valid_meta(**overrides):
    meta = {
        "slug": "contoh-layanan", "title": "Contoh Layanan", "agency": "dukcapil", "category": "kependudukan",
        "summary": "Ringkasan.", "aliases": ["contoh"], "requirements": ["KTP-el"],
        "fees": [{"label": "Penerbitan", "amount": "gratis"}, {"label": "PNBP", "amount": 30000, "legal_basis": "PP 76/2020"}],
        "duration": {"text": "1 hari kerja", "max_days": 1}, "steps": ["Datang", "Ambil"],
        "channels": [{"type": "kantor", "name": "Kantor"}, {"type": "online", "name": "Situs", "url": "https://contoh.go.id"}],
        "legal_basis": ["UU 1/2000"], "contact": {"phone": "123"}, "last_reviewed": date(2026, 1, 2),
    }
    meta.update(overrides)
    return meta


def problems(meta, notes=""):
    with pytest.raises(RecordError) as exc:
        parse_record(meta, notes)
    return dict(exc.value.problems)


def test_valid_record_is_typed():
    record = parse_record(valid_meta(), "Catatan **penting**")
    assert record.fees[0].kind == "free" and record.fees[0].amount is None
    assert record.fees[1].kind == "fixed" and record.fees[1].amount == 30000
    assert record.channels[0].kind == "office" and record.channels[1].kind == "online"
    assert record.duration.max_days == 1
    assert record.last_reviewed == date(2026, 1, 2)
    assert record.notes == "Catatan **penting**"


def test_round_trip_through_dict():
    record = parse_record(valid_meta())
    assert ServiceRecord.from_dict(record.to_dict()) == record


def test_zero_amount_means_free_and_variable_needs_note():
    rec = parse_record(valid_meta(fees=[{"label": "A", "amount": 0}, {"label": "B", "amount": "variabel", "note": "dihitung"}]))
    assert [f.kind for f in rec.fees] == ["free", "variable"]
    assert "fees[1].note" in problems(valid_meta(fees=[{"label": "B", "amount": "variabel"}]))


@pytest.mark.parametrize("amount", ["Rp350.000", -5, True, None, 3.5])
def test_bad_fee_amount_names_the_field(amount):
    assert "fees[1].amount" in problems(valid_meta(fees=[{"label": "A", "amount": amount}]))


def test_every_problem_reported_at_once():
    found = problems(valid_meta(slug="Bukan Slug", requirements=[], last_reviewed="1 Okt 2026",
                                channels=[{"type": "online", "name": "x"}], contact={}, extra_field=1))
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


def test_url_must_be_http():
    found = problems(valid_meta(channels=[{"type": "online", "name": "x", "url": "javascript:alert(1)"}]))
    assert "channels[1].url" in found


def test_changed_fields():
    a = parse_record(valid_meta()).to_dict()
    b = parse_record(valid_meta(title="Baru", fees=[{"label": "X", "amount": 5}])).to_dict()
    assert changed_fields(a, b) == ["title", "fees"]
    assert changed_fields(a, a) == []
