"""Every public page and download is scanned for identity numbers, full names of private persons
and account numbers: one found anywhere fails the test."""

from __future__ import annotations

import json
import re
from collections import deque
from urllib.parse import urljoin, urlparse

from .conftest import ACCOUNTS, PERSONS, TABLES, V1

ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LINK = re.compile(r"""(?:href|src|action)=["']([^"'#]+)""")
NOT_PUBLIC = ("/api/", "/console", "/docs", "/openapi", "/static/", "/redoc")


def private_names() -> set[str]:
    names = {n for _, n, _ in PERSONS}
    for table, person_cols in (("leases", ("lessee_name", "lessee_kind")), ("payments", ("payee_name", "payee_kind"))):
        header, rows = TABLES[table]
        for row in rows:
            rec = dict(zip(header, row))
            if rec[person_cols[1]] != "company":
                names.add(rec[person_cols[0]])
    for table, col in (("subsidies", "recipient_name"), ("labor", "worker_name"), ("companies", "legal_rep_name"),
                       ("officials", "name")):
        header, rows = TABLES[table]
        names |= {dict(zip(header, r))[col] for r in rows}
    return names


def checksum_ok(value: str) -> bool:
    """GB 11643 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(value[:17]))
    return "10X98765432"[total % 11] == value[17].upper()


def id_numbers() -> set[str]:
    return {i for i, _, _ in PERSONS}


def crawl(client, extra: list[str]) -> dict[str, str]:  # noqa: ANN001
    """Every page reachable from / (and the extra start points), by its text."""
    seen: dict[str, str] = {}
    queue = deque(["/", *extra])
    while queue:
        path = queue.popleft()
        if path in seen or any(path.startswith(p) for p in NOT_PUBLIC) or len(seen) > 500:
            continue
        r = client.get(path)
        assert r.status_code < 500, (path, r.status_code)
        ctype = r.headers.get("content-type", "")
        if ctype.startswith("image/png"):
            seen[path] = ""
            continue
        body = r.content.decode("utf-8")
        if ctype.startswith("application/json"):
            body = json.dumps(json.loads(body), ensure_ascii=False)
        seen[path] = body
        for href in LINK.findall(body):
            u = urlparse(urljoin("http://testserver" + path, href.replace("&amp;", "&")))
            if u.netloc in ("testserver", "") and u.path:
                queue.append(u.path + (f"?{u.query}" if u.query else ""))
    return seen


def leaks(text: str) -> list[str]:
    found = []
    for i in id_numbers():
        if i in text:
            found.append(f"id number {i}")
    for m in ID18.findall(text):
        if checksum_ok(m):
            found.append(f"id-like number {m}")
    for n in private_names():
        if n in text:
            found.append(f"full name {n}")
    for a in ACCOUNTS:
        if a in text or a[-8:] in text:
            found.append(f"account {a}")
    return found


def test_no_public_page_or_download_leaks_personal_data(site):
    searches = ["/search?q=东溪", "/search?q=工程", "/search?q=排水沟", "/search?q=账户", "/search?q=张三丰",
                "/search?q=" + PERSONS[0][0], "/search?q=李"]
    pages = crawl(site.client, searches + ["/complaints/new", "/complaints/track", "/stats"])
    downloads = [p for p in pages if p.endswith((".csv", ".json"))]
    assert len(downloads) >= 2 * 6 * 3, "every table of every region offers CSV and JSON"
    assert any(p.endswith("feed.atom") for p in pages) and any(p.endswith("qr.svg") for p in pages)
    problems = {p: leaks(t) for p, t in pages.items() if leaks(t)}
    assert not problems, problems
    # …and the published data is really there, masked
    village = pages[f"/r/{V1}"]
    for shown in ("东溪村道路硬化工程", "宁波东溪建筑有限公司", "欧阳某某", "李某某", "张某某", "****0123",
                  "低保", "临时救助", "[证件号已隐去]", "138****5678", "公开招标", "村东鱼塘"):
        assert shown in village, shown
    assert "宁波王某某贸易有限公司" in village, "a person's name inside a company name is masked"
    assert "残疾" not in village, "only means-tested subsidies are published"
    csv_text = pages[f"/r/{V1}/subsidies.csv"]
    assert "欧阳某某" in csv_text and "850" in csv_text
    assert "为保护个人信息" in pages["/search?q=张三丰"] and "为保护个人信息" in pages["/search?q=" + PERSONS[0][0]]


def test_leak_detector_catches_a_leak(site):
    """The scan is not vacuous: the raw source data would fail it."""
    raw = json.dumps(TABLES, ensure_ascii=False)
    found = leaks(raw)
    assert any(f.startswith("id number") for f in found) and any(f.startswith("full name") for f in found)
    assert any(f.startswith("account") for f in found)
