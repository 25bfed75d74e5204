"""The rules page: catalogue, parameters in force (and where they come from), confirmation rate,
backtest, saving a value (``rules/overrides.py``), the saved values and each rule's history.

Registered on the console router.  Saving is for ``rules.params.write`` (admin, district
officer), within the user's area; a value for all regions only from the top of the tree.
A refused value re-renders the page with the reason in the user's language (422), nothing
saved, the attempt audited.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from .. import config
from ..auth import permissions as perm
from ..regions.models import Region
from . import catalogue, messages
from . import warehouse_read as wr
from .queries import RULE_RE, BadFilter
from .router import User, router
from .web import PREFIX, Page

WRITE = "rules.params.write"


def _rule_settings(page: Page) -> tuple[dict[str, Any], dict[str, Any], list, str | None]:
    """(file settings, file + saved settings, saved values, error) — a broken file or saved value is shown."""
    from ..rules import engine
    from ..rules import overrides as O

    try:
        values = O.saved(page.s)
    except Exception as exc:  # noqa: BLE001 - e.g. the app database is behind its migrations
        return {}, {}, [], f"{type(exc).__name__}: {str(exc)[:300]}"
    try:
        from .. import config

        file_cfg = engine.parse_config(config.settings().section("rules"))
    except Exception as exc:  # noqa: BLE001 - a broken oversight.toml is shown, not a 500
        return {}, {}, values, str(exc)[:300]
    try:
        return file_cfg, O.layer(file_cfg, values), values, None
    except Exception as exc:  # noqa: BLE001 - a saved value the code no longer accepts
        return file_cfg, file_cfg, values, str(exc)[:300]


def _is_root(page: Page) -> bool:
    return not page.user.region.parent_code


def _default_region(page: Page) -> str:
    """An empty region field: all regions at the top of the tree, else the user's own area."""
    return "" if _is_root(page) else wr.prefix_of(page.user.region_code)


def _history_param(page: Page, cat: dict) -> str | None:
    rid = (page.request.query_params.get("history") or "").strip()
    if not rid:
        return None
    if not RULE_RE.match(rid) or rid not in cat:
        raise BadFilter(f"'history' must be a rule id (got '{rid[:40]}')")
    return rid


def _rules_context(page: Page) -> dict[str, Any]:
    from ..rules import engine
    from ..rules import overrides as O

    cat = catalogue.catalogue()
    file_cfg, cfg, values, cfg_error = _rule_settings(page)
    rates: dict[str, dict] = {}
    if perm.can(page.user, "feedback.read"):
        from .dashboard import cached_build, confirmation

        rates = confirmation(cached_build(page.s, page.user.region))
    in_force, source = {}, {}
    for rid, info in cat.items():
        try:
            rule = engine.get_rule(rid)
            in_force[rid] = engine.param_sets(rule, cfg.get(rid))
            source[rid] = O.sources(rule, file_cfg.get(rid), values) if not cfg_error else {}
        except Exception:  # noqa: BLE001
            in_force[rid] = {"": {p["name"]: p["default"] for p in info.params}}
            source[rid] = {}
    can_write = perm.can(page.user, WRITE)
    mine: set[str] = set()          # saved prefixes this user may change
    if can_write and values:
        codes = {v.region_prefix.ljust(12, "0") for v in values if v.region_prefix}
        paths = {c: p for c, p in page.s.execute(select(Region.code, Region.path).where(Region.code.in_(codes)))}
        for v in values:
            if not v.region_prefix:
                ok = _is_root(page)
            else:
                ok = paths.get(v.region_prefix.ljust(12, "0"), "\x00").startswith(page.user.region.path)
            if ok:
                mine.add(v.region_prefix)
    hist_rule = _history_param(page, cat)
    history = O.history(page.s, hist_rule, limit=200) if hist_rule else []
    return {"cat": cat, "cfg_error": cfg_error, "rates": rates, "in_force": in_force, "source": source,
            "saved": values, "can_write": can_write, "mine": mine, "hist_rule": hist_rule, "history": history,
            "default_region": _default_region(page), "is_root": _is_root(page),
            "done": page.request.query_params.get("done") if page.request.query_params.get("done") in
            ("saved", "removed") else None}


@router.get("/rules", response_class=HTMLResponse)
def rules_page(page: User) -> Response:
    return page.render("rules.html", bt=None, form={}, **_rules_context(page))


def _open_warehouse():  # noqa: ANN202
    """(backend, engine name, close) — read-only for DuckDB, so a running server never blocks a load."""
    import ibis

    from .. import config

    url = config.settings().warehouse_url
    if not url.startswith("duckdb"):
        from ..warehouse import Warehouse

        wh = Warehouse.open(url)
        return wh.ibis, wh.engine, wh.close
    path = url.split("://", 1)[1]
    path = path[1:] if path.startswith("/") and path[1:2] == "/" else path
    try:
        backend = ibis.duckdb.connect(path, read_only=True)
    except Exception as exc:  # noqa: BLE001
        raise wr.Unavailable(wr.N_("the warehouse is busy (a load or scan is running)"), str(exc)[:200]) from exc
    return backend, "duckdb", backend.disconnect


