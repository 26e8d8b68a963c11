"""C2PA / CAWG "training-mining" assertions embedded in images, read in pure Python.

A publisher can say, inside the image, whether it may be used for AI training or
data mining: a ``cawg.training-mining`` assertion (``c2pa.training-mining`` in
C2PA 1.x) in the image's C2PA manifest store. Reading it with the native C2PA
SDK would add a Rust library to every crawler worker; the part we need is a
few hundred bytes of JUMBF boxes and one CBOR map, so it is read here directly.

**Signatures are not checked.** An unsigned, self-signed or invalid claim of
``notAllowed`` is still honoured, because honouring it is the protective choice
(someone went to the trouble of saying "do not train"); an ``allowed`` proves
nothing and never overrides another signal. Stripped metadata tells nothing.

Where the manifest store lives (C2PA 2.x, "Embedding manifests into assets"):

- JPEG: APP11 (``FF EB``) marker segments in the JPEG XT box format
  (ISO/IEC 18477-3): ``CI="JP"`` (2 bytes), box instance number ``En`` (2 bytes),
  packet sequence number ``Z`` (4 bytes, from 1), then the JUMBF box. A box
  larger than one segment continues in further segments with the same ``En``
  and increasing ``Z``; each continuation repeats the box's ``LBox``/``TBox``
  (and ``XLBox``) header, which is dropped when the packets are joined.
- PNG: a ``caBX`` chunk holding the store.
- WebP: a RIFF ``C2PA`` chunk holding the store.
- Anything else (AVIF/HEIF/JPEG XL/TIFF ...): the bytes are scanned for a
  contiguous store (``jumb`` superbox whose description has the C2PA UUID).

JUMBF (ISO/IEC 19566-5): a superbox ``jumb`` starts with a description box
``jumd`` (16-byte content-type UUID, a toggles byte, then a null-terminated
UTF-8 label when toggle 0x02 is set; an ID, signature and private box may
follow), then its content boxes. C2PA nests them as manifest store (UUID
``c2pa``) > manifest (``c2ma``, or ``c2um`` for update manifests) > assertion
store (``c2as``, label ``c2pa.assertions``) > one superbox per assertion,
labelled with the assertion label plus an optional ``__N`` instance suffix,
whose content type is ``cbor`` (a ``cbor`` box) or ``json`` (a ``json`` box).

The assertion (CAWG training-and-data-mining 1.1; same shape in C2PA 1.x)::

    {"entries": {"cawg.ai_training": {"use": "notAllowed"},
                 "cawg.data_mining": {"use": "constrained", "constraint_info": "..."}}}

Every assertion found, in any manifest of the store (an ingredient's manifest
included), is combined per entry key with the most restrictive use winning.
Nothing here raises on bad input: lengths are checked against the buffer,
nesting and box counts are bounded, and every problem becomes a note; a
store that is present but cannot be walked whole marks the result
incomplete, which :mod:`policy.observe` reads as prohibiting.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cbor2

#: Largest manifest store (reassembled JUMBF) that is parsed at all.
DEFAULT_MAX_MANIFEST_STORE_BYTES = 16 * 1024 * 1024
#: Largest content box (CBOR or JSON) of one assertion that is decoded.
DEFAULT_MAX_ASSERTION_BYTES = 1024 * 1024
#: Superbox nesting limit; C2PA itself needs four levels.
DEFAULT_MAX_BOX_DEPTH = 16
#: Boxes visited per manifest store before giving up.
DEFAULT_MAX_BOXES = 10_000
#: Nesting limit handed to the CBOR and JSON decoders.
DEFAULT_MAX_CBOR_DEPTH = 16
#: Entries read per assertion; the spec defines four.
DEFAULT_MAX_ENTRIES = 256
#: Manifest stores read per image (C2PA allows one; hostile files may carry many).
DEFAULT_MAX_MANIFEST_STORES = 4
#: Notes kept per image; the rest are summarised in one line.
DEFAULT_MAX_NOTES = 64

TRAINING_MINING_LABELS = ("cawg.training-mining", "c2pa.training-mining")
#: Entry keys that speak about training or mining (``*.ai_inference`` does not).
TRAINING_USE_KEYS = tuple(
    f"{prefix}.{purpose}" for prefix in ("cawg", "c2pa") for purpose in ("ai_training", "ai_generative_training", "data_mining")
)
ALLOWED, CONSTRAINED, NOT_ALLOWED = "allowed", "constrained", "notAllowed"
#: Uses from most permissive to most restrictive.
USE_RESTRICTIVENESS = {ALLOWED: 0, CONSTRAINED: 1, NOT_ALLOWED: 2}


def _c2pa_uuid(fourcc: bytes) -> bytes:
    """C2PA content-type UUIDs: four ASCII bytes + 0011-0010-8000-00AA00389B71."""
    return fourcc + bytes.fromhex("00110010800000AA00389B71")


MANIFEST_STORE_UUID = _c2pa_uuid(b"c2pa")
MANIFEST_UUIDS = {_c2pa_uuid(b"c2ma"): "standard", _c2pa_uuid(b"c2um"): "update"}
ASSERTION_STORE_UUID = _c2pa_uuid(b"c2as")
CBOR_UUID = _c2pa_uuid(b"cbor")
JSON_UUID = _c2pa_uuid(b"json")

_LABEL = re.compile(r"(?P<base>(?:cawg|c2pa)\.training-mining(?:\.v\d+)?)(?:__\d+)?")
_JPEG_XT_HEADER = struct.Struct(">2sHI")  # CI, En, Z
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# jumd toggles: bit 1 says a label follows the UUID and toggles byte.
_TOGGLE_LABEL = 0x02


@dataclass(frozen=True)
class C2paTrainingMining:
    """What an image's C2PA/CAWG training-mining assertion(s) say, and what went wrong reading them.

    ``label`` is None when no assertion was found. ``label`` set but
    ``ai_training_use`` None means an assertion was there but said nothing
    readable about training: the notes say why, and a caller that wants to
    fail closed can. ``complete`` False means a JUMBF/C2PA store is there but
    could not be walked whole (truncated, lengths that lie, CBOR that does not
    decode, limits reached): whatever it says, an opt-out may be hidden in it.
    """

    label: str | None = None
    entries: dict[str, str] = field(default_factory=dict, hash=False)
    notes: tuple[str, ...] = ()
    complete: bool = True  # False: a store is there but part of it could not be read (an opt-out may be in it)

    @property
    def ai_training_use(self) -> str | None:
        """The most restrictive use among the training and mining keys (both prefixes); None if none."""
        uses = [self.entries[key] for key in TRAINING_USE_KEYS if key in self.entries]
        return max(uses, key=USE_RESTRICTIVENESS.__getitem__) if uses else None

    @property
    def prohibits_ai_training(self) -> bool | None:
        """True for notAllowed or constrained (CAWG: constrained means notAllowed absent more information)."""
        use = self.ai_training_use
        return None if use is None else use != ALLOWED


#: What a failed C2PA reader reads as (policy.observe): a store that could not be read, which prohibits.
PROTECTIVE = C2paTrainingMining(notes=("the C2PA reader failed",), complete=False)


def training_mining(image_bytes: bytes) -> C2paTrainingMining:
    """Read the training-mining assertions embedded in a JPEG, PNG or WebP (others by scanning).

    Hostile bytes never raise: anything malformed, skipped or unsupported is
    described in ``notes``, and a store that is there but cannot be walked
    whole makes the result incomplete (``complete`` is False).
    """
    notes = _Notes()
    if not isinstance(image_bytes, bytes | bytearray | memoryview):
        notes.damage(f"not bytes: {type(image_bytes).__name__}")
        return C2paTrainingMining(notes=notes.freeze(), complete=False)
    data = image_bytes if isinstance(image_bytes, bytes) else memoryview(image_bytes).tobytes()
    return _read_stores(_manifest_stores(data, notes), notes)


class _Notes:
    """Notes with a cap, so a file with a million bad boxes cannot make a million strings."""

    def __init__(self, limit: int = DEFAULT_MAX_NOTES) -> None:
        self._items: list[str] = []
        self._dropped = 0
        self._limit = limit
        self.damaged = False  # a C2PA store is there but could not be read whole

    def damage(self, note: str) -> None:
        """A note saying that part of a store could not be read: what it says about training is unknown."""
        self.damaged = True
        self.add(note)

    def add(self, note: str) -> None:
        if len(self._items) < self._limit:
            self._items.append(note)
        else:
            self._dropped += 1

    def freeze(self) -> tuple[str, ...]:
        if self._dropped:
            return (*self._items, f"{self._dropped} further notes suppressed")
        return tuple(self._items)


# --- Locating the manifest store in the container -----------------------------------------------


def _manifest_stores(data: bytes, notes: _Notes) -> list[memoryview]:
    """The candidate JUMBF manifest stores (each starting with its box header), in file order."""
    buffer = memoryview(data)
    head = data[:12]
    if head.startswith(b"\xff\xd8"):
        candidates = _jpeg_app11_boxes(data, notes)
    elif head.startswith(_PNG_SIGNATURE):
        candidates = _png_cabx_chunks(buffer, notes)
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        candidates = _webp_c2pa_chunks(buffer, notes)
    else:
        candidates = _scan_for_stores(data, notes)
    return candidates


def _jpeg_app11_boxes(data: bytes, notes: _Notes) -> list[memoryview]:
    """Reassemble the JUMBF boxes carried in APP11 segments, per box instance, in packet order."""
    packets: dict[int, dict[int, memoryview]] = {}
    for marker, payload in _jpeg_segments(data, notes):
        if marker != 0xEB:
            continue
        if len(payload) < _JPEG_XT_HEADER.size + 8:
            notes.damage(f"jpeg: APP11 segment of {len(payload)} bytes is too short for a JUMBF packet")
            continue
        common_id, instance, sequence = _JPEG_XT_HEADER.unpack_from(payload)
        if common_id != b"JP":
            notes.add(f"jpeg: APP11 segment with common identifier {common_id!r}, not 'JP'; skipped")
            continue
        by_sequence = packets.setdefault(instance, {})
        if sequence in by_sequence:
            notes.damage(f"jpeg: APP11 box instance {instance} repeats packet {sequence}; the first is kept")
            continue
        by_sequence[sequence] = payload[_JPEG_XT_HEADER.size:]
    boxes = []
    for instance, by_sequence in packets.items():
        box = _join_jpeg_xt_packets(instance, by_sequence, notes)
        if box is not None:
            boxes.append(box)
    return boxes


def _join_jpeg_xt_packets(instance: int, by_sequence: dict[int, memoryview], notes: _Notes) -> memoryview | None:
    order = sorted(by_sequence)
    if order[0] != 1 or order != list(range(order[0], order[0] + len(order))):
        notes.damage(f"jpeg: APP11 box instance {instance} has packets {order[:8]}, not 1..{len(order)}; joined as found")
    first = by_sequence[order[0]]
    if len(order) == 1:
        return first
    box_type = bytes(first[4:8])
    parts = [first]
    total = len(first)
    for sequence in order[1:]:
        packet = by_sequence[sequence]
        header_size = 16 if bytes(packet[:4]) == b"\x00\x00\x00\x01" else 8
        if bytes(packet[4:8]) != box_type:
            notes.damage(f"jpeg: APP11 box instance {instance} packet {sequence} repeats box type "
                      f"{bytes(packet[4:8])!r}, not {box_type!r}")
        total += max(len(packet) - header_size, 0)
        if total > DEFAULT_MAX_MANIFEST_STORE_BYTES:
            notes.damage(f"jpeg: APP11 box instance {instance} exceeds {DEFAULT_MAX_MANIFEST_STORE_BYTES} bytes; skipped")
            return None
        parts.append(packet[header_size:])
    return memoryview(b"".join(parts))


def _jpeg_segments(data: bytes, notes: _Notes) -> Iterator[tuple[int, memoryview]]:
    """(marker, payload) for every marker segment, skipping entropy-coded data after SOS."""
    buffer = memoryview(data)
    position, size = 2, len(data)
    while position < size:
        if buffer[position] != 0xFF:
            notes.add(f"jpeg: expected a marker at byte {position}; stopped")
            return
        while position < size and buffer[position] == 0xFF:  # fill bytes
            position += 1
        if position >= size:
            return
        marker = buffer[position]
        position += 1
        if marker == 0xD9:  # EOI
            return
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length field
            continue
        if position + 2 > size:
            notes.add("jpeg: truncated in a marker length")
            return
        length = (buffer[position] << 8) | buffer[position + 1]
        if length < 2 or position + length > size:
            (notes.damage if marker == 0xEB else notes.add)(
                f"jpeg: segment FF{marker:02X} at byte {position - 2} declares {length} bytes, "
                f"{size - position} remain; stopped")
            if marker == 0xEB and length >= 2:  # a truncated store may still hold its assertions
                yield marker, buffer[position + 2:]
            return
        yield marker, buffer[position + 2:position + length]
        position += length
        if marker == 0xDA:  # SOS: skip the scan to the next real marker
            position = _after_entropy_coded_data(data, position)


def _after_entropy_coded_data(data: bytes, position: int) -> int:
    """Where the next marker starts: FF followed by anything but 00 (stuffing), FF (fill) or RSTn."""
    size = len(data)
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= size:
            return size
        following = data[position + 1]
        if following == 0x00 or following == 0xFF or 0xD0 <= following <= 0xD7:
            position += 1 if following == 0xFF else 2
            continue
        return position


def _png_cabx_chunks(buffer: memoryview, notes: _Notes) -> list[memoryview]:
    stores: list[memoryview] = []
    position, size = len(_PNG_SIGNATURE), len(buffer)
    while position + 12 <= size:
        length, = struct.unpack_from(">I", buffer, position)
        kind = bytes(buffer[position + 4:position + 8])
        end = position + 12 + length
        if length > 0x7FFFFFFF or end > size:
            (notes.damage if kind == b"caBX" else notes.add)(
                f"png: chunk {kind!r} at byte {position} declares {length} bytes, {size - position - 12} remain; stopped")
            if kind == b"caBX":  # a truncated store may still hold its assertions
                stores.append(buffer[position + 8:])
            return stores
        if kind == b"caBX":
            data = buffer[position + 8:position + 8 + length]
            crc, = struct.unpack_from(">I", buffer, position + 8 + length)
            if zlib.crc32(data, zlib.crc32(kind)) != crc:
                notes.damage("png: caBX chunk CRC mismatch; read anyway")
            stores.append(data)
        if kind == b"IEND":
            return stores
        position = end
    if position < size:
        notes.add(f"png: {size - position} trailing bytes do not form a chunk")
    return stores


def _webp_c2pa_chunks(buffer: memoryview, notes: _Notes) -> list[memoryview]:
    stores: list[memoryview] = []
    riff_size, = struct.unpack_from("<I", buffer, 4)
    size = len(buffer)
    if riff_size + 8 > size:
        notes.add(f"webp: RIFF declares {riff_size + 8} bytes, file has {size}")
    end_of_riff = min(size, riff_size + 8)
    position = 12
    while position + 8 <= end_of_riff:
        kind = bytes(buffer[position:position + 4])
        length, = struct.unpack_from("<I", buffer, position + 4)
        if position + 8 + length > end_of_riff:
            (notes.damage if kind == b"C2PA" else notes.add)(
                f"webp: chunk {kind!r} at byte {position} declares {length} bytes, "
                f"{end_of_riff - position - 8} remain; stopped")
            if kind == b"C2PA":  # a truncated store may still hold its assertions
                stores.append(buffer[position + 8:end_of_riff])
            return stores
        if kind == b"C2PA":
            stores.append(buffer[position + 8:position + 8 + length])
        position += 8 + length + (length & 1)
    return stores


def _scan_for_stores(data: bytes, notes: _Notes) -> list[memoryview]:
    """Find contiguous manifest stores in a container this module does not parse."""
    buffer, raw = memoryview(data), data
    signature = b"jumd" + MANIFEST_STORE_UUID
    stores: list[memoryview] = []
    position = raw.find(signature)
    while position >= 0 and len(stores) <= DEFAULT_MAX_MANIFEST_STORES:
        start = position - 12  # jumb LBox+TBox, then jumd LBox
        if start >= 0 and raw[start + 4:start + 8] == b"jumb":
            stores.append(buffer[start:])
        position = raw.find(signature, position + 1)
    if stores:
        notes.add("container format not parsed; manifest store found by scanning the bytes")
    return stores


# --- JUMBF ------------------------------------------------------------------------------------


@dataclass
class _Superbox:
    """A ``jumb`` superbox: its description and what it holds."""

    uuid: bytes
    label: str | None
    children: list[_Superbox] = field(default_factory=list)
    contents: list[tuple[bytes, memoryview]] = field(default_factory=list)  # (box type, payload)


class _BoxBudget:
    def __init__(self) -> None:
        self.remaining = DEFAULT_MAX_BOXES
        self.exhausted = False


def _boxes(buffer: memoryview, where: str, notes: _Notes) -> Iterator[tuple[bytes, memoryview]]:
    """(type, payload) of each box in ``buffer``; a length that runs past the end is clamped to it."""
    position, size = 0, len(buffer)
    while position < size:
        if size - position < 8:
            notes.damage(f"{where}: {size - position} stray bytes after the last box")
            return
        declared, = struct.unpack_from(">I", buffer, position)
        box_type = bytes(buffer[position + 4:position + 8])
        header = 8
        if declared == 1:
            if size - position < 16:
                notes.damage(f"{where}: box {box_type!r} truncated in its extended length")
                return
            declared, = struct.unpack_from(">Q", buffer, position + 8)
            header = 16
        elif declared == 0:
            declared = size - position  # "extends to the end"
        if declared < header:
            notes.damage(f"{where}: box {box_type!r} declares {declared} bytes, less than its header; stopped")
            return
        if declared > size - position:
            notes.damage(f"{where}: box {box_type!r} declares {declared} bytes, {size - position} remain; read what is there")
            declared = size - position
        yield box_type, buffer[position + header:position + declared]
        position += declared


def _parse_superbox(payload: memoryview, depth: int, budget: _BoxBudget, notes: _Notes) -> _Superbox | None:
    """Parse the payload of a ``jumb`` box; None if it has no usable description box."""
    boxes = _boxes(payload, f"JUMBF depth {depth}", notes)
    first = next(boxes, None)
    if first is None or first[0] != b"jumd":
        notes.damage(f"JUMBF depth {depth}: superbox does not start with a jumd description box; skipped")
        return None
    superbox = _describe(first[1], depth, notes)
    if superbox is None:
        return None
    for box_type, box_payload in boxes:
        if budget.remaining <= 0:
            if not budget.exhausted:
                notes.damage(f"JUMBF: more than {DEFAULT_MAX_BOXES} boxes; the rest are skipped")
                budget.exhausted = True
            return superbox
        budget.remaining -= 1
        if box_type == b"jumb":
            if depth + 1 >= DEFAULT_MAX_BOX_DEPTH:
                notes.damage(f"JUMBF: superboxes nested deeper than {DEFAULT_MAX_BOX_DEPTH}; skipped")
                continue
            child = _parse_superbox(box_payload, depth + 1, budget, notes)
            if child is not None:
                superbox.children.append(child)
        else:
            superbox.contents.append((box_type, box_payload))
    return superbox


def _describe(payload: memoryview, depth: int, notes: _Notes) -> _Superbox | None:
    if len(payload) < 17:
        notes.damage(f"JUMBF depth {depth}: description box of {len(payload)} bytes is too short; skipped")
        return None
    uuid, toggles = bytes(payload[:16]), payload[16]
    label = None
    if toggles & _TOGGLE_LABEL:
        rest = bytes(payload[17:])
        end = rest.find(b"\x00")
        if end < 0:
            notes.damage(f"JUMBF depth {depth}: description label is not null-terminated; label ignored")
        else:
            try:
                label = rest[:end].decode("utf-8")
            except UnicodeDecodeError:
                notes.damage(f"JUMBF depth {depth}: description label is not UTF-8; read with replacement characters")
                label = rest[:end].decode("utf-8", errors="replace")
    return _Superbox(uuid, label)


# --- Assertions -------------------------------------------------------------------------------


@dataclass
class _Found:
    label: str
    entries: dict[str, str]
    active: bool


def _read_stores(stores: list[memoryview], notes: _Notes) -> C2paTrainingMining:
    found: list[_Found] = []
    c2pa_stores = 0
    for candidate in stores:
        framing = _Notes()  # what is wrong with the outer box counts only if it is a C2PA store
        top = next(_boxes(candidate, "JUMBF", framing), None)
        if top is None or top[0] != b"jumb":
            notes.damage("JUMBF: embedded data is not a jumb superbox; skipped")
            continue
        content_type = _content_type(top[1])
        if content_type is None:
            notes.damage("JUMBF box without a readable description: it may be a C2PA store; skipped")
            continue
        if content_type != MANIFEST_STORE_UUID:  # other JUMBF users (JPEG 360, ...) share APP11
            notes.add(f"JUMBF box ({content_type.hex()}) is not a C2PA manifest store; skipped")
            continue
        for note in framing.freeze():
            notes.damage(note)
        if len(top[1]) > DEFAULT_MAX_MANIFEST_STORE_BYTES:
            notes.damage(f"manifest store of {len(top[1])} bytes exceeds {DEFAULT_MAX_MANIFEST_STORE_BYTES}; skipped")
            continue
        if c2pa_stores == DEFAULT_MAX_MANIFEST_STORES:
            notes.damage(f"more than {DEFAULT_MAX_MANIFEST_STORES} C2PA manifest stores; the rest are skipped")
            break
        store = _parse_superbox(top[1], 0, _BoxBudget(), notes)
        if store is None:
            continue
        c2pa_stores += 1
        found.extend(_assertions_in_store(store, notes))
    if c2pa_stores > 1:
        notes.add(f"{c2pa_stores} C2PA manifest stores in one image (C2PA allows one); all were read")
    return _combine(found, notes)


def _content_type(superbox_payload: memoryview) -> bytes | None:
    """The UUID in a superbox's description box, looked at without parsing (or noting) anything else."""
    first = next(_boxes(superbox_payload, "JUMBF", _Notes()), None)
    if first is None or first[0] != b"jumd" or len(first[1]) < 16:
        return None
    return bytes(first[1][:16])


