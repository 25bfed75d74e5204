"""Bad input and abuse: a clear message, nothing stored that should not be, attempts limited and logged."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from oversight.complaints import photos
from oversight.complaints.models import Complaint, ComplaintPhoto
from oversight.workflow.testing import CODES, make_env

from .conftest import CONFIG, Filer, complaint_id, staff_move


def count(env) -> int:  # noqa: ANN001
    with env.session() as s:
        return s.scalar(select(func.count()).select_from(Complaint))


def denied(env, action: str) -> list:  # noqa: ANN001
    return [e for e in env.audit_entries(action) if e.outcome == "denied"]


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"                    # Make
    exif[0x8825] = {1: "N", 2: (29.0, 52.0, 7.0), 3: "E", 4: (121.0, 33.0, 1.0)}   # GPS position
    exif[0x0112] = 6                              # orientation: rotate
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif, comment=b"owner: Wang")
    return buf.getvalue()


def multipart(filer: Filer, files, **fields):  # noqa: ANN001, ANN003, ANN201
    data = {"village": CODES["V1"], "category": "projects", "text": "工程偷工减料，路面一个月就开裂了。",
            **filer.challenge(), **fields}
    return filer.c.post("/api/v1/public/complaints/form", data=data, files=files)


def test_each_bad_input_is_refused_clearly_and_stores_nothing(env, filer):
    cases = [
        (dict(text="x" * 2001), 422, "too long"),
        (dict(text="短"), 422, "at least"),
        (dict(text="请看 <script>alert(document.cookie)</script> 这个"), 422, "HTML or scripts"),
        (dict(text='<img src=x onerror="alert(1)">'), 422, "HTML or scripts"),
        (dict(village="999999999999"), 422, "unknown village"),
        (dict(village=CODES["T1"]), 422, "unknown village"),
        (dict(category="bribes"), 422, "category"),
        (dict(contact="a" * 201, anonymous=False), 422, "too long"),
        (dict(challenge_answer="99"), 422, "wrong"),
        (dict(challenge_token="forged.1.abc"), 422, "wrong"),
        (dict(text="hello\x00world, this is long enough"), 422, "control"),
    ]
    for kw, status, words in cases:
        r = filer.file(**kw)
        assert r.status_code == status, (kw, r.text)
        assert words in r.json()["detail"], (kw, r.json())
    assert count(env) == 0
    assert len(denied(env, "complaint.submit")) >= 8, "refusals are audited"
    # a field far beyond any limit is cut off by the schema before it reaches the service
    r = filer.file(text="长" * 200_000)
    assert r.status_code == 422 and count(env) == 0


def test_fake_and_real_photos(env, filer):
    fakes = [
        ("photo.jpg", b"<?php system($_GET['c']); ?>", "not a photo"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a readable image"),
        ("doc.jpg", b"%PDF-1.4 not an image", "not a photo"),
        ("x.gif", b"GIF89a" + b"\0" * 40, "not a photo"),
    ]
    for name, data, words in fakes:
        r = multipart(filer, [("photos", (name, data, "image/jpeg"))])
        assert r.status_code == 415 and words in r.json()["detail"], (name, r.text)
    big = b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024 + 10)
    r = multipart(filer, [("photos", ("big.jpg", big, "image/jpeg"))])
    assert r.status_code == 413
    four = [("photos", (f"p{i}.jpg", jpeg_with_exif(), "image/jpeg")) for i in range(4)]
    assert multipart(filer, four).status_code == 422
    assert count(env) == 0
    with env.session() as s:
        assert s.scalar(select(func.count()).select_from(ComplaintPhoto)) == 0

    original = jpeg_with_exif()
    assert b"SecretCam" in original and b"owner: Wang" in original
    r = multipart(filer, [("photos", ("IMG_0001.JPG", original, "image/jpeg"))])
    assert r.status_code == 201, r.text
    cid = complaint_id(env, r.json()["code"])
    d = env.get("township_officer@T1", f"/api/v1/complaints/{cid}").json()
    assert len(d["photos"]) == 1 and (d["photos"][0]["width"], d["photos"][0]["height"]) == (48, 64), "upright"
    got = env.get("township_officer@T1", f"/api/v1/complaints/{cid}/photos/{d['photos'][0]['id']}")
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    stored = got.content
    assert b"SecretCam" not in stored and b"owner: Wang" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as im:
        assert not im.getexif() and "comment" not in im.info
    assert photos.path_of(photos.CleanPhoto(stored, "", 0, 0).sha256).exists()
    # the public never gets photos
    assert env.client.get(f"/api/v1/complaints/{cid}/photos/1").status_code == 401


def test_replayed_submission_is_filed_once(env, filer):
    ch = filer.challenge()
    body = {"village": CODES["V1"], "category": "finance", "text": "村账上有一笔招待费没有发票。", **ch}
    first = filer.c.post("/api/v1/public/complaints", json=body)
    assert first.status_code == 201
    again = filer.c.post("/api/v1/public/complaints", json=body)
    assert again.status_code == 409 and "already" in again.json()["detail"]
    assert "secret" not in again.json() and first.json()["code"] not in again.text
    assert count(env) == 1
    assert denied(env, "complaint.submit")[-1].comment.startswith("409 replayed")


def test_rate_limits_per_client_and_per_village(database_url, oversight_home):
    env = make_env(database_url, oversight_home, CONFIG.replace("rate_client = 50", "rate_client = 3")
                   .replace("rate_village = 100", "rate_village = 5"))
    filer = Filer(env)
    for i in range(3):
        assert filer.filed(text=f"第{i}件事情：账目不清，请查。")
    r = filer.file(text="第四件事情：账目不清，请查。")
    assert r.status_code == 429 and "too many" in r.json()["detail"]
    # another client (behind the same village) still gets through until the village limit
    other = Filer(env)
    other.c = env.client.__class__(env.client.app, client=("10.9.8.7", 5000))
    assert other.file(text="另一个人：第五件事情请查。").status_code == 201
    assert other.file(text="另一个人：第六件事情请查。").status_code == 201
    r = other.file(text="另一个人：第七件事情请查。")
    assert r.status_code == 429 and "village" in r.json()["detail"]
    assert other.file(village="V2", text="另一个村：第八件事情请查。").status_code == 201
    assert count(env) == 6
    assert len([e for e in denied(env, "complaint.submit") if "429" in e.comment]) == 2
    assert all("10.9.8.7" not in str(e.after) + e.comment for e in env.audit_entries())


def test_brute_forcing_tracking_codes_is_limited_and_logged(env, filer):
    f = filer.filed()
    assert filer.track(f["code"], f["secret"]).status_code == 200
    assert filer.track(f["code"].lower().replace("-", ""), f["secret"].lower()).status_code == 200, "forgiving input"
    for i in range(5):
        r = filer.track(f["code"], f"WRONGSECR{i}")
        assert r.status_code == 404 and r.json()["detail"] == "no complaint matches this tracking code and secret"
    r = filer.track(f["code"], f["secret"])
    assert r.status_code == 423 and "locked" in r.json()["detail"], "the code is locked after 5 wrong secrets"
    # guessing random codes from one client: refused after 10 failures in the window
    for i in range(4):
        assert filer.track(f"AAAAA-AAAA{i}", "0000000000").status_code == 404
    r = filer.track("AAAAA-BBBBB", "0000000000")
    assert r.status_code == 429
    other = Filer(env)
    other.c = env.client.__class__(env.client.app, client=("10.1.1.1", 1))
    assert other.track("AAAAA-BBBBB", "0000000000").status_code == 404, "other clients are not blocked"
    logged = denied(env, "complaint.track")
    assert len(logged) == 12 and {e.comment.split(":")[0] for e in logged} == {"404 no_match", "423 rate_limited",
                                                                               "429 rate_limited"}
    assert all(f["secret"] not in e.comment for e in logged)


def test_moderation_queue(env, filer):
    spam = filer.filed(text="便宜发票 请访问 http://spam.example 加微信")
    assert spam["status"] == "moderation"
    dup_text = "村主任把集体山林低价包给了自己亲戚。"
    first = filer.filed(text=dup_text)
    dup = filer.filed(text=dup_text)
    assert first["status"] == "received" and dup["status"] == "moderation"
    queue = env.get("township_officer@T1", "/api/v1/complaints", params={"status": "moderation"}).json()
    assert {c["code"] for c in queue} == {spam["code"], dup["code"]}
    d = env.get("township_officer@T1", f"/api/v1/complaints/{queue[0]['id']}").json()
    assert d["moderation_reason"] and d["step"] is None and d["allowed_actions"] == ["approve", "reject_spam"]
    sid, did = complaint_id(env, spam["code"]), complaint_id(env, dup["code"])
    assert staff_move(env, "township_officer@T1", sid, "reject_spam").status_code == 422, "needs a reason"
    assert staff_move(env, "township_officer@T1", sid, "reject_spam", comment="广告").json()["status"] == "rejected"
    r = staff_move(env, "district_officer@D1", did, "approve")
    assert r.json()["status"] == "received" and r.json()["step"] == "accept"
    assert filer.track(spam["code"], spam["secret"]).json()["status_label"] == "未通过核验"
    stats = env.client.get("/api/v1/public/complaints/stats").json()["total"]
    assert stats["received"] == 2, "spam is not counted as received"
