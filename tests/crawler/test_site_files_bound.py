"""The site-file cache keeps a bounded number of origins (issue 12): a crawl across many hosts stays bounded.

The least recently used origin goes first and is fetched again when asked for;
the consent gate's fake network and clock are those of test_consent_gate.py.
"""

from __future__ import annotations

from tests.crawler.test_consent_gate import OK, allowed, gate_setup, robots_fetches

__all__ = ["gate_setup"]  # the fixture, shared


def test_the_least_recently_used_origin_is_dropped_and_fetched_again(gate_setup) -> None:  # type: ignore[no-untyped-def]
    gate, _clock, attach = gate_setup
    network = attach({f"http://{host}.example/robots.txt": OK for host in "abc"})
    gate.runtime.site_files.max_origins = 2

    assert allowed(gate, "http://a.example/1") and allowed(gate, "http://b.example/1")
    assert allowed(gate, "http://a.example/2")  # a is now the most recently used
    assert allowed(gate, "http://c.example/1")  # over the bound: b goes
    assert allowed(gate, "http://a.example/3") and allowed(gate, "http://b.example/2")

    assert robots_fetches(network) == ["http://a.example/robots.txt", "http://b.example/robots.txt",
                                       "http://c.example/robots.txt", "http://b.example/robots.txt"]
    assert not allowed(gate, "http://b.example/no/x"), "the refetched rules still apply"