def _assertions_in_store(store: _Superbox, notes: _Notes) -> Iterator[_Found]:
    manifests = [child for child in store.children if child.uuid in MANIFEST_UUIDS]
    if len(manifests) != len(store.children):
        notes.add(f"manifest store holds {len(store.children) - len(manifests)} superboxes that are not manifests; ignored")
    for index, manifest in enumerate(manifests):
        active = index == len(manifests) - 1  # the active manifest is the last one in the store
        for assertion_store in manifest.children:
            if assertion_store.uuid != ASSERTION_STORE_UUID:
                continue
            for assertion in assertion_store.children:
                match = _LABEL.fullmatch(assertion.label or "")
                if match is None:
                    continue
                if not active:
                    notes.add(f"{assertion.label} read from manifest {manifest.label!r}, not the active manifest")
                entries = _assertion_entries(assertion, notes)
                yield _Found(match["base"], entries if entries is not None else {}, active)


def _assertion_entries(assertion: _Superbox, notes: _Notes) -> dict[str, str] | None:
    """Decode one assertion's content box and return its entries; None (and a note) if unreadable."""
    where = assertion.label or "assertion"
    wanted = b"json" if assertion.uuid == JSON_UUID else b"cbor"
    if assertion.uuid not in (CBOR_UUID, JSON_UUID):
        notes.add(f"{where}: content type {assertion.uuid.hex()} is neither cbor nor json; trying both")
    contents = [(kind, payload) for kind, payload in assertion.contents if kind in (b"cbor", b"json")]
    contents.sort(key=lambda content: content[0] != wanted)
    if not contents:
        notes.damage(f"{where}: no cbor or json content box")
        return None
    kind, payload = contents[0]
    if len(payload) > DEFAULT_MAX_ASSERTION_BYTES:
        notes.damage(f"{where}: {kind.decode()} content of {len(payload)} bytes exceeds {DEFAULT_MAX_ASSERTION_BYTES}; skipped")
        return None
    try:
        if kind == b"cbor":
            value = cbor2.loads(bytes(payload), max_depth=DEFAULT_MAX_CBOR_DEPTH, strict_hashable_types=True)
        else:
            value = json.loads(bytes(payload).decode("utf-8"))
    except Exception as error:  # cbor2 and json raise a variety of errors on hostile input
        notes.damage(f"{where}: {kind.decode()} content does not decode: {type(error).__name__}: {str(error)[:200]}")
        return None
    return _entries(value, where, notes)


