"""Serve the whole catalog on one 127.0.0.1 port, routing by host.

The crawler reaches catalog hostnames in test-site mode by using this server as
its HTTP proxy (absolute-form request lines carry the hostname), so nothing is
written to /etc/hosts and the URLs stay realistic (``http://portraits.example.fr/``).
Plain requests with a ``Host`` header work too (``curl -H 'Host: ...'``).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from crawler.testsites.catalog import Catalog, Served


class CatalogResponder:
    """Finds the catalog's answer to a host and path (one place, for both servers below)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._bodies: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def respond(self, host: str, path: str, query: str,
                headers: dict[str, str] | None = None) -> tuple[Served | None, bytes]:
        site = self.catalog.site(host)
        served = None
        if site is not None:
            served = site.responses.get(f"{path}?{query}" if query else path) or site.responses.get(path)
        if served is None:
            return None, f"no such page on the test sites: {host}{path}\n".encode()
        if site is not None and site.admit is not None and path != "/robots.txt":
            refusal = site.admit(headers or {}, f"http://{host}{path}" + (f"?{query}" if query else ""))
            if refusal is not None:
                return Served(status=403, content_type="text/plain; charset=utf-8"), f"{refusal}\n".encode()
        if served.dynamic:
            return served, served.content()
        key = (host, path)
        with self._lock:
            if key not in self._bodies:
                self._bodies[key] = served.content()
            return served, self._bodies[key]


def _target(uri: str, host_header: str) -> tuple[str, str, str]:
    parts = urlsplit(uri)
    if parts.scheme and parts.netloc:  # proxy form: GET http://host/path HTTP/1.1
        host = parts.hostname or ""
    else:
        host = host_header.rsplit(":", 1)[0]
    return host.lower(), parts.path or "/", parts.query


class CatalogResource(Resource):
    """Answers every request from the catalog; unknown hosts and paths get 404."""

    isLeaf = True

    def __init__(self, catalog: Catalog) -> None:
        Resource.__init__(self)  # type: ignore[no-untyped-call]  # twisted.web is untyped
        self.responder = CatalogResponder(catalog)

    def render(self, request: Any) -> bytes | int:  # twisted.web.server.Request (its methods are untyped)
        host, path, query = _target(request.uri.decode("latin-1"), request.getHeader("host") or "")
        headers = {name.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
                   for name, values in request.requestHeaders.getAllRawHeaders()}
        served, body = self.responder.respond(host, path, query, headers)
        if served is None:
            request.setResponseCode(404)
            request.setHeader("content-type", "text/plain; charset=utf-8")
            return body
        if served.abort:
            request.transport.abortConnection()
            return NOT_DONE_YET
        request.setResponseCode(served.status)
        if served.location:
            request.setHeader("location", served.location)
        request.setHeader("content-type", served.content_type)
        for name, value in served.headers:
            request.responseHeaders.addRawHeader(name, value)
        return body


def listen(catalog: Catalog, port: int = 0, interface: str = "127.0.0.1", access_log: Any = None) -> Any:
    """Start serving in the installed reactor (Scrapy's, when inside a crawl); returns its IListeningPort."""
    from twisted.internet import reactor  # imported late: Scrapy must choose the reactor first

    site_class: Any = Site  # twisted's classes are untyped (zope interfaces)
    site = site_class(CatalogResource(catalog))
    site.noisy = False
    site.log = lambda request: None  # no access log: keeps a crawl's output readable
    if access_log is not None:  # `testsites serve --access-log FILE`: "unix-time host path" per request (tests count)
        def log(request: Any) -> None:
            host, path, _ = _target(request.uri.decode("latin-1"), request.getHeader("host") or "")
            with open(access_log, "a", encoding="utf-8") as file:
                file.write(f"{time.time():.3f} {host} {path}\n")

        site.log = log
    tcp: Any = reactor
    return tcp.listenTCP(port, site, interface=interface)


class _QuietServer(ThreadingHTTPServer):
    """A crawler that stops reading (a response over its size limit, a page it refuses midway) resets the
    connection: that is expected, not an error to print a traceback for."""

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def serve_in_thread(catalog: Catalog) -> tuple[str, Callable[[], None]]:
    """Serve the catalog from a stdlib server on a daemon thread (for commands that run no reactor).

    Returns the proxy URL and a function that stops the server.
    """
    responder = CatalogResponder(catalog)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            host, path, query = _target(self.path, self.headers.get("Host", ""))
            headers = {name.lower(): value for name, value in self.headers.items()}
            served, body = responder.respond(host, path, query, headers)
            if served is not None and served.abort:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(served.status if served else 404)
            if served and served.location:
                self.send_header("Location", served.location)
            self.send_header("Content-Type", served.content_type if served else "text/plain; charset=utf-8")
            for name, value in served.headers if served else ():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            return

    server = _QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="testsites", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop
