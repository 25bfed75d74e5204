"""Disclosure pages: automatic publication after ingest with a delay, public fields per table,
pages per level, search, downloads, Atom feed, QR codes — and the complaint pages without JavaScript."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from oversight.ingest import ingest
from oversight.warehouse import Warehouse

from .conftest import T1, V1, V2, portal_env

FAST = "[portal]\nrefresh_seconds = 0\n"


def test_delay_then_automatic_publication(tmp_path, oversight_home, loaded_warehouse):
    site = portal_env(tmp_path, oversight_home, loaded_warehouse, FAST + "delay_hours = 24\n")
    page = site.client.get(f"/r/{V1}").text
    assert "东溪村道路硬化工程" not in page and "共 0 条" in page
    assert site.client.get(f"/r/{V1}/projects.json").json()["rows"] == []
    wh = Warehouse.open(loaded_warehouse)
    try:
        wh.execute("UPDATE \"_batches\" SET finished_at = finished_at - INTERVAL '2 days'")
    finally:
        wh.close()
    assert "东溪村道路硬化工程" in site.client.get(f"/r/{V1}").text, "published once the delay has passed"
    # a new batch appears by itself (after its own delay) without a restart
    (tmp_path / "b2").mkdir()
    (tmp_path / "b2" / "projects.csv").write_text(
        "project_id,region_code,name,contract_amount,procurement_method\n"
        f"P9,{V1},东溪村路灯安装,88000,competitive_negotiation\n", encoding="utf-8")
    wh = Warehouse.open(loaded_warehouse)
    try:
        ingest([tmp_path / "b2"], wh)
    finally:
        wh.close()
    assert "东溪村路灯安装" not in site.client.get(f"/r/{V1}").text
    wh = Warehouse.open(loaded_warehouse)
    try:
        wh.execute("UPDATE \"_batches\" SET finished_at = finished_at - INTERVAL '2 days' WHERE finished_at > ?",
                   [__import__("datetime").datetime.now() - __import__("datetime").timedelta(hours=1)])
    finally:
        wh.close()
    assert "东溪村路灯安装" in site.client.get(f"/r/{V1}").text


def test_public_fields_are_configurable(tmp_path, oversight_home, loaded_warehouse):
    extra = FAST + '[portal.fields]\nprojects = ["name", "contract_amount", "id_number"]\npayments = []\n'
    site = portal_env(tmp_path, oversight_home, loaded_warehouse, extra)
    rows = list(csv.reader(io.StringIO(site.client.get(f"/r/{V1}/projects.csv").content.decode("utf-8-sig"))))
    assert rows[0] == ["区划代码", "村", "项目名称", "合同金额（元）"], "unknown or forbidden fields are ignored"
    assert site.client.get(f"/r/{V1}/payments.csv").status_code == 404
    page = site.client.get(f"/r/{V1}").text
    assert "支出明细" not in page and "承包方" not in page


def test_pages_search_feed_and_qr(site):
    c = site.client
    home = c.get("/")
    assert home.status_code == 200 and "象山县" in home.text and "丹东街道" in home.text
    town = c.get(f"/r/{T1}").text
    assert "东溪村" in town and "西岙村" in town and "480,000.50" in town
    assert "下辖村" in town
    r = c.get("/r/330226101999")
    assert r.status_code == 404 and "没有这个地区" in r.text
    assert c.get("/r/abc").status_code == 404
    s = c.get("/search", params={"q": "礼堂"}).text
    assert "西岙村文化礼堂修缮" in s and f"/r/{V2}" in s
    assert "东溪村" in c.get("/search", params={"q": "东溪"}).text
    feed = c.get(f"/r/{V1}/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert any("东溪村道路硬化工程" in t for t in titles) and any("欧阳某某" in t for t in titles)
    png = c.get(f"/r/{V1}/qr.png")
    assert png.content.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
    svg = c.get(f"/r/{V1}/qr.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    page = c.get(f"/r/{V1}/qr").text
    assert f"http://testserver/r/{V1}" in page
    data = c.get(f"/r/{T1}/projects.json").json()
    assert {r["village"] for r in data["rows"]} == {"东溪村", "西岙村"} and data["fields"][2]["key"] == "name"
    assert "<script" not in c.get(f"/r/{V1}").text.lower(), "no JavaScript needed"


def test_qr_links_to_the_configured_address(tmp_path, oversight_home, loaded_warehouse):
    site = portal_env(tmp_path, oversight_home, loaded_warehouse, '[portal]\nbase_url = "https://ygg.example.cn/"\n')
    assert f"https://ygg.example.cn/r/{V1}" in site.client.get(f"/r/{V1}/qr").text


# ----------------------------------------------------------------------------------- complaint pages
def form_fields(html: str) -> dict:
    token = re.search(r'name="challenge_token" value="([^"]+)"', html).group(1)
    a, b = re.search(r"(\d) \+ (\d) = \?", html).groups()
    return {"challenge_token": token, "challenge_answer": str(int(a) + int(b))}


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_complaint_pages_without_javascript(site):
    c = site.client
    form = c.get("/complaints/new", params={"village": V1}).text
    assert f'value="{V1}" selected' in form and "验证" in form
    bad = c.post("/complaints/new", data={"village": V1, "category": "labor", "text": "<script>alert(1)</script>请查",
                                           **form_fields(form)})
    assert bad.status_code == 422 and "不能包含网页代码" in bad.text
    assert "&lt;script&gt;" in bad.text and "<script>alert" not in bad.text, "input re-shown, escaped"
    good = c.post("/complaints/new", data={"village": V1, "category": "labor", "anonymous": "true",
                                            "text": "劳务费名单里有没干活的人，请核实。", **form_fields(bad.text)},
                  files=[("photos", ("", b"", "application/octet-stream"))])
    assert good.status_code == 201, good.text
    code = re.search(r'id="tracking-code">([^<]+)<', good.text).group(1)
    secret = re.search(r'id="tracking-secret">([^<]+)<', good.text).group(1)
    assert good.headers["cache-control"] == "no-store"
    t = c.post("/complaints/track", data={"code": code, "secret": secret})
    assert t.status_code == 200 and "待受理" in t.text
    wrong = c.post("/complaints/track", data={"code": code, "secret": "0000000000"})
    assert wrong.status_code == 404 and "查询码或密码不对" in wrong.text
    bot = c.post("/complaints/new", data={"village": V1, "category": "other", "website": "http://x",
                                           "text": "一段由机器提交的足够长的文字。", **form_fields(form)})
    assert bot.status_code == 201 and "待核验" in bot.text
    r = c.post("/complaints/new", data={"village": "123", "category": "other", "text": "一段足够长的文字内容。",
                                         **form_fields(form)})
    assert r.status_code == 422 and "请从列表中选择" in r.text
    stats = json.loads(c.get("/api/v1/public/complaints/stats").text)
    assert stats["total"]["received"] == 1
