"""Embedded XMP: the IPTC/PLUS ``DataMining`` opt-out and licence statements (reference §5.2, §5.3).

The opt-out travels with the file, so it survives hot-linking and CDNs that
strip headers. Pillow misses Extended XMP and keeps only the last standard
segment, so JPEG markers are walked here too; ``plus:DataMining`` is matched
by namespace URI because any prefix may be bound to it. Packets are parsed
with defusedxml (no DTDs, no entities): hostile XMP yields a note, never an
exception or a hang.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from PIL import Image

PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
PLUS_VOCABULARY = "http://ns.useplus.org/ldf/vocab/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_RIGHTS_NS = "http://ns.adobe.com/xap/1.0/rights/"

JPEG_XMP_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_EXTENDED_XMP_SIGNATURE = b"http://ns.adobe.com/xmp/extension/\x00"
#: Reassembled Extended XMP larger than this is refused (the format allows 4 GiB).
MAX_EXTENDED_XMP_BYTES = 16 * 1024 * 1024
#: Packets found by scanning raw bytes (formats Pillow does not expose, e.g. GIF).
MAX_SCANNED_PACKETS = 8

#: reference §5.2: codes that opt out of AI training (SEECONSTRAINT fail-closed).
DMI_PROHIBITED_CODES = frozenset({
    "DMI-PROHIBITED",
    "DMI-PROHIBITED-AIMLTRAINING",
    "DMI-PROHIBITED-GENAIMLTRAINING",
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    "DMI-PROHIBITED-SEECONSTRAINT",
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR",
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
})
DMI_NOT_PROHIBITING_CODES = frozenset({"DMI-UNSPECIFIED", "DMI-ALLOWED"})
KNOWN_DMI_CODES = DMI_PROHIBITED_CODES | DMI_NOT_PROHIBITING_CODES

_DATA_MINING = f"{{{PLUS_NS}}}DataMining"
_LICENSOR_URL = f"{{{PLUS_NS}}}LicensorURL"
_WEB_STATEMENT = f"{{{XMP_RIGHTS_NS}}}WebStatement"
_RDF_RESOURCE = f"{{{RDF_NS}}}resource"
_SOS, _EOI = 0xDA, 0xD9
_STANDALONE_MARKERS = {0x01, 0xD8, *range(0xD0, 0xD8)}


@dataclass(frozen=True, slots=True)
class IptcDataMining:
    """``plus:DataMining`` codes plus licence statements found in an image's XMP."""

    codes: tuple[str, ...] = ()  # upper-cased last URI segment, e.g. "DMI-PROHIBITED"
    notes: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # DataMining values as written
    web_statements: tuple[str, ...] = ()  # xmpRights:WebStatement (schema.org "license")
    licensor_urls: tuple[str, ...] = ()  # plus:Licensor/plus:LicensorURL ("acquireLicensePage")
    packets: int = 0  # how many XMP packets were found
    unreadable_packets: int = 0  # refused (DTD, entities) or not well-formed: a fail-closed caller may refuse

    @property
    def complete(self) -> bool:
        """False when some packet could not be read, so an opt-out may have been missed."""
        return self.unreadable_packets == 0

    @property
    def prohibiting_codes(self) -> tuple[str, ...]:
        """Codes that opt out; an unknown ``DMI-PROHIBITED-*`` code counts (fail closed)."""
        return tuple(c for c in self.codes if c in DMI_PROHIBITED_CODES or c.startswith("DMI-PROHIBITED"))

    @property
    def prohibits_ai_training(self) -> bool:
        return bool(self.prohibiting_codes)


#: What a failed XMP reader reads as (policy.observe): unreadable metadata, which prohibits.
PROTECTIVE = IptcDataMining(notes=("the XMP reader failed",), unreadable_packets=1)


def read_xmp_packets(image_bytes: bytes) -> list[bytes]:
    """Every XMP packet in the image: Pillow's, every JPEG APP1 packet, reassembled Extended XMP."""
    return _read_packets(image_bytes)[0]


