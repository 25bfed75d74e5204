"""Admin pages: accounts, deadlines, holidays, regions — through the services, audited, refused cleanly."""

from __future__ import annotations

from sqlalchemy import select

from oversight.auth.models import User
from oversight.regions.models import Region
from oversight.workflow import params as params_mod
from oversight.workflow.testing import CODES

A = "admin@C"


def test_admin_creates_and_disables_an_account(lite):
    r = lite.post(A, "/console/admin/users", {"username": "new_officer", "password": "a long password 1",
                                              "role": "township_officer", "region_code": CODES["T1"],
                                              "display_name": "<b>New</b>"})
    assert r.status_code == 201 and "otpauth://" in r.text and "&lt;b&gt;New&lt;/b&gt;" in r.text
    with lite.env.session() as s:
        u = s.scalar(select(User).where(User.username == "new_officer"))
        assert u.role == "township_officer" and u.totp_secret
        uid = u.id
    r = lite.post(A, f"/console/admin/users/{uid}", {"active": "no"})
    assert r.status_code == 303
    with lite.env.session() as s:
        assert s.get(User, uid).active is False
    # refusals: wrong level for the role, short password, taken name, own account
    for data in ({"username": "x1", "password": "a long password 1", "role": "village_liaison",
                  "region_code": CODES["T1"]},
                 {"username": "x2", "password": "short", "role": "auditor", "region_code": CODES["C"]},
                 {"username": "new_officer", "password": "a long password 1", "role": "auditor",
                  "region_code": CODES["C"]},
                 {"username": "x3", "password": "a long password 1", "role": "emperor", "region_code": CODES["C"]}):
        r = lite.post(A, "/console/admin/users", data)
        assert r.status_code in (409, 422), data
    me = lite.env.world.users[A].id
    assert lite.post(A, f"/console/admin/users/{me}", {"active": "no"}).status_code == 422
    assert lite.post(A, "/console/admin/users/999999", {"active": "no"}).status_code == 404
    assert any(e.action == "user.create" for e in lite.env.audit_entries())


def test_admin_in_a_district_cannot_reach_outside_it(lite):
    r = lite.post("admin@D1", "/console/admin/users", {"username": "y", "password": "a long password 1",
                                                       "role": "auditor", "region_code": CODES["D2"]})
    assert r.status_code == 422
    other = lite.env.world.users["village_liaison@V4"].id
    assert lite.post("admin@D1", f"/console/admin/users/{other}", {"active": "no"}).status_code == 404


def test_deadlines_holidays_and_regions(lite):
    r = lite.post(A, "/console/admin/deadlines", {"red.accept": "2", "red.verify": "12", "yellow.rectify": ""})
    assert r.status_code == 303
    r = lite.post(A, "/console/admin/days", {"key": "holidays", "days": "2026-10-01\n2026-10-02, 2026-10-03"})
    assert r.status_code == 303
    with lite.env.session() as s:
        p = params_mod.current(s)
    assert p["deadlines"]["red"] == {"accept": 2, "verify": 12, "rectify": 30}
    assert p["holidays"] == ["2026-10-01", "2026-10-02", "2026-10-03"]
    assert lite.post(A, "/console/admin/deadlines", {"red.accept": "-1"}).status_code == 422
    assert lite.post(A, "/console/admin/deadlines", {"red.accept": "0"}).status_code == 422
    assert lite.post(A, "/console/admin/days", {"key": "holidays", "days": "someday"}).status_code == 422
    assert lite.post(A, "/console/admin/days", {"key": "passwords", "days": ""}).status_code == 422
    r = lite.post(A, "/console/admin/regions", {"code": "330226101003", "name": "新村", "level": "village",
                                                "parent_code": CODES["T1"]})
    assert r.status_code == 303
    with lite.env.session() as s:
        assert s.get(Region, "330226101003").path.endswith("/330226101000/330226101003/")
    for data in ({"code": "330226101003", "name": "again", "level": "village", "parent_code": CODES["T1"]},
                 {"code": "abc", "name": "x", "level": "village", "parent_code": CODES["T1"]},
                 {"code": "330226101004", "name": "x", "level": "city", "parent_code": CODES["T1"]}):
        assert lite.post(A, "/console/admin/regions", data).status_code == 422, data


def test_other_roles_cannot_change_anything(lite):
    for who in ("district_officer@D1", "village_liaison@V1", "auditor@C", "data_steward@C"):
        assert lite.post(who, "/console/admin/deadlines", {"red.accept": "5"}).status_code == 403
        assert lite.post(who, "/console/admin/users", {"username": "z", "password": "a long password 1",
                                                       "role": "auditor", "region_code": CODES["C"]}).status_code == 403
    with lite.env.session() as s:
        assert params_mod.current(s)["deadlines"]["red"]["accept"] == 1
