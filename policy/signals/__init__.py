"""Opt-out and licence signals other than robots.txt, one module per signal.

Each parser takes bytes or strings exactly as received, never raises on
hostile input (it returns an unknown/unset value with a note instead), and
keeps the evidence a decision record needs: the raw value, the header
instance, the matched rule and its line. Module-level functions share names
across modules (``from_headers``, ``from_meta``, ``combine``), so import the
modules: ``from policy.signals import xrobots, tdmrep``.
"""

from policy.signals import aipref, aitxt, c2pa, licenses, linkheader, rsl, tdmpolicy, tdmrep, xmp, xrobots
from policy.signals.aipref import ContentSignals, Preference, RobotsUsage, UsagePreferences, parse_content_usage
from policy.signals.aitxt import AiTxt
from policy.signals.c2pa import C2paTrainingMining, training_mining
from policy.signals.licenses import LicenseRef, classify_license_url, page_licenses
from policy.signals.tdmrep import TdmRepFile, TdmValue
from policy.signals.xmp import IptcDataMining, data_mining, read_xmp_packets
from policy.signals.xrobots import RobotsDirectives

__all__ = [
    "AiTxt",
    "C2paTrainingMining",
    "ContentSignals",
    "IptcDataMining",
    "LicenseRef",
    "Preference",
    "RobotsDirectives",
    "RobotsUsage",
    "TdmRepFile",
    "TdmValue",
    "UsagePreferences",
    "aipref",
    "c2pa",
    "training_mining",
    "aitxt",
    "classify_license_url",
    "data_mining",
    "licenses",
    "linkheader",
    "page_licenses",
    "parse_content_usage",
    "read_xmp_packets",
    "rsl",
    "tdmpolicy",
    "tdmrep",
    "xmp",
    "xrobots",
]