def data_mining(image_bytes: bytes) -> IptcDataMining:
    """Read ``plus:DataMining``, ``xmpRights:WebStatement`` and ``plus:LicensorURL`` from all packets."""
    if not isinstance(image_bytes, (bytes, bytearray, memoryview)):  # nothing could be read: incomplete
        return IptcDataMining(notes=(f"input of type {type(image_bytes).__name__} is not image bytes",),
                              unreadable_packets=1)
    packets, notes = _read_packets(image_bytes)
    values: list[str] = []
    web_statements: list[str] = []
    licensor_urls: list[str] = []
    unreadable = 0
    for number, packet in enumerate(packets, start=1):
        root = _parse_packet(packet, number, notes)
        if root is None:
            unreadable += 1
            continue
        values.extend(_property_values(root, _DATA_MINING, notes))
        web_statements.extend(_property_values(root, _WEB_STATEMENT, notes))
        licensor_urls.extend(_property_values(root, _LICENSOR_URL, notes))
        _note_foreign_data_mining(root, notes)
    codes: list[str] = []
    for value in values:
        code = _code_from_value(value, notes)
        if code and code not in codes:
            codes.append(code)
    if any(c in DMI_NOT_PROHIBITING_CODES for c in codes) and any(c not in DMI_NOT_PROHIBITING_CODES for c in codes):
        notes.append(f"conflicting DataMining codes {codes}: any prohibition wins")
    return IptcDataMining(
        tuple(codes), tuple(notes), tuple(values), tuple(_unique(web_statements)),
        tuple(_unique(licensor_urls)), len(packets), unreadable,
    )


# -- finding packets ------------------------------------------------------------


def _read_packets(image_bytes: bytes) -> tuple[list[bytes], list[str]]:
    notes: list[str] = []
    if not isinstance(image_bytes, (bytes, bytearray, memoryview)):
        return [], [f"input of type {type(image_bytes).__name__} is not image bytes"]
    data = bytes(image_bytes)
    packets: list[bytes] = []
    pillow_packet = _pillow_packet(data, notes)
    is_jpeg = data.startswith(b"\xff\xd8")
    if is_jpeg:
        packets.extend(_jpeg_packets(data, notes))
    if pillow_packet is not None and _clean(pillow_packet) not in {_clean(p) for p in packets}:
        packets.insert(0, pillow_packet)
    if not packets and not is_jpeg:
        packets.extend(_scan_packets(data, notes))  # JPEGs are read only up to SOS
    return packets, notes


def _pillow_packet(data: bytes, notes: list[str]) -> bytes | None:
    """``im.info["xmp"]``: JPEG APP1, PNG iTXt, WebP ``XMP `` chunk, TIFF tag 700."""
    xmp: object = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(io.BytesIO(data)) as image:
                xmp = image.info.get("xmp")
        except Exception as error:  # noqa: BLE001 - unidentified, truncated or bomb-sized images
            notes.append(f"Pillow could not open the image ({type(error).__name__}); raw bytes searched instead")
    for warning in caught:
        notes.append(f"Pillow warning while reading: {warning.message}")
    if xmp is None or xmp == b"" or xmp == "":
        return None
    if isinstance(xmp, str):
        return xmp.encode("utf-8", "surrogatepass")
    if isinstance(xmp, (bytes, bytearray)):
        return bytes(xmp)
    if isinstance(xmp, tuple) and all(isinstance(v, int) and 0 <= v < 256 for v in xmp):
        return bytes(xmp)
    notes.append(f"Pillow returned XMP of unexpected type {type(xmp).__name__}: ignored")
    return None


