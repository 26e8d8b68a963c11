"""The endpoints under /api: filing and following rights requests and opt-outs, and the operator's views.

A requester's endpoints answer 404 alike for an unknown id and for a wrong or missing token, so nobody learns
whether somebody else's request exists; the operator's answer 401 without the operator token.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.security import HTTPBearer
from sqlalchemy import select, text

from crawler.api.auth import bearer, require_operator
from crawler.api.context import ApiContext
from crawler.api.errors import ApiError, not_found, responses
from crawler.api.schemas import (
    AuditCheckOut,
    FiledRequest,
    HealthOut,
    OptOutCreated,
    OptOutWithdrawn,
    Progress,
    PublicKeyOut,
    ReceiptOut,
    RequestStatusOut,
    RequestSummary,
)
from crawler.api.uploads import read_images
from policy.errors import UsageError
from storage.access_tokens import TokenSubject, issue, opens
from storage.models import ImageFile
from storage.rights import CHECKPOINTS, RequestKind, RequestStatus


def no_unknown_query(request: Request) -> None:
    """A query parameter the endpoint does not know is refused, so a typo (``?overdu=true``) cannot silently
    widen an answer."""
    route = request.scope.get("route")
    known = {param.alias for param in getattr(getattr(route, "dependant", None), "query_params", [])}
    for dependency in getattr(getattr(route, "dependant", None), "dependencies", []):
        known |= {param.alias for param in dependency.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ApiError(422, f"unknown query parameter(s) {', '.join(repr(u[:40]) for u in unknown[:5])}; this "
                            f"endpoint takes {', '.join(sorted(known)) or 'none'} (see /docs)")


router = APIRouter(prefix="/api", dependencies=[Depends(no_unknown_query)])
# Documented in OpenAPI (the lock in /docs); the check itself is ours, in constant time.
requester_auth = HTTPBearer(auto_error=False, scheme_name="requester token",
                            description="The token returned when the request or opt-out was filed.")
operator_auth = HTTPBearer(auto_error=False, scheme_name="operator token",
                           description="FAIRCRAWL_API_TOKEN, or the token in the file `faircrawl serve` names.")

def _api(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context


def _own_request(request: Request, request_id: str) -> ApiContext:
    """The context, once the bearer token opens ``request_id`` (404 otherwise, whether or not it exists)."""
    context = _api(request)
    if len(request_id) > 64 or not opens(context.database, TokenSubject.REQUEST, request_id, bearer(request)):
        raise not_found("request")
    return context


# -- filing -------------------------------------------------------------------------------------------------------


@router.post("/requests", status_code=202, response_model=FiledRequest, tags=["requests"],
             summary="File a deletion or access request",
             responses=responses(400, 413, 415, 422, 429, 503))
async def file_request(
    request: Request,
    kind: Annotated[RequestKind, Form(description="deletion, or access")],
    photo: Annotated[list[UploadFile], File(description="Photos of the person alone (JPEG, PNG or WebP; exactly "
                                                        "one face each); used for this request only, never kept")] = [],  # noqa: B006
    url: Annotated[list[str], Form(description="URLs of images of the person")] = [],  # noqa: B006
    page_url: Annotated[list[str], Form(description="Pages whose images show the person")] = [],  # noqa: B006
    jurisdiction: Annotated[str | None, Form(description="The person's jurisdiction (FR, US-CA, ...); sets the "
                                                          "deadline. Default UNKNOWN: the shortest.")] = None,
    optout: Annotated[bool, Form(description="With a deletion: never collect me again")] = False,
) -> FiledRequest:
    """The request is checked (identifiers, photos, URLs, jurisdiction), stored, and queued; it runs in the
    background. The answer carries the **request token**, shown once: keep it."""
    context = _api(request)
    photos = await read_images(photo, context.limits, "photo")
    urls = [u.strip() for u in url if u.strip()]
    page_urls = [u.strip() for u in page_url if u.strip()]
    if not (photos or urls or page_urls):
        raise ApiError(400, "say who the request is about: at least one photo, url or page_url")
    if len(urls) + len(page_urls) > 100:
        raise ApiError(413, "at most 100 URLs and page URLs in one request")

    def filed() -> tuple[str, str, str]:
        request_id = context.service.file(kind, photos=photos, urls=urls, page_urls=page_urls,
                                          jurisdiction=(jurisdiction or "").strip() or None, optout=optout)
        token = issue(context.database, TokenSubject.REQUEST, request_id)
        return request_id, token, context.service.outcome(request_id).row["due"]

    request_id, token, due = await run_in_threadpool(filed)
    context.worker.submit(request_id)
    return FiledRequest(id=request_id, token=token, kind=kind.value, status=RequestStatus.RECEIVED.value, due=due)


# -- the requester's views ----------------------------------------------------------------------------------------


def _progress(context: ApiContext, row: dict[str, Any]) -> Progress:
    checkpoints = [c.value for c in CHECKPOINTS[RequestKind(row["kind"])]]
    reached = row["reached"] or row["status"]
    step = checkpoints.index(reached) + 1 if reached in checkpoints else 0
    if row["status"] == RequestStatus.COMPLETED:
        step = len(checkpoints)
    running = context.worker.current == row["id"]
    return Progress(checkpoints=checkpoints, reached=row["reached"], step=step, of=len(checkpoints),
                    queued=context.worker.pending(row["id"]), running=running,
                    activity=context.worker.activity if running else None)


def _access_view(request_id: str, answer: dict[str, Any] | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    shown = {key: value for key, value in answer.items() if key != "archive"}  # a server path is nobody's business
    shown["archive_url"] = f"/api/requests/{request_id}/export" if answer.get("archive") else None
    # an image a later deletion removed is a tombstone ({id, outcome: deleted, deleted_by_request}): no file to show
    shown["images"] = [{**image, "image_url": f"/api/requests/{request_id}/images/{image['sha256']}"}
                       if image.get("sha256") else image for image in answer.get("images", [])]
    return shown


@router.get("/requests/{request_id}", response_model=RequestStatusOut, tags=["requests"],
            summary="A request's status, due date and progress (the requester's token)",
            responses=responses(404, 503))
def request_status(request: Request, request_id: str, _: Annotated[Any, Depends(requester_auth)] = None,
                   ) -> RequestStatusOut:
    context = _own_request(request, request_id)
    outcome = context.service.outcome(request_id)
    row = outcome.row
    return RequestStatusOut(
        id=row["id"], kind=row["kind"], status=row["status"], jurisdiction=row["jurisdiction"], due=row["due"],
        created_at=row["created_at"], completed_at=row["completed_at"], overdue=row["overdue"],
        failure=row["failure"], attempts=row["attempts"], optout=row["optout"], refused=row["refused"],
        breaches=list(row["breaches"] or []), progress=_progress(context, row), tasks=outcome.tasks,
        verification=row["verification"], access=_access_view(request_id, row["access"]))


@router.get("/requests/{request_id}/receipt", response_model=ReceiptOut, tags=["requests"],
            summary="The signed receipt (JSON), or ?format=text for the readable one",
            responses={**responses(404, 409, 503), 200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                                                         "description": "The receipt"}})
def request_receipt(request: Request, request_id: str,
                    format: Annotated[str, Query(pattern="^(json|text)$", description="json or text")] = "json",
                    _: Annotated[Any, Depends(requester_auth)] = None) -> Any:
    context = _own_request(request, request_id)
    try:
        receipt = context.service.receipt(request_id)
    except UsageError:
        raise ApiError(409, f"request {request_id} has no receipt yet: it is not completed (GET "
                            f"/api/requests/{request_id} shows where it is)") from None
    if format == "text":
        return PlainTextResponse(receipt["text"] + "\n")
    return ReceiptOut(**{key: receipt[key] for key in ("receipt", "signature", "key_id", "public_key", "verified")})


@router.get("/requests/{request_id}/export", tags=["requests"], summary="The access archive (zip)",
            response_class=FileResponse,
            responses={**responses(404, 409, 410, 503),
                       200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "The zip: answer.json and the image files"}})
def request_export(request: Request, request_id: str, _: Annotated[Any, Depends(requester_auth)] = None) -> Any:
    context = _own_request(request, request_id)
    row = context.service.outcome(request_id).row
    if row["kind"] != RequestKind.ACCESS or row["status"] != RequestStatus.COMPLETED:
        raise ApiError(409, "only a completed access request has an archive (GET /api/requests/{id} shows where it is)")
    answer = row["access"] or {}
    archive = answer.get("archive")
    if not archive or not Path(archive).is_file():
        raise ApiError(410, "this archive was deleted (a later deletion request removed the data it held)")
    return FileResponse(archive, media_type="application/zip", filename=f"faircrawl-access-{request_id}.zip")


@router.get("/requests/{request_id}/images/{sha256}", tags=["requests"], summary="One image of an access answer",
            responses={**responses(404, 503), 200: {"content": {"image/*": {"schema": {"type": "string",
                                                                                         "format": "binary"}}},
                                                    "description": "The image file as it was collected"}})
def request_image(request: Request, request_id: str, sha256: str,
                  _: Annotated[Any, Depends(requester_auth)] = None) -> Response:
    context = _own_request(request, request_id)
    answer = context.service.outcome(request_id).row["access"] or {}
    if sha256 not in {image.get("sha256") for image in answer.get("images", [])} - {None}:
        raise not_found("image in this answer")
    with context.database.session() as session:
        stored = session.scalar(select(ImageFile).where(ImageFile.sha256 == sha256))
    if stored is None:
        raise not_found("image in this answer")
    try:
        content = context.service.config.image_store.read(stored.path)
    except OSError:
        raise not_found("image in this answer") from None
    media = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}.get(
        stored.format.upper(), "application/octet-stream")
    return Response(content, media_type=media, headers={"Cache-Control": "no-store"})


@router.get("/receipts/public-key", response_model=PublicKeyOut, tags=["receipts"],
            summary="The Ed25519 public key that checks every receipt")
def public_key(request: Request) -> PublicKeyOut:
    from storage.rights.receipts import key_id, public_key_file

    service = _api(request).service
    key_file = service.config.signing_key_file
    key = service.signing_key()
    return PublicKeyOut(algorithm="Ed25519", public_key=public_key_file(key_file).read_text(encoding="ascii"),
                        key_id=key_id(key.public_key()))


# -- opt-outs -----------------------------------------------------------------------------------------------------


@router.post("/optouts", status_code=201, response_model=OptOutCreated, tags=["opt-outs"],
             summary="Opt a person, an image or a URL out of every future crawl",
             responses=responses(400, 413, 415, 422, 429, 503))
async def add_optout(
    request: Request,
    photo: Annotated[list[UploadFile], File(description="Photos of the person alone: their face templates are "
                                                        "kept (encrypted), never the photos")] = [],  # noqa: B006
    image: Annotated[list[UploadFile], File(description="Images never to collect (by perceptual hash)")] = [],  # noqa: B006
    url: Annotated[list[str], Form(description="Image or page URLs never to collect")] = [],  # noqa: B006
    label: Annotated[str | None, Form(max_length=200, description="A note (stored encrypted)")] = None,
) -> OptOutCreated:
    """One kind per entry, as with `faircrawl optout add`. The answer's token withdraws the entry later."""
    from crawler.api.context import audit_optout
    from crawler.pipelines.validate import validate_image  # the crawl's own loader and hash, as the CLI uses
    from storage.rights.service import _check_url

    context = _api(request)
    urls = [u.strip() for u in url if u.strip()]
    kinds = [name for name, given in (("photo", photo), ("image", image), ("url", urls)) if given]
    if len(kinds) != 1:
        raise ApiError(400, "give photo, image or url: one kind per opt-out (repeat the field for several)")
    photos = await read_images(photo, context.limits, "photo")
    images = await read_images(image, context.limits, "image")
    for one in urls:
        _check_url(one)
    if len(urls) > 100:
        raise ApiError(413, "at most 100 URLs in one opt-out")

    def added() -> tuple[str, int]:
        store = context.suppression()
        try:
            if photos:
                entry, items = store.add_photos(photos, label), len(photos)
            elif images:
                hashes = [validate_image(content, context.limits.max_pixels).perceptual_hash for _, content in images]
                entry, items = store.add_image_hashes(hashes, label), len(hashes)
            else:
                entry, items = store.add_urls(urls, label), len(urls)
        finally:
            store.dispose()
        audit_optout(context, "optout.added", {"entry": entry, "kind": kinds[0], "items": items, "via": "api"})
        return entry, items

    entry, items = await run_in_threadpool(added)
    token = await run_in_threadpool(issue, context.database, TokenSubject.OPTOUT, entry)
    return OptOutCreated(id=entry, token=token, kind={"photo": "face"}.get(kinds[0], kinds[0]), items=items)


