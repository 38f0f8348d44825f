"""Line diffs for revision and version views."""
from __future__ import annotations

import difflib


def line_diff(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """Return rows of (op, text) with op in {"same", "del", "add"}."""
    rows: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(("same", line) for line in old[i1:i2])
        else:
            rows.extend(("del", line) for line in old[i1:i2])
            rows.extend(("add", line) for line in new[j1:j2])
    return rows
