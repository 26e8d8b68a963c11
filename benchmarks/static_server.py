"""Serve a folder on 127.0.0.1 with twisted.web.static.File; prints the port, then serves.

Run as its own process (``python -m benchmarks.static_server DIR``) so the
server never shares an event loop or a CPU-time budget with the crawler under
test. No access log: writing 6000 log lines would cost the server more than
serving. SIGTERM stops it (Twisted's default handler).
"""

from __future__ import annotations

import argparse

from twisted.internet import reactor
from twisted.web.server import Site
from twisted.web.static import File


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", help="folder to serve")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    site = Site(File(args.root))
    site.log = lambda request: None  # type: ignore[method-assign]
    site.noisy = False
    listening = reactor.listenTCP(args.port, site, interface="127.0.0.1")  # type: ignore[attr-defined]
    print(listening.getHost().port, flush=True)
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
