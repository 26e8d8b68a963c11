"""The HTTP API over the rights service, and the privacy tester's web page (`faircrawl serve`).

    app       the ASGI application: routes, /docs offline, the page, middleware
    routes    the endpoints under /api
    auth      the operator token and bearer tokens (constant-time checks)
    uploads   body and file limits before reading, image checks
    ratelimit per-client limit on filing
    worker    one background thread that runs requests and resumes unfinished ones
    errors    the JSON error shape and the one place exceptions become answers
    server    `faircrawl serve`: settings, service, uvicorn
"""

from crawler.api.app import create_app
from crawler.api.server import build_context, serve

__all__ = ["build_context", "create_app", "serve"]
