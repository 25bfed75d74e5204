"""The index configuration: ``index.toml`` shipped with the package, overridden by ``[index]``
in ``$OVERSIGHT_HOME/oversight.toml``.  Validated once; every fault is a clear message.

The same :class:`IndexConfig` drives the computation and the methodology page
(:func:`methodology`), so the page cannot say something the computation does not do.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config

DEFAULT_FILE = Path(__file__).resolve().parent / "index.toml"

#: measure id -> what it counts (events k over exposure n); the computation knows exactly these
MEASURES = {
    "confirmed_warnings": "confirmed warnings (severity-weighted) over activity records",
    "handled_on_time": "dispatched warnings resolved without missing a deadline over dispatched warnings",
    "overdue": "dispatched warnings that missed a deadline over dispatched warnings",
    "rectified": "confirmed warnings whose rectification is complete over confirmed warnings to rectify",
    "complaints": "complaints received over residents",
    "satisfaction": "complaints rated satisfied or basically satisfied over rated complaints",
    "disclosure": "decisions disclosed within the allowed days over decisions approved",
}
SEVERITIES = ("red", "orange", "yellow")
WEIGHT_TOLERANCE = 1e-6


class CleanIndexError(ValueError):
    """The index cannot be computed or shown; the message says why and what to do."""


class ConfigError(CleanIndexError):
    """The index configuration is wrong."""


class NoData(CleanIndexError):
    """Nothing to compute from for the month / region asked."""


@dataclass(frozen=True)
class Component:
    id: str
    measure: str
    weight: float
    name_zh: str
    name_en: str
    unit: str
    events_zh: str
    exposure_zh: str
    scale: float
    best: float
    worst: float
    prior_strength: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lower_is_better(self) -> bool:
        return self.best < self.worst

    def score(self, value: float) -> float:
        """0..100 from a value in display units (linear between worst and best, clipped)."""
        s = 100.0 * (self.worst - value) / (self.worst - self.best)
        return min(100.0, max(0.0, s))


@dataclass(frozen=True)
class IndexConfig:
    version: str
    title_zh: str
    title_en: str
    components: tuple[Component, ...]
    records: dict[str, str]
    raw: dict[str, Any]
    source: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]

    def component(self, cid: str) -> Component:
        for c in self.components:
            if c.id == cid:
                return c
        raise ConfigError(f"no component {cid!r} in the index configuration")


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    return float(value)


def parse(raw: dict[str, Any], source: str = "index.toml") -> IndexConfig:
    """Validate a configuration dictionary; raise :class:`ConfigError` naming the fault."""
    where = f"index configuration ({source})"
    weights = raw.get("weights")
    comps = raw.get("components")
    if not isinstance(weights, dict) or not weights:
        raise ConfigError(f"{where}: [weights] is missing or empty: give each component its weight")
    if not isinstance(comps, dict) or not comps:
        raise ConfigError(f"{where}: [components] is missing or empty: define each weighted component")
    no_def = sorted(set(weights) - set(comps))
    if no_def:
        raise ConfigError(f"{where}: component(s) {', '.join(no_def)} have a weight in [weights] but no "
                          f"definition: add [components.{no_def[0]}] (measure, best, worst, …) or remove the weight")
    no_weight = sorted(set(comps) - set(weights))
    if no_weight:
        raise ConfigError(f"{where}: component(s) {', '.join(no_weight)} are defined in [components] but have no "
                          f"weight: add {no_weight[0]} = … to [weights] (0 to leave it out)")
    ws = {k: _num(v, f"{where}: weight of {k}") for k, v in weights.items()}
    for k, v in ws.items():
        if v < 0:
            raise ConfigError(f"{where}: weight of {k} is {v}; weights cannot be negative")
    total = sum(ws.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        listing = ", ".join(f"{k} {v:g}" for k, v in ws.items())
        raise ConfigError(f"{where}: the weights sum to {total:.6g}, not 1 ({listing}); adjust them so that "
                          "they add up to exactly 1")
    out = []
    for cid, spec in comps.items():
        cw = f"{where}: [components.{cid}]"
        if not isinstance(spec, dict):
            raise ConfigError(f"{cw} must be a table")
        measure = spec.get("measure")
        if measure not in MEASURES:
            raise ConfigError(f"{cw}: measure {measure!r} is not one the computation knows "
                              f"(one of {', '.join(MEASURES)})")
        for key in ("best", "worst", "scale", "prior_strength"):
            if key not in spec:
                raise ConfigError(f"{cw}: '{key}' is missing")
        best, worst = _num(spec["best"], f"{cw}.best"), _num(spec["worst"], f"{cw}.worst")
        if best == worst:
            raise ConfigError(f"{cw}: best and worst are both {best:g}; they must differ")
        scale = _num(spec["scale"], f"{cw}.scale")
        prior = _num(spec["prior_strength"], f"{cw}.prior_strength")
        if scale <= 0:
            raise ConfigError(f"{cw}: scale must be positive")
        if prior < 0:
            raise ConfigError(f"{cw}: prior_strength cannot be negative")
        extra = {k: v for k, v in spec.items() if k not in (
            "measure", "name_zh", "name_en", "unit", "events_zh", "exposure_zh", "scale", "best", "worst",
            "prior_strength")}
        if measure == "confirmed_warnings":
            sw = extra.get("severity_weights", {"red": 1, "orange": 1, "yellow": 1})
            if not isinstance(sw, dict) or set(sw) - set(SEVERITIES):
                raise ConfigError(f"{cw}.severity_weights must map {', '.join(SEVERITIES)} to numbers")
            extra["severity_weights"] = {s: _num(sw.get(s, 0), f"{cw}.severity_weights.{s}") for s in SEVERITIES}
        if measure == "disclosure":
            days = extra.get("within_days", 7)
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                raise ConfigError(f"{cw}.within_days must be a whole number of days ≥ 0")
            extra["within_days"] = days
        out.append(Component(id=cid, measure=measure, weight=ws[cid], name_zh=str(spec.get("name_zh", cid)),
                             name_en=str(spec.get("name_en", cid)), unit=str(spec.get("unit", "")),
                             events_zh=str(spec.get("events_zh", "")), exposure_zh=str(spec.get("exposure_zh", "")),
                             scale=scale, best=best, worst=worst, prior_strength=prior, extra=extra))
    records = raw.get("records", {})
    if not isinstance(records, dict) or not all(isinstance(v, str) for v in records.values()):
        raise ConfigError(f"{where}: [records] must map table names to their date column")
    return IndexConfig(version=str(raw.get("version", "")), title_zh=str(raw.get("title_zh", "清廉指数")),
                       title_en=str(raw.get("title_en", "Clean index")), components=tuple(out),
                       records=dict(records), raw=raw, source=source)


def load(overrides: dict[str, Any] | None = None) -> IndexConfig:
    """The configuration in force: the shipped file, then ``[index]`` of oversight.toml, then
    ``overrides`` (for tests and one-off runs)."""
    try:
        with DEFAULT_FILE.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the shipped index configuration {DEFAULT_FILE}: {exc}") from exc
    source = "index.toml"
    local = config.settings().section("index")
    if local:
        raw = deep_merge(raw, local)
        source += f" + [index] in {config.settings().home / 'oversight.toml'}"
    if overrides:
        raw = deep_merge(raw, overrides)
        source += " + overrides"
    return parse(raw, source)


# ------------------------------------------------------------------------------------ methodology
def _fmt(x: float) -> str:
    return f"{x:g}"


def methodology(cfg: IndexConfig) -> dict[str, Any]:
    """Everything the methodology page says, taken from the configuration."""
    rows = []
    for c in cfg.components:
        direction = "越低越好" if c.lower_is_better else "越高越好"
        formula = (f"得分 = 100 × ({_fmt(c.worst)} − 稳定值) ÷ ({_fmt(c.worst)} − {_fmt(c.best)})，限于 0–100")
        notes = []
        if c.measure == "confirmed_warnings":
            sw = c.extra["severity_weights"]
            notes.append("严重程度权重：" + "，".join(f"{ {'red': '红色', 'orange': '橙色', 'yellow': '黄色'}[s]}×{_fmt(sw[s])}"
                                               for s in SEVERITIES))
        if c.measure == "disclosure":
            notes.append(f"公开期限：决议通过后 {c.extra['within_days']} 天内")
        rows.append({"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "weight": c.weight,
                     "weight_pct": f"{c.weight * 100:g}%", "unit": c.unit, "events": c.events_zh,
                     "exposure": c.exposure_zh, "scale": _fmt(c.scale), "best": _fmt(c.best),
                     "worst": _fmt(c.worst), "prior_strength": _fmt(c.prior_strength), "direction": direction,
                     "formula": formula, "notes": notes})
    return {
        "title": cfg.title_zh, "version": cfg.version, "hash": cfg.hash, "source": cfg.source,
        "components": rows,
        "records": [{"table": t, "column": col} for t, col in cfg.records.items()],
        "steps": [
            "每个分项都是一个比率 k ÷ n：k 为当月事件数（如经核实预警），n 为暴露量（如业务记录条数、户籍人口）。",
            "原始值 = 单位换算系数 × k ÷ n。",
            "稳定值（向乡镇平均收缩，经验贝叶斯方法）= 单位换算系数 × (k + 先验强度 × m) ÷ (n + 先验强度)，"
            "其中 m 为同一乡镇各村当月合计的 Σk ÷ Σn；村越小（n 越小），越接近乡镇平均，不会因一两件事大起大落。"
            "乡镇自身按同样方法向所在区县平均收缩。",
            "分项得分 = 100 × (最差值 − 稳定值) ÷ (最差值 − 最好值)，限于 0 到 100。",
            "清廉指数 = Σ 权重 × 分项得分（权重之和为 1）。某分项当月全区均无暴露量（如当月没有评价过的投诉）时，"
            "该分项不参与计算，其余分项权重按比例放大，页面注明。",
            "预警计入其被首次发现的月份（首次扫描的数据截止日期）；“经核实”即处置流程中确认属实"
            "（问题属实进入整改，或研判为问题线索），未核实的预警不扣分；"
            "投诉按受理时间（北京时间）计入月份。",
        ],
    }
