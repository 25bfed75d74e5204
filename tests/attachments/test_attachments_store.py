"""Attachments: sniffed by content, size-limited, content-addressed, downloads audited."""

from __future__ import annotations

import hashlib
import io

import openpyxl

from oversight.attachments import service

T = "township_officer@T1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n%evidence\n"


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "收据"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def up(env, wid, name, data, who=T):  # noqa: ANN001, ANN201
    return env.post(who, f"/api/v1/warnings/{wid}/attachments", files={"file": (name, data, "application/pdf")})


def test_accepted_types_by_content(env):
    wid = env.warning()
    for name, data, ctype in (("a.pdf", PDF, "application/pdf"), ("b.png", PNG, "image/png"),
                              ("c.jpg", JPEG, "image/jpeg"), ("d.xlsx", xlsx_bytes(), service.KINDS["xlsx"][0]),
                              ("no-extension", PDF, "application/pdf")):
        r = up(env, wid, name, data)
        assert r.status_code == 201, (name, r.text)
        assert r.json()["content_type"] == ctype
        assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()


def test_mistyped_files_refused_and_audited(env):
    wid = env.warning()
    cases = [("evil.pdf", b"MZ\x90\x00 this is an exe", "not a PDF, image"),
             ("photo.png", JPEG, "content is jpeg"),
             ("sheet.xlsx", b"PK\x03\x04" + b"\x00" * 40, "not a PDF, image"),
             ("macro.pdf", b"#!/bin/sh\nrm -rf /\n", "not a PDF")]
    for name, data, words in cases:
        r = up(env, wid, name, data)
        assert r.status_code == 415, (name, r.text)
        assert words in r.json()["detail"]
        assert env.audit_entries()[-1].outcome == "denied"
    assert env.get(T, f"/api/v1/warnings/{wid}/attachments").json() == []
    r = up(env, wid, "empty.pdf", b"")
    assert r.status_code == 422


def test_oversize_refused_nothing_stored(env):
    env.home.joinpath("oversight.toml").write_text(
        env.home.joinpath("oversight.toml").read_text() + "[attachments]\nmax_bytes = 1000\n")
    from oversight import config

    config.clear_cache()
    wid = env.warning()
    r = up(env, wid, "big.pdf", PDF + b"x" * 2000)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    assert env.get(T, f"/api/v1/warnings/{wid}/attachments").json() == []
    stored = [p for p in service.store_root().rglob("*") if p.is_file()]
    assert stored == []
    assert env.audit_entries()[-1].action == "attachment.upload" and env.audit_entries()[-1].outcome == "denied"
    assert up(env, wid, "small.pdf", PDF).status_code == 201


def test_content_addressed_and_download_audited(env):
    a, b = env.warning(), env.warning()
    r1, r2 = up(env, a, "x.pdf", PDF).json(), up(env, b, "same.pdf", PDF).json()
    assert r1["sha256"] == r2["sha256"] and r1["id"] != r2["id"]
    blobs = [p for p in service.store_root().rglob("*") if p.is_file() and p.parent.name != "tmp"]
    assert len(blobs) == 1 and blobs[0].name == r1["sha256"][2:]
    r = env.get("auditor@C", f"/api/v1/attachments/{r1['id']}")
    assert r.status_code == 200 and r.content == PDF and r.headers["content-type"] == "application/pdf"
    views = env.audit_entries("attachment.view")
    assert views[-1].actor == "auditor_c" and views[-1].after["sha256"] == r1["sha256"]
    # a damaged blob is refused rather than served
    blobs[0].write_bytes(b"%PDF-tampered")
    assert env.get("auditor@C", f"/api/v1/attachments/{r1['id']}").status_code == 404
