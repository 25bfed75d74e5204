"""Names and id numbers as evidence: normalisation and one-character repairs."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from stdnum.cn import ric

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "∙": "·", "⋅": "·", ".": "·"})
_cc = None

#: variant forms common in names that OpenCC's t2s leaves alone (异体字 -> 规范字)
EXTRA_VARIANTS = str.maketrans({
    "澔": "浩", "峯": "峰", "煇": "辉", "淸": "清", "靑": "青", "囯": "国", "旣": "既", "眞": "真",
    "羣": "群", "綫": "线", "衞": "卫", "暎": "映", "喆": "哲", "堃": "坤", "玮": "玮", "妳": "你",
    "裡": "里", "瓈": "璃", "峩": "峨", "秊": "年", "亰": "京", "寳": "宝", "珎": "珍", "叚": "假",
})


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
        s = _opencc().convert(s).translate(EXTRA_VARIANTS)
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


_INV = {w: pow(w, -1, 11) for w in set(_WEIGHTS)}


def _checksum_ok(v: str) -> bool:
    return len(v) == 18 and v[:17].isdigit() and check_char(v[:17]) == v[17]


def id_repairs(value: str | None, known=None) -> list[tuple[str, str]]:  # noqa: ANN001
    """Every checksum-valid id one typing slip away from ``value``: one character
    replaced, two adjacent characters swapped, one character dropped or doubled.
    Returns (id, what was changed).  With ``known`` (a container of ids, e.g. the
    register) only repairs found in it are returned, and cheaply."""
    if not value:
        return []
    v = value.upper()
    out: dict[str, str] = {}
    digits = "0123456789"

    def valid(c: str) -> bool:
        if known is not None:   # the register holds valid ids only
            return c in known
        return _checksum_ok(c) and id_valid(c)

    if len(v) == 18:
        body, last = v[:17], v[17]
        if body.isdigit() and last in _CHECK:
            # one body digit replaced: the check character fixes the only digit that fits
            total = sum(int(c) * w for c, w in zip(body, _WEIGHTS))
            target = _CHECK.index(last)
            for i, w in enumerate(_WEIGHTS):
                d = ((target - total + w * int(body[i])) * _INV[w]) % 11
                if d <= 9 and d != int(body[i]):
                    cand = body[:i] + str(d) + body[i + 1:] + last
                    if valid(cand):
                        out.setdefault(cand, f"character {i + 1} '{body[i]}'→'{d}'")
            c = check_char(body)
            if c != last and valid(body + c):
                out.setdefault(body + c, f"check character '{last}'→'{c}'")
        else:
            bad = [i for i, ch in enumerate(body) if not ch.isdigit()]
            if len(bad) == 1:
                i = bad[0]
                for d in digits:
                    cand = body[:i] + d + body[i + 1:] + last
                    if valid(cand):
                        out.setdefault(cand, f"character {i + 1} '{body[i]}'→'{d}'")
            elif not bad:   # body fine, check character garbled
                c = check_char(body)
                if valid(body + c):
                    out.setdefault(body + c, f"check character '{last}'→'{c}'")
        for i in range(17):
            if v[i] != v[i + 1]:
                cand = v[:i] + v[i + 1] + v[i] + v[i + 2:]
                if valid(cand):
                    out.setdefault(cand, f"characters {i + 1}-{i + 2} swapped")
    elif len(v) == 17:
        for i in range(18):
            for d in digits + ("X" if i == 17 else ""):
                cand = v[:i] + d + v[i:]
                if valid(cand):
                    out.setdefault(cand, f"character {i + 1} '{d}' missing")
    elif len(v) == 19:
        for i in range(19):
            cand = v[:i] + v[i + 1:]
            if valid(cand):
                out.setdefault(cand, f"extra character {i + 1} '{v[i]}'")
    out.pop(v, None)
    return sorted(out.items())


def id_distance(a: str | None, b: str | None) -> int:
    """Positions in which a given id differs from a registered one (a swap counts 1).
    A truncated given id (14-17 characters) is compared with the same-length start of
    the other; 99 when incomparable."""
    if not a or not b:
        return 99
    if 14 <= len(a) < len(b) == 18:
        b = b[:len(a)]
    if len(a) != len(b):
        return 99
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return 1
    return len(diff)
