"""The site's day: deadlines and 'overdue' are judged in the deployment's time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from oversight import config


def _write(home, text: str) -> None:
    (home / "oversight.toml").write_text(text, encoding="utf-8")
    config.clear_cache()


def test_default_zone_is_china_standard_time(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSIGHT_HOME", str(tmp_path))
    config.clear_cache()
    # 2026-03-01 17:30 UTC is already 2 March in Beijing (UTC+8)
    assert config.local_date(dt.datetime(2026, 3, 1, 17, 30)) == dt.date(2026, 3, 2)
    assert config.local_date(dt.datetime(2026, 3, 1, 15, 59)) == dt.date(2026, 3, 1)
    assert str(config.site_timezone()) == "Asia/Shanghai"


def test_configured_zone_and_aware_timestamps(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSIGHT_HOME", str(tmp_path))
    _write(tmp_path, '[site]\ntimezone = "UTC"\n')
    assert config.local_date(dt.datetime(2026, 3, 1, 17, 30)) == dt.date(2026, 3, 1)
    aware = dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # 04:00 UTC next day
    assert config.local_date(aware) == dt.date(2026, 3, 2)
    # no argument: today in the zone, which is within a day of the UTC date
    assert abs((config.local_date() - dt.datetime.now(dt.UTC).date()).days) <= 1


@pytest.mark.parametrize("value", ['"Mars/Olympus"', '""', "8"])
def test_bad_zone_names_the_key(tmp_path, monkeypatch, value):
    monkeypatch.setenv("OVERSIGHT_HOME", str(tmp_path))
    _write(tmp_path, f"[site]\ntimezone = {value}\n")
    with pytest.raises(config.ConfigError, match=r"\[site\] timezone"):
        config.local_date()
