"""A deletion's tasks, one per store: each removes what identification found there and says what it removed.

Every task is idempotent, so a request interrupted in the middle of one runs it
again on resume and removes what is left: rows go in one transaction with the
task's record; files are removed one by one and what is gone counts as removed.
Decision records are not dropped (the run's account must still add up): they
become tombstones holding only their id, the run, the outcome ``deleted`` and
the request that emptied them.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import delete, select, update

from storage.database import Database
from storage.image_store import EXTENSION_BY_FORMAT, ImageStore
from storage.models import DecisionRecord, FaceRecord, FaceTemplate, ImageFile, ImageRecord, RightsRequest
from storage.rights.identify import Found, Subject
from storage.rights.model import Store


@dataclass(slots=True)
class TaskOutcome:
    removed: int
    items: list[Any]
    note: str = ""
    skipped: bool = False


@dataclass(slots=True)
class DeletionContext:
    """What every task may need: where things are, what was found, and how to reach the other stores."""

    request_id: str
    database: Database
    image_store: ImageStore
    found: Found
    subject: Subject
    fernet: Fernet
    suppression_url: str
    optout: bool
    report_dirs: list[Path]
    drop_from_caches: Callable[[set[int]], int] | None = None  # an in-process template index's forget()
    previous_items: list[Any] = field(default_factory=list)  # what an interrupted attempt already removed


def image_files(ctx: DeletionContext) -> TaskOutcome:
    """The files on disk, whatever the extension.

    Run again after an interruption, a file that an earlier attempt removed still counts: its content row
    (``image_files``) outlives it until a later task, so "row here, file gone" means removed by this request.
    """
    with ctx.database.session() as session:
        query = select(ImageFile.sha256, ImageFile.path).where(ImageFile.sha256.in_(ctx.found.sha256))
        paths = {sha256: path for sha256, path in session.execute(query)}
    removed = set(ctx.previous_items)  # an earlier round's
    for sha256 in sorted(ctx.found.sha256):
        candidates = {paths[sha256]} if sha256 in paths else set()
        candidates |= {ctx.image_store.relative_path(sha256, fmt) for fmt in EXTENSION_BY_FORMAT}
        deleted_now = [relative for relative in candidates if ctx.image_store.delete(relative)]
        if deleted_now or sha256 in paths:
            removed.add(sha256)
    return TaskOutcome(len(removed), sorted(removed))


def _delete_rows(ctx: DeletionContext, table: Any, condition: Any, key: Any) -> TaskOutcome:
    with ctx.database.session() as session, session.begin():
        ids = sorted(session.scalars(select(key).where(condition)))
        if ids:
            session.execute(delete(table).where(condition))
    items = sorted({*ctx.previous_items, *ids})
    return TaskOutcome(len(items), items)


def faces(ctx: DeletionContext) -> TaskOutcome:
    return _delete_rows(ctx, FaceRecord, FaceRecord.image_sha256.in_(ctx.found.sha256), FaceRecord.id)


def face_templates(ctx: DeletionContext) -> TaskOutcome:
    condition = FaceTemplate.image_sha256.in_(ctx.found.sha256) | FaceTemplate.id.in_(ctx.found.template_ids)
    return _delete_rows(ctx, FaceTemplate, condition, FaceTemplate.id)


def images(ctx: DeletionContext) -> TaskOutcome:
    condition = ImageRecord.sha256.in_(ctx.found.sha256) | ImageRecord.id.in_(ctx.found.image_ids)
    return _delete_rows(ctx, ImageRecord, condition, ImageRecord.id)


def image_file_rows(ctx: DeletionContext) -> TaskOutcome:
    return _delete_rows(ctx, ImageFile, ImageFile.sha256.in_(ctx.found.sha256), ImageFile.sha256)


def decisions(ctx: DeletionContext) -> TaskOutcome:
    """Empty the decisions that name the person's images into tombstones (id, run, outcome deleted, request)."""
    tombstone_reason = [{"source": "rights", "code": "rights.deleted",
                         "detail": f"emptied by deletion request {ctx.request_id}"}]
    with ctx.database.session() as session, session.begin():
        ids = sorted(session.scalars(select(DecisionRecord.id).where(
            DecisionRecord.id.in_(ctx.found.decision_ids), DecisionRecord.deleted_by_request.is_(None))))
        if ids:
            session.execute(update(DecisionRecord).where(DecisionRecord.id.in_(ids)).values(
                outcome="deleted", url="", final_url=None, page_url=None, reasons=tombstone_reason, signals={},
                matched_rules=[], obligations={}, citations=[], breaches=[], jurisdiction=None,
                jurisdiction_source=None, policy_summary=None, fetched_at=None, deleted_by_request=ctx.request_id))
    items = sorted({*ctx.previous_items, *ids})
    return TaskOutcome(len(items), items, "decision records kept as tombstones: id, run, outcome deleted, request id")


