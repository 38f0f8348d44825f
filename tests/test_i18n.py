"""Every UI string wrapped in _() in templates has an English translation."""
import re
from pathlib import Path

from core.i18n import _catalogue

ROOT = Path(__file__).resolve().parent.parent
LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*(?:,|\))""")


def ui_strings():
    found = set()
    for path in list(ROOT.glob("*/templates/**/*.html")) + list(ROOT.glob("core/templates/*.html")):
        for _q, text in LITERAL.findall(path.read_text(encoding="utf-8")):
            found.add(text)
    return found


def test_templates_are_fully_translated():
    missing = sorted(s for s in ui_strings() if s not in _catalogue())
    assert missing == [], "add to core/i18n_en.yml:\n" + "\n".join(f'"{m}": ""' for m in missing)


def test_times_are_shown_in_wib(app):
    from datetime import datetime

    from core.templating import format_datetime

    with app.test_request_context():
        # 20:30 UTC on 31 December is 03:30 WIB on 1 January
        assert format_datetime(datetime(2026, 12, 31, 20, 30)) == "1 Januari 2027, 03:30 WIB"
