"""``oversight identity build``, ``oversight person show`` and ``oversight evaluate`` (identity part)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from oversight.cli import app
from oversight.identity import build
from oversight.identity.evaluate import resolution_scores
from oversight.warehouse import open_warehouse

from .conftest import A, C1, C2, OUT, S, W1, W2, load_family

runner = CliRunner()


def _wh(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    wh = open_warehouse(url)
    load_family(tmp_path / "batch", wh)
    wh.close()
    return url


def test_build_and_show(tmp_path):
    url = _wh(tmp_path)
    r = runner.invoke(app, ["identity", "build", "--warehouse", url, "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["counts"]["person_of_record"] == 16
    r = runner.invoke(app, ["person", "show", A, "--warehouse", url], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    for text in ("李建国", "director", "李明", "二号公司 ← 40% 一号公司 ← 60% 李建国", "spouse"):
        assert text in r.output
    r = runner.invoke(app, ["person", "show", C1, "--warehouse", url], env={"COLUMNS": "200"})
    assert "id_repair" in r.output and "legal_rep" in r.output
    r = runner.invoke(app, ["person", "show", "110105199001011234", "--warehouse", url])
    assert r.exit_code == 0 and "not in the household register" in r.output


def _truth():
    return {"resolutions": [
        {"table": "labor", "record_id": "L02", "person_id": C1},
        {"table": "labor", "record_id": "L03", "person_id": C2},
        {"table": "labor", "record_id": "L04", "person_id": S},
        {"table": "labor", "record_id": "L05", "person_id": W1},
        {"table": "labor", "record_id": "L06", "person_id": W2},
        {"table": "labor", "record_id": "L09", "person_id": OUT},
        {"table": "labor", "record_id": "L07", "person_id": W1},    # deliberately wrong truth: a miss
    ], "namesakes": [[W1, W2]]}


def test_resolution_scores(tmp_path):
    url = _wh(tmp_path)
    wh = open_warehouse(url)
    try:
        build(wh)
        s = resolution_scores(wh, _truth())
    finally:
        wh.close()
    assert s["rows"] == 7 and s["resolved"] == 6 and s["correct"] == 5 and s["wrong"] == 1
    assert s["precision"] == round(5 / 6, 4) and s["recall"] == round(5 / 7, 4)
    assert s["namesake_merges"] == 0
    # a dict-shaped truth file says the same
    d = {"resolutions": {f"{x['table']}|{x['record_id']}": x["person_id"] for x in _truth()["resolutions"]}}
    wh = open_warehouse(url)
    try:
        assert resolution_scores(wh, d)["correct"] == 5
    finally:
        wh.close()


def test_evaluate_command(tmp_path):
    url = _wh(tmp_path)
    f = tmp_path / "truth.json"
    f.write_text(json.dumps(_truth()), encoding="utf-8")
    r = runner.invoke(app, ["evaluate", "--truth", str(f), "--warehouse", url, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["identity"]["correct"] == 5