@router.delete("/optouts/{optout_id}", response_model=OptOutWithdrawn, tags=["opt-outs"],
               summary="Withdraw an opt-out (its data is deleted; a tombstone remains)", responses=responses(404, 503))
def withdraw_optout(request: Request, optout_id: str, _: Annotated[Any, Depends(requester_auth)] = None,
                    ) -> OptOutWithdrawn:
    from crawler.api.context import audit_optout

    context = _api(request)
    if len(optout_id) > 64 or not opens(context.database, TokenSubject.OPTOUT, optout_id, bearer(request)):
        raise not_found("opt-out")
    store = context.suppression()
    try:
        if any(e.id == optout_id and e.withdrawn_at for e in store.entries()):
            raise not_found("opt-out (it was withdrawn already)")
        removed = store.withdraw(optout_id)
    except LookupError:
        raise not_found("opt-out") from None
    finally:
        store.dispose()
    audit_optout(context, "optout.withdrawn", {"entry": optout_id, **removed, "via": "api"})
    return OptOutWithdrawn(id=optout_id, withdrawn=True, deleted={k: int(v) for k, v in removed.items()})


# -- the operator's -----------------------------------------------------------------------------------------------


@router.get("/requests", response_model=list[RequestSummary], tags=["operator"],
            summary="Every request, oldest first, with filters (operator token)", responses=responses(401, 422, 503))
