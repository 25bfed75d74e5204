"""The public 晾晒 pages, the open-data API (JSON, CSV, OpenAPI) and the staff view."""

from __future__ import annotations

import csv
import io
import re

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import update

from oversight.auth.models import User
from oversight.cleanindex.compute import compute
from oversight.cleanindex.testing import MONTH, TODAY
from oversight.workflow.testing import CODES, PASSWORD

T1, V1, V4 = CODES["T1"], CODES["V1"], CODES["V4"]


def prepare(sc):  # noqa: ANN001, ANN201
    return compute([MONTH], database_url=sc.env.url, warehouse_url=sc.warehouse_url, today=TODAY)


def test_public_ranking_region_and_methodology_pages(scenario):
    c = scenario.env.client
    r = c.get("/index")
    assert r.status_code == 200 and "尚未计算" in r.text
    assert "/index" in c.get("/").text                       # linked from the portal's front page
    prepare(scenario)
    r = c.get("/index")
    assert r.status_code == 200 and MONTH in r.text and "乡镇排名" in r.text and "<svg" in r.text
    assert "region V1" in r.text and "经核实预警率" in r.text
    assert "script" not in r.text.lower()
    r = c.get(f"/index/r/{T1}?month={MONTH}")
    assert r.status_code == 200 and "下辖村" in r.text and "乡镇平均" not in r.text
    r = c.get(f"/index/r/{V1}")
    assert r.status_code == 200 and "乡镇平均" in r.text and "近12个月" in r.text
    assert c.get("/index/r/999999").status_code == 404
    assert c.get(f"/index/r/{CODES['D1']}").status_code == 404
    assert c.get("/index?month=2025-13").status_code == 400
    m = c.get("/index/methodology").text
    assert "经验贝叶斯" in m and "先验强度" in m and "25%" in m


def test_open_data_json_csv_and_openapi(scenario):
    c = scenario.env.client
    assert c.get("/api/v1/open/index").status_code == 404
    prepare(scenario)
    r = c.get("/api/v1/open/index", params={"month": MONTH, "level": "village"})
    assert r.status_code == 200 and r.headers["X-API-Version"] == "1"
    body = r.json()
    assert body["api_version"] == "1" and body["month"] == MONTH and body["index_version"]
    assert {g["code"] for g in body["regions"]} == {CODES[v] for v in ("V1", "V2", "V3", "V4")}
    g = next(g for g in body["regions"] if g["code"] == V1)
    assert g["components"]["confirmed_warnings"]["k"] == 3
    r = c.get("/api/v1/open/index", params={"month": MONTH, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(rows) == 7 and "satisfaction_score" in rows[0]
    assert c.get("/api/v1/open/index", params={"month": "2025-1"}).status_code == 422
    assert c.get("/api/v1/open/index", params={"month": "2020-01"}).status_code == 404
    s = c.get("/api/v1/open/statistics", params={"region": V1}).json()
    assert s["api_version"] == "1" and s["months"][0]["month"] == MONTH and s["months"][0]["received"] == 3
    r = c.get("/api/v1/open/statistics", params={"format": "csv"})
    assert r.status_code == 200 and "satisfaction_rate" in r.text
    assert c.get("/api/v1/open/statistics", params={"region": "123"}).status_code == 404
    spec = c.get("/openapi.json").json()
    for path in ("/api/v1/open/index", "/api/v1/open/statistics"):
        op = spec["paths"][path]["get"]
        assert "text/csv" in op["responses"]["200"]["content"]
        assert {p["name"] for p in op["parameters"]} >= {"format"}


def _login(env, who: str) -> TestClient:  # noqa: ANN001
    c = TestClient(env.client.app, follow_redirects=False)
    user, secret = env.world.users[who], env.world.secrets[who]
    with env.session() as s:
        s.execute(update(User).where(User.id == user.id).values(last_totp_step=None))
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/login").text).group(1)
    data = {"username": user.username, "password": PASSWORD, "csrf": token, "next": "/console/"}
    if secret:
        data["totp"] = pyotp.TOTP(secret).now()
    assert c.post("/console/login", data=data).status_code == 303
    return c


def test_staff_view_shows_what_moved_the_score_and_downloads(scenario):
    prepare(scenario)
    c = _login(scenario.env, "township_officer@T1")
    r = c.get("/console/index")
    assert r.status_code == 200 and "region V1" in r.text and "region V4" not in r.text   # only its own region
    assert re.search(r'<a href="/console/index" aria-current="page">', r.text)               # the nav link
    r = c.get(f"/console/index/{V1}?month={MONTH}")
    assert r.status_code == 200 and scenario.warnings["closed"] in r.text and "影响分" in r.text
    assert f"/console/warnings/{scenario.warnings['closed']}" in r.text
    assert c.get(f"/console/index/{V4}").status_code == 404                                # outside its region
    r = c.get(f"/console/index/{T1}/report.pdf?month={MONTH}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = c.get(f"/console/index/{T1}/report.xlsx?month={MONTH}")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert c.get(f"/console/index/{T1}/report.doc").status_code == 404
    assert c.get("/console/index?month=bad").status_code == 422
    anon = TestClient(scenario.env.client.app, follow_redirects=False)
    assert anon.get("/console/index").status_code == 303