def _jpeg_packets(data: bytes, notes: list[str]) -> list[bytes]:
    """Walk JPEG markers up to SOS: every standard packet, then Extended XMP by GUID."""
    standard: list[bytes] = []
    extended: dict[bytes, dict[int, bytes]] = {}
    full_lengths: dict[bytes, int] = {}
    for payload in _app1_payloads(data, notes):
        if payload.startswith(JPEG_XMP_SIGNATURE):
            standard.append(payload[len(JPEG_XMP_SIGNATURE):])
        elif payload.startswith(JPEG_EXTENDED_XMP_SIGNATURE):
            body = payload[len(JPEG_EXTENDED_XMP_SIGNATURE):]
            if len(body) < 40:
                notes.append("Extended XMP segment shorter than its 40-byte header: skipped")
                continue
            guid, full_length = body[:32], int.from_bytes(body[32:36], "big")
            offset = int.from_bytes(body[36:40], "big")
            chunks = extended.setdefault(guid, {})
            if offset in chunks:
                notes.append(f"Extended XMP {guid!r}: duplicate chunk at offset {offset}; last one kept")
            chunks[offset] = body[40:]
            full_lengths[guid] = full_length
    packets = list(standard)
    for guid, chunks in extended.items():
        packet = _reassemble(guid, chunks, full_lengths[guid], notes)
        if packet:
            packets.append(packet)
    return packets


def _app1_payloads(data: bytes, notes: list[str]) -> Iterator[bytes]:
    position, size = 2, len(data)
    while position < size:
        if data[position] != 0xFF:
            notes.append(f"JPEG: no marker at byte {position}: stopped reading segments")
            return
        while position < size and data[position] == 0xFF:
            position += 1  # fill bytes
        if position >= size:
            return
        marker = data[position]
        position += 1
        if marker in (_SOS, _EOI):
            return
        if marker in _STANDALONE_MARKERS:
            continue
        if marker == 0x00:
            notes.append(f"JPEG: stuffed byte where a marker belongs at {position - 1}: stopped")
            return
        if position + 2 > size:
            notes.append("JPEG: truncated segment length: stopped")
            return
        length = int.from_bytes(data[position:position + 2], "big")
        if length < 2:
            notes.append(f"JPEG: segment length {length} at byte {position} is impossible: stopped")
            return
        payload = data[position + 2:position + length]
        if len(payload) < length - 2:
            notes.append(f"JPEG: segment 0xFF{marker:02X} truncated ({len(payload)} of {length - 2} bytes)")
        if marker == 0xE1:
            yield payload
        position += length


def _reassemble(guid: bytes, chunks: dict[int, bytes], full_length: int, notes: list[str]) -> bytes:
    label = guid.decode("ascii", "replace")
    assembled = bytearray()
    for offset in sorted(chunks):
        chunk = chunks[offset]
        if offset > len(assembled):
            notes.append(f"Extended XMP {label}: gap before offset {offset}; kept the first {len(assembled)} bytes")
            break
        assembled += chunk[len(assembled) - offset:]
        if len(assembled) > MAX_EXTENDED_XMP_BYTES:
            notes.append(f"Extended XMP {label}: over {MAX_EXTENDED_XMP_BYTES} bytes: ignored")
            return b""
    if len(assembled) != full_length:
        notes.append(f"Extended XMP {label}: {len(assembled)} bytes read of the {full_length} declared")
    elif hashlib.md5(bytes(assembled), usedforsecurity=False).hexdigest().upper() != label.upper():
        notes.append(f"Extended XMP {label}: MD5 does not match its GUID (kept anyway)")
    return bytes(assembled)


def _scan_packets(data: bytes, notes: list[str]) -> list[bytes]:
    """XMP packet scanning (XMP spec part 3): for containers Pillow does not read."""
    found: list[bytes] = []
    position = 0
    while len(found) < MAX_SCANNED_PACKETS:
        start = data.find(b"<x:xmpmeta", position)
        if start < 0:
            break
        end = data.find(b"</x:xmpmeta>", start)
        if end < 0:
            found.append(data[start:])
            notes.append("XMP packet found by scanning has no end: read to the end of the file")
            break
        found.append(data[start:end + len(b"</x:xmpmeta>")])
        position = end
    if found:
        notes.append(f"{len(found)} XMP packet(s) found by scanning the raw bytes")
    return found


# -- reading packets -----------------------------------------------------------


