"""The complaint pages of the public portal (监督一点通): file, follow, rate — plain HTML forms
that work without JavaScript on a phone.  They call the same service as the public API; a
refusal re-shows the form with the reason (and is audited like an API refusal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile

from ..api.deps import audit_refusal, session_maker
from ..audit import service as audit
from ..portal.views import render
from ..regions.models import Region
from ..workflow.errors import DomainError
from . import security, service
from .models import CATEGORIES, RATINGS
from .settings import settings
from .views import client_address, filed_message

router = APIRouter(prefix="/complaints", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


def _unit_of_work(request: Request, fn: Callable[[Any], Any]) -> tuple[Any, DomainError | None]:
    """Run ``fn(session)``: commit on success; on a refusal roll back, audit it, and hand it back."""
    s = session_maker(request.app.state.database_url)()
    try:
        with service.gate(request.app.state.database_url):
            result = fn(s)
            s.commit()
        return result, None
    except DomainError as exc:
        s.rollback()
        audit.discard_pending(s)
        try:
            audit_refusal(s, request, exc)
            s.commit()
        except Exception:  # noqa: BLE001
            s.rollback()
        return None, exc
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


def _villages(request: Request) -> list[dict]:
    with session_maker(request.app.state.database_url)() as s:
        rows = s.execute(select(Region.code, Region.name, Region.level, Region.parent_code)).all()
    by = {r.code: r for r in rows}
    groups: dict[str, dict] = {}
    for r in sorted(rows, key=lambda x: x.code):
        if r.level != "village":
            continue
        parent = by.get(r.parent_code)
        g = groups.setdefault(r.parent_code or "", {"name": parent.name if parent else "", "villages": []})
        g["villages"].append({"code": r.code, "name": r.name})
    return list(groups.values())


def _form_page(request: Request, form: dict, error: str = "", status: int = 200) -> HTMLResponse:
    s = settings()
    limits = {"min_text": s.min_text, "max_text": s.max_text, "max_photos": s.max_photos,
              "max_mb": s.max_photo_bytes // (1024 * 1024), "max_contact": s.max_contact}
    return render("complaint_form.html", status=status, headers=NO_STORE, form=form, error=error,
                  villages=_villages(request), categories=CATEGORIES, limits=limits,
                  challenge=security.issue_challenge())


@router.get("/new", response_class=HTMLResponse)
async def new(request: Request, village: str = "") -> HTMLResponse:
    form = {"village": village[:12], "category": "other", "text": "", "contact": "", "anonymous": False}
    return await run_in_threadpool(_form_page, request, form)


@router.post("/new", response_class=HTMLResponse)
async def post_new(request: Request) -> HTMLResponse:
    s = settings()
    try:
        data = await request.form(max_files=s.max_photos + 2, max_fields=20,
                                  max_part_size=max(s.max_photo_bytes, 1024 * 1024) + 1024)
    except Exception as exc:  # noqa: BLE001 - a malformed or oversize body
        form = {"village": "", "category": "other", "text": "", "contact": "", "anonymous": True}
        return await run_in_threadpool(_form_page, request, form, f"表单无法读取：{str(exc)[:200]}", 400)

    def field(name: str, limit: int = 100_000) -> str:
        v = data.get(name)
        return v[:limit + 1] if isinstance(v, str) else ""

    form = {"village": field("village", 12), "category": field("category", 16), "text": field("text"),
            "contact": field("contact", 10_000), "anonymous": field("anonymous") == "true" or not field("contact")}
    photos = []
    for f in data.getlist("photos"):
        if isinstance(f, UploadFile) and (f.filename or f.size):
            content = await f.read(s.max_photo_bytes + 1)
            if content:
                photos.append((f.filename or "photo", content))
    sub = service.Submission(village=form["village"], category=form["category"], text=form["text"],
                             contact=form["contact"], anonymous=form["anonymous"],
                             challenge_token=field("challenge_token", 255),
                             challenge_answer=field("challenge_answer", 8), photos=photos,
                             honeypot=field("website", 200))
    await data.close()
    if len(photos) > s.max_photos:
        return await run_in_threadpool(_form_page, request, form, f"最多上传 {s.max_photos} 张照片。", 422)
    client = client_address(request)
    filed, err = await run_in_threadpool(_unit_of_work, request, lambda db: service.submit(db, sub, client))
    if err is not None:
        return await run_in_threadpool(_form_page, request, form, explain(err), err.status_code)
    return render("complaint_filed.html", status=201, headers=NO_STORE, code=filed.complaint.code,
                  secret=filed.secret, message=filed_message(filed.complaint.status))


#: the service's reasons in the words a villager reads (the English reason follows for staff)
ZH = {
    "unknown_village": "请从列表中选择您所在的村。", "bad_category": "请选择问题类别。",
    "too_long": "内容太长了，请精简后再提交。", "too_short": "内容太短，请写明时间、地点和事情经过。",
    "markup": "内容里不能包含网页代码或脚本，请只写文字。", "bad_text": "内容里有无法识别的字符。",
    "challenge": "验证题答错了或表单已过期，请重新作答。", "replayed": "这份表单已经提交过了，不会重复受理。请保存好之前的查询码。",
    "rate_limited": "提交或查询太频繁，请稍后再试。", "not_an_image": "上传的文件不是照片（只接受 JPEG、PNG、WebP）。",
    "photo_too_large": "照片太大了。", "too_many_photos": "照片太多了。", "bad_photo": "照片是空的。",
    "no_match": "查询码或密码不对。", "locked": "这个查询码密码错误次数太多，已暂时锁定，请稍后再试。",
    "illegal_transition": "现在不能评价。", "missing_input": "请选择评价。",
}


def explain(err: DomainError) -> str:
    zh = ZH.get(err.code, "")
    if err.code == "rate_limited" and err.status_code == 423:
        zh = ZH["locked"]
    return f"{zh}（{err.message}）" if zh else err.message


@router.get("/track", response_class=HTMLResponse)
def track_form(code: str = "") -> HTMLResponse:
    return render("complaint_track.html", headers=NO_STORE, code=code[:16], error="")


async def _form(request: Request) -> dict[str, str]:
    try:
        data = await request.form(max_files=0, max_fields=10, max_part_size=20_000)
    except Exception:  # noqa: BLE001
        return {}
    return {k: v[:2000] for k, v in data.items() if isinstance(v, str)}


def _status_page(request: Request, c_view: dict, secret: str, notice: str = "", error: str = "",
                 status: int = 200) -> HTMLResponse:
    return render("complaint_status.html", status=status, headers=NO_STORE, c=c_view, secret=secret,
                  ratings=RATINGS, notice=notice, error=error)


@router.post("/track", response_class=HTMLResponse)
async def track(request: Request) -> HTMLResponse:
    f = await _form(request)
    code, secret = f.get("code", ""), f.get("secret", "")
    client = client_address(request)
    view, err = await run_in_threadpool(
        _unit_of_work, request, lambda db: service.public_view(db, service.track(db, code, secret, client)))
    if err is not None:
        return render("complaint_track.html", status=err.status_code, headers=NO_STORE, code=code[:16],
                      error=explain(err))
    return _status_page(request, view, secret)


@router.post("/rate", response_class=HTMLResponse)
async def rate(request: Request) -> HTMLResponse:
    f = await _form(request)
    code, secret, rating = f.get("code", ""), f.get("secret", ""), f.get("rating", "")
    client = client_address(request)

    def do(db):  # noqa: ANN001, ANN202
        return service.public_view(db, service.rate(db, code, secret, rating, f.get("comment", ""), client))

    view, err = await run_in_threadpool(_unit_of_work, request, do)
    if err is None:
        notice = "感谢评价。" + ("已提交上一级纪委复核，请留意答复。" if view["status"] == "re_review" else "")
        return _status_page(request, view, secret, notice=notice)
    if err.code in ("no_match", "rate_limited"):
        return render("complaint_track.html", status=err.status_code, headers=NO_STORE, code=code[:16],
                      error=explain(err))
    view, err2 = await run_in_threadpool(
        _unit_of_work, request, lambda db: service.public_view(db, service.track(db, code, secret, client)))
    if err2 is not None:
        return render("complaint_track.html", status=err2.status_code, headers=NO_STORE, code=code[:16],
                      error=explain(err2))
    return _status_page(request, view, secret, error=explain(err), status=err.status_code)
