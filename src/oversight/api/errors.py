"""Error answers: every refusal is JSON ``{"detail": reason, "code": short_code}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ..workflow.errors import DomainError


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = jsonable_encoder(exc.errors(), custom_encoder={bytes: lambda b: b.decode("utf-8", "replace")})
        for e in errors:
            e.pop("input", None) if isinstance(e.get("input"), (bytes, str)) and len(str(e["input"])) > 200 else None
            e.pop("ctx", None)
        reason = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in errors)
        return JSONResponse({"detail": reason or "invalid request", "code": "invalid", "errors": errors},
                            status_code=422)


ERROR_RESPONSES = {
    401: {"description": "not signed in, session expired, or bad token"},
    403: {"description": "your role may not do this"},
    404: {"description": "no such object within your region"},
    409: {"description": "illegal transition or stale submission"},
    422: {"description": "invalid input"},
}