#: XMP may be serialised in UTF-16 or UTF-32 (XMP Specification Part 1, 7.3.2), with or without a byte-order mark;
#: told apart as XML 1.0 Appendix F does, by the mark or by how the first "<" is spelt. UTF-32 before UTF-16: their
#: little-endian marks share a prefix.
_WIDE_MARKS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
               (b"\xff\xfe", "utf-16-le"), (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
               (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"))
_ENCODING_DECLARATION = re.compile(rb"""^(<\?xml[^>]*?)\s+encoding\s*=\s*(?:"[^"]*"|'[^']*')""")
_PADDING = b"\x00 \t\r\n"


def _clean(packet: bytes) -> bytes:
    """The packet as UTF-8 without padding: what the parser is given, and what tells two copies of a packet apart.

    A wide packet is decoded first: stripping NUL padding from its raw bytes would cut into its characters (a
    UTF-16BE packet starts with a NUL byte), and its encoding declaration is dropped with the re-encoding.
    """
    encoding = next((name for mark, name in _WIDE_MARKS if packet.startswith(mark)), None)
    if encoding is not None:
        unit = 4 if encoding.startswith("utf-32") else 2
        try:
            text = packet[:len(packet) - len(packet) % unit].decode(encoding)
        except UnicodeDecodeError:
            return packet.strip(_PADDING)  # not what it looked like: the parser says why it cannot be read
        utf8 = text.strip("\x00 \t\r\n\ufeff").encode("utf-8", "surrogatepass")
        return _ENCODING_DECLARATION.sub(rb"\1", utf8, count=1)
    stripped = packet.strip(_PADDING)
    return stripped[3:] if stripped.startswith(b"\xef\xbb\xbf") else stripped


def _parse_packet(packet: bytes, number: int, notes: list[str]) -> Element | None:
    text = _clean(packet)
    if not text:
        notes.append(f"XMP packet {number} is empty")
        return None
    try:
        root: Element = SafeElementTree.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except DefusedXmlException as error:
        notes.append(f"XMP packet {number} refused: {type(error).__name__} (DTD/entity/external reference)")
    except Exception as error:  # noqa: BLE001 - ParseError, encoding errors, anything else
        notes.append(f"XMP packet {number} is not well-formed XML ({type(error).__name__}: {error!s:.80})")
    return None


def _property_values(root: Element, name: str, notes: list[str]) -> list[str]:
    """Attribute form, ``rdf:resource`` form, element text, or a nested rdf:li / rdf:value."""
    values: list[str] = []
    for element in root.iter():
        attribute = element.attrib.get(name)
        if attribute is not None and attribute.strip():
            values.append(attribute.strip())
        if element.tag != name:
            continue
        value = _element_value(element)
        if value:
            values.append(value)
        else:
            notes.append(f"empty {_short(name)} element ignored")
    return values


def _element_value(element: Element) -> str:
    resource = element.attrib.get(_RDF_RESOURCE, "").strip()
    if resource:
        return resource
    text = (element.text or "").strip()
    if text:
        return text
    for inner in element.iter():
        if inner is element:
            continue
        nested = inner.attrib.get(_RDF_RESOURCE, "").strip() or (inner.text or "").strip()
        if nested:
            return nested
    return ""


def _note_foreign_data_mining(root: Element, notes: list[str]) -> None:
    """A DataMining in another namespace is not the PLUS property: say so, do not use it."""
    foreign: set[str] = set()
    for element in root.iter():
        for name in (element.tag, *element.attrib):
            if isinstance(name, str) and name.endswith("}DataMining") and name != _DATA_MINING:
                foreign.add(name[1:name.index("}")])
    for namespace in sorted(foreign):
        notes.append(f"DataMining in namespace {namespace!r} is not {PLUS_NS}: ignored")


def _code_from_value(value: str, notes: list[str]) -> str:
    trimmed = value.strip().rstrip("/")
    if not trimmed.lower().startswith(PLUS_VOCABULARY.lower()) and "/" in trimmed:
        notes.append(f"DataMining value {value!r:.80} is not in the PLUS vocabulary; using its last segment")
    code = trimmed.rsplit("/", 1)[-1].strip().upper()
    if not code:
        notes.append(f"DataMining value {value!r:.80} has no code")
        return ""
    if code not in KNOWN_DMI_CODES:
        treat = "treated as prohibiting" if code.startswith("DMI-PROHIBITED") else "no effect"
        notes.append(f"unknown DataMining code {code!r:.60} ({treat})")
    return code


def _short(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
