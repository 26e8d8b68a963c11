"""`faircrawl serve`: the HTTP API on uvicorn, one process, over the same settings as every other command."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crawler.settings import check_settings, setting
from policy.errors import UsageError


def build_context(settings: Any, notify: Callable[[str], None]) -> tuple[Any, Any]:
    """The rights service (with one PersonSearch for the server's lifetime), the worker and the context."""
    from crawler.api.auth import operator_token
    from crawler.api.context import ApiContext
    from crawler.api.ratelimit import RateLimiter
    from crawler.api.uploads import UploadLimits
    from crawler.api.worker import RequestWorker
    from crawler.startup import rights_service
    from storage.rights.search import PersonSearch

    check_settings(settings)
    token = operator_token(Path(setting(settings, "FAIRCRAWL_API_TOKEN_FILE")))
    service = rights_service(settings, notify)
    config = service.config
    # The server's one search: it keeps persisted templates in memory between requests, and a deletion that
    # removes templates drops them from it (the service calls its forget()).
    config.search = PersonSearch(config.database, config.image_store, config.fernet, model=config.face_model,
                                 max_side=config.face_max_side, max_pixels=config.max_pixels,
                                 workers=config.face_workers)
    worker = RequestWorker(service)
    config.progress = worker.progress
    context = ApiContext(
        service=service, operator_token=token.value,
        limits=UploadLimits(setting(settings, "FAIRCRAWL_API_MAX_FILES"), setting(settings, "FAIRCRAWL_API_MAX_UPLOAD_BYTES"),
                            setting(settings, "FAIRCRAWL_IMAGE_MAX_PIXELS")),
        limiter=RateLimiter(setting(settings, "FAIRCRAWL_API_RATE_LIMIT"), setting(settings, "FAIRCRAWL_API_RATE_WINDOW")),
        worker=worker, suppression_url=setting(settings, "FAIRCRAWL_SUPPRESSION_DB"), notify=notify)
    return context, token


def serve(settings: Any, notify: Callable[[str], None], echo: Callable[[str], None]) -> None:
    """Bind, say where the server and the operator token are, and serve until Ctrl-C or SIGTERM."""
    import uvicorn

    from crawler.api.app import create_app
    from crawler.optouts import open_suppression_store

    host, port = setting(settings, "FAIRCRAWL_API_HOST"), setting(settings, "FAIRCRAWL_API_PORT")
    context, token = build_context(settings, notify)
    open_suppression_store(settings).dispose()  # a wrong key or an unreadable list stops the server here
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port} ({error.strerror or error}); choose another --port "
                         "(or FAIRCRAWL_API_PORT)") from None
    bound = listening.getsockname()[1]
    address = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
    echo(f"faircrawl API serving at {address}  (page {address}/, API docs {address}/docs; Ctrl-C stops)")
    if token.source == "FAIRCRAWL_API_TOKEN":
        echo("operator token: from FAIRCRAWL_API_TOKEN")
    else:
        echo(f"operator token: in {token.source}" + (" (made now, mode 0600)" if token.created else "")
             + f"; e.g. curl -H \"Authorization: Bearer $(cat {token.source})\" {address}/api/requests")
    echo("requests run in the background on one worker thread; unfinished ones resume at start-up")
    app = create_app(context)
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=True, server_header=False,
                                           timeout_graceful_shutdown=5))
    server.run(sockets=[listening])
