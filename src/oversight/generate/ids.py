"""Identifiers: GB 11643 resident id numbers, GB 32100 credit codes, and their typos.

Check characters come from python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``).
stdnum also checks that an id number's 6-digit area code existed in the
person's birth year, so a person of the district gets the code their number
was issued under: 鄞州区 330212 from 2002, the former 鄞县 330227 for
1983-2001, the city code 330200 before that.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache

from stdnum.cn import ric, uscc

LOCAL_AREAS = ("330212", "330227", "330200")
NINGBO_AREAS = ("330281", "330282", "330226", "330225", "330206", "330203", "330205", "330211")
OUTSIDE_AREAS = ("362330", "412725", "340823", "510681", "342401", "513030")


@lru_cache(maxsize=None)
def _area_years(area: str) -> tuple[tuple[int, int], ...]:
    """Birth years for which stdnum accepts ``area`` (its cn/loc database: ``[start-end]name``)."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(area) for k, v in props.items()}
    if not info:
        return ()
    out = []
    for county in info["county"].split(","):
        if not county.startswith("["):
            return ((0, 9999),)
        start, end = county[1:].split("]")[0].split("-")
        out.append((int(start) if start else 0, int(end) if end else 9999))
    return tuple(out)


def area_valid(area: str, year: int) -> bool:
    return any(lo <= year <= hi for lo, hi in _area_years(area))


@lru_cache(maxsize=None)
def area_for(year: int, preferences: tuple[str, ...] = LOCAL_AREAS) -> str:
    """The first area code of ``preferences`` that stdnum accepts for a birth in ``year``."""
    for area in preferences:
        if area_valid(area, year):
            return area
    for area in LOCAL_AREAS:
        if area_valid(area, year):
            return area
    raise ValueError(f"no valid area code for {year}")  # pragma: no cover


def id_number(area: str, birth: dt.date, seq: int) -> str:
    body = f"{area}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def id_valid(value: str | None) -> bool:
    return bool(value) and ric.is_valid(value)


def checksum_fails(value: str) -> bool:
    """True when an 18-character id's check character does not match its body."""
    if len(value) != 18 or not value[:17].isdigit():
        return True
    return ric.calc_check_digit(value) != value[17].upper()


# ----------------------------------------------------------------- credit codes

_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_check(body8: str) -> str:
    """GB 11714 organisation-code check character."""
    c = 11 - sum(_org_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS)) % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def credit_code(rnd: random.Random, area: str = "330212", entity: str = "1", modern: bool = True) -> str:
    """A valid USCC: 9 (market regulation) + entity type + area + organisation code + check."""
    while True:
        if modern:  # codes issued after 2015 carry MA-prefixed organisation codes
            body = "MA2" + "".join(rnd.choice(_USCC[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(5))
        else:
            body = "".join(rnd.choice("0123456789") for _ in range(8))
        org = body + org_check(body)
        if all(c in _USCC for c in org):
            break
    stem = f"9{entity}{area}{org}"
    return stem + uscc.calc_check_digit(stem)


def credit_valid(value: str | None) -> bool:
    return bool(value) and uscc.is_valid(value)


def break_credit_code(code: str) -> str:
    """The same code with a wrong check character."""
    for ch in _USCC:
        if ch != code[-1]:
            return code[:-1] + ch
    raise AssertionError  # pragma: no cover


def break_id_check(value: str) -> str:
    """The same id number with a wrong check character."""
    for ch in "0123456789X":
        if ch != value[-1]:
            return value[:-1] + ch
    raise AssertionError  # pragma: no cover


# ----------------------------------------------------------------------- typos

TYPO_KINDS = ("missing", "typo", "transposition", "truncated")


def corrupt(value: str, kind: str, rnd: random.Random, keep_birth: bool = False) -> str | None:
    """A version of ``value`` as a village clerk might have typed it.

    ``missing`` gives None; ``typo`` changes one character; ``transposition``
    swaps two adjacent, different characters; ``truncated`` drops the tail.
    The result never passes validation (and a typo or transposition never
    passes the checksum).  ``keep_birth`` keeps the birth-date digits intact,
    so the person stays recoverable from the number.
    """
    if kind == "missing":
        return None
    lo = 14 if keep_birth else 0
    for _ in range(100):
        if kind == "typo":
            i = rnd.randrange(lo, 18)
            pool = "0123456789" if i < 17 else "0123456789X"
            ch = rnd.choice([c for c in pool if c != value[i]])
            out = value[:i] + ch + value[i + 1:]
        elif kind == "transposition":
            spots = [i for i in range(lo, 17) if value[i] != value[i + 1]]
            if not spots:
                kind = "typo"
                continue
            i = rnd.choice(spots)
            out = value[:i] + value[i + 1] + value[i] + value[i + 2:]
        elif kind == "truncated":
            out = value[: rnd.choice((15, 16, 17))]
        else:
            raise ValueError(kind)
        if checksum_fails(out):   # a failing check character: never valid
            return out
    raise RuntimeError(f"could not corrupt {value}")  # pragma: no cover
