"""Short reads from the warehouse for the console: source rows, relation paths, data quality.

Each read opens its own connection and closes it at once (read-only on DuckDB), so the web
server never holds the warehouse file while ``oversight ingest`` or ``scan`` writes it.  When
the warehouse is busy or missing, the reader says so and the page shows what it has.
Small answers that every dashboard view needs are cached for a minute.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .. import config
from ..contract.schema import TABLES


def N_(msg: str) -> str:
    return msg


class Unavailable(RuntimeError):
    """The warehouse cannot be read right now (busy, missing, unsupported engine).

    ``msg`` is a catalogue message (shown translated), ``detail`` what the engine said."""

    def __init__(self, msg: str, detail: str = "") -> None:
        super().__init__(f"{msg}: {detail}" if detail else msg)
        self.msg, self.detail = msg, detail

    def text(self, gettext) -> str:  # noqa: ANN001
        return f"{gettext(self.msg)}: {self.detail}" if self.detail else gettext(self.msg)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Reader:
    def __init__(self, con: Any, engine: str) -> None:
        self.con, self.engine = con, engine

    def rows(self, sql: str, params: list | tuple = ()) -> list[dict]:
        if self.engine == "duckdb":
            cur = self.con.execute(sql, list(params))
        else:
            cur = self.con.cursor()
            cur.execute(sql.replace("?", "%s"), list(params) or None)
        cols = [d[0] for d in cur.description] if cur.description else []
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def tables(self) -> set[str]:
        if self.engine == "duckdb":
            return {r[0] for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        cur = self.con.cursor()
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        return {r[0] for r in cur.fetchall()}


@contextlib.contextmanager
def reader(url: str | None = None) -> Iterator[Reader]:
    url = url or config.settings().warehouse_url
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme == "duckdb":
        import duckdb

        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") and path[1:2] == "/" else path
        if not path or path == ":memory:" or not Path(path).exists():
            raise Unavailable(N_("no warehouse has been loaded yet"))
        try:
            con = duckdb.connect(path, read_only=True)
        except Exception as exc:  # noqa: BLE001 - locked by a writer, or damaged
            raise Unavailable(N_("the warehouse is busy (a load or scan is running)"), str(exc)[:200]) from exc
        try:
            yield Reader(con, "duckdb")
        finally:
            con.close()
    elif scheme in ("postgres", "postgresql"):
        import psycopg

        try:
            con = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3)
        except Exception as exc:  # noqa: BLE001
            raise Unavailable(N_("the warehouse cannot be reached"), str(exc)[:200]) from exc
        try:
            con.read_only = True
            yield Reader(con, "postgres")
        finally:
            con.close()
    else:
        raise Unavailable(N_("the console does not read this kind of warehouse directly"), scheme)


_cache: dict[tuple, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key: tuple, ttl: float, fn):  # noqa: ANN001, ANN201
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < ttl:
            return hit[1]
    value = fn()
    with _lock:
        _cache[key] = (now, value)
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()


# ------------------------------------------------------------------------------------ source rows
def source_rows(records: list[tuple[str, str]], limit_per_table: int = 200) -> dict[str, dict[str, Any]]:
    """The warning's records as stored: {table: {"columns": [...], "rows": [...], "missing": [...]}}."""
    by_table: dict[str, list[str]] = {}
    for table, rid in records:
        by_table.setdefault(table, []).append(rid)
    out: dict[str, dict[str, Any]] = {}
    with reader() as r:
        have = r.tables()
        for table, ids in by_table.items():
            t = TABLES.get(table)
            if t is None or table not in have or len(t.key) != 1:
                out[table] = {"columns": [], "rows": [], "missing": ids}
                continue
            key = t.key[0]
            cols = [c.name for c in t.columns]
            ids = ids[:limit_per_table]
            marks = ", ".join("?" for _ in ids)
            rows = r.rows(f"SELECT {', '.join(_q(c) for c in cols)} FROM {_q(table)} "
                          f"WHERE CAST({_q(key)} AS VARCHAR) IN ({marks}) ORDER BY {_q(key)}", ids)
            found = {str(x[key]) for x in rows}
            out[table] = {"columns": cols, "rows": rows, "missing": [i for i in ids if i not in found],
                          "key": key}
    return out


