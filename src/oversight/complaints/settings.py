"""``[complaints]`` in ``oversight.toml``: limits, rate limits, challenge, deadlines.

    [complaints]
    max_text = 2000               # characters of the complaint text
    min_text = 10
    max_contact = 200
    max_photos = 3
    max_photo_bytes = 5242880     # per photo, as uploaded
    max_photo_pixels = 40000000   # decompression-bomb guard
    photo_max_side = 2048         # photos are re-encoded no larger than this
    rate_client = 5               # submissions per client address per rate_window_minutes
    rate_village = 60             # submissions per village per rate_window_minutes
    rate_window_minutes = 60
    track_fail_client = 10        # wrong tracking code/secret per client per track_window_minutes
    track_fail_code = 5           # wrong secrets for one code per track_window_minutes (then locked)
    track_window_minutes = 15
    challenge_min_seconds = 3     # a form sent faster than this is refused (bots)
    challenge_ttl_minutes = 120
    trust_forwarded = false       # take the client address from X-Forwarded-For (behind a proxy)
    duplicate_hours = 24          # the same text for the same village within this goes to moderation
    [complaints.deadlines]        # working days
    accept = 3
    answer = 15
    re_review = 15
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .. import config

DEFAULT_DEADLINES = {"accept": 3, "answer": 15, "re_review": 15}


@dataclass(frozen=True)
class Settings:
    max_text: int = 2000
    min_text: int = 10
    max_contact: int = 200
    max_photos: int = 3
    max_photo_bytes: int = 5 * 1024 * 1024
    max_photo_pixels: int = 40_000_000
    photo_max_side: int = 2048
    rate_client: int = 5
    rate_village: int = 60
    rate_window_minutes: int = 60
    track_fail_client: int = 10
    track_fail_code: int = 5
    track_window_minutes: int = 15
    challenge_min_seconds: float = 3
    challenge_ttl_minutes: float = 120
    trust_forwarded: bool = False
    duplicate_hours: int = 24
    deadlines: dict = field(default_factory=lambda: dict(DEFAULT_DEADLINES))


def settings() -> Settings:
    raw = dict(config.settings().section("complaints"))
    known = {f.name: f for f in fields(Settings)}
    kw = {}
    for k, v in raw.items():
        if k == "deadlines" and isinstance(v, dict):
            d = dict(DEFAULT_DEADLINES)
            for step, days in v.items():
                if step in d and isinstance(days, int) and 0 < days <= 3650:
                    d[step] = days
            kw["deadlines"] = d
        elif k in known and k != "deadlines":
            kw[k] = type(known[k].default)(v) if not isinstance(known[k].default, bool) else bool(v)
    return Settings(**kw)
