"""Usernames that pass for an official.

Only accounts a knowledge manager has verified may appear as officials.
:func:`imitates_official` flags names built from police or military ranks,
agency names and words like petugas/resmi/official/admin, so seeded content
(``flask content check``) and registration can refuse them.  It looks at
the name's parts (split on ``_ . -`` and digits) and, for longer words, at
parts that begin or end with them ("petugasimigrasi", "rina_admin"), so
ordinary names that merely contain a few letters of one ("badminton",
"aditya") are not caught.
"""
from __future__ import annotations

import re

# Police and military ranks, and official titles.
RANKS = {
    "bharada", "bharatu", "bharaka", "bripda", "briptu", "brigpol", "brigadir", "bripka", "aipda", "aiptu",
    "ipda", "iptu", "akp", "kompol", "akbp", "kombes", "kombespol", "brigjen", "brigjenpol", "irjen", "irjenpol",
    "komjen", "jenderal", "jendral", "kapolri", "kapolda", "kapolres", "kapolsek", "wakapolres", "kanit", "kasat",
    "serda", "sertu", "serka", "serma", "pelda", "peltu", "letda", "lettu", "kapten", "mayor", "letkol",
    "kolonel", "laksamana", "marsekal", "camat", "lurah", "kades", "bupati", "walikota", "gubernur", "menteri",
    "dirjen", "kadis", "kasi", "kabid", "kakanwil", "penghulu", "pejabat", "ustadz", "ustad", "ustaz",
}
# Agencies, offices and programmes a citizen would take as the issuer.
AGENCIES = {
    "polri", "polisi", "polda", "polres", "polsek", "polresta", "satpas", "korlantas", "samsat", "imigrasi",
    "kanim", "dukcapil", "disdukcapil", "capil", "kemendagri", "kemenag", "kua", "kemenkumham", "kemenkum",
    "ahu", "pajak", "djp", "kpp", "coretax", "bpjs", "jkn", "bpjamsostek", "bpn", "atrbpn", "pertanahan",
    "oss", "bkpm", "bpjph", "halal", "kemensos", "dinsos", "pkh", "pendamping", "kemendikdasmen", "kemdikbud",
    "kemdiktisaintek", "dinkes", "pemda", "pemkot", "pemkab", "pemprov", "setneg", "ombudsman", "lapor",
    "kemenpanrb", "bapenda", "jasaraharja", "pupr", "bnn", "tni", "kemenhaj", "haji",
}
# Words that claim a role.
WORDS = {
    "petugas", "resmi", "official", "admin", "administrator", "adm", "cs", "humas", "helpdesk", "callcenter",
    "customerservice", "operator", "staf", "staff", "pegawai", "verified", "terverifikasi", "moderator",
    "support", "pusat", "kantor", "instansi", "pemerintah", "gov", "govt",
}
_ALL = RANKS | AGENCIES | WORDS
_LONG = {w for w in _ALL if len(w) >= 6} | {"admin", "resmi", "polri", "pajak", "bripka", "kanim"}


def imitates_official(name: str) -> bool:
    """True if ``name`` reads like an official, a rank or an agency."""
    parts = [p for p in re.split(r"[^a-z]+", (name or "").lower()) if p]
    for part in parts:
        if part in _ALL:
            return True
        if any(len(part) > len(w) and (part.startswith(w) or part.endswith(w)) for w in _LONG):
            return True
    return False
