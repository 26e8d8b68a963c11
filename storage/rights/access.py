"""An access answer: everything held about the person, whatever its age, with what the law says an answer holds.

Each image (where it was found, when, under which policy revision and rules,
jurisdiction and how it was found), its faces and whether a template is held
(never the vector), the decisions, the earlier requests about the same person,
and the statement GDPR Art. 15(1), CCPA §1798.110(c), PIPEDA Sch. 1 cl. 4.9 and
the other laws of ``policy.rights_law`` ask for; written as JSON plus the image
files in one zip archive.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from policy.rights_law import ACCESS_CONTENTS
from storage.database import Database
from storage.image_store import ImageStore
from storage.models import CrawlRun, DecisionRecord, FaceRecord, FaceTemplate, ImageFile, ImageRecord, RightsRequest
from storage.rights.identify import Found
from storage.rights.model import iso


def images_held(database: Database, found: Found) -> list[dict[str, Any]]:
    with database.session() as session:
        rows = session.execute(
            select(ImageRecord, DecisionRecord, CrawlRun.policy_name)
            .join(DecisionRecord, DecisionRecord.id == ImageRecord.decision_id)
            .join(CrawlRun, CrawlRun.id == ImageRecord.run_id)
            .where(ImageRecord.id.in_(found.image_ids)).order_by(ImageRecord.stored_at)).all()
        face_counts = (select(FaceRecord.image_sha256, func.count()).where(FaceRecord.image_sha256.in_(found.sha256))
                       .group_by(FaceRecord.image_sha256))
        faces = {sha256: int(count) for sha256, count in session.execute(face_counts)}
        retention = (select(FaceTemplate.image_sha256, func.min(FaceTemplate.retention_until))
                     .where(FaceTemplate.image_sha256.in_(found.sha256)).group_by(FaceTemplate.image_sha256))
        templates = {sha256: until for sha256, until in session.execute(retention)}
    held = []
    for image, decision, policy in rows:
        held.append({
            "url": image.url, "page_url": image.page_url, "sha256": image.sha256,
            "collected_at": iso(image.stored_at), "run_id": image.run_id, "policy": policy,
            "policy_revision": decision.policy_revision, "rules": list(decision.matched_rules or []),
            "citations": list(decision.citations or []), "jurisdiction": decision.jurisdiction,
            "faces": faces.get(image.sha256, int((decision.signals or {}).get("image.faces") or 0)),
            "template_held": image.sha256 in templates,
            "template_retention_until": iso(templates[image.sha256]) if image.sha256 in templates else None,
            "found_by": found.how.get(image.sha256, []),
        })
    return held


def decisions_held(database: Database, found: Found) -> list[dict[str, Any]]:
    with database.session() as session:
        return [{"id": d.id, "run_id": d.run_id, "kind": d.kind, "outcome": d.outcome, "url": d.url,
                 "page_url": d.page_url, "decided_at": iso(d.decided_at), "policy_revision": d.policy_revision,
                 "jurisdiction": d.jurisdiction, "matched_rules": list(d.matched_rules or []),
                 "citations": list(d.citations or []), "reasons": [r["code"] for r in d.reasons or []]}
                for d in session.scalars(select(DecisionRecord).where(DecisionRecord.id.in_(found.decision_ids))
                                         .order_by(DecisionRecord.decided_at))]


def earlier_requests(database: Database, request_id: str, found: Found, digests: set[str]) -> list[dict[str, Any]]:
    """Requests made before this one about the same person: they found the same images, named the same URLs, or
    left the person's face on the suppression list (a deletion with --optout)."""
    linked = {label.split()[2] for entry in found.optouts
              if (label := entry.get("label") or "").startswith("deletion request ") and len(label.split()) > 2}
    with database.session() as session:
        this = session.get(RightsRequest, request_id)
        assert this is not None
        earlier = []
        for other in session.scalars(select(RightsRequest).where(RightsRequest.created_at < this.created_at)
                                     .order_by(RightsRequest.created_at)):
            identified = other.identified or {}
            their_urls = set((other.subject or {}).get("url_digests", [])) | set(identified.get("url_digests", []))
            if set(identified.get("sha256", [])) & found.sha256 or their_urls & digests or other.id in linked:
                earlier.append({"id": other.id, "kind": other.kind, "status": other.status,
                                "created_at": iso(other.created_at),
                                "completed_at": iso(other.completed_at) if other.completed_at else None})
        return earlier


def statement(held: list[dict[str, Any]], jurisdiction: str) -> dict[str, Any]:
    """What the laws ask an access answer to say beyond the copy (GDPR Art. 15(1)(a)-(h) and the others)."""
    sources = sorted({f"{urlsplit(i['page_url'] or i['url']).scheme}://{urlsplit(i['page_url'] or i['url']).netloc}"
                      for i in held})
    templates = [i for i in held if i["template_held"]]
    return {
        "purposes": "to show that public images can be collected lawfully: images are kept only where every "
                    "machine-readable consent signal and the law of the site allow it; faces are looked for only to "
                    "apply that law and to honour opt-outs and deletions; face templates are kept only where a "
                    "recorded consent allows it",
        "categories": ["photographs of the person as published on web pages", "where and when each was found",
                       "face boxes (where in each image a face is)",
                       *(["face templates (biometric data), encrypted"] if templates else []),
                       "the decision record of each collection"],
        "recipients": "none: faircrawl discloses what it holds to no one (no third party, no affiliate)",
        "third_parties": [],
        "retention": {"images": "until deleted on request (no fixed period)",
                      "face_templates": [{"sha256": i["sha256"], "until": i["template_retention_until"]}
                                         for i in templates]},
        "rights": ["access (this answer), as often as asked and for data of any age", "deletion (erasure)",
                   "objection and opt-out (faircrawl optout / --optout: never collected again)",
                   "complaint to the data-protection authority of the person's country"],
        "source": sources,
        "automated_decisions": "no decision with legal or similarly significant effects is made about the person; "
                               "automated face matching serves only to find their data and to honour opt-outs",
        "existence": bool(held),
        "jurisdiction": jurisdiction,
        "laws": [{"law": c.law, "citation": c.citation, "requires": list(c.requires)} for c in ACCESS_CONTENTS],
    }


def write_archive(path: Path, answer: dict[str, Any], image_store: ImageStore, database: Database,
                  found: Found) -> Path:
    """The answer as JSON and every image file, in one zip (written whole, then moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with database.session() as session:
        files = session.execute(select(ImageFile.sha256, ImageFile.path).where(ImageFile.sha256.in_(found.sha256))).all()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("answer.json", json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
            for sha256, relative in files:
                try:
                    archive.writestr(f"images/{Path(relative).name}", image_store.read(relative))
                except OSError:
                    archive.writestr(f"images/{sha256}.missing.txt", "the file of this image could not be read\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