# ------------------------------------------------------------------------------------ relation paths
def relation_facts(person_ids: list[str], village: str | None, companies: list[str]) -> dict[str, list[dict]]:
    """Rows of the identity tables that connect the warning's people and companies to officials."""
    out: dict[str, list[dict]] = {"insiders": [], "company_links": [], "persons": [], "companies": []}
    with reader() as r:
        have = r.tables()
        people = list(dict.fromkeys(p for p in person_ids if p))[:20]
        comps = list(dict.fromkeys(c for c in companies if c))[:20]
        if comps and "company_links" in have:
            marks = ", ".join("?" for _ in comps)
            out["company_links"] = r.rows(
                f"SELECT person_id, credit_code, link, depth, share_ratio, chain, path FROM company_links "
                f"WHERE credit_code IN ({marks}) ORDER BY depth LIMIT 50", comps)
            people += [x["person_id"] for x in out["company_links"] if x["person_id"] not in people]
        if people and "company_links" in have and not comps:
            marks = ", ".join("?" for _ in people)
            out["company_links"] = r.rows(
                f"SELECT person_id, credit_code, link, depth, share_ratio, chain, path FROM company_links "
                f"WHERE person_id IN ({marks}) ORDER BY depth LIMIT 20", people)
        if people and "insiders" in have:
            marks = ", ".join("?" for _ in people[:40])
            sql = (f"SELECT village_code, person_id, official_id, official_name, position, relation, evidence "
                   f"FROM insiders WHERE person_id IN ({marks})")
            params: list = list(people[:40])
            if village and len(village) == 12 and village.endswith("000") is False:
                sql += " AND village_code = ?"
                params.append(village)
            out["insiders"] = r.rows(sql + " LIMIT 50", params)
        ids = set(people) | {x["official_id"] for x in out["insiders"]}
        if ids and "persons" in have:
            marks = ", ".join("?" for _ in ids)
            out["persons"] = r.rows(f"SELECT id_number, name FROM persons WHERE id_number IN ({marks})", list(ids))
        codes = set(comps)
        for x in out["company_links"]:
            codes.update(p for p in str(x.get("path") or "").split(">") if p)
        if codes and "companies" in have:
            marks = ", ".join("?" for _ in codes)
            out["companies"] = r.rows(f"SELECT credit_code, name, status FROM companies WHERE credit_code IN ({marks})",
                                      list(codes))
    return out


# ------------------------------------------------------------------------------------ sources & quality
ACTIVITY_DATE = {"labor": "work_date", "subsidies": "paid_date", "leases": "signed_date",
                 "projects": "contract_date", "payments": "paid_at", "deposits": "start_date",
                 "decisions": "approved_date"}


def prefix_of(code: str) -> str:
    s = str(code)
    if len(s) == 12 and s.isdigit():
        for cut in (2, 4, 6, 9):
            if s[cut:] == "0" * (12 - cut):
                return s[:cut]
    return s


def source_stats(region_code: str) -> list[dict[str, Any]]:
    """Per contract table: rows in the region (by code prefix where the table has regions), latest
    record date, and when a batch last loaded it."""
    def compute() -> list[dict[str, Any]]:
        prefix = prefix_of(region_code)
        out = []
        with reader() as r:
            have = r.tables()
            loaded: dict[str, Any] = {}
            if "_batches" in have:
                for b in r.rows('SELECT finished_at, counts FROM "_batches" ORDER BY finished_at'):
                    try:
                        counts = json.loads(b["counts"] or "{}")
                    except ValueError:
                        continue
                    for table, c in counts.items():
                        if isinstance(c, dict) and (c.get("loaded", 0) or c.get("replaced", 0) or c.get("read", 0)):
                            loaded[table] = b["finished_at"]
            for name, t in TABLES.items():
                if name not in have:
                    continue
                cols = {c.name for c in t.columns}
                where, params = "", []
                if "region_code" in cols and name != "regions":
                    where, params = " WHERE region_code LIKE ?", [prefix + "%"]
                date_col = ACTIVITY_DATE.get(name)
                sel = "count(*) AS n" + (f", max({_q(date_col)}) AS latest" if date_col in cols else "")
                row = r.rows(f"SELECT {sel} FROM {_q(name)}{where}", params)[0]
                out.append({"table": name, "rows": int(row["n"]), "latest": row.get("latest"),
                            "loaded_at": loaded.get(name), "reference": t.reference})
            if "_quarantine" in have:
                q = r.rows('SELECT count(*) AS n FROM "_quarantine"')[0]["n"]
                out.append({"table": "_quarantine", "rows": int(q), "latest": None, "loaded_at": None,
                            "reference": False})
        return out

    return cached(("sources", region_code), 60.0, compute)


