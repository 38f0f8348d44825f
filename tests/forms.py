"""Submit an HTML form the way a browser does: every successful control
with its current value, textarea line breaks sent as CRLF, unchecked boxes
and unselected buttons left out."""
from __future__ import annotations

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, form_class: str | None):
        super().__init__(convert_charrefs=True)
        self.form_class = form_class
        self.in_form = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self.buttons: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and not self.in_form:
            if a.get("method", "get").lower() == "post" and (
                    self.form_class is None or self.form_class in (a.get("class") or "").split()):
                self.in_form = True
            return
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind in ("submit", "button", "image", "reset", "file"):
                if kind == "submit":
                    self.buttons.append((name, a.get("value", "")))
            else:
                self.fields.append((name, a.get("value", "")))
        elif tag == "button" and name and (a.get("type") or "submit") == "submit":
            self.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._option_value = a.get("value")
            self._option_selected = "selected" in a
            self._option_text = []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)
        elif self._option_value is not None or (self._select is not None and self._option_text is not None):
            self._option_text.append(data)

    def handle_endtag(self, tag):
        if not self.in_form:
            return
        if tag == "form":
            self.in_form, self.done = False, True
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            if text.startswith("\n"):  # the HTML parser drops one leading newline
                text = text[1:]
            self.fields.append((self._textarea, text.replace("\r\n", "\n").replace("\n", "\r\n")))
            self._textarea = None
        elif tag == "option" and self._select is not None:
            value = self._option_value if self._option_value is not None else "".join(self._option_text).strip()
            self._options.append((value, self._option_selected))
            self._option_value = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            for value in chosen[:1]:
                self.fields.append((self._select, value))
            self._select = None


def form_fields(html: str, form_class: str | None = None) -> list[tuple[str, str]]:
    """[(name, value)] of the first POST form (with ``form_class``), as a browser would send it."""
    parser = _FormParser(form_class)
    parser.feed(html)
    assert parser.done, "form not found"
    return parser.fields


def as_dict(fields: list[tuple[str, str]]) -> dict:
    out: dict = {}
    for name, value in fields:
        out.setdefault(name, value)
    return out