def _in(value: Any, pool: set[str]) -> bool:
    return isinstance(value, str) and value in pool


def scrub(value: Any, found: Found, request_id: str) -> tuple[Any, int]:
    """``value`` (parsed JSON) without anything naming what was found; returns it and how many parts went."""
    if isinstance(value, dict):
        if "deleted_by_request" in value and value.get("outcome") == "deleted":
            return value, 0  # already a tombstone
        if (_in(value.get("id"), found.decision_ids) or _in(value.get("sha256"), found.sha256)
                or _in(value.get("url"), found.urls) or _in(value.get("final_url"), found.urls)):
            return {"id": value.get("id"), "outcome": "deleted", "deleted_by_request": request_id}, 1
        total, cleaned = 0, {}
        for key, item in value.items():
            cleaned[key], count = scrub(item, found, request_id)
            total += count
        return cleaned, total
    if isinstance(value, list):
        total, items = 0, []
        for item in value:
            cleaned_item, count = scrub(item, found, request_id)
            items.append(cleaned_item)
            total += count
        return items, total
    if isinstance(value, str) and (value in found.urls or value in found.sha256):
        return "(deleted)", 1
    return value, 0


def _rewrite(path: Path, text: str) -> None:
    """Replace ``path`` atomically (the old content is never half overwritten)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def report_files(folders: list[Path], image_store: ImageStore, pattern: str) -> list[Path]:
    """Files matching ``pattern`` under faircrawl's own folders (never inside the image store)."""
    files: set[Path] = set()
    root = image_store.root.resolve()
    for folder in folders:
        if folder.is_dir():
            files |= {p for p in folder.rglob(pattern) if p.is_file() and not p.resolve().is_relative_to(root)}
    return sorted(files)


def _report_files(ctx: DeletionContext, pattern: str) -> list[Path]:
    return report_files(ctx.report_dirs, ctx.image_store, pattern)


