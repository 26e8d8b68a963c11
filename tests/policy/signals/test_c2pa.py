"""C2PA/CAWG training-mining assertions read from image bytes, and hostile bytes that must not crash.

Images come from :mod:`crawler.testsites.c2pa_embed` (unsigned, built here) and
from ``data/`` (signed by the C2PA SDK through c2pa-python; see data/README.md).
"""

from __future__ import annotations

import io
import random
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cbor2
import pytest
from PIL import Image

from crawler.testsites.c2pa_embed import (
    ASSERTION_STORE_UUID,
    CBOR_UUID,
    JSON_UUID,
    MANIFEST_STORE_UUID,
    MANIFEST_UUID,
    box,
    cbor_assertion,
    embed_manifest_store,
    manifest_store,
    superbox,
    training_mining_store,
    with_corrupt_c2pa,
    with_training_mining,
)
from crawler.testsites.images import landscape
from policy.observe import metadata_observation
from policy.signals.c2pa import TRAINING_USE_KEYS, C2paTrainingMining, training_mining

DATA = Path(__file__).parent / "data"
JPEG = landscape(7, size=(96, 64))
PNG = landscape(8, size=(96, 64), fmt="PNG")
USES = ("allowed", "notAllowed", "constrained")
PROHIBITS = {"allowed": False, "notAllowed": True, "constrained": True}


def read_store(store: bytes, image: bytes = JPEG) -> C2paTrainingMining:
    return training_mining(embed_manifest_store(image, store))


def pixels(image_bytes: bytes) -> bytes:
    with Image.open(io.BytesIO(image_bytes)) as picture:
        return picture.convert("RGB").tobytes()


def app11_segments(jpeg: bytes) -> list[bytes]:
    """The APP11 marker segments of ``jpeg`` (marker and length included), in file order."""
    segments, position = [], 2
    while jpeg[position:position + 2] != b"\xff\xda":
        length = struct.unpack_from(">H", jpeg, position + 2)[0]
        if jpeg[position + 1] == 0xEB:
            segments.append(jpeg[position:position + 2 + length])
        position += 2 + length
    return segments


# --- What the assertion says ------------------------------------------------------------------


@pytest.mark.parametrize("label", ["cawg.training-mining", "c2pa.training-mining"])
@pytest.mark.parametrize("key", TRAINING_USE_KEYS)
@pytest.mark.parametrize("use", USES)
def test_each_training_key_and_use_is_read_under_both_labels(label: str, key: str, use: str) -> None:
    result = training_mining(with_training_mining(JPEG, {key: {"use": use}}, label=label))

    assert result.label == label
    assert result.entries == {key: use}
    assert result.ai_training_use == use
    assert result.prohibits_ai_training is PROHIBITS[use]
    assert result.notes == ()


@pytest.mark.parametrize("key", ["cawg.ai_inference", "c2pa.ai_inference", "com.example.custom"])
def test_inference_and_custom_keys_are_kept_but_say_nothing_about_training(key: str) -> None:
    result = training_mining(with_training_mining(JPEG, {key: {"use": "notAllowed"}}))

    assert result.label == "cawg.training-mining"
    assert result.entries == {key: "notAllowed"}
    assert result.ai_training_use is None
    assert result.prohibits_ai_training is None


def test_an_assertion_that_states_no_training_use_is_refused_saying_so() -> None:
    image = with_training_mining(JPEG, {"cawg.ai_inference": {"use": "allowed"}})
    observation = metadata_observation(image)

    assert observation.signals["c2pa.prohibits_ai_training"] is True
    (reason,) = [r for r in observation.reasons if r.source == "c2pa"]
    assert reason.code == "c2pa.unreadable"
    assert "states no training use" in reason.detail and "cannot be read" not in reason.detail


