"""Persisted templates past their retention are deleted, with an audit event, by `faircrawl maintenance expire`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage import Database
from storage.models import AuditEntry, CrawlRun, DecisionRecord, FaceTemplate
from tests.conftest import run_faircrawl


def _template(decision_id: str, days_left: int) -> FaceTemplate:
    now = datetime.now(UTC)
    return FaceTemplate(decision_id=decision_id, run_id="r1", image_sha256="a" * 64, face_index=0, box=[1, 2, 3, 4],
                        ciphertext=b"token", landmark_model="small", allowed_by=["x"], created_at=now,
                        retention_until=now + timedelta(days=days_left))


def test_expire_deletes_only_templates_past_retention_and_records_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/f.db"
    database = Database(url)
    database.upgrade()
    with database.session() as session, session.begin():
        session.add(CrawlRun(id="r1", started_at=datetime.now(UTC), status="finished", policy_name="lawful",
                             policy_revision="x", product_token="faircrawl", testsites=True, start_urls=[]))
        session.add(DecisionRecord(id="d1", run_id="r1", decided_at=datetime.now(UTC), kind="image", outcome="stored",
                                   url="http://a/", reasons=[], policy_revision="x", signals={}, matched_rules=[],
                                   effect="allow", obligations={}, citations=[]))
        session.flush()
        session.add_all([_template("d1", -1), _template("d1", -30), _template("d1", 10)])
    expired = run_faircrawl("maintenance", "expire", "--db", url)
    assert expired.returncode == 0 and "2 face template(s) past retention deleted" in expired.stdout
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(FaceTemplate)) == 1
        event = session.scalars(select(AuditEntry)).one()
        assert event.action == "templates.expired" and event.details["removed"] == 2
    database.dispose()
