"""Start-up warming (web/warm.py): the first request after a start finds templates, catalogues,
routes and the dashboards of the accounts' regions ready (timings are in bench/console.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from oversight.console import dashboard, i18n, web
from oversight.web import warm
from oversight.web.app import create_app
from oversight.workflow.testing import CODES


def test_lifespan_warms_everything_the_first_request_needs(console, oversight_home):
    lite = console          # SQLite and PostgreSQL
    dashboard._cache.clear()
    i18n.translations.cache_clear()
    web._envs.clear()
    app = create_app(lite.env.url, deliver_every=None)
    with TestClient(app):
        report = app.state.warm_report
    assert report["routes"] > 0 and report["total"] > 0 and "statements" in report
    assert "failed" not in report, report["failed"]
    assert report["figures_now"] == len(warm.figure_regions(lite.env.url)) >= 3
    assert report["figures_later"] == 0
    # templates compiled for both languages, bytecode kept in the home's cache for the next start
    for lang in i18n.LANGS:
        assert web.env(lang).cache is not None and len(web.env(lang).cache) >= 10
    assert len(list((oversight_home / "cache" / "templates").iterdir())) >= 10
    # the dashboards of the accounts' regions are computed, top of the tree first
    regions = warm.figure_regions(lite.env.url)
    assert regions[0] == CODES["C"]
    keys = {k[3] for k in dashboard._cache if k[2] == "dashboard"}
    assert set(regions) <= keys


def test_figures_stop_at_the_budget_and_return_the_rest(lite):
    dashboard._cache.clear()
    regions = warm.figure_regions(lite.env.url)
    assert warm.figures(lite.env.url, regions, budget=-1.0) == regions      # nothing computed
    assert warm.figures(lite.env.url, regions, budget=60.0) == []
    assert {k[3] for k in dashboard._cache if k[2] == "dashboard"} >= set(regions)


def test_a_failing_step_does_not_stop_the_start(lite, monkeypatch):
    def boom() -> None:
        raise RuntimeError("no catalogue")

    monkeypatch.setattr(warm, "gettext", boom)
    report = warm.start(lite.env.url)
    assert report["failed"] == ["gettext: RuntimeError: no catalogue"]
    assert "gettext" in report and report["templates"] >= 0 and report["figures_now"] >= 1


def test_pages_still_render_after_warming(lite):
    app = create_app(lite.env.url, deliver_every=None)
    with TestClient(app):
        pass
    for path in ("/console/", "/console/warnings", "/console/rules"):
        assert lite.get("district_officer@D1", path).status_code == 200


def test_a_vanished_template_cache_only_means_compiling_again(tmp_path):
    import jinja2

    folder = tmp_path / "gone"
    folder.mkdir()
    cache = warm._bytecode_cache(str(folder))
    folder.rmdir()
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": "{{ x }}!"}), bytecode_cache=cache)
    assert env.get_template("t.html").render(x=1) == "1!"
