"""A Chinese TrueType font for PDF reports, embedded as a subset.

Looked for in order: ``$OVERSIGHT_CJK_FONT``, ``[reports] font`` in oversight.toml, then Debian's
``fonts-wqy-zenhei`` / ``fonts-wqy-microhei`` / ``fonts-arphic-uming`` (``make install`` installs
the first).  Noto CJK (OpenType/CFF outlines) cannot be embedded by reportlab, so it is not used.
Without any of them the report falls back to reportlab's built-in CID font STSong-Light, which
renders and extracts Chinese but is not embedded (the report says so).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import config

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
)
NAME = "OversightCJK"


@dataclass(frozen=True)
class Font:
    name: str
    path: str | None
    embedded: bool


def _paths() -> list[str]:
    out = []
    env = os.environ.get("OVERSIGHT_CJK_FONT")
    if env:
        out.append(env)
    conf = config.settings().section("reports").get("font")
    if isinstance(conf, str) and conf:
        out.append(conf)
    return out + list(CANDIDATES)


@lru_cache(maxsize=4)
def _register(paths: tuple[str, ...]) -> Font:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for p in paths:
        if not Path(p).is_file():
            continue
        try:
            kwargs = {"subfontIndex": 0} if p.lower().endswith(".ttc") else {}
            pdfmetrics.registerFont(TTFont(NAME, p, **kwargs))
            return Font(NAME, p, True)
        except Exception:  # noqa: BLE001 - an unusable font file: try the next
            continue
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return Font("STSong-Light", None, False)


def cjk_font() -> Font:
    return _register(tuple(_paths()))
