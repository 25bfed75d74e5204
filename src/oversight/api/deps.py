"""Request-scoped database session and the signed-in user.

A refused request (any :class:`DomainError`, or a malformed body) rolls back everything the
request did, then writes one audit entry for the attempt (``outcome = denied``) and commits
only that: "nothing changed, and the attempt audited".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from .. import db
from ..audit import service as audit
from ..auth import service as auth
from ..auth.models import User
from ..workflow.errors import DomainError, Forbidden, Unauthorized

COOKIE = "oversight_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")

bearer_scheme = HTTPBearer(auto_error=False, description="API token (`ovt_…`) created at /api/v1/auth/tokens")
cookie_scheme = APIKeyCookie(name=COOKIE, auto_error=False, description="browser session from /api/v1/auth/login")

_makers: dict[str, sessionmaker] = {}


def session_maker(url: str) -> sessionmaker:
    if url not in _makers:
        _makers[url] = sessionmaker(db.engine(url), expire_on_commit=False)
    return _makers[url]


def _route_name(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def audit_refusal(s: Session, request: Request, exc: Exception) -> None:
    """Record a refused request in the audit log (in ``s``, which the caller commits)."""
    user = getattr(request.state, "user", None)
    actor: Any = user if user is not None else (getattr(request.state, "login_name", None) or "anonymous")
    if isinstance(exc, DomainError):
        audit.record(s, exc.audit_action or _route_name(request), actor=actor, outcome="denied",
                     object_type=exc.object_type, object_id=exc.object_id, region_code=exc.region_code,
                     comment=f"{exc.status_code} {exc.code}: {exc.message}")
    else:
        audit.record(s, _route_name(request), actor=actor, outcome="denied",
                     comment=f"422 invalid request: {str(exc)[:1000]}")


def _refused(s: Session, request: Request, exc: Exception) -> None:
    """Undo the request's work, then audit the refusal alone (unless the raiser audited it)."""
    s.rollback()
    audit.discard_pending(s)
    if not getattr(exc, "audited", False):
        try:
            audit_refusal(s, request, exc)
            s.commit()
        except Exception:  # noqa: BLE001 - never hide the original refusal behind an audit failure
            s.rollback()


def get_db(request: Request) -> Iterator[Session]:
    s = session_maker(request.app.state.database_url)()
    try:
        yield s
        s.commit()
    except (DomainError, RequestValidationError) as exc:
        _refused(s, request, exc)
        raise
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


DB = Annotated[Session, Depends(get_db)]


def current_user(request: Request, s: DB,
                 bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
                 cookie: Annotated[str | None, Depends(cookie_scheme)] = None) -> User:
    if bearer is not None and bearer.credentials:
        user = auth.resolve_token(s, bearer.credentials)
    elif cookie:
        user, ls = auth.resolve_session(s, cookie)
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != ls.csrf_token:
            request.state.user = user
            raise Forbidden(f"missing or wrong {CSRF_HEADER} header (sent back at login)", code="csrf")
    else:
        raise Unauthorized("sign in (session cookie) or send an API token (Authorization: Bearer …)",
                           code="not_signed_in")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


# ------------------------------------------------------------------------ hot read endpoints
# A sync dependency or endpoint costs a trip to the thread pool each, and a sync endpoint's
# response is validated in yet another: five hand-overs between the event loop and a worker
# thread per request (get_db in and out, current_user, the endpoint, the response), each a
# wake-up and a fight for the GIL under load.  The list and detail endpoints are ``async def``
# with one dependency, :class:`ReadContext`: the session is opened in the loop (no I/O before
# the first query) and ``run`` resolves the user, runs the endpoint's queries and commits in
# one worker-thread call.  The checks are ``current_user``'s and the refusal handling is
# ``get_db``'s.  One difference had to be made up for: the user used to be resolved before the
# query parameters were validated, so a bad parameter with a bad or missing token still
# answers 401 (the user is resolved while the refusal is audited) and a 422 is audited with
# the user who sent it.
@dataclass
class ReadContext:
    s: Session
    request: Request
    bearer: HTTPAuthorizationCredentials | None
    cookie: str | None

    def user(self) -> User:
        return current_user(self.request, self.s, self.bearer, self.cookie)

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(session, user, *args, **kwargs)`` for the signed-in user, then commit: one thread call."""
        def work() -> T:
            out = fn(self.s, self.user(), *args, **kwargs)
            self.s.commit()
            return out

        return await run_in_threadpool(work)

    def refuse(self, exc: Exception) -> Exception:
        """Roll back and audit a refusal; the exception to answer with (401 outranks 422)."""
        if isinstance(exc, RequestValidationError) and getattr(self.request.state, "user", None) is None:
            try:
                self.user()
            except DomainError as auth_exc:
                exc = auth_exc
        _refused(self.s, self.request, exc)
        return exc


async def read_context(request: Request,
                       bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
                       cookie: Annotated[str | None, Depends(cookie_scheme)] = None) -> AsyncIterator[ReadContext]:
    ctx = ReadContext(session_maker(request.app.state.database_url)(), request, bearer, cookie)
    try:
        yield ctx
        if ctx.s.in_transaction() or ctx.s.info.get(audit._PENDING):
            await run_in_threadpool(ctx.s.commit)
    except (DomainError, RequestValidationError) as exc:
        answer = await run_in_threadpool(ctx.refuse, exc)
        if answer is exc:
            raise
        raise answer from None
    except BaseException:
        await run_in_threadpool(ctx.s.rollback)
        raise
    finally:
        ctx.s.close()


Read = Annotated[ReadContext, Depends(read_context)]
