"""The shapes of the API's answers (OpenAPI documents them; schemathesis holds the server to them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FiledRequest(BaseModel):
    id: str
    token: str = Field(description="The request token (256 random bits). Shown once: keep it; it is the only "
                                   "way to see this request, its receipt and its answer.")
    kind: str
    status: str
    due: str = Field(description="The legal deadline (ISO date) for the request's jurisdiction.")


class Progress(BaseModel):
    checkpoints: list[str] = Field(description="The request's checkpoints, in order.")
    reached: str | None = Field(description="The last checkpoint committed.")
    step: int = Field(description="How many checkpoints are done.")
    of: int
    queued: bool = Field(description="Waiting for the worker, or running on it.")
    running: bool
    activity: str | None = Field(default=None, description="What the worker is doing now (counts only).")


class RequestStatusOut(BaseModel):
    id: str
    kind: str
    status: str
    jurisdiction: str
    due: str
    created_at: str
    completed_at: str | None
    overdue: bool
    failure: str | None
    attempts: int
    optout: bool
    refused: str | None = None
    breaches: list[str] = []
    progress: Progress
    tasks: list[dict[str, Any]] = Field(description="One per store a deletion reaches: status and what it removed.")
    verification: dict[str, Any] | None
    access: dict[str, Any] | None = Field(
        default=None, description="An access request's answer: images, decisions, earlier requests, the statement "
                                  "the law asks for; `archive_url` downloads the zip.")


class RequestSummary(BaseModel):
    """A request as the operator lists it: no identifiers of the person, no answer."""

    id: str
    kind: str
    status: str
    jurisdiction: str
    due: str
    created_at: str
    completed_at: str | None
    overdue: bool
    failure: str | None
    attempts: int
    tasks: list[dict[str, Any]]


class ReceiptOut(BaseModel):
    receipt: dict[str, Any] = Field(description="The signed body; its canonical JSON (sorted keys, no spaces, "
                                                "UTF-8) is what the signature covers.")
    signature: str = Field(description="Ed25519 signature, base64url.")
    key_id: str = Field(description="SHA-256 of the raw public key.")
    public_key: str = Field(description="The public key (PEM, SubjectPublicKeyInfo).")
    verified: bool = Field(description="The server's own check of the signature.")


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str
    key_id: str


class OptOutCreated(BaseModel):
    id: str
    token: str = Field(description="The opt-out's token: shown once, needed to withdraw it.")
    kind: str
    items: int


class OptOutWithdrawn(BaseModel):
    id: str
    withdrawn: bool
    deleted: dict[str, int]


class AuditCheckOut(BaseModel):
    intact: bool
    entries: int
    first_bad: int | None
    problem: str | None


class HealthOut(BaseModel):
    status: str
    database: str
    worker: str
