"""Filing, running, resuming and answering rights requests: the one service the CLI and the HTTP API share.

``file`` checks the request (at least one identifier; every probe photo shows
exactly one face; URLs that parse; a known jurisdiction), stores it with its
deadline and its probe templates (encrypted), puts the person's face on the
suppression list at once as a pending block (so a crawl running meanwhile
stores nothing more of them), and records the ``received`` checkpoint. ``run``
takes a request from wherever it stopped through its checkpoints, each one
committed with its audit entry before the next begins. A request that fails is
kept with its reason and retried by ``resume``; probe templates are destroyed
when a request completes or has failed for good.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select

from policy.errors import UsageError
from policy.jurisdiction import UNKNOWN, is_known_code
from policy.rights_law import deadline_for
from storage.audit import append_in
from storage.connecting import translated
from storage.database import Database
from storage.image_store import ImageStore
from storage.keys import decrypt
from storage.models import RightsProbe, RightsReceipt, RightsRequest, RightsTask
from storage.rights import access, receipts
from storage.rights.deletion import TASKS, DeletionContext, answers_naming, leftovers
from storage.rights.identify import Found, Subject, find
from storage.rights.model import (
    CHECKPOINTS,
    DELETION_ORDER,
    LAWFUL_PRACTICE,
    UNFINISHED,
    RequestKind,
    RequestStatus,
    RightsPractice,
    Store,
    TaskStatus,
    iso,
)
from storage.rights.search import PersonSearch
from storage.suppression import SuppressionStore, probe_templates, url_digest

logger = logging.getLogger(__name__)

#: A request that has failed this many times has failed for good: its probe templates are destroyed.
MAX_ATTEMPTS = 3
#: Rounds of identify-delete-verify before a deletion that keeps finding something is failed.
VERIFY_ROUNDS = 2

#: An access answer matches faces at face_recognition's own threshold, whatever FAIRCRAWL_MATCH_THRESHOLD says:
#: a looser one (more protective for opt-outs and deletions) would hand the requester other people's photos.
ACCESS_MATCH_THRESHOLD = 0.6


@dataclass(slots=True)
class RightsConfig:
    """Where the stores are and how to search them: the same settings as every other command."""

    database: Database
    image_store: ImageStore
    fernet: Fernet
    suppression_url: str
    signing_key_file: Path
    match_threshold: float
    report_dirs: list[Path]
    archive_dir: Path
    face_model: str = "hog"
    face_max_side: int = 1024
    max_pixels: int = 40_000_000
    face_workers: int | None = None
    crash_after: str = ""  # testing aid: SIGKILL this process right after this checkpoint or task commits
    progress: Callable[[str], None] | None = None
    search: PersonSearch | None = None  # a long-running server's, holding its template index
    practice: RightsPractice = LAWFUL_PRACTICE  # how this store's pack answers (only a demo pack limits it)


@dataclass(slots=True)
class Outcome:
    """A request as the CLI and the API show it."""

    row: dict[str, Any]
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.row["status"])


class RightsService:
    def __init__(self, config: RightsConfig) -> None:
        self.config = config
        self.database = config.database

    # -- filing -------------------------------------------------------------------------------------------

    def file(self, kind: RequestKind, *, photos: Sequence[tuple[str, bytes]] = (), urls: Sequence[str] = (),
             page_urls: Sequence[str] = (), jurisdiction: str | None = None, optout: bool = False) -> str:
        """Check and store a request (the ``received`` checkpoint); returns its id. Nothing is stored if it is bad."""
        if not (photos or urls or page_urls):
            raise UsageError("a request needs at least one of --photo, --url or --page-url to find the person by")
        for url in (*urls, *page_urls):
            _check_url(url)
        code = (jurisdiction or UNKNOWN).upper()
        if not is_known_code(code):
            raise UsageError(f"unknown jurisdiction {jurisdiction!r}: use an ISO 3166 code (FR), a subdivision "
                             "(US-CA), EU or UNKNOWN")
        if optout and kind is not RequestKind.DELETION:
            raise UsageError("--optout goes with a deletion request (\"delete me and never collect me again\")")
        self.signing_key()  # a request that could not get its receipt signed is not taken
        templates = probe_templates(list(photos))  # exactly one face per photo, or a ProbeError naming it
        now = datetime.now(UTC)
        deadline = deadline_for(code)
        request_id = uuid.uuid4().hex
        subject = {"urls": list(urls), "page_urls": list(page_urls), "photos": len(photos),
                   "url_digests": sorted({url_digest(u) for u in (*urls, *page_urls)})}
        optout_id = self._pending_block(request_id, templates) if kind is RequestKind.DELETION and templates else None
        with translated(self.database.target), self.database.session() as session, session.begin():
            session.add(RightsRequest(
                id=request_id, kind=kind.value, status=RequestStatus.RECEIVED.value, jurisdiction=code,
                jurisdiction_source="given" if jurisdiction else "unknown", due=deadline.due(now.date()),
                created_at=now, updated_at=now, optout=optout, subject=subject, attempts=0, optout_id=optout_id))
            session.flush()
            for template in templates:
                session.add(RightsProbe(request_id=request_id, created_at=now, ciphertext=self.config.fernet.encrypt(
                    np.asarray(template, np.float32).tobytes())))
            append_in(session, "rights.received", {"request": request_id, "kind": kind.value, "jurisdiction": code,
                                                   "due": deadline.due(now.date()).isoformat(), "probes": len(templates),
                                                   "urls": len(urls), "page_urls": len(page_urls),
                                                   "pending_face_block": optout_id})
        self._maybe_crash(RequestStatus.RECEIVED.value)
        return request_id

    def _pending_block(self, request_id: str, templates: list[np.ndarray]) -> str:
        """The person's face on the suppression list from now on, so a crawl running meanwhile stores nothing more."""
        store = SuppressionStore(self.config.suppression_url, self.config.fernet)
        try:
            return store.add_faces(templates, f"deletion request {request_id} (pending)")
        finally:
            store.dispose()

    # -- running ------------------------------------------------------------------------------------------

    def run(self, request_id: str) -> Outcome:
        """Take the request through its remaining checkpoints; returns it as it ended (completed or failed)."""
        request = self._row(request_id)
        if request.status in (RequestStatus.COMPLETED, RequestStatus.REFUSED):
            return self.outcome(request_id)  # repeating a finished request changes nothing
        with self.database.session() as session, session.begin():
            row = session.get(RightsRequest, request_id)
            assert row is not None
            row.attempts += 1
            if row.status == RequestStatus.FAILED:
                row.status = self._resume_point(row).value
        try:
            if request.kind == RequestKind.DELETION:
                self._run_deletion(request_id)
            else:
                self._run_access(request_id)
        except Exception as error:  # noqa: BLE001 - the request keeps its reason and can be resumed
            logger.error("rights request %s failed: %s", request_id, type(error).__name__)
            self._fail(request_id, f"{type(error).__name__}: {error}")
        return self.outcome(request_id)

    def resume(self, request_id: str | None = None) -> list[Outcome]:
        """Run one unfinished request, or every one."""
        ids = [request_id] if request_id else self.unfinished()
        return [self.run(one) for one in ids]

    def unfinished(self) -> list[str]:
        with translated(self.database.target), self.database.session() as session:
            return list(session.scalars(select(RightsRequest.id).where(RightsRequest.status.in_(
                [s.value for s in UNFINISHED])).where(RightsRequest.attempts < MAX_ATTEMPTS)
                .order_by(RightsRequest.created_at)))

    def _resume_point(self, row: RightsRequest) -> RequestStatus:
        """Where a failed request starts again: after the last checkpoint it reached (kept in ``answer``)."""
        reached = (row.answer or {}).get("reached")
        return RequestStatus(reached) if reached else RequestStatus.RECEIVED

    def _subject(self, request_id: str) -> Subject:
        with self.database.session() as session:
            row = session.get(RightsRequest, request_id)
            assert row is not None
            probes = [np.frombuffer(decrypt(self.config.fernet, p.ciphertext, "a probe template"), dtype=np.float32)
                      for p in session.scalars(select(RightsProbe).where(RightsProbe.request_id == request_id))]
            return Subject(probes, list(row.subject.get("urls", [])), list(row.subject.get("page_urls", [])))

    def _search(self) -> PersonSearch:
        if self.config.search is None:
            self.config.search = PersonSearch(
                self.database, self.config.image_store, self.config.fernet, model=self.config.face_model,
                max_side=self.config.face_max_side, max_pixels=self.config.max_pixels, workers=self.config.face_workers)
        return self.config.search

    def _find(self, request_id: str) -> Found:
        subject = self._subject(request_id)
        if self.config.progress:
            self.config.progress(f"searching for the person ({len(subject.probes)} probe template(s), "
                                 f"{len(subject.urls)} URL(s), {len(subject.page_urls)} page URL(s))")
        threshold = self.config.match_threshold
        if self._row(request_id).kind == RequestKind.ACCESS.value:
            threshold = min(threshold, ACCESS_MATCH_THRESHOLD)
        return find(self.database, self.config.image_store, subject, self.config.fernet, threshold,
                    self._search(), self.config.progress, self.config.suppression_url)

    def _checkpoint(self, request_id: str, status: RequestStatus, details: dict[str, Any],
                    **values: Any) -> None:
        """Commit a checkpoint and its audit entry together, then (testing aid) maybe crash right after it."""
        now = datetime.now(UTC)
        with self.database.session() as session, session.begin():
            row = session.get(RightsRequest, request_id)
            assert row is not None
            row.status, row.updated_at = status.value, now
            row.answer = {**(row.answer or {}), "reached": status.value, **values.pop("answer", {})}
            for name, value in values.items():
                setattr(row, name, value)
            if status is RequestStatus.COMPLETED:
                row.completed_at, row.failure = now, None
            append_in(session, f"rights.{status.value}", {"request": request_id, **details})
        self._maybe_crash(status.value)

    def _identify(self, request_id: str) -> Found:
        found = self._find(request_id)
        self._checkpoint(request_id, RequestStatus.IDENTIFIED, found.counts(), identified=found.as_json())
        return found

    def _found(self, request_id: str) -> Found:
        identified = self._row(request_id).identified
        assert identified is not None
        return Found.from_json(identified)

    # -- deletion -----------------------------------------------------------------------------------------

    def _refuse(self, request_id: str, why: str, breaches: tuple[str, ...], answer: dict[str, Any] | None = None) -> None:
        """End a request refused, as an unlawful practice does, recording what that breaches (signed all the same)."""
        self._destroy_probes(request_id, keep_face_optout=False)
        self._checkpoint(request_id, RequestStatus.REFUSED, {"breaches": list(breaches)},
                         answer={"refused": why, "breaches": list(breaches), **(answer or {})})
        self._sign(request_id, self._receipt_body(request_id))

    def _run_deletion(self, request_id: str) -> None:
        practice = self.config.practice
        if practice.deletion == "refused" and self._row(request_id).status == RequestStatus.RECEIVED:
            self._refuse(request_id, "erasure is not honoured by this store's practice",
                         practice.breaches.get("deletion", ()))
            return
        for _ in range(VERIFY_ROUNDS + 1):
            status = RequestStatus(self._row(request_id).status)
            if status is RequestStatus.RECEIVED:
                self._identify(request_id)
                status = RequestStatus.IDENTIFIED
            if status is RequestStatus.IDENTIFIED:
                self._delete_everywhere(request_id)
                status = RequestStatus.DELETED
            if status is RequestStatus.DELETED:
                remaining = self._verify(request_id)
                if remaining is None:
                    status = RequestStatus.VERIFIED
                else:  # something was stored meanwhile, or a store did not let go: another round
                    self._reset_tasks(request_id)
                    self._checkpoint(request_id, RequestStatus.IDENTIFIED, {"again": True, **remaining.counts()},
                                     identified=remaining.as_json())
                    continue
            if status is RequestStatus.VERIFIED:
                self._complete(request_id)
            return
        found = self._found(request_id)
        raise RuntimeError(f"after {VERIFY_ROUNDS + 1} rounds the person's data is still found: "
                           + ", ".join(f"{n} {what}" for what, n in found.counts().items() if n))

    def _delete_everywhere(self, request_id: str) -> None:
        request = self._row(request_id)
        found = self._found(request_id)
        index_held = hasattr(self.config.search, "forget")
        ctx = DeletionContext(request_id, self.database, self.config.image_store, found, self._subject(request_id),
                              self.config.fernet, self.config.suppression_url, request.optout, self.config.report_dirs,
                              self._drop_from_index if index_held else None)
        for store in DELETION_ORDER:
            task = self._task(request_id, store)
            if task["status"] in (TaskStatus.COMPLETED, TaskStatus.SKIPPED):
                continue
            ctx.previous_items = list(task["items"])
            outcome = TASKS[store](ctx)
            status = TaskStatus.SKIPPED if outcome.skipped else TaskStatus.COMPLETED
            now = datetime.now(UTC)
            with self.database.session() as session, session.begin():
                row = session.scalars(select(RightsTask).where(RightsTask.request_id == request_id,
                                                               RightsTask.store == store.value)).one()
                row.status, row.removed, row.items, row.note, row.finished_at = (
                    status.value, outcome.removed, outcome.items, outcome.note, now)
                append_in(session, "rights.task", {"request": request_id, "store": store.value,
                                                   "status": status.value, "removed": outcome.removed})
            self._maybe_crash(f"task:{store.value}")
        self._checkpoint(request_id, RequestStatus.DELETED, {"tasks": len(DELETION_ORDER)})

    def _task(self, request_id: str, store: Store) -> dict[str, Any]:
        with self.database.session() as session, session.begin():
            row = session.scalars(select(RightsTask).where(RightsTask.request_id == request_id,
                                                           RightsTask.store == store.value)).first()
            if row is None:
                row = RightsTask(request_id=request_id, store=store.value, status=TaskStatus.PENDING.value, removed=0,
                                 items=[], started_at=datetime.now(UTC))
                session.add(row)
                session.flush()
            return {"status": row.status, "items": list(row.items)}

    def _reset_tasks(self, request_id: str) -> None:
        """Another round: each store's task runs again and adds what it removes to what it removed before."""
        with self.database.session() as session, session.begin():
            for row in session.scalars(select(RightsTask).where(RightsTask.request_id == request_id)):
                row.status = TaskStatus.PENDING.value

    def _drop_from_index(self, template_ids: set[int]) -> int:
        forget = getattr(self.config.search, "forget", None)
        return int(forget(template_ids)) if forget is not None else 0

    def _verify(self, request_id: str) -> Found | None:
        """Search again with the same probes and URLs, and look for the files and report entries that were found;
        None when nothing is left (the ``verified`` checkpoint)."""
        deleted = self._found(request_id)
        found = self._find(request_id)
        searched = {**found.searched, "urls": len(self._subject(request_id).urls), "files": len(deleted.sha256)}
        left = [*leftovers(deleted, self.config.image_store, self.config.report_dirs),
                *answers_naming(self.database, deleted, request_id)]
        if left:
            raise RuntimeError(f"the deletion left {len(left)} item(s) outside the database: {', '.join(left[:5])}")
        if found.empty and not found.unsearched:
            self._checkpoint(request_id, RequestStatus.VERIFIED, {"passed": True},
                             answer={"verification": {"passed": True, "searched": searched, "found": []}})
            return None
        if found.empty:  # nothing found, but some stored images could not be looked at: not proven
            raise RuntimeError(f"{len(found.unsearched)} stored image(s) could not be searched "
                               "(file missing or unreadable): the deletion cannot be verified")
        with self.database.session() as session, session.begin():
            row = session.get(RightsRequest, request_id)
            assert row is not None
            row.answer = {**(row.answer or {}), "verification": {
                "passed": False, "searched": searched, "found": sorted(found.sha256)}}
        return found

    def _complete(self, request_id: str) -> None:
        request = self._row(request_id)
        self._destroy_probes(request_id, keep_face_optout=request.optout)
        body = self._receipt_body(request_id)
        identified = dict(request.identified or {})
        if request.kind == RequestKind.DELETION:  # what named the person's images goes, its digests stay
            identified["url_digests"] = sorted({url_digest(u) for u in identified.pop("urls", []) if u})
            subject = {**request.subject, "urls": [], "page_urls": []}
        else:
            subject = request.subject
        self._sign(request_id, body)
        self._checkpoint(request_id, RequestStatus.COMPLETED, {"receipt": body["key_id"][:16]},
                         identified=identified, subject=subject)

    def _destroy_probes(self, request_id: str, keep_face_optout: bool) -> None:
        """Probe templates go when a request ends; the pending face block goes too, unless the person opted out."""
        request = self._row(request_id)
        if request.optout_id and not keep_face_optout:
            store = SuppressionStore(self.config.suppression_url, self.config.fernet)
            try:
                if any(e.id == request.optout_id and not e.withdrawn_at for e in store.entries()):
                    store.withdraw(request.optout_id)
            finally:
                store.dispose()
        with self.database.session() as session, session.begin():
            destroyed = len(session.scalars(select(RightsProbe.id).where(RightsProbe.request_id == request_id)).all())
            session.execute(delete(RightsProbe).where(RightsProbe.request_id == request_id))
            if destroyed or request.optout_id:
                append_in(session, "rights.probes_destroyed", {"request": request_id, "templates": destroyed,
                                                               "face_block": request.optout_id,
                                                               "face_block_kept": keep_face_optout})

    # -- access -------------------------------------------------------------------------------------------

    def _run_access(self, request_id: str) -> None:
        status = RequestStatus(self._row(request_id).status)
        if status is RequestStatus.RECEIVED:
            self._identify(request_id)
            status = RequestStatus.IDENTIFIED
        if status is RequestStatus.IDENTIFIED:
            if self._over_the_cap(request_id):
                return
            self._compile(request_id)
            status = RequestStatus.COMPILED
        if status is RequestStatus.COMPILED:
            self._destroy_probes(request_id, keep_face_optout=False)
            self._sign(request_id, self._receipt_body(request_id))
            self._checkpoint(request_id, RequestStatus.COMPLETED, {})

    def _over_the_cap(self, request_id: str) -> bool:
        """A practice that answers a person only so often a year refuses once they have asked that often."""
        cap = self.config.practice.access_per_year
        if cap is None:
            return False
        request = self._row(request_id)
        year_ago = request.created_at - timedelta(days=365)
        earlier = [r for r in access.earlier_requests(self.database, request_id, self._found(request_id),
                                                      set(request.subject.get("url_digests", [])))
                   if r["kind"] == RequestKind.ACCESS and r["status"] == RequestStatus.COMPLETED
                   and datetime.fromisoformat(r["created_at"]).replace(tzinfo=None) >= year_ago.replace(tzinfo=None)]
        if len(earlier) < cap:
            return False
        self._refuse(request_id, f"access is answered only {cap} times a year by this store's practice "
                                 f"({len(earlier)} answered in the last 12 months)",
                     self.config.practice.breaches.get("access_per_year", ()))
        return True

    def _compile(self, request_id: str) -> None:
        request = self._row(request_id)
        found = self._found(request_id)
        held = access.images_held(self.database, found)
        limited = None
        lookback = self.config.practice.access_lookback_days
        if lookback is not None:  # the practice CNIL found unlawful: only the last months of data are shown
            cutoff = (request.created_at.replace(tzinfo=UTC) if request.created_at.tzinfo is None
                      else request.created_at) - timedelta(days=lookback)
            kept = [i for i in held if datetime.fromisoformat(i["collected_at"]) >= cutoff]
            limited = (f"only data collected in the last {lookback} days is shown ({len(held) - len(kept)} image(s) "
                       "withheld)")
            held = kept
        answer = {
            "images": held, "decisions": access.decisions_held(self.database, found),
            "requests": access.earlier_requests(self.database, request_id, found,
                                                set(request.subject.get("url_digests", []))),
            "opt_outs": [{k: v for k, v in entry.items() if k != "label"} for entry in found.optouts],
            "statement": access.statement(held, request.jurisdiction),
            "unsearched": found.unsearched,
            "search": {"searched": found.searched, "seconds": found.seconds},
            **({"limited": limited, "breaches": list(self.config.practice.breaches.get("access_lookback", ()))}
               if limited else {}),
        }
        path = (self.config.archive_dir / f"access-{request_id}.zip").resolve()
        access.write_archive(path, {"id": request_id, **answer}, self.config.image_store, self.database, found)
        answer["archive"] = str(path)
        self._checkpoint(request_id, RequestStatus.COMPILED, {"images": len(held), "decisions": len(answer["decisions"])},
                         answer={"access": answer})

    # -- receipts and views ------------------------------------------------------------------------------

    def _receipt_body(self, request_id: str) -> dict[str, Any]:
        outcome = self.outcome(request_id)
        row = outcome.row
        key = self.signing_key()
        body: dict[str, Any] = {
            "request": {"id": row["id"], "kind": row["kind"], "status": RequestStatus.COMPLETED.value,
                        "jurisdiction": row["jurisdiction"], "due": row["due"], "created_at": row["created_at"],
                        "completed_at": datetime.now(UTC).isoformat()},
            "issued_at": datetime.now(UTC).isoformat(), "key_id": receipts.key_id(key.public_key()),
        }
        if row["status"] == RequestStatus.REFUSED or row.get("refused"):
            body["request"]["status"] = RequestStatus.REFUSED.value
            body["refused"] = {"why": row.get("refused"), "breaches": row.get("breaches") or []}
        elif row["kind"] == RequestKind.DELETION:
            body["stores"] = [{"store": t["store"], "status": t["status"], "removed": t["removed"], "items": t["items"],
                               "note": t["note"]} for t in outcome.tasks]
            body["verification"] = row.get("verification")
        else:
            answered = row.get("access") or {}
            body["answer"] = {"images": len(answered.get("images", [])), "decisions": len(answered.get("decisions", [])),
                              "requests": len(answered.get("requests", [])),
                              "sha256": sorted({i["sha256"] for i in answered.get("images", [])})}
        return body

    def signing_key(self) -> Any:
        """The receipts' Ed25519 key; never silently replaced once a receipt was signed with it."""
        with self.database.session() as session:
            signed = session.scalar(select(func.count()).select_from(RightsReceipt)) or 0
        return receipts.load_signing_key(self.config.signing_key_file, signed)

    def _sign(self, request_id: str, body: dict[str, Any]) -> None:
        key = self.signing_key()
        signature = receipts.sign(body, key)
        with self.database.session() as session, session.begin():
            session.merge(RightsReceipt(request_id=request_id, body=body, text=receipts.receipt_text(body, signature),
                                        signature=signature, key_id=body["key_id"], signed_at=datetime.now(UTC)))

    def receipt(self, request_id: str) -> dict[str, Any]:
        with translated(self.database.target), self.database.session() as session:
            row = session.get(RightsReceipt, request_id)
            if row is None:
                self._row(request_id)  # an unknown id says so
                raise UsageError(f"request {request_id} has no receipt yet: it is not completed "
                                 f"(`faircrawl rights status {request_id}`)")
            public = receipts.public_key_file(self.config.signing_key_file).read_text(encoding="ascii")
            return {"receipt": row.body, "signature": row.signature, "key_id": row.key_id, "public_key": public,
                    "text": row.text, "verified": receipts.verify(row.body, row.signature, public)}

    def _row(self, request_id: str) -> RightsRequest:
        with translated(self.database.target), self.database.session() as session:
            row = session.get(RightsRequest, request_id)
            if row is None:
                raise UsageError(f"no rights request {request_id!r}; `faircrawl rights list` shows them")
            session.expunge(row)
            return row

    def outcome(self, request_id: str) -> Outcome:
        row = self._row(request_id)
        with self.database.session() as session:
            tasks = [{"store": t.store, "status": t.status, "removed": t.removed, "items": t.items, "note": t.note}
                     for t in session.scalars(select(RightsTask).where(RightsTask.request_id == request_id)
                                              .order_by(RightsTask.id))]
        answer = row.answer or {}
        shown = {"id": row.id, "kind": row.kind, "status": row.status, "jurisdiction": row.jurisdiction,
                 "jurisdiction_source": row.jurisdiction_source, "due": row.due.isoformat(),
                 "created_at": iso(row.created_at), "completed_at": iso(row.completed_at) if row.completed_at else None,
                 "overdue": row.status != RequestStatus.COMPLETED and row.due < date.today(),
                 "failure": row.failure, "attempts": row.attempts, "optout": row.optout,
                 "reached": answer.get("reached"), "verification": answer.get("verification"),
                 "refused": answer.get("refused"), "breaches": answer.get("breaches") or (answer.get("access") or {})
                 .get("breaches") or [],
                 "access": answer.get("access"), "found": (row.identified or {}).get("how") and {
                     what: n for what, n in Found.from_json(row.identified).counts().items()} if row.identified else None}
        return Outcome(shown, tasks)

    def list(self, overdue: bool = False) -> list[Outcome]:
        with translated(self.database.target), self.database.session() as session:
            query = select(RightsRequest.id).order_by(RightsRequest.created_at)
            if overdue:
                query = query.where(RightsRequest.status != RequestStatus.COMPLETED.value,
                                    RightsRequest.due < date.today())
            ids = list(session.scalars(query))
        return [self.outcome(one) for one in ids]

    def _fail(self, request_id: str, reason: str) -> None:
        with self.database.session() as session, session.begin():
            row = session.get(RightsRequest, request_id)
            assert row is not None
            row.status, row.failure, row.updated_at = RequestStatus.FAILED.value, reason, datetime.now(UTC)
            attempts = row.attempts
            append_in(session, "rights.failed", {"request": request_id, "attempt": attempts})
        if attempts >= MAX_ATTEMPTS:  # failed for good: nothing biometric is kept for it any longer
            self._destroy_probes(request_id, keep_face_optout=False)

    def _maybe_crash(self, point: str) -> None:
        if self.config.crash_after and self.config.crash_after == point:
            os.kill(os.getpid(), signal.SIGKILL)


def unfinished_count(database: Database) -> int:
    """How many rights requests are not finished: neither completed nor refused by the store's practice (said by
    every command that opens the database)."""
    with translated(database.target), database.session() as session:
        return int(session.scalar(select(func.count()).select_from(RightsRequest).where(
            RightsRequest.status.in_([s.value for s in UNFINISHED]))) or 0)


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError as error:
        raise UsageError(f"URL {url!r} cannot be parsed ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"URL {url!r} is not an http(s) URL with a host")


__all__ = ["CHECKPOINTS", "Outcome", "RightsConfig", "RightsService", "unfinished_count"]
