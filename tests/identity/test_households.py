"""A person listed in two households stays a finding after its source files are gone.

The register keeps one row per id: a later row of the same batch supersedes an earlier
one, a later batch replaces the stored one.  The loader keeps the listing that lost
(``_household_listings``), and every rebuild reports it with the file and line of both
rows — on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from oversight.identity import build
from oversight.ingest import ingest
from oversight.ingest.loader import LISTINGS
from oversight.warehouse import open_warehouse

from .conftest import V, pid, write_csv

H = pid("19600101", 11)
K = pid("19850303", 31)
M = pid("19620202", 22)
N = pid("19700404", 41)


def person(id_number, name, hh, role):
    return dict(id_number=id_number, name=name, gender="M", household_id=hh, household_role=role, region_code=V)


def findings(wh) -> dict[str, str]:
    return {key: detail for kind, key, detail in wh.execute(
        'SELECT kind, record_key, detail FROM "dq_findings"') if kind == "person_in_two_households"}


def listings(wh) -> list[tuple]:
    return sorted(wh.execute(f'SELECT id_number, household_id, file, line FROM "{LISTINGS}"'))


def test_household_replaced_by_a_later_batch(tmp_path, warehouse_url):
    wh = open_warehouse(warehouse_url)
    try:
        first = write_csv(tmp_path / "b1", "persons", [
            person(H, "甲", "H1", "head"), person(K, "乙", "H1", "child"), person(M, "丙", "H2", "head"),
            person(N, "丁", "H3", "head")])
        ingest([first], wh)
        # the same rows again, and a changed name that keeps the household: nothing to keep aside
        ingest([first], wh)
        renamed = write_csv(tmp_path / "b1b", "persons", [person(N, "丁二", "H3", "head")])
        ingest([renamed], wh)
        assert LISTINGS not in wh.tables() or listings(wh) == []

        second = write_csv(tmp_path / "b2", "persons", [person(M, "丙", "H2", "head"),
                                                        person(K, "乙", "H2", "child")])
        r = ingest([second], wh)
        assert r.counts["persons"].replaced == 2
        assert listings(wh) == [(K, "H1", str(first), 3)]
        # the source files are gone: the conflict must not depend on them
        first.unlink()
        second.unlink()
        for _ in range(2):   # every later rebuild reports it
            build(wh)
            found = findings(wh)
            assert set(found) == {K}
            d = found[K]
            assert f"registered in household H2 as child ({second} line 3)" in d, d
            assert f"H1 as child ({first} line 3" in d and f"replaced by {second} line 3" in d, d

        # reloading the later file keeps one listing; moving K back reports the other household
        write_csv(tmp_path / "b2", "persons", [person(M, "丙", "H2", "head"), person(K, "乙", "H2", "child")])
        ingest([second], wh)
        assert listings(wh) == [(K, "H1", str(first), 3)]
        back = write_csv(tmp_path / "b3", "persons", [person(K, "乙", "H1", "child")])
        ingest([back], wh)
        assert listings(wh) == [(K, "H1", str(first), 3), (K, "H2", str(second), 3)]
        build(wh)
        d = findings(wh)[K]
        assert f"registered in household H1 as child ({back} line 2)" in d and f"H2 as child ({second} line 3" in d
        assert f"({first} line 3" not in d     # the H1 listing is the register's own household now
    finally:
        wh.close()


def test_household_superseded_within_a_batch(tmp_path, warehouse_url):
    wh = open_warehouse(warehouse_url)
    try:
        f = write_csv(tmp_path / "b1", "persons", [
            person(H, "甲", "H1", "head"), person(K, "乙", "H1", "child"), person(M, "丙", "H2", "head"),
            person(K, "乙", "H2", "child"),          # line 5 supersedes line 3
            person(H, "甲", "H1", "head")])          # a duplicate in the same household: no finding
        r = ingest([f], wh)
        assert r.counts["persons"].rejected == 2
        f.unlink()
        build(wh)
        found = findings(wh)
        assert set(found) == {K}
        assert f"registered in household H2 as child ({f} line 5)" in found[K]
        assert f"H1 as child ({f} line 3" in found[K] and f"replaced by {f} line 5" in found[K]
        # the quarantine still says why line 3 was not loaded
        reasons = [x for (x,) in wh.execute(
            "SELECT reason FROM \"_quarantine\" WHERE table_name = 'persons' AND line = 3")]
        assert reasons and "superseded" in reasons[0]
    finally:
        wh.close()
