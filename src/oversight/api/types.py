"""Input types shared by the API's schemas: text without NUL bytes, bounded ids and codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, StringConstraints


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


Text = Annotated[str, StringConstraints(max_length=20000), AfterValidator(_no_nul)]
ShortText = Annotated[str, StringConstraints(max_length=255), AfterValidator(_no_nul)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,12}$")]
IntId = Annotated[int, Field(ge=1, le=2**31 - 1)]

WarningIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:\-]{1,32}$", description="warning id")]
RegionPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,12}$", description="region code")]
IntPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
