"""Table-driven authorisation: every role x region relation (own, child, sibling, parent) x
endpoint.  The expected answer comes from a restatement of the rules here, independent of
the code under test; any leak (a 200 where 404/403 is due, or data from outside the
subtree in a list) or wrongly refused action (a 403/404 where 200 is due) is reported.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oversight.attachments import service as attachments
from oversight.auth.models import User
from oversight.regions.models import Region
from oversight.warnings.models import Warning
from oversight.workflow import service
from oversight.workflow.testing import CODES, make_warning

#: the accounts under test and where each relation points from them
RELATIONS = {
    "D1": {"own": "D1", "child": "T1", "sibling": "D2", "parent": "C"},
    "T1": {"own": "T1", "child": "V1", "sibling": "T2", "parent": "D1"},
    "V1": {"own": "V1", "sibling": "V2", "parent": "T1"},
}
USERS = ["district_officer@D1", "township_officer@T1", "village_liaison@V1", "auditor@D1", "auditor@T1",
         "admin@D1", "admin@T1", "data_steward@D1"]

HANDLERS = {"district_officer", "township_officer", "village_liaison"}
READ_USERS = {"admin", "auditor"}
AUDIT_READERS = {"auditor", "admin"}
FEEDBACK = {"district_officer", "township_officer", "auditor", "admin", "data_steward"}


def cases():  # noqa: ANN201
    for key in USERS:
        home = key.split("@")[1]
        for relation, where in RELATIONS[home].items():
            yield key, key.split("@")[0], relation, where


def visible(relation: str) -> bool:
    return relation in ("own", "child")


def expect_read(role: str, relation: str, allowed_roles: set[str] | None = None, ok: int = 200) -> int:
    if allowed_roles is not None and role not in allowed_roles:
        return 403
    return ok if visible(relation) else 404


@pytest.fixture
def world(env):
    """A warning, a comment-able record, an attachment and a user at every region."""
    placed: dict[str, dict] = {}
    with env.session() as s:
        admin = s.get(User, env.world.users["admin@C"].id)
        for name, code in CODES.items():
            w = make_warning(s, code, subject=f"authz|{name}")
            att = attachments.save_bytes(s, admin, w.id, "e.pdf", b"%PDF-1.4 " + name.encode(), w.region_code)
            placed[name] = {"warning": w.id, "attachment": att.id}
        for name in CODES:
            placed[name]["user"] = s.scalar(select(User.id).where(User.region_code == CODES[name])
                                            .order_by(User.id))
    # an audit entry about every warning (viewed by the top admin)
    for name in CODES:
        assert env.get("admin@C", f"/api/v1/warnings/{placed[name]['warning']}").status_code == 200
    return placed


def test_reads_every_role_region_endpoint(env, world):
    bad = []

    def check(label: str, got: int, want: int) -> None:
        if got != want:
            bad.append(f"{label}: got {got}, want {want}")

    for key, role, relation, where in cases():
        wid, att = world[where]["warning"], world[where]["attachment"]
        code = CODES[where]
        for path in (f"/api/v1/warnings/{wid}", f"/api/v1/warnings/{wid}/events",
                     f"/api/v1/warnings/{wid}/comments", f"/api/v1/warnings/{wid}/attachments",
                     f"/api/v1/attachments/{att}", f"/api/v1/regions/{code}"):
            check(f"{key} {relation} GET {path}", env.get(key, path).status_code, expect_read(role, relation))
        r = env.get(key, f"/api/v1/warnings?region={code}&limit=200")
        check(f"{key} {relation} list region", r.status_code, expect_read(role, relation))
        # the unfiltered list: the warning appears exactly when it is visible
        ids = {w["id"] for w in env.get(key, "/api/v1/warnings?limit=200").json()["items"]}
        check(f"{key} {relation} in list", int(wid in ids), int(visible(relation)))
        regions = {r["code"] for r in env.get(key, "/api/v1/regions").json()}
        check(f"{key} {relation} in regions", int(code in regions), int(visible(relation)))
        uid = world[where]["user"]
        if uid:
            check(f"{key} {relation} GET user", env.get(key, f"/api/v1/users/{uid}").status_code,
                  expect_read(role, relation, READ_USERS))
            r = env.client.patch(f"/api/v1/users/{uid}", headers=env.world.headers(key),
                                 json={"display_name": f"renamed by {key}"})
            check(f"{key} {relation} PATCH user", r.status_code, expect_read(role, relation, {"admin"}))
        r = env.post(key, f"/api/v1/warnings/{wid}/comments", json={"body": "note"})
        check(f"{key} {relation} POST comment", r.status_code,
              404 if not visible(relation) else (201 if role in HANDLERS else 403))
        r = env.attach(key, wid)
        check(f"{key} {relation} POST attachment", r.status_code,
              404 if not visible(relation) else (201 if role in HANDLERS else 403))
        r = env.get(key, f"/api/v1/audit?object_id={wid}")
        check(f"{key} {relation} audit", r.status_code, 200 if role in AUDIT_READERS else 403)
        if r.status_code == 200:
            # about a warning outside the subtree, an auditor sees at most the refused attempts of
            # people inside it, which carry nothing of the warning (no region, no before/after)
            about = [e for e in r.json() if not (e["outcome"] == "denied" and e["region_code"] is None
                                                 and e["before"] is None and e["after"] is None)]
            check(f"{key} {relation} audit entries", int(bool(about)), int(visible(relation)))
        r = env.get(key, "/api/v1/feedback")
        check(f"{key} feedback", r.status_code, 200 if role in FEEDBACK else 403)
    # unfiltered list and regions: nothing from outside the subtree, ever
    with env.session() as s:
        paths = dict(s.execute(select(Region.code, Region.path)).all())
    for key in USERS + ["village_liaison@V4", "township_officer@T3", "district_officer@D2"]:
        mine = paths[env.world.users[key].region_code]
        for w in env.get(key, "/api/v1/warnings?limit=200").json()["items"]:
            if not paths[w["region_code"]].startswith(mine):
                bad.append(f"{key} list leaks {w['id']} at {w['region_code']}")
        for e in env.get("admin@D1", "/api/v1/audit?limit=500").json():
            if e["region_code"] and not paths.get(e["region_code"], "").startswith(paths[CODES["D1"]]):
                bad.append(f"audit leaks entry {e['seq']} at {e['region_code']}")
    assert not bad, "\n".join(bad)


def expect_move(role: str, relation: str, move: service.Move) -> int:
    if not visible(relation):
        return 404
    if role not in move.roles:
        return 403
    if move.who == "overseer":
        return 200
    if move.who == "unit":
        return 200 if relation == "own" else 403
    return 200 if relation == "child" else 403          # reviewer: the level above the unit


def test_moves_every_role_region_action(env):
    bad = []
    admin_id = env.world.users["admin@C"].id
    for key, role, relation, where in cases():
        code = CODES[where]
        with env.session() as s:
            level = s.get(Region, code).level
        if level not in ("township", "village"):
            continue                                  # a unit is a township or a village
        for move in service.MOVES.values():
            with env.session() as s:
                w = make_warning(s, code, subject=f"move|{key}|{relation}|{move.action}")
                w.status = move.sources[0]
                st = service.state_of(s, w)
                if move.who in ("unit", "reviewer"):
                    st.handling_region = code
                att = attachments.save_bytes(s, s.get(User, admin_id), w.id, "e.pdf", b"%PDF-1.4 x", code)
                s.flush()
                wid, version, att_id = w.id, w.version, att.id
            body = {"action": move.action, "version": version, "comment": "because", "findings": "found",
                    "outcome": "monitor", "to_region": code, "attachment_ids": [att_id]}
            r = env.post(key, f"/api/v1/warnings/{wid}/transitions", json=body)
            want = expect_move(role, relation, move)
            if r.status_code != want:
                bad.append(f"{key} {relation} {move.action}: got {r.status_code} {r.text[:120]}, want {want}")
            with env.session() as s:
                status = s.get(Warning, wid).status
            if (r.status_code == 200) != (status != move.sources[0]):
                bad.append(f"{key} {relation} {move.action}: state {status} after {r.status_code}")
    assert not bad, "\n".join(bad)


def test_every_endpoint_needs_a_signed_in_user(env):
    schema = env.client.get("/openapi.json").json()
    secured = [p for p, ops in schema["paths"].items() if any(o.get("security") for o in ops.values())]
    assert len(secured) >= 25
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if not op.get("security"):
                continue              # open by design: the login, the public portal, open data
            concrete = (path.replace("{warning_id}", "W-x").replace("{code}", "330200000000")
                        .replace("{key}", "holidays"))
            for name in ("user_id", "token_id", "attachment_id", "notification_id"):
                concrete = concrete.replace("{" + name + "}", "1")
            r = env.client.request(method.upper(), concrete, json={})
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["detail"]