def _backtest(page: Page, rule_id: str, param: str, value: str, as_of: str, region: str) -> dict[str, Any]:
    """What saving ``value`` for ``region`` ('' = all) would add or remove, on the loaded data; nothing written."""
    from ..rules import engine as E
    from ..rules import overrides as O
    from ..rules.base import RuleError
    from ..warnings.cli import diff_results

    rule, p, coerced, prefix, _code = O.prepare(page.s, rule_id, param, value, region, page.user)
    day = None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise RuleError(f"as-of date {as_of[:20]!r} is not YYYY-MM-DD") from None
    cfg = E.configured(session=page.s)
    after_cfg = O.with_value(cfg, rule.id, prefix, p.name, coerced)
    backend, engine_name, close = _open_warehouse()
    try:
        have = set(backend.list_tables())
        if "insiders" not in have:
            raise wr.Unavailable(wr.N_("the identity tables are not built yet: run `oversight scan` first"))
        day = day or config.local_date()
        regions_ = E.Regions.load(backend)
        t0 = time.perf_counter()
        before = E.run(backend, day, [rule.id], engine=engine_name, config=cfg, regions=regions_)
        after = E.run(backend, day, [rule.id], engine=engine_name, config=after_cfg, regions=regions_)
        seconds = time.perf_counter() - t0
    finally:
        close()
    rows = diff_results(before, after)
    shown = prefix or wr.prefix_of(page.user.region_code)
    rows = [r for r in rows if r["region"].startswith(shown)]
    now_value = E.param_sets(rule, cfg.get(rule.id))
    current = now_value[E.prefix_for(prefix, now_value) if prefix not in now_value else prefix][p.name]
    toml_value = f'"{coerced}"' if isinstance(coerced, str) else (
        "[" + ", ".join(f'"{x}"' for x in coerced) + "]" if isinstance(coerced, list) else
        str(coerced).lower() if isinstance(coerced, bool) else repr(coerced))
    return {"rule": rule.id, "param": p.name, "value": coerced, "current": current, "region": prefix,
            "as_of": day, "rows": rows, "seconds": seconds,
            "value_text": ", ".join(coerced) if isinstance(coerced, list) else str(coerced),
            "added": sum(len(r["added"]) for r in rows), "removed": sum(len(r["removed"]) for r in rows),
            "before": sum(r["before"] for r in rows), "after": sum(r["after"] for r in rows),
            "toml": (f'[rules."{rule.id}".regions."{prefix}"]' if prefix else f'[rules."{rule.id}".params]')
            + f"\n{p.name} = {toml_value}"}


def _refused(page: Page, exc: Exception, form: dict, action: str | None = None) -> Response:
    """Re-render the page with the reason in the user's language; a ParamRefused attempt is audited."""
    from ..rules import overrides as O

    page.s.rollback()
    if isinstance(exc, O.ParamRefused) and action:
        from ..audit import service as audit

        audit.discard_pending(page.s)
        O.record_refusal(page.s, exc, page.user, action, form.get("comment", ""))
        page.s.commit()
    msg = messages.refusal_text(exc, page)
    ctx = _rules_context(page)
    return page.render("rules.html", status_code=422, bt=None, bt_error=msg if not action else None,
                       save_error=msg if action else None, form=form, **ctx)


@router.post("/rules/backtest", response_class=HTMLResponse)
def rules_backtest(page: User, rule: Annotated[str, Form(max_length=64)] = "",
                   param: Annotated[str, Form(max_length=64)] = "", value: Annotated[str, Form(max_length=200)] = "",
                   as_of: Annotated[str, Form(max_length=10)] = "", region: Annotated[str, Form(max_length=12)] = ""
                   ) -> Response:
    from ..rules import overrides as O
    from ..rules.base import RuleError

    form = {"rule": rule, "param": param, "value": value, "as_of": as_of, "region": region}
    if not as_of:     # the date the last scan judged this rule at
        from sqlalchemy import func

        from ..warnings.models import Warning

        last = page.s.scalar(select(func.max(Warning.as_of)).where(Warning.rule == rule))
        as_of = last.isoformat() if last else ""
    try:
        bt = _backtest(page, rule, param, value, as_of, region.strip() or _default_region(page))
    except O.ParamRefused as exc:
        return _refused(page, exc, form)
    except RuleError as exc:
        error, status, bt = str(exc), 422, None
    except wr.Unavailable as exc:
        error, status, bt = exc.text(page._), 503, None
    else:
        error, status = None, 200
    return page.render("rules.html", status_code=status, bt=bt, bt_error=error, form=form, **_rules_context(page))


@router.post("/rules/params", response_class=HTMLResponse)
def rules_param_save(page: User, rule: Annotated[str, Form(max_length=64)] = "",
                     param: Annotated[str, Form(max_length=64)] = "",
                     value: Annotated[str, Form(max_length=200)] = "",
                     region: Annotated[str, Form(max_length=12)] = "",
                     comment: Annotated[str, Form(max_length=4000)] = "") -> Response:
    from ..rules import overrides as O

    perm.require(page.user, WRITE)
    form = {"rule": rule, "param": param, "value": value, "region": region, "comment": comment}
    try:
        O.set_value(page.s, rule, param, value, region, comment, page.user)
    except O.ParamRefused as exc:
        return _refused(page, exc, form, O.ACTION_SET)
    page.s.commit()
    return RedirectResponse(f"{PREFIX}/rules?done=saved&history={rule.strip()}#history", status_code=303)


@router.post("/rules/params/unset", response_class=HTMLResponse)
def rules_param_unset(page: User, rule: Annotated[str, Form(max_length=64)] = "",
                      param: Annotated[str, Form(max_length=64)] = "",
                      region: Annotated[str, Form(max_length=12)] = "",
                      comment: Annotated[str, Form(max_length=4000)] = "") -> Response:
    from ..rules import overrides as O

    perm.require(page.user, WRITE)
    form = {"rule": rule, "param": param, "region": region, "comment": comment, "unset": True}
    try:
        O.unset_value(page.s, rule, param, region, comment, page.user)
    except O.ParamRefused as exc:
        return _refused(page, exc, form, O.ACTION_UNSET)
    page.s.commit()
    return RedirectResponse(f"{PREFIX}/rules?done=removed&history={rule.strip()}#history", status_code=303)