def _entries(value: Any, where: str, notes: _Notes) -> dict[str, str] | None:
    for _ in range(4):  # a tagged map is still a map
        if isinstance(value, cbor2.CBORTag):
            value = value.value
    if not isinstance(value, dict):
        notes.damage(f"{where}: assertion is a {type(value).__name__}, not a map")
        return None
    raw_entries = value.get("entries")
    if not isinstance(raw_entries, dict):
        notes.damage(f"{where}: no 'entries' map")
        return None
    entries: dict[str, str] = {}
    for count, (key, entry) in enumerate(raw_entries.items()):
        if count >= DEFAULT_MAX_ENTRIES:
            notes.damage(f"{where}: more than {DEFAULT_MAX_ENTRIES} entries; the rest are ignored")
            break
        if not isinstance(key, str):
            notes.add(f"{where}: entry key {_preview(key)} is not a string; skipped")
            continue
        use = _use(entry, f"{where} {key}", notes)
        if use is not None:
            entries[key] = use
    return entries


def _use(entry: Any, where: str, notes: _Notes) -> str | None:
    if isinstance(entry, str):
        notes.add(f"{where}: entry is a bare string, not a map with 'use'")
        raw = entry
    elif isinstance(entry, dict) and "use" in entry:
        raw = entry["use"]
    else:
        notes.add(f"{where}: entry has no 'use'; treated as constrained")
        return CONSTRAINED
    if isinstance(raw, str) and raw in USE_RESTRICTIVENESS:
        return raw
    folded = re.sub(r"[^a-z]", "", raw.lower()) if isinstance(raw, str) else ""
    for use in USE_RESTRICTIVENESS:
        if folded == use.lower():
            notes.add(f"{where}: use {raw!r} read as {use!r}")
            return use
    # The publisher said something about this use that we cannot read: CAWG treats an
    # unexplained constraint as notAllowed, and an unreadable one deserves no better.
    notes.add(f"{where}: unknown use {_preview(raw)}; treated as constrained")
    return CONSTRAINED


def _preview(value: Any) -> str:
    """A short repr that cannot fail (repr of a huge decoded integer raises ValueError)."""
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _combine(found: list[_Found], notes: _Notes) -> C2paTrainingMining:
    if not found:
        return C2paTrainingMining(notes=notes.freeze(), complete=not notes.damaged)
    labels = sorted({item.label for item in found})
    if len(labels) > 1:
        notes.add(f"several training-mining labels: {', '.join(labels)}; most restrictive use per key")
    elif len(found) > 1:
        notes.add(f"{len(found)} training-mining assertions; most restrictive use per key")
    active = [item for item in found if item.active]
    label = (active or found)[0].label
    entries: dict[str, str] = {}
    for item in found:
        for key, use in item.entries.items():
            if key not in entries or USE_RESTRICTIVENESS[use] > USE_RESTRICTIVENESS[entries[key]]:
                entries[key] = use
    return C2paTrainingMining(label=label, entries=entries, notes=notes.freeze(), complete=not notes.damaged)
