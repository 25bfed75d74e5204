"""What the portal publishes: read from the warehouse, filtered by the publication delay, reduced
to the public fields, masked — and cached, so a village page costs nothing after the first view.

Publication is automatic: a row is public once the ingest batch that loaded it finished at
least ``delay_hours`` ago (``[portal] delay_hours``, default 0).  The portal notices new batches
by itself (it looks at ``_batches`` at most every ``refresh_seconds``) and drops its caches.

The warehouse is opened only while (re)reading and closed at once, so a DuckDB file is never
held against ``oversight ingest`` running in another process; when it cannot be opened the
portal keeps serving what it last published.

Public fields per table (``[portal.fields]``) are chosen from :data:`COLUMNS`, which has no
column that could carry an identity number at all; names of persons and account numbers appear
only through :mod:`masking`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import config
from ..contract.schema import TABLES
from . import masking

MEANS_TESTED = ("minimum_living", "extreme_poverty", "temporary_relief")


def _labels(table: str, column: str) -> dict[str, str]:
    col = next(c for c in TABLES[table].columns if c.name == column)
    return {code: labels[0] for code, labels in (col.codes or {}).items()}


PROCUREMENT = _labels("projects", "procurement_method")
AWARD = _labels("leases", "award_method")
SUBSIDY = _labels("subsidies", "kind")
CATEGORY = _labels("payments", "category")
CHANNEL = _labels("payments", "channel")
ASSET_KIND = _labels("assets", "kind")


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    kind: str = "text"            # text | money | date | month | int


#: every field that may be made public, per published table (nothing else can be)
COLUMNS: dict[str, tuple[Col, ...]] = {
    "projects": (Col("name", "项目名称"), Col("status", "状态"), Col("procurement_method", "采购方式"),
                 Col("contractor", "承包方"), Col("budget", "预算（元）", "money"),
                 Col("contract_amount", "合同金额（元）", "money"), Col("final_amount", "结算金额（元）", "money"),
                 Col("contract_date", "签约日期", "date"), Col("start_date", "开工日期", "date"),
                 Col("completion_date", "竣工日期", "date")),
    "leases": (Col("asset", "资产"), Col("asset_kind", "资产类别"), Col("lessee", "承租方"),
               Col("annual_rent", "年租金（元）", "money"), Col("term", "租期"), Col("award_method", "发包方式"),
               Col("signed_date", "签订日期", "date")),
    "subsidies": (Col("recipient", "领取人"), Col("village", "村"), Col("kind", "类别"),
                  Col("amount", "金额（元）", "money"), Col("month", "发放月份", "month")),
    "spending": (Col("month", "月份", "month"), Col("category", "支出类别"), Col("count", "笔数", "int"),
                 Col("amount", "金额（元）", "money")),
    "payments": (Col("date", "日期", "date"), Col("category", "类别"), Col("channel", "方式"),
                 Col("payee", "收款方"), Col("amount", "金额（元）", "money"), Col("account", "付款账号"),
                 Col("invoice", "有发票")),
    "decisions": (Col("subject", "事项"), Col("proposed_date", "提议日期", "date"),
                  Col("approved_date", "通过日期", "date"), Col("disclosed_date", "公开日期", "date")),
}
TITLES = {"projects": "村级工程", "leases": "资产发包", "subsidies": "低保、特困、临时救助",
          "spending": "月度支出（按类别）", "payments": "支出明细", "decisions": "重大事项决策（四议两公开）"}
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "projects": ("name", "status", "procurement_method", "contractor", "contract_amount", "final_amount",
                 "contract_date", "completion_date"),
    "leases": ("asset", "lessee", "annual_rent", "term", "award_method", "signed_date"),
    "subsidies": ("recipient", "village", "kind", "amount", "month"),
    "spending": ("month", "category", "count", "amount"),
    "payments": ("date", "category", "payee", "amount", "account"),
    "decisions": ("subject", "proposed_date", "approved_date", "disclosed_date"),
}


@dataclass(frozen=True)
class PortalSettings:
    delay_hours: float = 0
    refresh_seconds: float = 30
    base_url: str = ""
    page_rows: int = 30
    fields: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FIELDS))


def portal_settings() -> PortalSettings:
    raw = config.settings().section("portal")
    chosen = dict(DEFAULT_FIELDS)
    for table, keys in (raw.get("fields") or {}).items():
        if table in COLUMNS and isinstance(keys, list):
            allowed = {c.key for c in COLUMNS[table]}
            chosen[table] = tuple(k for k in keys if k in allowed)
    return PortalSettings(delay_hours=float(raw.get("delay_hours", 0)),
                          refresh_seconds=float(raw.get("refresh_seconds", 30)),
                          base_url=str(raw.get("base_url", "")).rstrip("/"),
                          page_rows=int(raw.get("page_rows", 30)), fields=chosen)


def columns(table: str, s: PortalSettings) -> list[Col]:
    keys = s.fields.get(table, ())
    return [c for c in COLUMNS[table] if c.key in keys]


# ----------------------------------------------------------------------------------- regions
@dataclass
class RegionInfo:
    code: str
    name: str
    level: str
    parent: str | None
    children: list[str] = field(default_factory=list)


LEVEL_NAMES = {"city": "市", "district": "区县", "township": "乡镇", "village": "村"}


def _money(v: Any) -> float | None:
    if v is None:
        return None
    return float(v) if isinstance(v, (Decimal, int, float)) else float(str(v))


def _date(v: Any) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _month(v: Any) -> str:
    d = _date(v)
    return d.strftime("%Y-%m") if d else ""


# ----------------------------------------------------------------------------------- the portal
class Portal:
    """Published data of one warehouse, cached per process."""

    def __init__(self, warehouse_url: str, fallback_regions: Callable[[], list[tuple]] | None = None) -> None:
        self.url = warehouse_url
        self.fallback_regions = fallback_regions
        self.lock = threading.RLock()
        self.signature: tuple | None = None
        self.version = 0
        self.checked = 0.0
        self.regions: dict[str, RegionInfo] = {}
        self.names = masking.NameIndex()
        self.totals: dict[str, dict[str, float]] = {}
        self.cache: dict[Any, Any] = {}
        self.error = ""

    # -------------------------------------------------------------- warehouse access
    def _open(self):  # noqa: ANN202
        from ..warehouse import Warehouse

        return Warehouse.open(self.url)

    @staticmethod
    def _rows(wh, sql: str, params: list | None = None) -> list[dict]:  # noqa: ANN001
        if wh.engine == "duckdb":
            cur = wh.raw.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        with wh.raw.cursor() as cur:
            cur.execute(sql.replace("?", "%s") if params else sql, params or None)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def cutoff(self, s: PortalSettings | None = None) -> dt.datetime:
        s = s or portal_settings()
        return dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=s.delay_hours)

    # -------------------------------------------------------------- refresh
    def refresh_due(self) -> bool:
        return self.signature is None or time.monotonic() - self.checked >= portal_settings().refresh_seconds

    def refresh(self, force: bool = False) -> None:
        s = portal_settings()
        nowt = time.monotonic()
        if not force and self.signature is not None and nowt - self.checked < s.refresh_seconds:
            return
        with self.lock:
            if not force and self.signature is not None and time.monotonic() - self.checked < s.refresh_seconds:
                return
            self.checked = time.monotonic()
            try:
                wh = self._open()
            except Exception as exc:  # noqa: BLE001 - keep serving what was published
                self.error = f"warehouse unavailable: {exc}"
                if self.signature is None:
                    self._load_regions(None)
                    self.signature = ("empty",)
                return
            try:
                tables = wh.tables()
                if "_batches" in tables:
                    cut = self.cutoff(s)
                    n, last, published = wh.execute(
                        'SELECT count(*), max(finished_at), sum(CASE WHEN finished_at <= ? THEN 1 ELSE 0 END) '
                        'FROM "_batches"', [cut])[0]
                    sig = (int(n or 0), str(last), int(published or 0), s.fields, s.delay_hours)
                else:
                    sig = ("no-batches", s.fields)
                if sig != self.signature:
                    self._rebuild(wh, tables, s)
                    self.signature = sig
                    self.version += 1
                    self.cache = {}
                self.error = ""
            finally:
                wh.close()

    def _load_regions(self, wh, tables: set[str] | None = None) -> None:  # noqa: ANN001
        rows: list[tuple] = []
        if wh is not None and "regions" in (tables or set()):
            rows = [(r["code"], r["name"], r["level"], r["parent_code"])
                    for r in self._rows(wh, 'SELECT code, name, level, parent_code FROM "regions"')]
        if not rows and self.fallback_regions is not None:
            rows = self.fallback_regions()
        regions = {c: RegionInfo(c, n or c, lv or "village", p) for c, n, lv, p in rows if c}
        for r in regions.values():
            if r.parent in regions:
                regions[r.parent].children.append(r.code)
        for r in regions.values():
            r.children.sort(key=lambda c: (regions[c].name, c))
        self.regions = regions

    def _rebuild(self, wh, tables: set[str], s: PortalSettings) -> None:  # noqa: ANN001
        self._load_regions(wh, tables)
        names = masking.NameIndex()
        for table, col, kind_col in (("persons", "name", None), ("officials", "name", None),
                                     ("labor", "worker_name", None), ("subsidies", "recipient_name", None),
                                     ("leases", "lessee_name", "lessee_kind"), ("payments", "payee_name", "payee_kind"),
                                     ("companies", "legal_rep_name", None),
                                     ("shareholdings", "holder_name", "holder_kind")):
            if table not in tables:
                continue
            where = f' WHERE "{kind_col}" IS DISTINCT FROM \'company\'' if kind_col else ""
            names.add(r[0] for r in wh.execute(f'SELECT DISTINCT "{col}" FROM "{table}"{where}'))
        self.names = names
        self.totals = self._totals(wh, tables, s)

    def _published(self, table: str, alias: str = "t") -> str:
        return (f'FROM "{table}" {alias} LEFT JOIN "_batches" b ON {alias}."_batch" = b.batch '
                f"WHERE (b.finished_at IS NULL OR b.finished_at <= ?)")

    def _totals(self, wh, tables: set[str], s: PortalSettings) -> dict[str, dict[str, float]]:  # noqa: ANN001
        cut = self.cutoff(s)
        out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        specs = {"projects": "contract_amount", "leases": "annual_rent", "subsidies": "amount",
                 "payments": "amount", "decisions": None}
        for table, money in specs.items():
            if table not in tables or "_batches" not in tables:
                continue
            extra = " AND t.kind IN ('minimum_living', 'extreme_poverty', 'temporary_relief')" \
                if table == "subsidies" else ""
            total = f", sum(t.{money})" if money else ", 0"
            for code, n, amount in wh.execute(f"SELECT t.region_code, count(*){total} {self._published(table)}"
                                              f"{extra} GROUP BY t.region_code", [cut]):
                out[code][f"{table}_n"] += int(n or 0)
                out[code][f"{table}_amount"] += _money(amount) or 0.0
        return {k: dict(v) for k, v in out.items()}

    # -------------------------------------------------------------- navigation
    def region(self, code: str) -> RegionInfo | None:
        self.refresh()
        return self.regions.get(code)

    def chain(self, code: str) -> list[RegionInfo]:
        out, seen = [], set()
        r = self.regions.get(code)
        while r is not None and r.code not in seen:
            out.append(r)
            seen.add(r.code)
            r = self.regions.get(r.parent) if r.parent else None
        return list(reversed(out))

    def villages_under(self, code: str) -> list[str]:
        r = self.regions.get(code)
        if r is None:
            return []
        if r.level == "village" or not r.children:
            return [code]
        out: list[str] = []
        stack = [code]
        while stack:
            c = stack.pop()
            node = self.regions.get(c)
            if node is None:
                continue
            if node.level == "village" or not node.children:
                out.append(c)
            else:
                stack.extend(node.children)
        return sorted(out)

    def roots(self) -> list[RegionInfo]:
        self.refresh()
        return sorted((r for r in self.regions.values() if not r.parent or r.parent not in self.regions),
                      key=lambda r: r.code)

    def rollup(self, code: str) -> dict[str, float]:
        """Counts and totals of a region's subtree."""
        key = ("rollup", code)
        if key in self.cache:
            return self.cache[key]
        agg: dict[str, float] = {f"{t}_{k}": 0.0 for t in ("projects", "leases", "subsidies", "payments", "decisions")
                                 for k in ("n", "amount")}
        for v in self.villages_under(code):
            for k, x in self.totals.get(v, {}).items():
                agg[k] += x
        self.cache[key] = dict(agg)
        return self.cache[key]

    # -------------------------------------------------------------- tables
    def table(self, name: str, code: str) -> list[dict[str, Any]]:
        """The published, masked rows of one table for a region's subtree (newest first)."""
        self.refresh()
        key = ("table", name, code)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        villages = self.villages_under(code)
        rows: list[dict[str, Any]] = []
        if villages:
            try:
                wh = self._open()
            except Exception as exc:  # noqa: BLE001
                self.error = f"warehouse unavailable: {exc}"
                return []
            try:
                rows = self._load(wh, name, villages)
            finally:
                wh.close()
        self.cache[key] = rows
        return rows

    def _load(self, wh, name: str, villages: list[str]) -> list[dict[str, Any]]:  # noqa: ANN001
        tables = wh.tables()
        source = {"spending": "payments"}.get(name, name)
        if source not in tables or "_batches" not in tables:
            return []
        s = portal_settings()
        cut = self.cutoff(s)
        marks = ", ".join("?" for _ in villages)
        where = f"{self._published(source)} AND t.region_code IN ({marks})"
        params = [cut, *villages]
        names = self.names
        vname = {c: self.regions[c].name if c in self.regions else c for c in villages}
        today = config.local_date()
        out: list[dict[str, Any]] = []
        if name == "projects":
            for r in self._rows(wh, "SELECT t.name, t.budget, t.contract_amount, t.final_amount, "
                                    "t.procurement_method, t.contractor_name, t.contract_date, t.start_date, "
                                    f"t.completion_date, t.region_code {where} "
                                    "ORDER BY t.contract_date DESC NULLS LAST, t.project_id", params):
                done, started = _date(r["completion_date"]), _date(r["start_date"])
                status = ("已结算" if r["final_amount"] is not None else "已竣工" if done and done <= today
                          else "在建" if started and started <= today else "已签约" if r["contract_date"] else "筹备")
                out.append({"name": masking.scrub_text(r["name"], names), "status": status,
                            "procurement_method": PROCUREMENT.get(r["procurement_method"] or "", ""),
                            "contractor": masking.party_name(r["contractor_name"], "company", names),
                            "budget": _money(r["budget"]), "contract_amount": _money(r["contract_amount"]),
                            "final_amount": _money(r["final_amount"]), "contract_date": _date(r["contract_date"]),
                            "start_date": started, "completion_date": done, "_village": r["region_code"],
                            "_date": _date(r["contract_date"])})
        elif name == "leases":
            has_assets = "assets" in tables
            join = 'LEFT JOIN "assets" a ON a.asset_id = t.asset_id' if has_assets else ""
            acols = "a.name AS asset_name, a.kind AS asset_kind" if has_assets else \
                "NULL AS asset_name, NULL AS asset_kind"
            sql = (f"SELECT t.contract_id, {acols}, t.lessee_kind, t.lessee_name, t.annual_rent, t.start_date, "
                   f"t.end_date, t.award_method, t.signed_date, t.region_code "
                   f'FROM "leases" t {join} LEFT JOIN "_batches" b ON t."_batch" = b.batch '
                   f"WHERE (b.finished_at IS NULL OR b.finished_at <= ?) AND t.region_code IN ({marks}) "
                   "ORDER BY t.signed_date DESC NULLS LAST, t.contract_id")
            for r in self._rows(wh, sql, params):
                start, end = _date(r["start_date"]), _date(r["end_date"])
                term = f"{start or ''} 至 {end or ''}" if start or end else ""
                out.append({"asset": masking.scrub_text(r["asset_name"], names) or "",
                            "asset_kind": ASSET_KIND.get(r["asset_kind"] or "", ""),
                            "lessee": masking.party_name(r["lessee_name"], r["lessee_kind"], names),
                            "annual_rent": _money(r["annual_rent"]), "term": term,
                            "award_method": AWARD.get(r["award_method"] or "", ""),
                            "signed_date": _date(r["signed_date"]), "_village": r["region_code"],
                            "_date": _date(r["signed_date"])})
        elif name == "subsidies":
            kinds = ", ".join(f"'{k}'" for k in MEANS_TESTED)
            for r in self._rows(wh, f"SELECT t.recipient_name, t.kind, t.amount, t.paid_date, t.region_code {where} "
                                    f"AND t.kind IN ({kinds}) ORDER BY t.paid_date DESC NULLS LAST, t.record_id",
                                params):
                out.append({"recipient": masking.mask_name(r["recipient_name"]),
                            "village": vname.get(r["region_code"], r["region_code"]),
                            "kind": SUBSIDY.get(r["kind"] or "", ""), "amount": _money(r["amount"]),
                            "month": _month(r["paid_date"]), "_village": r["region_code"],
                            "_date": _date(r["paid_date"])})
        elif name == "spending":
            agg: dict[tuple, list] = {}
            for r in self._rows(wh, f"SELECT t.paid_at, t.category, t.amount, t.region_code {where}", params):
                k = (_month(r["paid_at"]), r["category"] or "other", r["region_code"])
                a = agg.setdefault(k, [0, 0.0])
                a[0] += 1
                a[1] += _money(r["amount"]) or 0.0
            for (month, cat, village), (n, amount) in sorted(agg.items(), key=lambda kv: (kv[0][0], kv[0][1]),
                                                             reverse=True):
                out.append({"month": month, "category": CATEGORY.get(cat, cat), "count": n,
                            "amount": round(amount, 2), "_village": village,
                            "_date": _date(month + "-01") if month else None})
        elif name == "payments":
            for r in self._rows(wh, "SELECT t.paid_at, t.category, t.channel, t.payee_kind, t.payee_name, t.amount, "
                                    f"t.account_no, t.has_invoice, t.region_code {where} "
                                    "ORDER BY t.paid_at DESC NULLS LAST, t.payment_id", params):
                out.append({"date": _date(r["paid_at"]), "category": CATEGORY.get(r["category"] or "", ""),
                            "channel": CHANNEL.get(r["channel"] or "", ""),
                            "payee": masking.party_name(r["payee_name"], r["payee_kind"], names),
                            "amount": _money(r["amount"]), "account": masking.mask_account(r["account_no"]),
                            "invoice": "" if r["has_invoice"] is None else ("是" if r["has_invoice"] else "否"),
                            "_village": r["region_code"], "_date": _date(r["paid_at"])})
        elif name == "decisions":
            for r in self._rows(wh, "SELECT t.subject, t.proposed_date, t.approved_date, t.disclosed_date, "
                                    f"t.region_code {where} ORDER BY t.approved_date DESC NULLS LAST, t.decision_id",
                                params):
                out.append({"subject": masking.scrub_text(r["subject"], names),
                            "proposed_date": _date(r["proposed_date"]), "approved_date": _date(r["approved_date"]),
                            "disclosed_date": _date(r["disclosed_date"]), "_village": r["region_code"],
                            "_date": _date(r["approved_date"] or r["proposed_date"])})
        return out

    # -------------------------------------------------------------- search
    def search(self, q: str, limit: int = 50) -> list[dict[str, str]]:
        """Villages and towns by name; projects, decisions and assets by their text."""
        self.refresh()
        q = (q or "").strip()[:40]
        if not q:
            return []
        key = ("search", q)
        if key in self.cache:
            return self.cache[key]
        results: list[dict[str, str]] = []
        for r in self.regions.values():
            if q in r.name or q == r.code:
                results.append({"kind": LEVEL_NAMES.get(r.level, r.level), "title": r.name, "code": r.code,
                                "where": " / ".join(x.name for x in self.chain(r.code)[:-1])})
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        try:
            wh = self._open()
        except Exception:  # noqa: BLE001
            wh = None
        if wh is not None:
            try:
                tables = wh.tables()
                cut = self.cutoff()
                for table, col, kind in (("projects", "name", "村级工程"), ("decisions", "subject", "重大事项"),
                                         ("assets", "name", "集体资产")):
                    if table not in tables or "_batches" not in tables:
                        continue
                    src = self._published(table) if table != "assets" else \
                        f'FROM "{table}" t LEFT JOIN "_batches" b ON t."_batch" = b.batch ' \
                        "WHERE (b.finished_at IS NULL OR b.finished_at <= ?)"
                    for text, code in wh.execute(f"SELECT t.{col}, t.region_code {src} AND t.{col} LIKE ? "
                                                 f"ESCAPE '\\' ORDER BY t.region_code LIMIT {limit}", [cut, like]):
                        results.append({"kind": kind, "title": masking.scrub_text(text, self.names), "code": code,
                                        "where": " / ".join(x.name for x in self.chain(code))})
            finally:
                wh.close()
        self.cache[key] = results[:limit]
        return self.cache[key]


_portals: dict[str, Portal] = {}
_plock = threading.Lock()


def portal_for(warehouse_url: str | None = None, fallback_regions: Callable[[], list[tuple]] | None = None) -> Portal:
    url = warehouse_url or config.settings().warehouse_url
    with _plock:
        p = _portals.get(url)
        if p is None:
            p = _portals[url] = Portal(url, fallback_regions)
        return p


def reset() -> None:
    with _plock:
        _portals.clear()