def test_most_restrictive_training_use_wins_across_keys_and_prefixes() -> None:
    entries = {
        "cawg.ai_training": {"use": "allowed"},
        "c2pa.ai_generative_training": {"use": "constrained", "constraint_info": "non-commercial research"},
        "cawg.ai_inference": {"use": "notAllowed"},  # not a training key
    }
    result = training_mining(with_training_mining(JPEG, entries))

    assert result.ai_training_use == "constrained"
    assert result.prohibits_ai_training is True


def test_all_allowed_does_not_prohibit() -> None:
    entries = {key: {"use": "allowed"} for key in TRAINING_USE_KEYS}
    result = training_mining(with_training_mining(PNG, entries))

    assert result.ai_training_use == "allowed"
    assert result.prohibits_ai_training is False


def test_c2pa_1x_assertion_with_c2pa_keys_reads_like_cawg() -> None:
    # C2PA 1.x: label c2pa.training-mining, keys c2pa.*, same {"entries": {key: {"use": ...}}} shape.
    entries = {"c2pa.ai_generative_training": {"use": "notAllowed"}, "c2pa.ai_inference": {"use": "notAllowed"},
               "c2pa.ai_training": {"use": "notAllowed"}, "c2pa.data_mining": {"use": "notAllowed"}}
    result = training_mining(with_training_mining(JPEG, entries, label="c2pa.training-mining"))

    assert result.label == "c2pa.training-mining"
    assert result.prohibits_ai_training is True


