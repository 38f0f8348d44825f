"""The bench fit's view of what the engine shows (bench/search_fit.py):
a typo query whose own confidence is low but whose correction is certain
is shown the correction's results, as SearchEngine.search does."""
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import search_fit  # noqa: E402
from search.fusion import Model  # noqa: E402

# P(answered) rises with the best candidate's score; a candidate's own
# P(answer | answered) falls with its gap to the best.
MODEL = Model({"lex_norm": 1.0}, {"query": {"top_score": 10.0, "bias": -5.0}, "result": {"gap": 5.0, "bias": 3.0}})


def record(text: str, scores: dict[str, float], relevant: set[str], fixed: dict | None = None) -> dict:
    return {"query": SimpleNamespace(text=text, relevant=relevant), "known": 1.0,
            "ranked": [{"doc_id": d, "x": {"lex_norm": s}} for d, s in scores.items()], "fixed": fixed}


def test_a_certain_correction_is_shown_and_counted():
    fixed = record("perpanjang sim", {"service:sim": 0.9, "service:ktp": 0.3}, {"service:sim"})
    typo = record("perpanjng sim", {"service:ktp": 0.3, "service:sim": 0.2}, {"service:sim"}, fixed)
    _, p_typed, _ = search_fit.apply(MODEL, typo)
    _, p_fixed, _ = search_fit.apply(MODEL, fixed)
    bar, sure = (p_typed + p_fixed) / 2, p_fixed - 0.01
    # without corrections the typo query is refused at this bar
    assert search_fit.shown(MODEL, typo, bar, 0.0) == ([], p_typed)
    results, p = search_fit.shown(MODEL, typo, bar, 0.0, sure=sure)
    assert results[0] == "service:sim" and p == p_fixed
    counted = search_fit.abstention_outcomes([typo], [MODEL], bar, 0.0, sure=sure)
    assert counted["id_hits"] == 1
    assert search_fit.abstention_outcomes([typo], [MODEL], bar, 0.0)["id_hits"] == 0
    # a correction that is not certain is not shown
    assert search_fit.shown(MODEL, typo, bar, 0.0, sure=p_fixed + 0.01) == ([], p_typed)


def test_a_certain_typed_query_keeps_its_own_results():
    fixed = record("sim hilang", {"service:ktp": 0.9}, {"service:sim"})
    typed = record("sim ilang", {"service:sim": 0.8, "service:ktp": 0.1}, {"service:sim"}, fixed)
    _, p_typed, _ = search_fit.apply(MODEL, typed)
    results, p = search_fit.shown(MODEL, typed, 0.1, 0.0, sure=p_typed - 0.01)
    assert results[0] == "service:sim" and p == p_typed


def test_an_out_of_domain_query_shown_an_official_page_by_its_correction_counts_against():
    fixed = record("kartu atm", {"service:ktp": 0.9}, set())
    ood = record("kartu atn", {"service:ktp": 0.1}, set(), fixed)
    _, p_fixed, _ = search_fit.apply(MODEL, fixed)
    assert search_fit.abstention_outcomes([ood], [MODEL], 0.5, 0.0)["ood_no_official"] == 1.0
    assert search_fit.abstention_outcomes([ood], [MODEL], 0.5, 0.0, sure=p_fixed)["ood_no_official"] == 0.0
