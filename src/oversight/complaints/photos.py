"""Photos attached to a complaint: checked by their bytes, decoded, re-encoded without metadata.

A file whose bytes are not a JPEG, PNG or WebP image is refused whatever its name says; a
real image is decoded with Pillow (bounded in pixels), turned upright by its EXIF
orientation, and saved again as a new JPEG/PNG that carries no EXIF, GPS, XMP, ICC or
comment — the stored file is only pixels.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .. import config
from ..workflow.errors import Invalid, TooLarge, UnsupportedType
from .settings import Settings


@dataclass
class CleanPhoto:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def clean(name: str, data: bytes, s: Settings) -> CleanPhoto:
    """The photo re-encoded without metadata, or a refusal that says why."""
    label = os.path.basename((name or "photo").replace("\\", "/"))[:80] or "photo"
    if len(data) == 0:
        raise Invalid(f"photo {label!r} is empty", code="bad_photo")
    if len(data) > s.max_photo_bytes:
        raise TooLarge(f"photo {label!r} is larger than {s.max_photo_bytes // (1024 * 1024)} MB", code="photo_too_large")
    kind = _kind(data[:16])
    if kind is None:
        raise UnsupportedType(f"file {label!r} is not a photo (JPEG, PNG or WebP) by its content", code="not_an_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = s.max_photo_pixels
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format.lower() != kind:
                    raise UnsupportedType(f"file {label!r} is not a valid {kind.upper()} image", code="not_an_image")
                if probe.width * probe.height > s.max_photo_pixels:
                    raise TooLarge(f"photo {label!r} has too many pixels", code="photo_too_large")
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise UnsupportedType(f"file {label!r} is not a readable image ({type(exc).__name__})",
                              code="not_an_image") from exc
    img.thumbnail((s.photo_max_side, s.photo_max_side))
    has_alpha_src = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    img = img.convert("RGBA" if has_alpha_src else "RGB")
    img = Image.frombytes(img.mode, img.size, img.tobytes())   # a fresh image: pixels only, empty info
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    out = io.BytesIO()
    if kind == "png" or has_alpha:
        clean_img = img.convert("RGBA" if has_alpha else "RGB")
        clean_img.save(out, format="PNG", optimize=False)        # no info dict: no text chunks, no EXIF
        ctype = "image/png"
    else:
        clean_img = img.convert("RGB")
        clean_img.save(out, format="JPEG", quality=85)            # no exif=, no icc_profile=: dropped
        ctype = "image/jpeg"
    return CleanPhoto(out.getvalue(), ctype, clean_img.width, clean_img.height)


def store_root() -> Path:
    return config.settings().home / "complaints" / "photos"


def store(photo: CleanPhoto) -> str:
    """Write the cleaned bytes content-addressed; returns the sha256."""
    sha = photo.sha256
    dest = store_root() / sha[:2] / sha[2:]
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(photo.data)
        os.replace(tmp, dest)
    return sha


def path_of(sha: str) -> Path:
    return store_root() / sha[:2] / sha[2:]
