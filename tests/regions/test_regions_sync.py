"""Regions: created directly, synced from the warehouse's contract table, subtree tests."""

from __future__ import annotations

from oversight.regions import service
from oversight.regions.models import Region
from oversight.warehouse import open_warehouse


def test_sync_from_warehouse(env, tmp_path):
    wh_url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    wh = open_warehouse(wh_url)
    rows = [("330200000000", "宁波市", "city", None), ("330226000000", "宁海县", "district", "330200000000"),
            ("330226199000", "新镇", "township", "330226000000"),
            ("330226199001", "新村", "village", "330226199000"),
            ("330226199999", "孤村", "village", "999999999999"),       # parent missing
            ("330226100000", "怪", "hamlet", "330226000000")]          # bad level
    with wh.transaction():
        for r in rows:
            wh.execute('INSERT INTO "regions" ("code", "name", "level", "parent_code") VALUES (?, ?, ?, ?)', list(r))
    wh.close()
    with env.session() as s:
        rep = service.sync_from_warehouse(s, wh_url)
    assert rep.added == 2 and rep.updated == 2 and rep.unchanged == 0
    assert {code for code, _ in rep.rejected} == {"330226199999", "330226100000"}
    with env.session() as s:
        v = s.get(Region, "330226199001")
        assert v.path == "/330200000000/330226000000/330226199000/330226199001/" and v.depth == 3
        again = service.sync_from_warehouse(s, wh_url)
    assert again.added == 0 and again.updated == 0 and again.unchanged == 4
    # the new village is visible to the district officer of 330226000000
    assert "330226199001" in {r["code"] for r in env.get("district_officer@D1", "/api/v1/regions").json()}
    assert "330226199001" not in {r["code"] for r in env.get("district_officer@D2", "/api/v1/regions").json()}


def test_create_rules(env):
    h = env.world.headers("admin@D1")
    r = env.client.post("/api/v1/regions", headers=h, json={"code": "330226103000", "name": "x",
                                                             "level": "township", "parent_code": "330226000000"})
    assert r.status_code == 201
    r = env.client.post("/api/v1/regions", headers=h, json={"code": "330226103001", "name": "y",
                                                             "level": "district", "parent_code": "330226103000"})
    assert r.status_code == 422 and "cannot sit under" in r.json()["detail"]
    r = env.client.post("/api/v1/regions", headers=h, json={"code": "330227109000", "name": "z",
                                                             "level": "township", "parent_code": "330227000000"})
    assert r.status_code == 404
    assert env.client.post("/api/v1/regions", headers=env.world.headers("district_officer@D1"), json={
        "code": "330226104000", "level": "township", "parent_code": "330226000000"}).status_code == 403


def test_relation():
    top = Region(code="1", path="/1/", level="city", name="", depth=0)
    kid = Region(code="2", path="/1/2/", level="district", name="", depth=1)
    other = Region(code="3", path="/3/", level="city", name="", depth=0)
    assert service.relation(top, kid) == "descendant" and service.relation(kid, top) == "ancestor"
    assert service.relation(top, top) == "own" and service.relation(kid, other) == "unrelated"
