"""Fixtures of the complaints side: the workflow's test world (regions T1 > V1, V2 …, one user
per role and place) on SQLite and PostgreSQL, with complaint limits suited to tests."""

from __future__ import annotations

import re

import pytest

from oversight.workflow.testing import CODES, Env, make_env

CONFIG = """
[complaints]
challenge_min_seconds = 0
rate_client = 50
rate_village = 100
"""


def solve(question: str) -> str:
    a, b = re.search(r"(\d) \+ (\d) = \?", question).groups()
    return str(int(a) + int(b))


class Filer:
    """A villager's side of the API."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.c = env.client

    def challenge(self) -> dict:
        ch = self.c.get("/api/v1/public/challenge").json()
        return {"challenge_token": ch["token"], "challenge_answer": solve(ch["question"])}

    def file(self, village: str = "V1", text: str = "村里的劳务费发放名单里有从来没干过活的人，请核实。",
             category: str = "labor", **kw):  # noqa: ANN003, ANN201
        body = {"village": CODES.get(village, village), "category": category, "text": text, **self.challenge(), **kw}
        return self.c.post("/api/v1/public/complaints", json=body)

    def filed(self, **kw) -> dict:  # noqa: ANN003
        r = self.file(**kw)
        assert r.status_code == 201, r.text
        return r.json()

    def track(self, code: str, secret: str, **kw):  # noqa: ANN003, ANN201
        return self.c.post("/api/v1/public/complaints/track", json={"code": code, "secret": secret}, **kw)

    def rate(self, code: str, secret: str, rating: str, comment: str = ""):  # noqa: ANN201
        return self.c.post("/api/v1/public/complaints/rate",
                           json={"code": code, "secret": secret, "rating": rating, "comment": comment})


@pytest.fixture
def env(database_url, oversight_home) -> Env:
    return make_env(database_url, oversight_home, CONFIG)


@pytest.fixture
def filer(env) -> Filer:
    return Filer(env)


def complaint_id(env: Env, code: str) -> int:
    from sqlalchemy import select

    from oversight.complaints.models import Complaint

    with env.session() as s:
        return s.scalar(select(Complaint.id).where(Complaint.code == code))


def staff_move(env: Env, who: str, cid: int, action: str, **kw):  # noqa: ANN003, ANN201
    version = env.get(who if who != "auditor@C" else who, f"/api/v1/complaints/{cid}")
    v = version.json()["version"] if version.status_code == 200 else 1
    return env.post(who, f"/api/v1/complaints/{cid}/transitions", json={"action": action, "version": v, **kw})


def handle_to_answer(env: Env, cid: int, handler: str = "village_liaison@V1", reviewer: str = "township_officer@T1",
                     substantiated: bool = True, answer: str = "经核实，已责令退回多发的劳务费。") -> dict:
    """受理 → 分办 → 办理 → 审核 → 答复, the way the console does it."""
    r = staff_move(env, "township_officer@T1", cid, "accept")
    assert r.status_code == 200, r.text
    r = staff_move(env, "township_officer@T1", cid, "assign", to_user=env.world.users[handler].id)
    assert r.status_code == 200, r.text
    r = staff_move(env, handler, cid, "submit_result", findings="名单核对属实", answer=answer,
                   substantiated=substantiated)
    assert r.status_code == 200, r.text
    r = staff_move(env, reviewer, cid, "approve_answer")
    assert r.status_code == 200, r.text
    return r.json()
