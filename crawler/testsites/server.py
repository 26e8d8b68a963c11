"""Serve the whole catalog on one 127.0.0.1 port, routing by host.

The crawler reaches catalog hostnames in test-site mode by using this server as
its HTTP proxy (absolute-form request lines carry the hostname), so nothing is
written to /etc/hosts and the URLs stay realistic (``http://portraits.example.fr/``).
Plain requests with a ``Host`` header work too (``curl -H 'Host: ...'``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from twisted.internet.interfaces import IListeningPort
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from crawler.testsites.catalog import Catalog, Served


class CatalogResource(Resource):
    """Answers every request from the catalog; unknown hosts and paths get 404."""

    isLeaf = True

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self._bodies: dict[tuple[str, str], bytes] = {}

    def _target(self, request: Request) -> tuple[str, str, str]:
        uri = request.uri.decode("latin-1")
        parts = urlsplit(uri)
        if parts.scheme and parts.netloc:  # proxy form: GET http://host/path HTTP/1.1
            host = parts.hostname or ""
        else:
            host = (request.getHeader("host") or "").rsplit(":", 1)[0]
        return host.lower(), parts.path or "/", parts.query

    def render(self, request: Request) -> bytes | int:
        host, path, query = self._target(request)
        site = self.catalog.site(host)
        served: Served | None = None
        if site is not None:
            served = site.responses.get(f"{path}?{query}" if query else path) or site.responses.get(path)
        if site is None or served is None:
            request.setResponseCode(404)
            request.setHeader("content-type", "text/plain; charset=utf-8")
            return f"no such page on the test sites: {host}{path}\n".encode()
        if served.abort:
            request.transport.abortConnection()  # type: ignore[union-attr]
            return NOT_DONE_YET
        request.setResponseCode(served.status)
        if served.location:
            request.setHeader("location", served.location)
        request.setHeader("content-type", served.content_type)
        for name, value in served.headers:
            request.responseHeaders.addRawHeader(name, value)
        key = (host, path)
        if key not in self._bodies:
            self._bodies[key] = served.content()
        return self._bodies[key]


def listen(catalog: Catalog, port: int = 0, interface: str = "127.0.0.1") -> IListeningPort:
    """Start serving in the installed reactor (Scrapy's, when inside a crawl); returns the port."""
    from twisted.internet import reactor  # imported late: Scrapy must choose the reactor first

    site = Site(CatalogResource(catalog))
    site.noisy = False
    site.log = lambda request: None  # no access log: keeps a crawl's output readable
    return reactor.listenTCP(  # type: ignore[attr-defined]
        port, site, interface=interface)
