"""Public evaluation data for the search benchmarks, fetched into a cache
outside the repository (``$LAYANAN_BENCH_CACHE``, default
``~/.cache/layanan-bench``).  Nothing here is ever committed.

* SemEval-2016 Task 3, subtask B (Qatar Living question-question
  similarity): training parts 1 and 2 (used for tuning), the dev set
  (held out: never tuned on), its gold relevancy file and the official
  MAP scorer (``MAP_scripts``).  The 2016 test gold labels are not in the
  public mirrors we can reach, so the dev set is the held-out set.
* Indonesian Quora paraphrases (``ID_Quora_Paraphrasing_val.json``): the
  first 5,000 pairs are held out (1k and 5k duplicate-retrieval runs), the
  pairs after them are the tuning part.

Each file is taken from the first source that has it: the cache; a local
bare git mirror (``$LAYANAN_BENCH_MIRRORS``, default ``/work/.mirror``,
laid out as ``owner+name/repo``); or a plain HTTPS download of the raw file
from GitHub.  ``python bench/datasets.py`` fetches everything and prints
where it is.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("LAYANAN_BENCH_CACHE", Path.home() / ".cache" / "layanan-bench"))
MIRRORS = Path(os.environ.get("LAYANAN_BENCH_MIRRORS", "/work/.mirror"))

_CQA = ("whiskeyromeo/CommunityQuestionAnswering", "master")
_SCORER = "Data/english_scorer_and_random_baselines_v2.2/"
# cache name -> [(repo, ref, path in repo)]
FILES = {
    "semeval/train-part1.xml": [
        ("diyessi/Iyas", "83ac4ef9347e40d31cbb8a5689e56d1cc643c6a8",
         "semeval2016-3/data/Semeval2016-Task3-English-data/datasets/semeval2016-task3-cqa-ql-train/v2.0/"
         "SemEval2016-Task3-CQA-QL-train-part1.xml"),
        (*_CQA, "Data/train/SemEval2016-Task3-CQA-QL-train-part1.xml")],
    "semeval/train-part2.xml": [(*_CQA, "Data/train/SemEval2016-Task3-CQA-QL-train-part2.xml")],
    "semeval/dev.xml": [(*_CQA, "Data/dev/SemEval2016-Task3-CQA-QL-dev.xml")],
    "semeval/dev.subtaskB.relevancy": [(*_CQA, _SCORER + "SemEval2016-Task3-CQA-QL-dev.xml.subtaskB.relevancy")],
    "semeval/MAP_scripts/ev.py": [(*_CQA, _SCORER + "MAP_scripts/ev.py")],
    "semeval/MAP_scripts/metrics.py": [(*_CQA, _SCORER + "MAP_scripts/metrics.py")],
    "semeval/MAP_scripts/res_file_reader.py": [(*_CQA, _SCORER + "MAP_scripts/res_file_reader.py")],
    "quora-id/val.json": [("louisowen6/quora_paraphrasing_id", "master", "ID_Quora_Paraphrasing_val.json")],
}


def _from_mirror(repo: str, ref: str, path: str) -> bytes | None:
    git_dir = MIRRORS / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None
    for rev in (ref, "HEAD"):
        out = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{rev}:{path}"], capture_output=True)
        if out.returncode == 0 and out.stdout:
            return out.stdout
    return None


def _from_web(repo: str, ref: str, path: str) -> bytes | None:
    url = f"https://raw.githubusercontent.com/{repo}/{ref}/{path}"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (fixed https URL)
            return resp.read()
    except Exception:
        return None


def fetch(name: str) -> Path:
    """Path of one cached file, fetching it first if needed."""
    target = CACHE / name
    if target.exists() and target.stat().st_size:
        return target
    for repo, ref, path in FILES[name]:
        data = _from_mirror(repo, ref, path) or _from_web(repo, ref, path)
        if data:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            return target
    raise SystemExit(f"cannot fetch {name}: not in {CACHE}, no git mirror under {MIRRORS} and no network; "
                     f"sources: {FILES[name]}")


def fetch_all() -> dict[str, Path]:
    return {name: fetch(name) for name in FILES}


# ---------------------------------------------------------------- SemEval-2016 Task 3 subtask B

@dataclass
class RelQuestion:
    rel_id: str
    subject: str
    body: str
    rank: int                 # RELQ_RANKING_ORDER: the search engine's order
    relevant: bool            # PerfectMatch or Relevant
    comments: list[str] = field(default_factory=list)


@dataclass
class OrgQuestion:
    org_id: str
    subject: str
    body: str
    related: list[RelQuestion]


def _text(node, tag) -> str:
    child = node.find(tag)
    return " ".join((child.text or "").split()) if child is not None else ""


def semeval(split: str) -> list[OrgQuestion]:
    """split: "train" (parts 1 and 2), "train-part1", "train-part2" or "dev"."""
    names = {"train": ["train-part1", "train-part2"]}.get(split, [split])
    out: dict[str, OrgQuestion] = {}
    for name in names:
        root = ET.parse(fetch(f"semeval/{name}.xml")).getroot()
        for org in root.iter("OrgQuestion"):
            oid = org.get("ORGQ_ID")
            q = out.setdefault(oid, OrgQuestion(oid, _text(org, "OrgQSubject"), _text(org, "OrgQBody"), []))
            thread = org.find("Thread")
            rel = thread.find("RelQuestion")
            rid = rel.get("RELQ_ID")
            if any(r.rel_id == rid for r in q.related):
                continue
            q.related.append(RelQuestion(
                rid, _text(rel, "RelQSubject"), _text(rel, "RelQBody"), int(rel.get("RELQ_RANKING_ORDER")),
                rel.get("RELQ_RELEVANCE2ORGQ") in ("PerfectMatch", "Relevant"),
                [_text(c, "RelCText") for c in thread.iter("RelComment")]))
    return list(out.values())


def semeval_relevancy(split: str = "dev") -> Path:
    return fetch(f"semeval/{split}.subtaskB.relevancy")


# ---------------------------------------------------------------- Indonesian Quora paraphrases

HELDOUT_PAIRS = 5000


def quora_pairs(part: str) -> list[tuple[str, str]]:
    """part: "heldout" (the first 5,000 pairs) or "tuning" (the rest).
    Pairs whose second question repeats an earlier one are dropped, so every
    query has exactly one matching document."""
    pairs, seen = [], set()
    with open(fetch("quora-id/val.json"), encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            q1, q2 = " ".join(row["question_1"].split()), " ".join(row["question_2"].split())
            key = q2.lower()
            if not q1 or not q2 or key in seen or q1.lower() == key:
                continue
            seen.add(key)
            pairs.append((q1, q2))
    return pairs[:HELDOUT_PAIRS] if part == "heldout" else pairs[HELDOUT_PAIRS:]


if __name__ == "__main__":
    for name, path in fetch_all().items():
        print(f"{name:40} {path} ({path.stat().st_size} bytes)")
    sys.exit(0)
