"""Personal data citizens paste into posts and searches: NIK and KK numbers,
NPWP, phone numbers, e-mail addresses (UU 27/2022 PDP).

NIK and KK share a shape: 16 digits, the 7th-12th being a date (DDMMYY, with
40 added to the day for women).  Checking that date keeps 16-digit tracking
numbers and amounts from being redacted."""
from __future__ import annotations

import re
import unicodedata

LABELS = {"nik": "[NIK/KK disamarkan]", "npwp": "[NPWP disamarkan]", "phone": "[nomor HP disamarkan]",
          "email": "[email disamarkan]"}
KIND_NAMES = {"nik": "NIK/KK", "npwp": "NPWP", "phone": "nomor HP", "email": "email"}

_NPWP = re.compile(r"(?<!\d)\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}(?!\d)")
_SIXTEEN = re.compile(r"(?<![\d.])(?:\d[ .\-]?){15}\d(?![\d])")
_PHONE = re.compile(r"(?<![\d+])(?:\+62|62|0)[ .\-]?8\d(?:[ .\-]?\d){6,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _looks_like_nik(digits: str) -> bool:
    day, month = int(digits[6:8]), int(digits[8:10])
    if day > 40:
        day -= 40
    return 1 <= day <= 31 and 1 <= month <= 12 and digits[:2] != "00"


def _normalize(text: str) -> str:
    # Full-width digits and zero-width characters are common ways PII slips through.
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def redact(text: str) -> tuple[str, list[str]]:
    """Return the text with personal data replaced, and the kinds found."""
    if not text:
        return text, []
    text = _normalize(text)
    found: list[str] = []

    def sub(kind):
        def replace(match):
            if kind == "nik" and not _looks_like_nik(re.sub(r"\D", "", match.group())):
                return match.group()
            if kind not in found:
                found.append(kind)
            return LABELS[kind]
        return replace

    text = _NPWP.sub(sub("npwp"), text)
    text = _SIXTEEN.sub(sub("nik"), text)
    text = _PHONE.sub(sub("phone"), text)
    text = _EMAIL.sub(sub("email"), text)
    return text, found


def redact_text(text: str) -> str:
    return redact(text)[0]