def leftovers(found: Found, image_store: ImageStore, folders: list[Path]) -> list[str]:
    """What of ``found`` is still somewhere outside the database: image files, or reports naming its URLs."""
    left = [f"file {sha256}" for sha256 in sorted(found.sha256)
            if any((image_store.root / image_store.relative_path(sha256, fmt)).exists() for fmt in EXTENSION_BY_FORMAT)]
    needles = [n for n in (*found.urls, *found.sha256) if n]
    for path in (*report_files(folders, image_store, "*.json"), *report_files(folders, image_store, "*.html"),
                 *report_files(folders, image_store, "unwritten-*.jsonl")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(needle in text for needle in needles):
            left.append(f"report {path.name}")
    for path in report_files(folders, image_store, "*.zip"):
        if _archive_names(path, needles, found.sha256):
            left.append(f"archive {path.name}")
    return left


def _identified_without(identified: dict[str, Any] | None, found: Found) -> tuple[dict[str, Any] | None, int]:
    """An earlier request's identification without the items of ``found``; returns it and how many went."""
    if not identified:
        return identified, 0
    earlier = Found.from_json(identified)
    gone = len(earlier.sha256 & found.sha256) + len(earlier.decision_ids & found.decision_ids) + len(
        earlier.urls & found.urls)
    if not gone:
        return identified, 0
    earlier.sha256 -= found.sha256
    earlier.image_ids -= found.image_ids
    earlier.decision_ids -= found.decision_ids
    earlier.face_ids -= found.face_ids
    earlier.template_ids -= found.template_ids
    earlier.urls -= found.urls
    earlier.how = {sha: how for sha, how in earlier.how.items() if sha not in found.sha256}
    earlier.phashes = {sha: value for sha, value in earlier.phashes.items() if sha not in found.sha256}
    earlier.unsearched = [sha for sha in earlier.unsearched if sha not in found.sha256]
    return earlier.as_json(), gone


def answers_naming(database: Database, found: Found, request_id: str) -> list[str]:
    """Earlier access answers that still name something of ``found`` (the database side of the leftovers)."""
    with database.session() as session:
        rows = session.scalars(select(RightsRequest).where(RightsRequest.kind == "access",
                                                           RightsRequest.id != request_id)).all()
        return [f"access answer {row.id}" for row in rows
                if scrub(row.answer, found, request_id)[1] or _identified_without(row.identified, found)[1]
                or scrub(row.subject, found, request_id)[1]]


def _archive_names(path: Path, needles: list[str], sha256: set[str]) -> bool:
    """Whether an access archive of ours holds one of the images or names one of them."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "answer.json" not in names:
                return False  # not an access archive of ours
            if any(Path(name).stem.split(".")[0] in sha256 for name in names):
                return True
            text = archive.read("answer.json").decode("utf-8", "replace")
    except (OSError, zipfile.BadZipFile):
        return False
    return any(needle in text for needle in needles)


def reports(ctx: DeletionContext) -> TaskOutcome:
    """JSON and HTML reports faircrawl wrote under its own folders, rewritten without the person's items."""
    changed: list[str] = list(ctx.previous_items)
    removed = 0
    for path in _report_files(ctx, "*.json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a report of ours
        cleaned, count = scrub(document, ctx.found, ctx.request_id)
        if count:
            _rewrite(path, json.dumps(cleaned, indent=2, ensure_ascii=False) + "\n")
            changed.append(path.name)
            removed += count
    for path in _report_files(ctx, "*.html"):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        count = 0
        for needle in sorted(ctx.found.urls | ctx.found.sha256, key=len, reverse=True):
            if needle and needle in text:
                count += text.count(needle)
                text = text.replace(needle, "(deleted)")
        if count:
            _rewrite(path, text)
            changed.append(path.name)
            removed += count
    return TaskOutcome(removed, sorted(set(changed)), "" if changed else "no report named the person",
                       skipped=not changed and not ctx.previous_items)


def access_answers(ctx: DeletionContext) -> TaskOutcome:
    """Earlier access answers name the person's images and their zip archives hold copies: both go.

    The requests themselves stay (that they were made and answered is the accountability record); what
    they answered about these images becomes tombstones, and each archive that held them is removed.
    """
    changed: list[str] = list(ctx.previous_items)
    removed = 0
    with ctx.database.session() as session, session.begin():
        for row in session.scalars(select(RightsRequest).where(RightsRequest.kind == "access",
                                                               RightsRequest.id != ctx.request_id)):
            answer, answer_count = scrub(row.answer, ctx.found, ctx.request_id)
            identified, identified_count = _identified_without(row.identified, ctx.found)
            subject, subject_count = scrub(row.subject, ctx.found, ctx.request_id)
            if not answer_count + identified_count + subject_count:
                continue
            archive = ((row.answer or {}).get("access") or {}).get("archive")
            if archive:
                Path(archive).unlink(missing_ok=True)
                answer["access"]["archive"] = None
                answer["access"]["archive_deleted_by_request"] = ctx.request_id
            row.answer, row.identified, row.subject = answer, identified, subject
            changed.append(row.id)
            removed += answer_count + identified_count + subject_count
    return TaskOutcome(removed, sorted(set(changed)), "" if changed else "no earlier access answer named the person",
                       skipped=not changed and not ctx.previous_items)


def spill_files(ctx: DeletionContext) -> TaskOutcome:
    """Rows kept in spill files because the database could not take them: the person's rows are dropped."""
    changed: list[str] = list(ctx.previous_items)
    removed = 0
    for path in _report_files(ctx, "unwritten-*.jsonl"):
        kept = []
        dropped = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                kept.append(line)
                continue
            row = entry.get("row") or {}
            if (row.get("id") in ctx.found.decision_ids or row.get("decision_id") in ctx.found.decision_ids
                    or row.get("sha256") in ctx.found.sha256 or row.get("image_sha256") in ctx.found.sha256
                    or row.get("url") in ctx.found.urls):
                dropped += 1
            else:
                kept.append(line)
        if dropped:
            _rewrite(path, "".join(f"{line}\n" for line in kept))
            changed.append(path.name)
            removed += dropped
    return TaskOutcome(removed, sorted(set(changed)), "" if changed else "no spill file held the person's rows",
                       skipped=not changed and not ctx.previous_items)


def caches(ctx: DeletionContext) -> TaskOutcome:
    """An in-process template index forgets the templates; other processes reload when face_templates changes."""
    if ctx.drop_from_caches is None:
        return TaskOutcome(0, [], "no template index in this process; a server reloads its index when "
                                  "face_templates changes", skipped=True)
    dropped = ctx.drop_from_caches(ctx.found.template_ids)
    return TaskOutcome(dropped, sorted(ctx.found.template_ids), "dropped from the in-memory template index")


def suppression(ctx: DeletionContext) -> TaskOutcome:
    """Re-collection blocked: the deleted images' URLs and perceptual hashes go on the suppression list."""
    from storage.suppression import SuppressionStore

    hashes = sorted(set(ctx.found.phashes.values()))  # read at identification: the rows are gone by now
    urls = sorted(set(ctx.subject.urls) | ctx.found.urls - {""})
    store = SuppressionStore(ctx.suppression_url, ctx.fernet)
    label = f"deletion request {ctx.request_id}"
    try:  # an interrupted attempt may have added some already: each kind once
        existing = {entry.kind: entry.id for entry in store.entries() if entry.label == label and not entry.withdrawn_at}
        entries = [entry_id for kind, entry_id in existing.items() if kind in ("url", "image")]
        if urls and "url" not in existing:
            entries.append(store.add_urls(urls, label))
        if hashes and "image" not in existing:
            entries.append(store.add_image_hashes(hashes, label))
    finally:
        store.dispose()
    return TaskOutcome(len(urls) + len(hashes), entries,
                       f"{len(urls)} URL(s) and {len(hashes)} image hash(es) blocked from re-collection"
                       + ("; the face stays opted out (--optout)" if ctx.optout else ""))


TASKS: dict[Store, Callable[[DeletionContext], TaskOutcome]] = {
    Store.IMAGE_FILES: image_files, Store.FACES: faces, Store.FACE_TEMPLATES: face_templates, Store.IMAGES: images,
    Store.DECISIONS: decisions, Store.IMAGE_FILE_ROWS: image_file_rows, Store.REPORTS: reports,
    Store.ACCESS_ANSWERS: access_answers, Store.SPILL_FILES: spill_files, Store.CACHES: caches, Store.SUPPRESSION: suppression,
}
__all__ = ["TASKS", "DeletionContext", "TaskOutcome", "answers_naming", "leftovers", "report_files", "scrub"]
