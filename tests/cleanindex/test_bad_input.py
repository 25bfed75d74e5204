"""Bad configuration and bad months: a clear message, nothing computed or stored."""

from __future__ import annotations

import copy
import tomllib

import pytest
from typer.testing import CliRunner

from oversight import config, db
from oversight.cleanindex import settings as S
from oversight.cleanindex.compute import compute, score_month, stored
from oversight.cleanindex.sources import Tree
from oversight.cleanindex.testing import MONTH, TODAY
from oversight.cli import app


def shipped() -> dict:
    with S.DEFAULT_FILE.open("rb") as fh:
        return tomllib.load(fh)


def test_shipped_config_is_valid_and_weights_sum_to_one():
    cfg = S.parse(shipped())
    assert sum(c.weight for c in cfg.components) == pytest.approx(1)
    assert {c.measure for c in cfg.components} <= set(S.MEASURES)


@pytest.mark.parametrize("change, message", [
    (lambda r: r["weights"].update(confirmed_warnings=0.3), "sum to 1.05, not 1"),
    (lambda r: r["components"].pop("satisfaction"), "satisfaction have a weight in \\[weights\\] but no definition"),
    (lambda r: r["weights"].pop("disclosure"), "disclosure are defined in \\[components\\] but have no weight"),
    (lambda r: r["components"]["overdue"].update(measure="bribes"), "measure 'bribes' is not one"),
    (lambda r: r["components"]["overdue"].pop("worst"), "'worst' is missing"),
    (lambda r: r["components"]["overdue"].update(best=5, worst=5), "must differ"),
    (lambda r: r["weights"].update(overdue="a lot"), "must be a number"),
    (lambda r: r["weights"].update(overdue=-0.1, rectified=0.35), "cannot be negative"),
    (lambda r: r.pop("weights"), "\\[weights\\] is missing"),
])
def test_config_faults_are_named(change, message):
    raw = copy.deepcopy(shipped())
    change(raw)
    with pytest.raises(S.ConfigError, match=message):
        S.parse(raw)


def test_bad_override_in_oversight_toml_stops_compute_with_the_reason(oversight_home, tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    db.migrate(url)
    oversight_home.mkdir(parents=True, exist_ok=True)
    (oversight_home / "oversight.toml").write_text("[index.weights]\nbribery = 0.1\n", encoding="utf-8")
    config.clear_cache()
    r = CliRunner().invoke(app, ["index", "compute", "--month", MONTH, "--database", url])
    assert r.exit_code == 1 and "bribery have a weight" in r.output
    r = CliRunner().invoke(app, ["index", "methodology"])
    assert r.exit_code == 1 and "bribery" in r.output


def test_month_without_data_and_malformed_month(scenario):
    with pytest.raises(S.NoData, match="no data for 2023-02.*nothing was computed"):
        compute(["2023-02"], database_url=scenario.env.url, warehouse_url=scenario.warehouse_url, today=TODAY)
    with pytest.raises(S.CleanIndexError, match="YYYY-MM"):
        compute(["11/2025"], database_url=scenario.env.url, warehouse_url=scenario.warehouse_url)
    with db.session(scenario.env.url) as s:
        assert stored(s) == []
    r = CliRunner().invoke(app, ["index", "compute", "--month", "2023-02", "--database", scenario.env.url,
                                 "--warehouse", scenario.warehouse_url])
    assert r.exit_code == 1 and "no data for 2023-02" in r.output


def test_nothing_to_measure_and_no_residents_never_divide_by_zero():
    cfg = S.load()
    tree = Tree(names={"t": "T", "v1": "V1", "v2": "V2"}, levels={"t": "township", "v1": "village", "v2": "village"},
                village_township={"v1": "t", "v2": "t"}, township_district={"t": "d"},
                paths={"t": "/d/t/", "v1": "/d/t/v1/", "v2": "/d/t/v2/"})
    with pytest.raises(S.NoData, match="no component has anything to measure"):
        score_month(cfg, tree, {"v1": {}, "v2": {}})
    # only records: the other components are left out, the weights renormalised
    rows = {r.code: r for r in score_month(cfg, tree, {"v1": {"confirmed_warnings": (1, 10)},
                                                        "v2": {"confirmed_warnings": (0, 0), "complaints": (2, 0)}})}
    v2 = rows["v2"]
    assert [c.id for c in v2.components if c.score is not None] == ["confirmed_warnings"]
    assert v2.score == pytest.approx(next(c.score for c in v2.components if c.id == "confirmed_warnings"))
    assert any("不参与计算" in n for n in v2.notes)
