"""Masking of personal data for everything the public portal shows or lets download.

- A private person's name becomes surname + 某某 (``张三`` → ``张某某``, ``欧阳娜娜`` → ``欧阳某某``).
- Identity numbers are never shown: a column holding them is not publishable at all, and any
  15/18-character id number found inside free text is replaced.
- Account numbers are masked to their last four digits (``****1234``); long digit runs in free
  text (accounts, cards) and mobile numbers are masked the same way.
- Free text (project names, decision subjects, asset names, even company names) is scrubbed
  of the full names of private persons the warehouse knows (household register, officials,
  workers, recipients, lessees, payees, shareholders, legal representatives).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "某某"
COMPOUND_SURNAMES = frozenset("""
欧阳 司马 上官 诸葛 东方 皇甫 令狐 慕容 尉迟 公孙 长孙 宇文 司徒 夏侯 轩辕 端木 百里 呼延 南宫 西门 独孤 万俟
闻人 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 仲孙 钟离 赫连 第五 鲜于 闾丘 亓官 司空 子车 拓跋 东郭 左丘 梁丘
""".split())

_ID18 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d[\d \-]{10,}\d(?![0-9A-Za-z])")


def surname(name: str) -> str:
    name = (name or "").strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def mask_name(name: str | None) -> str:
    """``张三`` → ``张某某``; empty stays empty; a Latin name keeps its first letter."""
    name = (name or "").strip()
    if not name:
        return ""
    return surname(name) + MASK


def mask_account(value: str | None) -> str:
    digits = "".join(ch for ch in str(value or "") if ch.isalnum())
    if not digits:
        return ""
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def _mask_digits(m: re.Match) -> str:
    d = re.sub(r"\D", "", m.group(0))
    return "****" + d[-4:] if len(d) >= 12 else m.group(0)


class NameIndex:
    """The full names of private persons, for scrubbing free text (names of 2 to 4 characters;
    single characters are too common to mask)."""

    def __init__(self, names: Iterable[str | None] = ()) -> None:
        self.names: set[str] = set()
        self.add(names)

    def add(self, names: Iterable[str | None]) -> None:
        for n in names:
            n = (n or "").strip()
            if 2 <= len(n) <= 6 and not n.isascii():
                self.names.add(n)
        self.lengths = sorted({len(n) for n in self.names}, reverse=True)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def contains_any(self, text: str) -> bool:
        return self.scrub(text) != text

    def scrub(self, text: str) -> str:
        if not self.names or not text:
            return text
        out = []
        i, n = 0, len(text)
        while i < n:
            for ln in self.lengths:
                if i + ln <= n and text[i:i + ln] in self.names:
                    out.append(mask_name(text[i:i + ln]))
                    i += ln
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def scrub_text(text: str | None, names: NameIndex | None = None) -> str:
    """Free text made safe: id numbers removed, account/card/phone digits masked, private names masked."""
    if not text:
        return ""
    text = str(text)
    text = _ID18.sub("[证件号已隐去]", text)
    text = _ID15.sub("[证件号已隐去]", text)
    text = _MOBILE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)
    text = _LONG_DIGITS.sub(_mask_digits, text)
    if names is not None:
        text = names.scrub(text)
    return text


def party_name(name: str | None, kind: str | None, names: NameIndex | None = None) -> str:
    """A lessee / payee / contractor name: a company's name is public (scrubbed), anything else —
    a person, or a party of unknown kind — is masked."""
    if kind == "company":
        return scrub_text(name, names)
    return mask_name(name)
