"""Names and id numbers as evidence: normalisation and one-character repairs."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from stdnum.cn import ric

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "∙": "·", "⋅": "·", ".": "·"})
_cc = None


def _opencc():
    global _cc
    if _cc is None:
        from opencc import OpenCC

        _cc = OpenCC("t2s")
    return _cc


@lru_cache(maxsize=500_000)
def normalise_name(name: str | None) -> str | None:
    """The form two spellings of one name share: NFKC (full-width -> half-width),
    no spaces, one middle dot, simplified characters (OpenCC t2s), upper-case Latin."""
    if name is None:
        return None
    s = unicodedata.normalize("NFKC", str(name))
    s = _SPACES.sub("", s).translate(_DOTS).strip("·")
    if not s:
        return None
    if not s.isascii():
        s = _opencc().convert(s)
    return s.upper()


# ------------------------------------------------------------------ id numbers

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK = "10X98765432"


def check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


@lru_cache(maxsize=200_000)
def id_valid(value: str | None) -> bool:
    """Valid as ingestion judges it (python-stdnum: form, birth date, area, checksum)."""
    if not value or len(value) != 18 or not value[:17].isdigit() or check_char(value[:17]) != value[17]:
        return False
    try:
        return bool(ric.is_valid(value))
    except Exception:  # noqa: BLE001 - stdnum trips over some area codes
        return False


def birth_part(value: str | None) -> str | None:
    """The 8-digit birth date an (even mistyped) id carries, when it reads as a date."""
    if not value or len(value) < 14:
        return None
    b = value[6:14]
    if not b.isdigit():
        return None
    y, m, d = int(b[:4]), int(b[4:6]), int(b[6:])
    if not (1890 <= y <= 2030 and 1 <= m <= 12 and 1 <= d <= 31):
        return None
    return b


def id_repairs(value: str | None) -> list[tuple[str, str]]:
    """Every checksum-valid id one typing slip away from ``value``: one character
    replaced, two adjacent characters swapped, one character dropped or doubled.
    Returns (id, what was changed)."""
    if not value:
        return []
    v = value.upper()
    out: dict[str, str] = {}
    digits = "0123456789"
    if len(v) == 18:
        body, last = v[:17], v[17]
        if body.isdigit():
            # one character of the body replaced: exactly one digit per position fits the check char
            for i in range(17):
                for d in digits:
                    if d != body[i]:
                        cand = body[:i] + d + body[i + 1:]
                        if check_char(cand) == last:
                            out.setdefault(cand + last, f"character {i + 1} '{body[i]}'→'{d}'")
            # the check character itself mistyped
            c = check_char(body)
            if c != last:
                out.setdefault(body + c, f"check character '{last}'→'{c}'")
        else:
            bad = [i for i, ch in enumerate(body) if not ch.isdigit()]
            if len(bad) == 1:
                i = bad[0]
                for d in digits:
                    cand = body[:i] + d + body[i + 1:]
                    if check_char(cand) == last:
                        out.setdefault(cand + last, f"character {i + 1} '{body[i]}'→'{d}'")
        for i in range(17):
            if v[i] != v[i + 1]:
                cand = v[:i] + v[i + 1] + v[i] + v[i + 2:]
                if id_valid(cand):
                    out.setdefault(cand, f"characters {i + 1}-{i + 2} swapped")
    elif len(v) == 17:
        for i in range(18):
            for d in digits + ("X" if i == 17 else ""):
                cand = v[:i] + d + v[i:]
                if id_valid(cand):
                    out.setdefault(cand, f"character {i + 1} '{d}' missing")
    elif len(v) == 19:
        for i in range(19):
            cand = v[:i] + v[i + 1:]
            if id_valid(cand):
                out.setdefault(cand, f"extra character {i + 1} '{v[i]}'")
    out.pop(v, None)
    return sorted(out.items())


def id_distance(a: str | None, b: str | None) -> int:
    """Positions in which two 18-character ids differ (a swap counts 1); 99 when incomparable."""
    if not a or not b or len(a) != len(b):
        return 99
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return 1
    return len(diff)
