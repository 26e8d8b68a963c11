"""The ASGI application: the API under /api, OpenAPI at /openapi.json, Swagger UI at /docs (its assets served
from the fastapi-offline package: no network), and the privacy tester's page at /."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawler.api import errors
from crawler.api.context import ApiContext
from crawler.api.errors import error_response
from crawler.api.routes import router
from crawler.api.uploads import BodyLimit

PAGE_DIR = Path(__file__).with_name("page")
#: The endpoints that file something: the ones the per-client rate limit counts.
FILING_PATHS = frozenset({"/api/requests", "/api/optouts"})
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class FilingRateLimit:
    """Per-client limit on POSTs that file a request or an opt-out, checked before the body is read."""

    def __init__(self, app: ASGIApp, context: ApiContext) -> None:
        self.app, self.context = app, context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path") in FILING_PATHS:
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.context.limiter.check(str(client))
            if wait is not None:
                limiter = self.context.limiter
                response = error_response(429, f"too many requests from this address: at most {limiter.limit} every "
                                               f"{limiter.window:g} s; try again in {wait} s",
                                          headers={"Retry-After": str(wait)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """No sniffing, no referrer, no caching of anything personal; the page may load only its own files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                if not path.startswith("/docs"):  # Swagger UI's page starts itself with an inline script
                    headers += [(b"content-security-policy", PAGE_POLICY.encode()), (b"x-frame-options", b"DENY")]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def swagger_assets() -> Path:
    return Path(str(resources.files("fastapi_offline") / "static"))


def create_app(context: ApiContext, start_worker: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            resumed = context.worker.start()
            if resumed and context.notify:
                context.notify(f"resuming {len(resumed)} unfinished rights request(s)")
        yield
        context.worker.stop()

    app = FastAPI(
        title="faircrawl rights API", version="1",
        description="Deletion and access requests and opt-outs for people whose photos a faircrawl crawl may hold. "
                    "A requester sees only their own request, with the token they were given; the operator's "
                    "endpoints need the operator token. Errors are `{\"error\": {\"code\", \"message\"}}`.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    app.state.api = context
    errors.install(app)
    app.include_router(router)
    app.mount("/docs-assets", StaticFiles(directory=swagger_assets()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="faircrawl rights API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(PAGE_DIR / "index.html", media_type="text/html; charset=utf-8")

    for name, media in (("page.js", "text/javascript; charset=utf-8"), ("page.css", "text/css; charset=utf-8")):
        def asset(name: str = name, media: str = media) -> FileResponse:
            return FileResponse(PAGE_DIR / name, media_type=media)

        app.add_api_route(f"/{name}", asset, include_in_schema=False, methods=["GET"])

    app.add_middleware(FilingRateLimit, context=context)
    app.add_middleware(BodyLimit, limits=context.limits)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(errors.CatchAll)
    return app
