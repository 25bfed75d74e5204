"""Gettext catalogues for the console: Chinese first, English by switch.

The catalogues are ``oversight/locale/<lang>/LC_MESSAGES/oversight.po`` (source strings are
English msgids; ``zh_CN`` translates them, ``en`` keeps them).  A compiled ``.mo`` next to the
``.po`` is used when it is at least as new; otherwise the ``.po`` is compiled in memory at
import (Babel), so a checkout works without a build step.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "oversight"
LANGS = ("zh_CN", "en")
DEFAULT = "zh_CN"
LANG_NAMES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def N_(msg: str) -> str:
    """Mark a string for extraction; translated where it is shown."""
    return msg


def compile_po(po_path: Path) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


@lru_cache(maxsize=4)
def translations(lang: str) -> gettext.NullTranslations:
    lang = lang if lang in LANGS else DEFAULT
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        data = mo.read_bytes()
    elif po.exists():
        data = compile_po(po)
    else:
        return gettext.NullTranslations()
    return gettext.GNUTranslations(io.BytesIO(data))


def compile_all() -> list[Path]:
    """Write the ``.mo`` files (``python -m oversight.console.i18n``; the build may call it)."""
    written = []
    for lang in LANGS:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            mo = po.with_suffix(".mo")
            mo.write_bytes(compile_po(po))
            written.append(mo)
    translations.cache_clear()
    return written


def pick(cookie: str | None) -> str:
    """The language of a request: the ``lang`` cookie (set by the switch), else Chinese."""
    return cookie if cookie in LANGS else DEFAULT


if __name__ == "__main__":
    for p in compile_all():
        print(p)
