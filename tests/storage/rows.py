"""Rows as the crawl hands them to the background writer (see crawler/recording.py)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import Database
from storage.models import CrawlRun

WHEN = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def decision_row(decision_id: str, run_id: str = "r1", kind: str = "image", outcome: str = "stored") -> dict[str, Any]:
    return {"id": decision_id, "run_id": run_id, "decided_at": WHEN, "fetched_at": WHEN, "kind": kind,
            "outcome": outcome, "url": f"http://a.example/{decision_id}.jpg", "final_url": None, "page_url": None,
            "reasons": [{"source": "policy", "code": "x", "detail": "y", "evidence": {}}],
            "policy_revision": "lawful@x", "jurisdiction": "FR", "jurisdiction_source": "cctld: .fr",
            "signals": {"robots.allowed": True}, "matched_rules": ["r"], "effect": "allow",
            "obligations": {"templates": "persist"}, "citations": ["GDPR Art. 6(1)"], "breaches": [],
            "policy_summary": None}


def template_row(decision_id: str, ciphertext: bytes, run_id: str = "r1") -> dict[str, Any]:
    return {"decision_id": decision_id, "run_id": run_id, "image_sha256": "a" * 64, "face_index": 0,
            "box": [1, 2, 3, 4], "ciphertext": ciphertext, "landmark_model": "small", "allowed_by": ["rule"],
            "created_at": WHEN, "retention_until": WHEN + timedelta(days=365)}


def site_row(origin: str, note: str, run_id: str = "r1") -> dict[str, Any]:
    return {"run_id": run_id, "origin": origin, "robots_url": f"{origin}/robots.txt", "robots_availability": "parsed",
            "robots_note": note, "crawl_delay_seconds": None, "fetched_at": WHEN, "tdmrep_state": "absent: HTTP 404",
            "ai_txt_state": "absent: HTTP 404"}


def add_run(database: Database, run_id: str = "r1", **process: Any) -> None:
    """A run row written directly, as a crawl of any host and process could have left it."""
    with database.session() as session, session.begin():
        session.add(CrawlRun(id=run_id, started_at=WHEN, status="running", policy_name="lawful",
                             policy_revision="lawful@x", product_token="faircrawl", testsites=True, start_urls=[],
                             **process))


def unreachable_postgres_url() -> str:
    """A real PostgreSQL URL on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return f"postgresql+psycopg://nobody@127.0.0.1:{port}/none?connect_timeout=1"
