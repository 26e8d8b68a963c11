"""The rights search engines on real faces and a real SQLite store: the template index and re-encoding from boxes."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select

from crawler.testsites.images import landscape
from crawler.testsites.photos import face_photo
from crawler.testsites.sites_rights import group_photo, variant
from faces.detect import detect_faces
from faces.encode import encode_faces
from storage import Database
from storage.image_store import ImageStore
from storage.models import CrawlRun, DecisionRecord, FaceRecord, FaceTemplate, ImageFile
from storage.rights.search import PersonSearch
from tests.leaks import assert_no_biometric_data, needles

THRESHOLD = 0.6


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened = Database(f"sqlite:///{tmp_path}/f.db")
    opened.upgrade()
    now = datetime.now(UTC)
    with opened.session() as session, session.begin():
        session.add(CrawlRun(id="r1", started_at=now, status="finished", policy_name="lawful", policy_revision="x",
                             product_token="faircrawl", testsites=True, start_urls=[]))
        session.add(DecisionRecord(id="d1", run_id="r1", decided_at=now, kind="image", outcome="stored",
                                   url="http://a/", reasons=[], policy_revision="x", signals={}, matched_rules=[],
                                   effect="allow", obligations={}, citations=[]))
    yield opened
    opened.dispose()


@pytest.fixture(scope="module")
def probe() -> np.ndarray:
    """obama2.jpg: not one of the stored photos, the same person as obama.jpg and obama3.jpg."""
    return encode_faces(face_photo("obama2.jpg"))[0]


def _template(fernet: Fernet, sha256: str, encoding: np.ndarray) -> FaceTemplate:
    now = datetime.now(UTC)
    return FaceTemplate(decision_id="d1", run_id="r1", image_sha256=sha256, face_index=0, box=[], landmark_model="small",
                        ciphertext=fernet.encrypt(encoding.astype(np.float32).tobytes()), allowed_by=["x"],
                        created_at=now, retention_until=now + timedelta(days=30))


def _store(database: Database, store: ImageStore, body: bytes, *, boxes: bool | None) -> str:
    """Store an image; ``boxes``: True records its detected boxes, False records "searched, no face", None never."""
    sha256 = hashlib.sha256(body).hexdigest()
    path = store.put(body, sha256, "JPEG")
    now = datetime.now(UTC)
    with database.session() as session, session.begin():
        session.add(ImageFile(sha256=sha256, path=path, byte_size=len(body), format="JPEG", width=1, height=1,
                              first_stored_at=now, faces_searched_at=None if boxes is None else now,
                              faces_search_complete=None if boxes is None else True))
        session.flush()
        if boxes:
            for index, box in enumerate(detect_faces(body).boxes):
                session.add(FaceRecord(image_sha256=sha256, face_index=index, top=box.top, right=box.right,
                                       bottom=box.bottom, left=box.left, detector="hog", landmark_model="small",
                                       found_at=now))
    return sha256


def test_templates_are_found_below_the_threshold_only(database: Database, tmp_path: Path, probe: np.ndarray) -> None:
    fernet = Fernet(Fernet.generate_key())
    with database.session() as session, session.begin():
        session.add_all([_template(fernet, "a" * 64, encode_faces(face_photo("obama.jpg"))[0]),
                         _template(fernet, "b" * 64, encode_faces(face_photo("biden.jpg"))[0])])
    search = PersonSearch(database, ImageStore(tmp_path / "images"), fernet)
    hits = search.templates([probe], THRESHOLD)
    assert [hit.image_sha256 for hit in hits] == ["a" * 64] and 0 < hits[0].distance < 0.5
    assert search.template_count == 2
    assert search.templates([probe], 0.1) == []
    assert set(search.last_timings) >= {"templates_load", "templates_search"}


def test_forget_drops_from_memory_and_new_or_deleted_templates_are_picked_up(
        database: Database, tmp_path: Path, probe: np.ndarray) -> None:
    fernet = Fernet(Fernet.generate_key())
    obama = encode_faces(face_photo("obama.jpg"))[0]
    with database.session() as session, session.begin():
        session.add_all([_template(fernet, "a" * 64, obama), _template(fernet, "b" * 64,
                                                                        encode_faces(face_photo("biden.jpg"))[0])])
    search = PersonSearch(database, ImageStore(tmp_path / "images"), fernet)
    first = search.templates([probe], THRESHOLD)
    assert search.forget({first[0].template_id, 999}) == 1 and search.template_count == 1
    assert search.forget({first[0].template_id}) == 0
    assert not np.any(np.all(np.isclose(search.index.matrix, obama), axis=1))  # overwritten, not hidden
    assert search.templates([probe], THRESHOLD) == []  # not loaded again: the service deletes its row

    with database.session() as session, session.begin():  # a crawl persists another template: loaded incrementally
        session.add(_template(fernet, "c" * 64, encode_faces(face_photo("obama3.jpg"))[0]))
    assert [hit.image_sha256 for hit in search.templates([probe], THRESHOLD)] == ["c" * 64]
    assert search.template_count == 2
    search.prune_interval = 0  # (normally checked once a minute)
    with database.session() as session, session.begin():  # expiry deletes it elsewhere: dropped at the next search
        session.execute(delete(FaceTemplate).where(FaceTemplate.image_sha256 == "c" * 64))
    assert search.templates([probe], THRESHOLD) == [] and search.template_count == 1


def test_the_index_search_is_exact_against_brute_force() -> None:
    from storage.rights.template_index import SEARCH_CHUNK, TemplateIndex

    rng = np.random.default_rng(3)
    vectors = rng.normal(0, 0.09, (SEARCH_CHUNK + 500, 128)).astype(np.float32)
    probes = vectors[[5, SEARCH_CHUNK + 7]] + rng.normal(0, 0.02, (2, 128)).astype(np.float32)
    index = TemplateIndex()
    index.add(np.arange(1, 1001), vectors[:1000])
    index.add(np.arange(1001, len(vectors) + 1), vectors[1000:])  # grows
    found = {(template_id, probe) for template_id, probe, _ in index.search(probes, 1.2)}
    expected = {(int(row) + 1, probe) for probe in range(2)
                for row in np.flatnonzero(np.linalg.norm(vectors - probes[probe], axis=1) < 1.2)}
    assert found == expected and len(expected) > 2


def test_stored_faces_are_re_encoded_from_their_boxes_and_unsearched_images_detected_once(
        database: Database, tmp_path: Path, probe: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    store = ImageStore(tmp_path / "images")
    group = _store(database, store, group_photo()(), boxes=True)  # obama among others
    biden = _store(database, store, face_photo("biden.jpg"), boxes=True)
    _store(database, store, landscape(4), boxes=False)
    old = _store(database, store, variant("obama3.jpg", 0.6, mirror=True)(), boxes=None)  # stored before boxes
    broken = _store(database, store, face_photo("obama.jpg")[:5000], boxes=None)  # truncated
    gone = _store(database, store, landscape(5), boxes=None)
    (store.root / store.relative_path(gone, "JPEG")).unlink()
    messages: list[str] = []
    search = PersonSearch(database, store, Fernet(Fernet.generate_key()), workers=2)
    with caplog.at_level(logging.DEBUG):
        result = search.stored_faces([probe], THRESHOLD, messages.append)

    assert {hit.image_sha256 for hit in result.hits} == {group, old}
    assert all(hit.distance < 0.5 for hit in result.hits) and biden not in {hit.image_sha256 for hit in result.hits}
    group_hit = next(hit for hit in result.hits if hit.image_sha256 == group)
    with database.session() as session:
        assert session.get(FaceRecord, group_hit.face_id) is not None
        recorded = session.scalars(select(FaceRecord).where(FaceRecord.image_sha256 == old)).all()
        assert len(recorded) == 1 and session.get(ImageFile, old).faces_searched_at is not None  # type: ignore[union-attr]
    assert sorted(result.unsearched) == sorted([broken, gone])
    assert result.images_searched == 3 and result.faces_searched == 4 and result.images_detected == 1
    assert messages and "4 face(s)" in messages[-1] and "2 unreadable" in messages[-1]
    assert "stored_faces" in search.last_timings
    assert multiprocessing.active_children() == []  # the workers are gone
    leaked = needles([probe])
    for text in [*messages, caplog.text]:
        assert_no_biometric_data("search output", text, leaked)

    again = search.stored_faces([probe], THRESHOLD)  # boxes are recorded now: nothing is detected again
    assert again.images_detected == 0 and {hit.image_sha256 for hit in again.hits} == {group, old}
    assert multiprocessing.active_children() == []
