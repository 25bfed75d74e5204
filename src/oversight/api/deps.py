"""Request-scoped database session and the signed-in user.

A refused request (any :class:`DomainError`, or a malformed body) rolls back everything the
request did, then writes one audit entry for the attempt (``outcome = denied``) and commits
only that: "nothing changed, and the attempt audited".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
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
# thread per request, each a wake-up and a fight for the GIL under load.  The list and detail
# endpoints are ``async def`` with these dependencies instead: the session is opened in the
# loop (no I/O until the first query), the user is resolved in one worker-thread call and the
# endpoint's queries plus the commit in one more (``in_thread``).  Same checks, same refusal
# handling and audit as ``get_db``/``current_user`` above; the dependencies run before the
# query parameters are validated, as before, so a bad token still answers 401 before a bad
# parameter answers 422, and a 422 is audited with the user who sent it.
async def get_db_async(request: Request) -> AsyncIterator[Session]:
    s = session_maker(request.app.state.database_url)()
    try:
        yield s
        if s.in_transaction() or s.info.get(audit._PENDING):
            await run_in_threadpool(s.commit)
    except (DomainError, RequestValidationError) as exc:
        await run_in_threadpool(_refused, s, request, exc)
        raise
    except BaseException:
        await run_in_threadpool(s.rollback)
        raise
    finally:
        s.close()


AsyncDB = Annotated[Session, Depends(get_db_async)]


async def current_user_async(request: Request, s: AsyncDB,
                             bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
                             cookie: Annotated[str | None, Depends(cookie_scheme)] = None) -> User:
    def resolve() -> User:
        user = current_user(request, s, bearer, cookie)
        # end the transaction: the connection goes back to the pool while the request waits for
        # its next worker thread (a request never holds a connection outside a thread, so a full
        # thread pool and a full connection pool cannot wait on each other)
        s.commit()
        return user

    return await run_in_threadpool(resolve)


AsyncUser = Annotated[User, Depends(current_user_async)]


async def in_thread(s: Session, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` and commit ``s``, in one worker-thread call."""
    def work() -> T:
        out = fn(*args, **kwargs)
        s.commit()
        return out

    return await run_in_threadpool(work)
