"""Property-based run of every operation in the OpenAPI schema: no input may cause a server error.

In-process through the ASGI app, on SQLite and PostgreSQL, as an admin at the top region (so
requests reach the handlers) with a bounded number of examples per operation.
"""

from __future__ import annotations

import time
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import text

from oversight import db
from oversight.workflow.testing import CODES, make_env, make_warning

EXAMPLES = 5


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api_env(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("st-home")
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'app.db'}"
    else:
        url = request.getfixturevalue("pg_databases").new().replace("postgresql://", "postgresql+psycopg://")
    db.migrate(url)
    env = make_env(url, home)
    with env.session() as s:
        for name in ("V1", "T1", "D2"):
            make_warning(s, CODES[name], subject=f"st|{name}|{uuid.uuid4().hex[:6]}")
    yield env
    db.dispose_all()


def test_no_server_error(api_env):
    """Each operation gets EXAMPLES schema-valid and EXAMPLES schema-violating requests."""
    admin = api_env.world.users["admin@C"]
    api = schemathesis.openapi.from_asgi("/openapi.json", api_env.client.app)
    failures: list[str] = []
    timings: list[tuple[float, str, str]] = []

    def reset() -> None:          # undo what an earlier example did to the caller's own account
        with api_env.session() as s:
            fine = s.execute(text(
                "select count(*) from users u join api_tokens t on t.user_id = u.id where u.id = :i and u.active "
                "and u.role = 'admin' and u.region_code = :c and u.locked_until is null and not t.revoked "
                "and t.expires_at is null"), {"i": admin.id, "c": CODES["C"]}).scalar()
            if fine:
                return
            s.execute(text("update users set active = :t, role = 'admin', region_code = :c, failed_logins = 0, "
                           "locked_until = null where id = :i"), {"t": True, "c": CODES["C"], "i": admin.id})
            s.execute(text("update api_tokens set revoked = :f, expires_at = null where user_id = :i"),
                      {"f": False, "i": admin.id})

    operations = [r.ok() for r in api.get_all_operations()]
    assert len(operations) >= 25
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            t0 = time.perf_counter()
            @given(case=op.as_strategy(mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            def run(case) -> None:  # noqa: ANN001
                reset()
                response = case.call(headers=api_env.world.headers("admin@C"))
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                    f"{response.text[:300]} (query={case.query!r}, body={str(case.body)[:200]!r})")
                elif response.status_code >= 400 and "json" in str(response.headers.get("content-type")):
                    assert response.json().get("detail"), (op.label, "a refusal must say why")

            try:
                run()
            except Unsatisfiable:
                pass                  # nothing to violate (an operation without inputs)
            timings.append((time.perf_counter() - t0, op.label, mode.value))
    for took, label, mode in sorted(timings, reverse=True)[:8]:
        print(f"{took:6.2f}s {label} {mode}")
    assert not failures, "\n".join(failures[:20])