def quality(region_code: str, table: str | None, limit: int = 200, offset: int = 0) -> dict[str, Any]:
    """Quarantined rows and unresolved persons for the region: counts per source and the rows."""
    prefix = prefix_of(region_code)
    out: dict[str, Any] = {"quarantine_by_table": [], "quarantine": [], "unresolved_by_table": [], "unresolved": [],
                           "findings_by_kind": [], "by_region": []}
    with reader() as r:
        have = r.tables()
        reg = cond = ""
        if "_quarantine" in have:
            # a quarantined row keeps its raw text: its first 12-digit field is the region code, if any
            reg = ("coalesce(regexp_extract(raw, '(^|,)([0-9]{12})(,|$)', 2), '')" if r.engine == "duckdb" else
                   "coalesce(substring(raw from '(?:^|,)([0-9]{12})(?:,|$)'), '')")
            cond = f"({reg} LIKE ? OR {reg} = '')"
            params: list = [prefix + "%"]
            out["quarantine_by_table"] = r.rows(
                f'SELECT coalesce(table_name, \'\') AS table_name, count(*) AS n FROM "_quarantine" WHERE {cond} '
                f"GROUP BY 1 ORDER BY 2 DESC", params)
            tcond = " AND table_name = ?" if table else ""
            out["quarantine"] = r.rows(
                f'SELECT table_name, file, sheet, line, column_name, reason, raw, rejected_at, {reg} AS region_code '
                f'FROM "_quarantine" WHERE {cond}{tcond} ORDER BY rejected_at DESC, file, line LIMIT {int(limit)} '
                f"OFFSET {int(offset)}", params + ([table] if table else []))
        if "person_of_record" in have:
            out["unresolved_by_table"] = r.rows(
                "SELECT table_name, count(*) AS n FROM person_of_record WHERE status = 'unresolved' "
                "AND region_code LIKE ? GROUP BY 1 ORDER BY 2 DESC", [prefix + "%"])
            tcond = " AND table_name = ?" if table else ""
            out["unresolved"] = r.rows(
                f"SELECT table_name, record_id, region_code, given_id, given_name, reason FROM person_of_record "
                f"WHERE status = 'unresolved' AND region_code LIKE ?{tcond} ORDER BY table_name, record_id "
                f"LIMIT {int(limit)} OFFSET {int(offset)}", [prefix + "%"] + ([table] if table else []))
        # per region: quarantined rows (by the region code in the raw row) and unresolved persons
        per: dict[str, dict[str, int]] = {}
        if "_quarantine" in have:
            for row in r.rows(f'SELECT {reg} AS region_code, count(*) AS n FROM "_quarantine" WHERE {cond} '
                              f"GROUP BY 1", [prefix + "%"]):
                per.setdefault(row["region_code"] or "", {"quarantined": 0, "unresolved": 0})["quarantined"] = int(row["n"])
        if "person_of_record" in have:
            for row in r.rows("SELECT region_code, count(*) AS n FROM person_of_record WHERE status = 'unresolved' "
                              "AND region_code LIKE ? GROUP BY 1", [prefix + "%"]):
                per.setdefault(row["region_code"] or "", {"quarantined": 0, "unresolved": 0})["unresolved"] = int(row["n"])
        out["by_region"] = sorted(({"region_code": k, **v} for k, v in per.items()),
                                  key=lambda x: -(x["quarantined"] + x["unresolved"]))[:200]
        if "dq_findings" in have:
            out["findings_by_kind"] = r.rows("SELECT kind, table_name, count(*) AS n FROM dq_findings GROUP BY 1, 2 "
                                             "ORDER BY 3 DESC LIMIT 50")
    return out