def list_requests(request: Request,
                  overdue: Annotated[bool, Query(description="Only those past their due date, not completed")] = False,
                  status: Annotated[RequestStatus | None, Query(description="Only requests in this status")] = None,
                  kind: Annotated[RequestKind | None, Query(description="Only deletion or only access")] = None,
                  due_before: Annotated[date | None, Query(description="Only those due before this date")] = None,
                  _: Annotated[Any, Depends(operator_auth)] = None) -> list[RequestSummary]:
    context = _api(request)
    require_operator(request, context.operator_token)
    shown = []
    for outcome in context.service.list(overdue=overdue):
        row = outcome.row
        if status and row["status"] != status or kind and row["kind"] != kind:
            continue
        if due_before and date.fromisoformat(row["due"]) >= due_before:
            continue
        shown.append(RequestSummary(id=row["id"], kind=row["kind"], status=row["status"],
                                    jurisdiction=row["jurisdiction"], due=row["due"], created_at=row["created_at"],
                                    completed_at=row["completed_at"], overdue=row["overdue"], failure=row["failure"],
                                    attempts=row["attempts"],
                                    tasks=[{k: t[k] for k in ("store", "status", "removed")} for t in outcome.tasks]))
    return shown


@router.get("/audit/verify", response_model=AuditCheckOut, tags=["operator"],
            summary="Check the audit log's hash chain (operator token)", responses=responses(401, 503))
def audit_verify(request: Request, _: Annotated[Any, Depends(operator_auth)] = None) -> AuditCheckOut:
    from storage.audit import verify

    context = _api(request)
    require_operator(request, context.operator_token)
    return AuditCheckOut(**verify(context.database).as_dict())


@router.get("/health", response_model=HealthOut, tags=["service"], summary="Liveness and database reachability",
            responses={503: {"model": HealthOut, "description": "The database cannot be reached"}})
def health(request: Request) -> Any:
    from fastapi.responses import JSONResponse

    context = _api(request)
    try:
        with context.database.session() as session:
            session.execute(text("select 1"))
        reachable = True
    except Exception:  # noqa: BLE001 - the answer is the check
        reachable = False
    worker = "running" if context.worker.alive else "stopped"
    body = HealthOut(status="ok" if reachable and worker == "running" else "unavailable",
                     database="reachable" if reachable else "unreachable", worker=worker)
    if body.status != "ok":
        return JSONResponse(body.model_dump(), status_code=503)
    return body
