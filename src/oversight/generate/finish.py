"""Turning the built world into the batch: id typos, file order and keys, malformed rows, truth."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract.schema import TABLES
from . import arrow as A
from . import names as N
from .activity import Activity, hidden_for
from .ids import TYPO_KINDS, break_credit_code, break_id_check, corrupt
from .model import AS_OF, NAME_COLUMN, PERSON_COLUMN, Batch, Truth
from .plant import Planter
from .world import World

TYPO_SHARE = 0.08
TYPO_WEIGHTS = (0.35, 0.30, 0.20, 0.15)     # missing, typo, transposition, truncated
SORT = {"labor": ("work_date", "LW", 8), "subsidies": ("paid_date", "BZ", 7), "payments": ("paid_at", "ZF", 8),
        "assets": ("asset_id", None, 0), "leases": ("contract_id", None, 0), "projects": ("project_id", None, 0),
        "decisions": ("decision_id", None, 0), "deposits": ("deposit_id", None, 0)}
ACTIVITY = tuple(SORT)

BAD_DATES = ("2025-02-30", "2024-02-30", "2025-04-31", "2025-06-31", "2025年2月29日", "2024/13/05", "2025-09-31")
#: per table, the defects its malformed rows cycle through (the first ones always occur)
DEFECTS: dict[str, list[tuple[str, str, tuple[str, ...] | None]]] = {
    "labor": [("negative_amount", "amount", None), ("missing_required", "record_id", ("",)),
              ("bad_date", "work_date", BAD_DATES), ("not_a_number", "amount", ("贰佰元", "2OO", "待定", "约200")),
              ("missing_required", "region_code", ("",)), ("not_a_number", "days", ("一天", "半天"))],
    "subsidies": [("unknown_code", "kind", ("救济粮", "低保户", "困难补助")), ("bad_date", "paid_date", BAD_DATES),
                  ("negative_amount", "amount", None), ("missing_required", "region_code", ("",))],
    "payments": [("bad_timestamp", "paid_at", ("2025-02-30 10:00:00", "2024-11-31 09:15:00", "2025-06-15 25:10:00")),
                 ("not_a_number", "amount", ("壹仟元", "1.000,00")), ("unknown_code", "channel", ("支付宝", "微信")),
                 ("negative_amount", "amount", None), ("unknown_code", "category", ("礼品", "佣金"))],
    "leases": [("unknown_code", "award_method", ("招拍挂", "口头约定")), ("bad_date", "end_date", ("2026-02-30",))],
    "projects": [("not_a_number", "contract_amount", ("待定", "见合同")), ("unknown_code", "procurement_method", ("议标",))],
    "decisions": [("bad_date", "approved_date", ("2025-04-31", "2024-09-31"))],
    "deposits": [("unknown_code", "placement_method", ("定期", "活期"))],
    "assets": [("unknown_code", "area_unit", ("公顷", "平方公里"))],
}


def variant_name(name: str, rnd: random.Random) -> str:
    """The name as a clerk may have written it: full-width space, traditional/variant character."""
    choices = ["space"]
    if any(ch in N.VARIANTS and N.VARIANTS[ch] != ch for ch in name):
        choices += ["variant", "variant"]
    kind = rnd.choice(choices)
    if kind == "variant":
        spots = [i for i, ch in enumerate(name) if ch in N.VARIANTS and N.VARIANTS[ch] != ch]
        i = rnd.choice(spots)
        return name[:i] + N.VARIANTS[name[i]] + name[i + 1:]
    if rnd.random() < 0.7 and len(name) > 1:
        return name[0] + "\u3000" + name[1:]
    return name + "\u3000"


class Finisher:
    def __init__(self, world: World, act: Activity, planter: Planter) -> None:
        self.w, self.a, self.pl = world, act, planter
        self.rnd = random.Random(world.seed * 7919 + 17)
        self.rng = np.random.default_rng(world.seed + 1_000_003)
        self.tables: dict[str, pa.Table] = {}
        self.malformed: dict[str, pa.Table] = {}
        self.resolutions: list[dict[str, Any]] = []
        self.rejections: list[dict[str, Any]] = []
        self.keys: dict[str, dict[int, str]] = defaultdict(dict)

    # ------------------------------------------------------------- reference

    def reference(self) -> None:
        w = self.w
        self.tables["regions"] = A.from_rows("regions", w.regions)
        # registry order (by village and household, by id, by code), so nothing added late stands out
        self.tables["persons"] = A.build("persons", dict(w.p)).sort_by(
            [("region_code", "ascending"), ("household_id", "ascending")])
        self.tables["relations"] = A.from_rows("relations", sorted(
            ({"id_number": a, "relative_id_number": b, "relation": r} for a, b, r in w.relations),
            key=lambda r: (r["id_number"], r["relative_id_number"])))
        self.tables["officials"] = A.from_rows("officials", sorted(
            (o.__dict__ for o in w.officials), key=lambda o: (o["region_code"], o["start_date"] or dt.date.min)))
        self.tables["companies"] = A.from_rows("companies", sorted(w.companies, key=lambda c: c["credit_code"]))
        self.tables["shareholdings"] = A.from_rows("shareholdings", sorted(
            w.holdings, key=lambda h: (h["credit_code"], h["start_date"] or dt.date.min)))

    # -------------------------------------------------------------- activity

    def activity(self) -> None:
        # the rows the truth will name: planted records and subjects (resolutions are added as they are made)
        self.wanted: dict[str, set[int]] = defaultdict(set)
        for x in self.pl.warnings + self.pl.near:
            for table, uid in x["records"]:
                self.wanted[table].add(uid)
            if isinstance(x.get("subject"), tuple):
                self.wanted[x["subject"][0]].add(x["subject"][1])
        for name in ACTIVITY:
            hidden = hidden_for(name)
            parts = self.a.parts.pop(name, [])    # let the pieces go once the table is assembled
            if self.a.rows.get(name):
                parts.append(A.from_rows(name, self.a.rows[name], hidden))
            t = pa.concat_tables(parts) if parts else A.build(name, {}, n=0, hidden=hidden)
            del parts
            if name in PERSON_COLUMN:
                t = self._typos(name, t)
                self.wanted[name].update(r["_uid"] for r in self.resolutions if r["table"] == name)
            self.tables[name] = self._order(name, t)

    def _typos(self, name: str, t: pa.Table) -> pa.Table:
        n = t.num_rows
        has = t.column("_true_id").is_valid().to_numpy(zero_copy_only=False)
        cmode = t.column("_cmode").to_numpy().astype(np.int64)
        r = self.rng.random(n)
        kinds = self.rng.choice(4, p=TYPO_WEIGHTS, size=n)
        # about TYPO_SHARE of the table's person rows in all, counting the planted ones
        eligible = has & (cmode == 0)
        forced = cmode >= 2
        share = max(0.0, TYPO_SHARE * int(has.sum()) - int(forced.sum())) / max(1, int(eligible.sum()))
        pick = (eligible & (r < share)) | forced
        idx = np.flatnonzero(pick)
        col, ncol = PERSON_COLUMN[name], NAME_COLUMN[name]
        take = pa.array(idx)
        true = pc.take(t.column("_true_id"), take).to_pylist()
        names = pc.take(t.column(ncol), take).to_pylist()
        region = pc.take(t.column("region_code"), take).to_pylist()
        uid = pc.take(t.column("_uid"), take).to_pylist()
        rnd = self.rnd
        given_ids, given_names = [], []
        for j, i in enumerate(idx):
            kind = TYPO_KINDS[cmode[i] - 2] if forced[i] else TYPO_KINDS[kinds[i]]
            given = corrupt(true[j], kind, rnd, keep_birth=bool(forced[i]) or rnd.random() < 0.6)
            shown = variant_name(names[j], rnd) if rnd.random() < 0.25 else names[j]
            given_ids.append(given)
            given_names.append(shown)
            self.resolutions.append({"table": name, "_uid": uid[j], "true_id_number": true[j], "given_id": given,
                                     "given_name": shown, "village": region[j], "kind": kind})
        mask = pa.array(pick)
        ids = pc.replace_with_mask(t.column(col).combine_chunks(), mask, pa.array(given_ids, pa.string()))
        nm = pc.replace_with_mask(t.column(ncol).combine_chunks(), mask, pa.array(given_names, pa.string()))
        t = t.set_column(t.schema.get_field_index(col), col, ids)
        return t.set_column(t.schema.get_field_index(ncol), ncol, nm)

    def _order(self, name: str, t: pa.Table) -> pa.Table:
        """File order (by village, then date or id), the malformed rows to slot in, and the keys."""
        by, prefix, width = SORT[name]
        t = t.sort_by([("region_code", "ascending"), (by, "ascending"), ("_uid", "ascending")])
        key = TABLES[name].key[0]
        n = t.num_rows
        picks = self._malformed_picks(name, n)
        # clean row i sits after the malformed copies of the picked rows before it
        offset = np.searchsorted(picks, np.arange(n), side="left")
        if prefix:
            seq = np.arange(n) + offset + 1
            ids = pc.binary_join_element_wise(
                pa.scalar(prefix), pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), width, "0"), "")
            t = t.set_column(t.schema.get_field_index(key), key, ids)
        if len(picks):
            self._make_malformed(name, t, picks, prefix, width)
        wanted = pa.array(sorted(self.wanted.get(name, ())), pa.int64())
        sel = pc.is_in(t.column("_uid"), value_set=wanted)
        sub = t.filter(sel).select(["_uid", key])
        self.keys[name] = dict(zip(sub.column("_uid").to_pylist(), sub.column(key).to_pylist()))
        drop = [c for c in ("_uid", "_cmode") if c in t.column_names]
        return t.drop_columns(drop)

    def _malformed_picks(self, name: str, n: int) -> np.ndarray:
        if name not in DEFECTS or n == 0:
            return np.array([], dtype=np.int64)
        k = max(2 if name in ("labor", "subsidies", "payments") else 1, int(round(n * 0.001)))
        return np.sort(self.rng.choice(n, size=min(k, n), replace=False)).astype(np.int64)

    def _make_malformed(self, name: str, t: pa.Table, picks: np.ndarray, prefix: str | None, width: int) -> None:
        rnd = self.rnd
        key = TABLES[name].key[0]
        defects = DEFECTS[name]
        rows = []
        for j, i in enumerate(picks):
            row = t.slice(int(i), 1).to_pylist()[0]
            pos = int(i) + j + 1
            reason, column, raws = defects[j % len(defects)]
            if prefix:
                row[key] = f"{prefix}{pos + 1:0{width}d}"
            else:
                village = row["region_code"]
                row[key] = self.a.next_id(row[key].split("-")[0], village, 3 if name != "deposits" else 2)
            if reason == "negative_amount":
                raw = f"-{row[column]}"
            else:
                raw = rnd.choice(raws)
            row[column] = None
            if name in PERSON_COLUMN:
                row.pop("_true_id", None)
            for h in ("_uid", "_cmode", "_true_id"):
                row.pop(h, None)
            row.update({"_pos": pos, "_defect_column": column, "_defect_raw": raw, "_reason": reason})
            rows.append(row)
            self.rejections.append({"file_table": name, "key": row[key], "reason": reason, "column": column,
                                    "value": raw, "row": pos + 1})
        self.malformed[name] = A.from_rows(name, rows, A.MALFORMED_HIDDEN)

    def reference_malformed(self) -> None:
        w, rnd = self.w, self.rnd
        vs = [v.code for v in w.villages]

        def place(name: str, rows: list[dict[str, Any]], key: Any) -> None:
            n = self.tables[name].num_rows
            spots = sorted(rnd.sample(range(n + 1), len(rows)))
            for j, (row, s) in enumerate(zip(rows, spots)):
                row["_pos"] = s + j
                self.rejections.append({"file_table": name, "key": key(row), "reason": row["_reason"],
                                        "column": row["_defect_column"], "value": row["_defect_raw"], "row": s + j + 1})
            self.malformed[name] = A.from_rows(name, rows, A.MALFORMED_HIDDEN)

        def fake_person(reason: str) -> dict[str, Any]:
            v = rnd.choice(vs)
            g = rnd.choice(("M", "F"))
            birth = w.birth_for_age(rnd.randint(20, 70))
            good = w._new_id(g, birth)
            raw = break_id_check(good) if reason == "bad_checksum" else ""
            return {"id_number": None, "name": w.surname(v) + w.given_name(g, birth.year), "gender": g,
                    "birth_date": birth, "household_id": w.new_household(v), "household_role": "head",
                    "region_code": v, "death_date": None, "_defect_column": "id_number", "_defect_raw": raw,
                    "_reason": reason}

        place("persons", [fake_person("bad_checksum"), fake_person("missing_required")],
              lambda r: r["_defect_raw"] or None)

        def fake_official(reason: str) -> dict[str, Any]:
            v = rnd.choice(vs)
            birth = w.birth_for_age(rnd.randint(35, 55))
            good = w._new_id("M", birth)
            row = {"id_number": good, "name": w.surname(v) + w.given_name("M", birth.year), "region_code": v,
                   "position": "committee_member", "start_date": dt.date(2021, 2, 1), "end_date": None,
                   "_reason": reason}
            if reason == "bad_checksum":
                row.update(id_number=None, _defect_column="id_number", _defect_raw=break_id_check(good))
            else:
                row.update(position=None, _defect_column="position", _defect_raw="村长助理")
            return row

        place("officials", [fake_official("bad_checksum"), fake_official("unknown_code")],
              lambda r: "|".join([r["id_number"] or r["_defect_raw"], r["region_code"],
                                  r["position"] or r["_defect_raw"], r["start_date"].isoformat()]))
        code = w.add_company(industry="supply", registered=False, legal_rep=w.add_outsider())
        row = {k: code[k] for k in ("name", "status", "established_date", "status_date", "legal_rep_id_number",
                                    "legal_rep_name")}
        row.update(credit_code=None, _defect_column="credit_code", _defect_raw=break_credit_code(code["credit_code"]),
                   _reason="bad_checksum")
        place("companies", [row], lambda r: r["_defect_raw"])
        a, b = rnd.sample(w.clean_people(), 2)
        place("relations", [{"id_number": a, "relative_id_number": b, "relation": None, "_defect_column": "relation",
                             "_defect_raw": rnd.choice(("表兄弟", "叔侄")), "_reason": "unknown_code"}],
              lambda r: f"{r['id_number']}|{r['relative_id_number']}|{r['_defect_raw']}")

    # ------------------------------------------------------------------ truth

    def truth(self) -> Truth:
        w = self.w
        seen = Counter(zip(w.p["region_code"], w.p["name"]))

        def ref(rec: tuple[str, int]) -> dict[str, str]:
            table, uid = rec
            return {"table": table, "id": self.keys[table][uid]}

        warnings = []
        for x in self.pl.warnings:
            subject = x["subject"]
            if isinstance(subject, tuple):
                subject = self.keys[subject[0]][subject[1]]
            warnings.append({"rule": x["rule"], "subject": subject, "region_code": x["region_code"],
                             "records": sorted((ref(r) for r in x["records"]), key=lambda d: (d["table"], d["id"])),
                             "note": x["note"]})
        warnings.sort(key=lambda d: (d["rule"], d["subject"]))
        near = [{"rule": x["rule"], "records": [ref(r) for r in x["records"]], "note": x["note"]} for x in self.pl.near]
        near.sort(key=lambda d: (d["rule"], d["records"][0]["id"]))
        res = []
        for r in self.resolutions:
            true_name = w.name_of(r["true_id_number"])
            res.append({"table": r["table"], "id": self.keys[r["table"]][r["_uid"]],
                        "true_id_number": r["true_id_number"], "given_id": r["given_id"],
                        "given_name": r["given_name"], "village": r["village"], "kind": r["kind"],
                        "ambiguous": seen[(r["village"], true_name)] > 1})
        res.sort(key=lambda d: (d["table"], d["id"]))
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for pid, name, v in zip(w.p["id_number"], w.p["name"], w.p["region_code"]):
            groups[(v, name)].append(pid)
        namesakes = sorted(sorted(g) for g in groups.values() if len(g) > 1)
        rej = sorted(self.rejections, key=lambda d: (d["file_table"], d["row"]))
        return Truth(seed=w.seed, as_of=AS_OF, villages=w.n_villages, scale=w.scale, warnings=warnings,
                     near_misses=near, resolutions=res, namesakes=namesakes, rejections=rej)


def finish(world: World, act: Activity, planter: Planter) -> Batch:
    f = Finisher(world, act, planter)
    f.activity()
    f.reference()
    f.reference_malformed()
    truth = f.truth()
    order = list(TABLES)
    return Batch(seed=world.seed, villages=world.n_villages, scale=world.scale, as_of=AS_OF,
                 tables={k: f.tables[k] for k in order}, malformed=f.malformed, truth=truth)
