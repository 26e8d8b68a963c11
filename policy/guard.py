"""One guard around every signal reader: an exception our code did not expect reads as the most protective value.

The readers in ``policy.signals`` handle hostile input themselves, the way
each spec says (an invalid ``tdm-reservation`` is unset, an aipref header
that is not a Dictionary is "unknown"). An exception they let out is a bug,
ours or a library's, and a bug must never read as consent: the guard returns
the reader's protective value (declared next to the reader, as ``PROTECTIVE``)
and records a ``signal.reader_failed`` reason naming the reader and the
exception's type, never its message (it may quote the input).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from policy import robots
from policy.decision import Reason
from policy.signals import aipref, aitxt, c2pa, licenses, rsl, tdmpolicy, tdmrep, xmp, xrobots
from policy.vocabulary import SIGNAL_READER_FAILED

T = TypeVar("T")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignalReader(Generic[T]):
    """A reader as the guard knows it: its name, the source of its reasons, and what its failure reads as."""

    name: str
    source: str
    protective: T
    assumed: str  # the protective reading in words, for the reason


ROBOTS = SignalReader("robots.txt", "robots.txt", robots.PROTECTIVE_VERDICT, "complete disallow assumed")
TDMREP = SignalReader("tdmrep", "tdmrep", tdmrep.PROTECTIVE, "reservation assumed")
AIPREF: SignalReader[tuple[aipref.UsagePreferences, aipref.ContentSignals, tuple[str, ...]]] = SignalReader(
    "aipref", "aipref", (aipref.PROTECTIVE, aipref.PROTECTIVE_SIGNALS, ()), "train-ai=n and ai-train=no assumed")
XROBOTS = SignalReader("x-robots", "x-robots", xrobots.PROTECTIVE, "every opt-out (noindex, noai, nofollow ...) assumed")
AI_TXT = SignalReader("ai.txt", "ai.txt", aitxt.PROTECTIVE, "refusal assumed")
XMP = SignalReader("xmp", "iptc", xmp.PROTECTIVE, "prohibition assumed")
C2PA = SignalReader("c2pa", "c2pa", c2pa.PROTECTIVE, "prohibition assumed")
LICENCES: SignalReader[tuple[licenses.LicenseRef, ...]] = SignalReader(
    "licences", "licence", (licenses.PROTECTIVE,), "an unknown licence with every restriction assumed")
RSL: SignalReader[rsl.RslVerdict] = SignalReader(
    "rsl", "rsl", rsl.RslVerdict(rsl.RslStatus.PROHIBITED, "the RSL reader failed: prohibited assumed"), "prohibited assumed")
RSL_POINTERS: SignalReader[tuple[list[rsl.RslPointer], list[rsl.RslDocument]]] = SignalReader(
    "rsl pointers", "rsl", ([], [rsl.RslDocument(unreadable="the page's RSL links could not be read")]), "prohibited assumed")
TDM_POLICY: SignalReader[tdmpolicy.TdmPolicyVerdict] = SignalReader(
    "tdm-policy", "tdmrep", tdmpolicy.TdmPolicyVerdict(tdmpolicy.TdmPolicyStatus.RESERVED,
                                                       "the tdm-policy reader failed: reservation kept"), "reservation kept")
#: The page's HTML itself: when it cannot be parsed, every reader that needs it fails protectively in turn.
HTML: SignalReader[Any] = SignalReader("html", "page", None, "its meta tags and licences read as opt-outs")
#: Content-Language, <html lang> and hreflang: without them the jurisdiction is unknown, which is the strictest.
LANGUAGE: SignalReader[tuple[str | None, str | None, str | None]] = SignalReader(
    "language tags", "page", (None, None, None), "no language tag: the strictest (unknown) jurisdiction")


def read_guarded(reasons: list[Reason], reader: SignalReader[T], call: Callable[[], T]) -> T:
    """``call()``, or the reader's protective value (and a reason in ``reasons``) if it raises."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - this is the one place a reader's unexpected error is caught
        failure = type(error).__name__
        _log.warning("the %s reader failed (%s): %s", reader.name, failure, reader.assumed)
        _log.debug("the %s reader's failure", reader.name, exc_info=True)
        reasons.append(Reason(reader.source, SIGNAL_READER_FAILED,
                              f"the {reader.name} reader failed ({failure}): {reader.assumed}",
                              {"reader": reader.name, "exception": failure}))
        return reader.protective