def test_instance_suffix_is_stripped_and_instances_combine_most_restrictive() -> None:
    store = manifest_store(
        cbor_assertion("cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "allowed"}}}),
        cbor_assertion("cawg.training-mining__1", {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}),
    )
    result = read_store(store)

    assert result.label == "cawg.training-mining"
    assert result.entries == {"cawg.ai_training": "notAllowed"}
    assert any("most restrictive" in note for note in result.notes)


def test_json_assertion_is_read() -> None:
    assertion = superbox(JSON_UUID, "cawg.training-mining",
                         box(b"json", b'{"entries": {"cawg.data_mining": {"use": "notAllowed"}}}'))
    result = read_store(manifest_store(assertion))

    assert result.entries == {"cawg.data_mining": "notAllowed"}


def test_misspelled_use_is_read_and_noted() -> None:
    result = training_mining(with_training_mining(JPEG, {"cawg.ai_training": {"use": "NotAllowed"}}))

    assert result.entries == {"cawg.ai_training": "notAllowed"}
    assert result.notes


@pytest.mark.parametrize("entry", [{"use": "maybe"}, {"constraint_info": "ask"}, {"use": 7}, {"use": ["notAllowed"]},
                                   {"use": {"notAllowed": True}}, ["notAllowed"]])
def test_unreadable_use_is_treated_as_constrained(entry: object) -> None:
    result = read_store(manifest_store(cbor_assertion("cawg.training-mining", {"entries": {"cawg.ai_training": entry}})))

    assert result.entries == {"cawg.ai_training": "constrained"}
    assert result.prohibits_ai_training is True
    assert result.notes


# --- No assertion -----------------------------------------------------------------------------


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_image_without_c2pa_has_no_assertion_and_no_notes(image: bytes) -> None:
    assert training_mining(image) == C2paTrainingMining(label=None, entries={}, notes=())
    assert training_mining(image).prohibits_ai_training is None


def test_store_without_training_mining_has_no_assertion() -> None:
    store = manifest_store(cbor_assertion("c2pa.actions.v2", {"actions": [{"action": "c2pa.created"}]}))
    result = read_store(store)

    assert result.label is None
    assert result.prohibits_ai_training is None


def test_training_mining_outside_a_c2pa_store_is_ignored() -> None:
    not_c2pa = bytes(16)
    store = superbox(not_c2pa, "other", superbox(MANIFEST_UUID, "m", superbox(
        ASSERTION_STORE_UUID, "c2pa.assertions",
        cbor_assertion("cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}))))
    result = read_store(store)

    assert result.label is None
    assert any("not a C2PA manifest store" in note for note in result.notes)


# --- Containers -------------------------------------------------------------------------------


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_embedding_leaves_pixels_unchanged(image: bytes) -> None:
    embedded = with_training_mining(image, {"cawg.ai_training": {"use": "notAllowed"}})

    assert embedded != image
    assert pixels(embedded) == pixels(image)


def test_png_store_is_a_cabx_chunk_with_a_valid_crc() -> None:
    embedded = with_training_mining(PNG, {"cawg.ai_training": {"use": "notAllowed"}})
    start = embedded.index(b"caBX") - 4
    length = struct.unpack_from(">I", embedded, start)[0]
    crc = struct.unpack_from(">I", embedded, start + 8 + length)[0]

    assert crc == zlib.crc32(embedded[start + 4:start + 8 + length])
    assert training_mining(embedded).prohibits_ai_training is True


def test_png_chunk_with_a_bad_crc_is_still_honoured_and_noted() -> None:
    embedded = bytearray(with_training_mining(PNG, {"cawg.ai_training": {"use": "notAllowed"}}))
    start = embedded.index(b"caBX") - 4
    crc_at = start + 8 + struct.unpack_from(">I", embedded, start)[0]
    embedded[crc_at:crc_at + 4] = bytes(4)
    result = training_mining(bytes(embedded))

    assert result.prohibits_ai_training is True
    assert any("CRC" in note for note in result.notes)


def test_store_split_over_many_app11_segments_is_reassembled() -> None:
    entries = {"cawg.ai_training": {"use": "constrained", "constraint_info": "ask first " * 40}}
    embedded = with_training_mining(JPEG, entries, chunk_bytes=64)

    assert len(app11_segments(embedded)) > 5
    assert pixels(embedded) == pixels(JPEG)
    result = training_mining(embedded)
    assert result.entries == {"cawg.ai_training": "constrained"}
    assert result.notes == ()


def test_app11_packets_out_of_order_are_joined_in_sequence_order() -> None:
    embedded = with_training_mining(JPEG, {"cawg.data_mining": {"use": "notAllowed"}}, chunk_bytes=48)
    segments = app11_segments(embedded)
    shuffled = list(reversed(segments))
    start = embedded.index(segments[0])
    reordered = embedded[:start] + b"".join(shuffled) + embedded[start + sum(map(len, segments)):]

    assert training_mining(reordered).entries == {"cawg.data_mining": "notAllowed"}


def test_missing_app11_packet_is_noted_not_fatal() -> None:
    embedded = with_training_mining(JPEG, {"cawg.data_mining": {"use": "notAllowed"}}, chunk_bytes=48)
    missing = app11_segments(embedded)[2]
    result = training_mining(embedded.replace(missing, b""))

    assert any("packets" in note for note in result.notes)


def test_other_jumbf_in_app11_does_not_hide_the_c2pa_store() -> None:
    other = superbox(bytes(range(16)), "not c2pa", box(b"json", b"{}"))
    first = embed_manifest_store(JPEG, other, box_instance=7)
    both = embed_manifest_store(first, manifest_store(cbor_assertion(
        "cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "notAllowed"}}})), box_instance=8)

    assert training_mining(both).prohibits_ai_training is True


def test_many_foreign_jumbf_boxes_before_the_store_do_not_use_up_the_store_limit() -> None:
    image = JPEG
    for instance in range(10):
        image = embed_manifest_store(image, superbox(bytes([instance]) * 16, "foreign"), box_instance=100 + instance)
    image = embed_manifest_store(image, manifest_store(cbor_assertion(
        "cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "notAllowed"}}})), box_instance=1)

    assert training_mining(image).prohibits_ai_training is True


def test_more_c2pa_stores_than_the_limit_are_noted() -> None:
    store = manifest_store(cbor_assertion("cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "allowed"}}}))
    image = JPEG
    for instance in range(6):
        image = embed_manifest_store(image, store, box_instance=10 + instance)
    result = training_mining(image)

    assert result.ai_training_use == "allowed"
    assert any("more than 4 C2PA manifest stores" in note for note in result.notes)


def test_store_in_an_unparsed_container_is_found_by_scanning() -> None:
    store = manifest_store(cbor_assertion("cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}))
    avif_like = box(b"ftyp", b"avif\x00\x00\x00\x00avifmif1") + box(b"uuid", bytes(16) + b"manifest\x00" + bytes(8) + store)
    result = training_mining(avif_like)

    assert result.prohibits_ai_training is True
    assert any("scanning" in note for note in result.notes)


# --- Signed samples made by the C2PA SDK (c2pa-python 0.38.1, c2pa-rs 0.91.3) -------------------


@pytest.mark.parametrize(("filename", "label", "entries"), [
    ("cawg-not-allowed.jpg", "cawg.training-mining", {
        "cawg.ai_training": "notAllowed", "cawg.ai_generative_training": "notAllowed",
        "cawg.data_mining": "constrained", "cawg.ai_inference": "allowed"}),
    ("c2pa-allowed.png", "c2pa.training-mining", {
        "c2pa.ai_training": "allowed", "c2pa.ai_generative_training": "allowed",
        "c2pa.data_mining": "allowed", "c2pa.ai_inference": "notAllowed"}),
    ("cawg-constrained.webp", "cawg.training-mining", {"cawg.ai_training": "constrained", "cawg.data_mining": "allowed"}),
    ("cawg-not-allowed-multisegment.jpg", "cawg.training-mining", {"cawg.ai_generative_training": "notAllowed"}),
])
def test_signed_sample_reads_as_the_sdk_reads_it(filename: str, label: str, entries: dict[str, str]) -> None:
    result = training_mining((DATA / filename).read_bytes())

    assert result.label == label
    assert result.entries == entries
    assert result.notes == ()


@pytest.mark.parametrize("filename", ["cawg-not-allowed.jpg", "c2pa-allowed.png", "cawg-constrained.webp",
                                      "cawg-not-allowed-multisegment.jpg"])
def test_download_cut_inside_the_signature_still_yields_the_assertion(filename: str) -> None:
    signed = (DATA / filename).read_bytes()
    cut = signed[: signed.rindex(b"c2pa.signature") + 40]
    result = training_mining(cut)

    assert result.entries == training_mining(signed).entries
    assert any("declares" in note for note in result.notes)


def test_signed_sample_multisegment_really_spans_segments() -> None:
    assert len(app11_segments((DATA / "cawg-not-allowed-multisegment.jpg").read_bytes())) == 2


def test_parent_manifests_not_allowed_outweighs_the_active_manifests_allowed() -> None:
    result = training_mining((DATA / "edited-allowed-parent-not-allowed.jpg").read_bytes())

    assert result.label == "cawg.training-mining"
    assert result.ai_training_use == "notAllowed"
    assert result.prohibits_ai_training is True
    assert any("not the active manifest" in note for note in result.notes)


# --- Corrupt and hostile input: never an exception, always a note -----------------------------


def assert_survives(image: bytes) -> C2paTrainingMining:
    started = time.monotonic()
    result = training_mining(image)
    assert time.monotonic() - started < 2
    assert isinstance(result, C2paTrainingMining)
    assert result.prohibits_ai_training in (None, True, False)
    return result


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_corrupt_store_is_noted_and_gives_no_verdict(image: bytes) -> None:
    result = assert_survives(with_corrupt_c2pa(image))

    assert result.prohibits_ai_training is None
    assert any("declares" in note for note in result.notes)
    assert any("does not decode" in note for note in result.notes)


def _assertion_with_cbor(payload: bytes) -> bytes:
    return manifest_store(superbox(CBOR_UUID, "cawg.training-mining", box(b"cbor", payload)))


def _nested_superboxes(depth: int) -> bytes:
    inner = box(b"cbor", b"\xa0")
    for level in range(depth):
        inner = superbox(CBOR_UUID, f"level{level}", inner)
    return superbox(MANIFEST_STORE_UUID, "c2pa", inner)


HOSTILE_STORES = {
    "huge-lbox": struct.pack(">I", 0xFFFFFFFF) + b"jumb" + bytes(40),
    "huge-xlbox": struct.pack(">I", 1) + b"jumb" + struct.pack(">Q", 2**63) + bytes(40),
    "lbox-smaller-than-header": struct.pack(">I", 3) + b"jumb" + bytes(40),
    "truncated-xlbox": struct.pack(">I", 1) + b"jumb" + b"\x00\x00",
    "no-description": box(b"jumb", box(b"cbor", b"\xa0")),
    "short-description": box(b"jumb", box(b"jumd", b"c2pa")),
    "unterminated-label": box(b"jumb", box(b"jumd", MANIFEST_STORE_UUID + b"\x03c2pa")),
    "deep-nesting": _nested_superboxes(500),
    "many-boxes": superbox(MANIFEST_STORE_UUID, "c2pa", box(b"free", b"") * 30_000),
    "garbage-cbor": _assertion_with_cbor(random.Random(1).randbytes(300)),
    "cbor-huge-string-length": _assertion_with_cbor(b"\xa1\x67entries\x5b" + struct.pack(">Q", 2**62)),
    "cbor-deep-arrays": _assertion_with_cbor(b"\x81" * 100_000),
    "cbor-not-a-map": _assertion_with_cbor(cbor2.dumps(["entries"])),
    "cbor-entries-not-a-map": _assertion_with_cbor(cbor2.dumps({"entries": "notAllowed"})),
    "cbor-int-keys": _assertion_with_cbor(cbor2.dumps({"entries": {1: {"use": "notAllowed"}}})),
    "cbor-bignum-use": _assertion_with_cbor(cbor2.dumps({"entries": {"cawg.ai_training": {"use": 7**20_000}}})),
    "cbor-cyclic": _assertion_with_cbor(b"\xa1\x67entries\xd8\x1c\xa1\x61a\xd8\x1d\x00"),
    "json-deep": manifest_store(superbox(JSON_UUID, "cawg.training-mining", box(b"json", b"[" * 100_000))),
    "json-invalid-utf8": manifest_store(superbox(JSON_UUID, "cawg.training-mining", box(b"json", b"\xff\xfe{"))),
    "label-invalid-utf8": box(b"jumb", box(b"jumd", MANIFEST_STORE_UUID + b"\x03\xff\xfe\x00")),
    "not-a-superbox": box(b"free", bytes(64)),
}


@pytest.mark.parametrize("store", HOSTILE_STORES.values(), ids=HOSTILE_STORES.keys())
@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_hostile_store_is_survived_with_notes(image: bytes, store: bytes) -> None:
    result = assert_survives(embed_manifest_store(image, store))

    assert result.notes
    assert result.prohibits_ai_training in (None, True)  # hostile bytes never produce an "allowed"


def test_notes_are_capped() -> None:
    many_bad_superboxes = superbox(MANIFEST_STORE_UUID, "c2pa", box(b"jumb", b"") * 5_000)
    result = assert_survives(embed_manifest_store(JPEG, many_bad_superboxes))

    assert len(result.notes) <= 65
    assert result.notes[-1].endswith("further notes suppressed")


HOSTILE_IMAGES = {
    "empty": b"",
    "jpeg-soi-only": b"\xff\xd8",
    "jpeg-lying-segment-length": b"\xff\xd8\xff\xeb\xff\xff" + b"JP" + bytes(20),
    "jpeg-short-app11": b"\xff\xd8\xff\xeb\x00\x06JP\x00\x01\xff\xd9",
    "jpeg-app11-not-jp": b"\xff\xd8\xff\xeb\x00\x20" + b"XX" + bytes(28) + b"\xff\xd9",
    "jpeg-garbage-after-soi": b"\xff\xd8" + bytes(100),
    "png-lying-chunk-length": b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0xFFFFFFF0) + b"caBX" + bytes(20),
    "webp-lying-riff": b"RIFF" + struct.pack("<I", 2**31) + b"WEBP" + b"C2PA" + struct.pack("<I", 2**30) + bytes(8),
    "webp-truncated": (DATA / "cawg-constrained.webp").read_bytes()[:-200],
    "random": random.Random(2).randbytes(5000),
    "scan-lookalike": b"\x00" * 12 + b"jumd" + MANIFEST_STORE_UUID,
}


@pytest.mark.parametrize("image", HOSTILE_IMAGES.values(), ids=HOSTILE_IMAGES.keys())
def test_hostile_container_is_survived(image: bytes) -> None:
    result = assert_survives(image)

    assert result.prohibits_ai_training in (None, True)


@pytest.mark.parametrize("value", ["not bytes", None, 12, bytearray(JPEG), memoryview(JPEG)],
                         ids=["str", "none", "int", "bytearray", "memoryview"])
def test_wrong_input_types_are_noted_or_read(value: object) -> None:
    result = training_mining(value)  # type: ignore[arg-type]

    assert isinstance(result, C2paTrainingMining)
    if isinstance(value, bytearray | memoryview):
        assert result.notes == ()
    else:
        assert result.notes


@pytest.mark.parametrize("filename", ["cawg-not-allowed.jpg", "c2pa-allowed.png", "cawg-constrained.webp"])
def test_truncated_and_bit_flipped_samples_never_raise(filename: str) -> None:
    original = (DATA / filename).read_bytes()
    rng = random.Random(filename)
    for _ in range(150):
        mutated = bytearray(original[: rng.randrange(len(original) + 1)])
        for _ in range(rng.randrange(1, 8)):
            if mutated:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        training_mining(bytes(mutated))  # must return, whatever it finds


# --- A corrupt store counts as prohibiting: an opt-out may be in the part that cannot be read ---------

ALLOWED = {"cawg.ai_training": {"use": "allowed"}, "cawg.data_mining": {"use": "allowed"}}
SIGNED_ALLOWED_PNG = (DATA / "c2pa-allowed.png").read_bytes()
ALLOWED_JPEG = with_training_mining(JPEG, ALLOWED, chunk_bytes=96)


def png_with_store(png: bytes, change: Callable[[bytearray], None]) -> bytes:
    """``png`` with its caBX chunk's data changed in place and the chunk's CRC made right again."""
    image = bytearray(png)
    start = image.index(b"caBX") - 4
    length = struct.unpack_from(">I", image, start)[0]
    data = bytearray(image[start + 8:start + 8 + length])
    change(data)
    assert len(data) == length
    image[start + 8:start + 8 + length] = data
    struct.pack_into(">I", image, start + 8 + length, zlib.crc32(bytes(image[start + 4:start + 8 + length])))
    return bytes(image)


def lying_length(label: bytes) -> Callable[[bytearray], None]:
    """Make the superbox labelled ``label`` declare far more bytes than the store holds."""
    def change(data: bytearray) -> None:
        superbox_start = data.index(label) - 17 - 8 - 8  # label, after jumd UUID+toggles, jumd header, jumb header
        assert data[superbox_start + 4:superbox_start + 8] == b"jumb"
        struct.pack_into(">I", data, superbox_start, 0x7FFFFF00)
    return change


def garbled_cbor(data: bytearray) -> None:
    """The training-mining assertion's CBOR made undecodable (0x1c is a reserved CBOR initial byte)."""
    at = data.index(b"cbor", data.index(b"c2pa.training-mining")) + 4
    data[at] = 0x1C


def garbled(store: bytes) -> bytes:
    changed = bytearray(store)
    garbled_cbor(changed)
    return bytes(changed)


def jpeg_without_segment(jpeg: bytes, index: int) -> bytes:
    return jpeg.replace(app11_segments(jpeg)[index], b"", 1)


def jpeg_with_segment_twice(jpeg: bytes, index: int) -> bytes:
    segment = app11_segments(jpeg)[index]
    return jpeg.replace(segment, segment + segment, 1)


def jpeg_cut_in_store(jpeg: bytes) -> bytes:
    segments = app11_segments(jpeg)
    return jpeg[:jpeg.index(segments[len(segments) // 2]) + 30]


CORRUPT_ALLOWED_IMAGES = {
    "png-cut-inside-the-signature": SIGNED_ALLOWED_PNG[:SIGNED_ALLOWED_PNG.rindex(b"c2pa.signature") + 40],
    "png-cut-before-the-assertion": SIGNED_ALLOWED_PNG[:SIGNED_ALLOWED_PNG.index(b"c2pa.training-mining") - 40],
    "png-crc-mismatch": SIGNED_ALLOWED_PNG.replace(b"c2pa.claim", b"c2pa.clain", 1),
    "png-assertion-store-length-lies": png_with_store(SIGNED_ALLOWED_PNG, lying_length(b"c2pa.assertions")),
    "png-assertion-cbor-garbled": png_with_store(SIGNED_ALLOWED_PNG, garbled_cbor),
    "png-store-not-a-superbox": png_with_store(SIGNED_ALLOWED_PNG, lambda data: data.__setitem__(slice(4, 8), b"free")),
    "jpeg-packet-missing": jpeg_without_segment(ALLOWED_JPEG, 1),
    "jpeg-packet-repeated": jpeg_with_segment_twice(ALLOWED_JPEG, 1),
    "jpeg-cut-inside-the-store": jpeg_cut_in_store(ALLOWED_JPEG),
    "jpeg-assertion-cbor-garbled": embed_manifest_store(JPEG, garbled(training_mining_store(ALLOWED,
                                                                                           label="c2pa.training-mining"))),
}


@pytest.mark.parametrize("image", [SIGNED_ALLOWED_PNG, ALLOWED_JPEG], ids=["signed-png", "jpeg"])
def test_an_intact_allowed_store_is_complete_and_allows(image: bytes) -> None:
    observation = metadata_observation(image)

    assert training_mining(image).complete is True
    assert observation.signals["c2pa.prohibits_ai_training"] is False
    assert [r.code for r in observation.reasons if r.source == "c2pa"] == ["c2pa.allowed"]


@pytest.mark.parametrize("image", CORRUPT_ALLOWED_IMAGES.values(), ids=CORRUPT_ALLOWED_IMAGES.keys())
def test_a_corrupt_store_that_said_allowed_counts_as_prohibiting(image: bytes) -> None:
    result = training_mining(image)
    observation = metadata_observation(image)

    assert result.complete is False, result.notes
    assert observation.signals["c2pa.prohibits_ai_training"] is True
    (reason,) = [r for r in observation.reasons if r.source == "c2pa"]
    assert reason.code == "c2pa.unreadable"
    assert "cannot be read" in reason.detail


@pytest.mark.parametrize("store", HOSTILE_STORES.values(), ids=HOSTILE_STORES.keys())
def test_a_hostile_store_counts_as_prohibiting(store: bytes) -> None:
    observation = metadata_observation(embed_manifest_store(JPEG, store))

    assert observation.signals["c2pa.prohibits_ai_training"] is True


@pytest.mark.parametrize("value", ["not bytes", None, 12], ids=["str", "none", "int"])
def test_input_that_is_not_bytes_is_incomplete(value: object) -> None:
    assert training_mining(value).complete is False  # type: ignore[arg-type]
