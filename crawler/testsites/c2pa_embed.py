"""Deterministic C2PA test images: a training-mining assertion, or a broken store, in a JPEG or PNG.

The store is shaped like one the C2PA SDK writes (manifest store > manifest >
assertion store > assertion, plus a claim listing the assertion by hashed URI)
but carries no signature: faircrawl honours training-mining assertions without
checking signatures, so none is needed to test it. Only metadata is inserted;
the compressed pixel data is copied byte for byte.

The JUMBF constants are spelled out here rather than imported from
:mod:`policy.signals.c2pa`, so a typo in the reader cannot hide in its tests.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from typing import Any

import cbor2

#: C2PA content-type UUIDs (four ASCII bytes + 0011-0010-8000-00AA00389B71).
MANIFEST_STORE_UUID = bytes.fromhex("63327061" "00110010800000AA00389B71")  # c2pa
MANIFEST_UUID = bytes.fromhex("63326D61" "00110010800000AA00389B71")  # c2ma
ASSERTION_STORE_UUID = bytes.fromhex("63326173" "00110010800000AA00389B71")  # c2as
CLAIM_UUID = bytes.fromhex("6332636C" "00110010800000AA00389B71")  # c2cl
CBOR_UUID = bytes.fromhex("63626F72" "00110010800000AA00389B71")  # cbor
JSON_UUID = bytes.fromhex("6A736F6E" "00110010800000AA00389B71")  # json

#: Content bytes per APP11 segment, as the C2PA SDK writes them (the marker limit is 65535).
DEFAULT_APP11_CHUNK_BYTES = 64000
#: JPEG XT box instance number of the store (any value unique in the file will do).
DEFAULT_BOX_INSTANCE = 1
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def box(box_type: bytes, payload: bytes) -> bytes:
    """One ISO BMFF-style box: 4-byte big-endian length (header included), 4-byte type, payload."""
    return struct.pack(">I", 8 + len(payload)) + box_type + payload


def superbox(content_type: bytes, label: str, *children: bytes, toggles: int = 0x03) -> bytes:
    """A JUMBF ``jumb`` superbox: a ``jumd`` description (UUID, toggles, label) then ``children``.

    Toggles 0x03 mean "requestable, has a label", as C2PA requires.
    """
    description = content_type + bytes([toggles]) + label.encode("utf-8") + b"\x00"
    return box(b"jumb", box(b"jumd", description) + b"".join(children))


def cbor_assertion(label: str, assertion: Any) -> bytes:
    """An assertion superbox holding ``assertion`` as CBOR."""
    return superbox(CBOR_UUID, label, box(b"cbor", cbor2.dumps(assertion)))


def manifest_store(*assertions: bytes) -> bytes:
    """A one-manifest C2PA store holding the given assertion superboxes and a claim listing them."""
    instance = uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(b"".join(assertions)).hexdigest())
    manifest_label = f"urn:c2pa:{instance}"
    created = []
    for assertion in assertions:
        label = _superbox_label(assertion)
        created.append({"url": f"self#jumbf=c2pa.assertions/{label}", "hash": hashlib.sha256(assertion[8:]).digest()})
    claim = {
        "instanceID": f"xmp:iid:{instance}",
        "claim_generator_info": {"name": "faircrawl test sites", "version": "1"},
        "signature": f"self#jumbf=/c2pa/{manifest_label}/c2pa.signature",
        "created_assertions": created,
        "alg": "sha256",
    }
    manifest = superbox(
        MANIFEST_UUID, manifest_label,
        superbox(ASSERTION_STORE_UUID, "c2pa.assertions", *assertions),
        superbox(CLAIM_UUID, "c2pa.claim.v2", box(b"cbor", cbor2.dumps(claim))),
    )
    return superbox(MANIFEST_STORE_UUID, "c2pa", manifest)


def training_mining_store(entries: dict[str, dict[str, Any]], *, label: str = "cawg.training-mining") -> bytes:
    """A manifest store whose only assertion is a training-mining assertion with ``entries``."""
    return manifest_store(cbor_assertion(label, {"entries": entries}))


def embed_manifest_store(image_bytes: bytes, store: bytes, *, chunk_bytes: int = DEFAULT_APP11_CHUNK_BYTES,
                         box_instance: int = DEFAULT_BOX_INSTANCE) -> bytes:
    """Insert ``store`` (JUMBF bytes, valid or not) into a JPEG as APP11 segments or a PNG as a caBX chunk.

    ``chunk_bytes`` bounds the store bytes per APP11 segment, so tests can force
    a store across many segments.
    """
    if image_bytes.startswith(b"\xff\xd8"):
        return _embed_in_jpeg(image_bytes, store, chunk_bytes, box_instance)
    if image_bytes.startswith(_PNG_SIGNATURE):
        return _embed_in_png(image_bytes, store)
    raise ValueError("only JPEG and PNG images can carry a test C2PA store")


def with_training_mining(image_bytes: bytes, entries: dict[str, dict[str, Any]], *,
                         label: str = "cawg.training-mining", chunk_bytes: int = DEFAULT_APP11_CHUNK_BYTES) -> bytes:
    """``image_bytes`` (JPEG or PNG) with a C2PA training-mining assertion, e.g.

    ``with_training_mining(jpeg, {"cawg.ai_training": {"use": "notAllowed"}})``.
    """
    return embed_manifest_store(image_bytes, training_mining_store(entries, label=label), chunk_bytes=chunk_bytes)


def with_corrupt_c2pa(image_bytes: bytes) -> bytes:
    """``image_bytes`` with a training-mining store whose box lengths lie and whose CBOR is cut short.

    The outer superbox claims almost 4 GiB, and the store stops in the middle of
    the assertion's CBOR, so its ``cbor`` box declares more than is there.
    """
    store = bytearray(training_mining_store({"cawg.ai_training": {"use": "notAllowed"},
                                             "cawg.data_mining": {"use": "notAllowed"}}))
    cut = store.index(b"cbor\xa1") + 12  # inside the assertion's CBOR map
    corrupt = bytes(store[:cut])
    corrupt = struct.pack(">I", 0xFFFFFFF0) + corrupt[4:]
    return embed_manifest_store(image_bytes, corrupt)


def _superbox_label(superbox_bytes: bytes) -> str:
    description = superbox_bytes[16:]  # jumb header, jumd header
    return description[17:description.index(b"\x00", 17)].decode("utf-8")


def _embed_in_jpeg(image_bytes: bytes, store: bytes, chunk_bytes: int, box_instance: int) -> bytes:
    box_header = store[:16] if store[:4] == b"\x00\x00\x00\x01" else store[:8]
    if not 0 < chunk_bytes <= 65535 - 2 - 8 - len(box_header):
        raise ValueError(f"chunk_bytes must be between 1 and {65535 - 10 - len(box_header)}")
    segments = []
    for sequence, start in enumerate(range(0, len(store), chunk_bytes), start=1):
        # ISO/IEC 19566-5 (JPEG XT): every continuation repeats the box's LBox/TBox(/XLBox).
        content = b"JP" + struct.pack(">HI", box_instance, sequence)
        content += (box_header if sequence > 1 else b"") + store[start:start + chunk_bytes]
        segments.append(b"\xff\xeb" + struct.pack(">H", len(content) + 2) + content)
    position = 2
    while image_bytes[position:position + 2] == b"\xff\xe0":  # keep JFIF's APP0 first, as the C2PA SDK does
        position += 2 + struct.unpack_from(">H", image_bytes, position + 2)[0]
    return image_bytes[:position] + b"".join(segments) + image_bytes[position:]


def _embed_in_png(image_bytes: bytes, store: bytes) -> bytes:
    header_length = struct.unpack_from(">I", image_bytes, len(_PNG_SIGNATURE))[0]
    after_header = len(_PNG_SIGNATURE) + 12 + header_length  # caBX goes right after IHDR
    chunk = struct.pack(">I", len(store)) + b"caBX" + store + struct.pack(">I", zlib.crc32(b"caBX" + store))
    return image_bytes[:after_header] + chunk + image_bytes[after_header:]
