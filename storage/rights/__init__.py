"""The rights service: deletion and access requests that reach every store, prove it, and never expire.

A request runs through ordered checkpoints (Fides' model), each committed before the next begins, so one
interrupted at any point (even by SIGKILL) resumes where it stopped:

    deletion: received -> identified -> deleted (one task per store) -> verified -> completed
    access:   received -> identified -> compiled (answer and archive)  -> completed
    (any)     -> failed, with the reason; `faircrawl rights resume` retries

There is no limit on how often a person may ask, nor on the age of the data (the CNIL found Clearview's
"twice a year, last 12 months" unlawful). Every request, answer and receipt is kept (never a probe photo).
"""

from storage.rights.model import CHECKPOINTS, RequestKind, RequestStatus, Store, TaskStatus
from storage.rights.service import RightsConfig, RightsService

__all__ = ["CHECKPOINTS", "RequestKind", "RequestStatus", "RightsConfig", "RightsService", "Store", "TaskStatus"]
