"""XMP reading and IPTC/PLUS DataMining, per reference §5.2-5.3; also the test-site image builders."""

from __future__ import annotations

import hashlib
import io
import struct
import time

import pytest
from PIL import Image, TiffImagePlugin

from crawler.testsites.metadata import (
    FORMS,
    JPEG_XMP_SIGNATURE,
    billion_laughs_packet,
    data_mining_packet,
    embed_xmp,
    with_hostile_xmp,
    with_xmp_data_mining,
)
from policy.signals.xmp import (
    JPEG_EXTENDED_XMP_SIGNATURE,
    PLUS_NS,
    IptcDataMining,
    data_mining,
    read_xmp_packets,
)

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"


def plain_image(fmt: str) -> bytes:
    picture = Image.new("RGB", (16, 12))
    for x in range(16):
        for y in range(12):
            picture.putpixel((x, y), (x * 15, y * 20, 128))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


JPEG = plain_image("JPEG")
PNG = plain_image("PNG")


def pixels(image_bytes: bytes) -> bytes:
    with Image.open(io.BytesIO(image_bytes)) as image:
        return image.tobytes()


def rdf(inner: str, namespaces: str = "") -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {namespaces}>{inner}</rdf:Description></rdf:RDF></x:xmpmeta>'
    ).encode()


def app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def with_segments(image: bytes, *segments: bytes) -> bytes:
    return image[:2] + b"".join(segments) + image[2:]


def extended_segments(packet: bytes, chunk_size: int, guid: bytes | None = None) -> list[bytes]:
    guid = guid or hashlib.md5(packet, usedforsecurity=False).hexdigest().upper().encode()
    return [
        app1(JPEG_EXTENDED_XMP_SIGNATURE + guid + struct.pack(">II", len(packet), offset) + packet[offset:offset + chunk_size])
        for offset in range(0, len(packet), chunk_size)
    ]


# -- the builders (crawler/testsites/metadata.py) --------------------------------------


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("prefix", ["plus", "ns7"])
def test_builder_keeps_pixels_and_embeds_readable_packet(image, form, prefix):
    marked = with_xmp_data_mining(image, "DMI-PROHIBITED-AIMLTRAINING", prefix=prefix, form=form)
    assert pixels(marked) == pixels(image)
    with Image.open(io.BytesIO(marked)) as opened:
        assert opened.info.get("xmp")  # a real packet, where Pillow looks for one
    result = data_mining(marked)
    assert result.codes == ("DMI-PROHIBITED-AIMLTRAINING",)
    assert result.prohibits_ai_training is True


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_builder_replaces_existing_packet(image):
    twice = with_xmp_data_mining(with_xmp_data_mining(image, "DMI-PROHIBITED"), "DMI-ALLOWED")
    assert data_mining(twice).codes == ("DMI-ALLOWED",)
    assert len(read_xmp_packets(twice)) == 1


def test_builder_is_deterministic():
    assert with_xmp_data_mining(JPEG, "DMI-PROHIBITED") == with_xmp_data_mining(JPEG, "DMI-PROHIBITED")


@pytest.mark.parametrize(("kwargs", "image"), [
    ({"form": "element"}, JPEG), ({"prefix": "rdf"}, JPEG), ({"prefix": "1bad"}, JPEG), ({}, b"GIF89a"),
], ids=["unknown-form", "reserved-prefix", "invalid-prefix", "unsupported-format"])
def test_builder_rejects_bad_arguments(kwargs, image):
    with pytest.raises(ValueError):
        with_xmp_data_mining(image, "DMI-PROHIBITED", **kwargs)


# -- the DataMining table (reference §5.2) ---------------------------------------------

CODE_TABLE = [
    pytest.param("DMI-UNSPECIFIED", False, id="unspecified-not-an-opt-out"),
    pytest.param("DMI-ALLOWED", False, id="allowed-not-an-opt-out"),
    pytest.param("DMI-PROHIBITED-AIMLTRAINING", True, id="prohibited-aiml-training-opts-out"),
    pytest.param("DMI-PROHIBITED-GENAIMLTRAINING", True, id="prohibited-genai-training-opts-out"),
    pytest.param("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING", True, id="prohibited-except-search-opts-out"),
    pytest.param("DMI-PROHIBITED", True, id="prohibited-opts-out"),
    pytest.param("DMI-PROHIBITED-SEECONSTRAINT", True, id="see-constraint-fails-closed"),
    pytest.param("DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR", True, id="see-embedded-rights-opts-out"),
    pytest.param("DMI-PROHIBITED-SEELINKEDRIGHTSEXPR", True, id="see-linked-rights-opts-out"),
]


@pytest.mark.parametrize(("code", "prohibits"), CODE_TABLE)
def test_data_mining_code_table(code, prohibits):
    result = data_mining(with_xmp_data_mining(JPEG, code))
    assert result.codes == (code,)
    assert result.prohibits_ai_training is prohibits
    assert result.notes == ()


VALUE_CASES = [
    pytest.param(f"{PLUS_VOCAB}dmi-prohibited", ("DMI-PROHIBITED",), True, id="lower-case-code-normalised"),
    pytest.param(f"{PLUS_VOCAB}DMI-PROHIBITED/", ("DMI-PROHIBITED",), True, id="trailing-slash-ignored"),
    pytest.param(f"  {PLUS_VOCAB}DMI-ALLOWED  ", ("DMI-ALLOWED",), False, id="whitespace-ignored"),
    pytest.param("DMI-PROHIBITED", ("DMI-PROHIBITED",), True, id="bare-code-accepted"),
    pytest.param(f"{PLUS_VOCAB}DMI-PROHIBITED-NEWKIND", ("DMI-PROHIBITED-NEWKIND",), True,
                 id="unknown-prohibited-variant-fails-closed-with-note"),
    pytest.param(f"{PLUS_VOCAB}DMI-SOMETHING", ("DMI-SOMETHING",), False, id="unknown-code-noted-no-effect"),
    pytest.param("https://example.com/vocab/DMI-PROHIBITED", ("DMI-PROHIBITED",), True,
                 id="foreign-vocabulary-uri-noted-last-segment-used"),
]


@pytest.mark.parametrize(("value", "codes", "prohibits"), VALUE_CASES)
def test_data_mining_values(value, codes, prohibits):
    packet = rdf(f"<p:DataMining>{value}</p:DataMining>", f'xmlns:p="{PLUS_NS}"')
    result = data_mining(embed_xmp(JPEG, packet))
    assert (result.codes, result.prohibits_ai_training) == (codes, prohibits)


@pytest.mark.parametrize("value", [f"{PLUS_VOCAB}DMI-SOMETHING", "https://example.com/vocab/DMI-PROHIBITED"])
def test_unusual_values_leave_notes(value):
    packet = rdf(f"<p:DataMining>{value}</p:DataMining>", f'xmlns:p="{PLUS_NS}"')
    assert data_mining(embed_xmp(JPEG, packet)).notes


FORM_CASES = [
    pytest.param(f'<q:DataMining rdf:resource="{PLUS_VOCAB}DMI-PROHIBITED"/>', f'xmlns:q="{PLUS_NS}"',
                 ("DMI-PROHIBITED",), id="resource-form-any-prefix"),
    pytest.param(f"<rdf:Alt><rdf:li>{PLUS_VOCAB}DMI-PROHIBITED</rdf:li></rdf:Alt>", "",
                 ("DMI-PROHIBITED",), id="nested-li-value"),
    pytest.param(f'<rdf:value rdf:resource="{PLUS_VOCAB}DMI-PROHIBITED"/>', "",
                 ("DMI-PROHIBITED",), id="qualified-rdf-value"),
]


@pytest.mark.parametrize(("inner", "namespaces", "codes"), FORM_CASES)
def test_element_forms(inner, namespaces, codes):
    if not inner.startswith("<q:"):
        inner = f'<plus:DataMining rdf:parseType="Resource">{inner}</plus:DataMining>'
        namespaces = f'xmlns:plus="{PLUS_NS}"'
    assert data_mining(embed_xmp(JPEG, rdf(inner, namespaces))).codes == codes


def test_default_namespace_element_matched_by_uri():
    packet = rdf(f'<DataMining xmlns="{PLUS_NS}">{PLUS_VOCAB}DMI-PROHIBITED</DataMining>')
    assert data_mining(embed_xmp(JPEG, packet)).prohibits_ai_training is True


def test_plus_prefix_bound_to_another_namespace_is_ignored_with_note():
    packet = rdf(f'<plus:DataMining>{PLUS_VOCAB}DMI-PROHIBITED</plus:DataMining>', 'xmlns:plus="http://example.com/fake/"')
    result = data_mining(embed_xmp(JPEG, packet))
    assert result.codes == ()
    assert any("http://example.com/fake/" in note for note in result.notes)


def test_empty_data_mining_element_is_noted():
    result = data_mining(embed_xmp(JPEG, rdf("<plus:DataMining/>", f'xmlns:plus="{PLUS_NS}"')))
    assert result.codes == () and any("empty DataMining" in note for note in result.notes)


def test_conflicting_codes_prohibition_wins_with_note():
    first = JPEG_XMP_SIGNATURE + data_mining_packet("DMI-ALLOWED")
    second = JPEG_XMP_SIGNATURE + data_mining_packet("DMI-PROHIBITED")
    result = data_mining(with_segments(JPEG, app1(first), app1(second)))
    assert result.codes == ("DMI-ALLOWED", "DMI-PROHIBITED")
    assert result.prohibits_ai_training is True
    assert any("conflicting" in note for note in result.notes)


def test_no_xmp_means_no_codes_and_no_opt_out():
    result = data_mining(JPEG)
    assert result == IptcDataMining()
    assert result.prohibits_ai_training is False


# -- licence evidence ----------------------------------------------------------------


def test_web_statement_and_licensor_url_are_read():
    marked = with_xmp_data_mining(
        PNG, "DMI-ALLOWED", web_statement="https://creativecommons.org/licenses/by-nc/4.0/",
        licensor_url="https://example.com/buy",
    )
    result = data_mining(marked)
    assert result.web_statements == ("https://creativecommons.org/licenses/by-nc/4.0/",)
    assert result.licensor_urls == ("https://example.com/buy",)


def test_web_statement_attribute_and_licensor_attribute_forms():
    packet = rdf(
        '<plus:Licensor><rdf:Seq><rdf:li plus:LicensorURL="https://e.com/l"/></rdf:Seq></plus:Licensor>',
        f'xmlns:plus="{PLUS_NS}" xmlns:xr="http://ns.adobe.com/xap/1.0/rights/" xr:WebStatement="https://e.com/terms"',
    )
    result = data_mining(embed_xmp(JPEG, packet))
    assert (result.web_statements, result.licensor_urls) == (("https://e.com/terms",), ("https://e.com/l",))


# -- where packets come from (reference §5.3) ------------------------------------------


def test_webp_packet_read_through_pillow():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "WEBP", xmp=data_mining_packet("DMI-PROHIBITED"))
    assert data_mining(out.getvalue()).codes == ("DMI-PROHIBITED",)


def test_tiff_tag_700_packet_read_through_pillow():
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[700] = data_mining_packet("DMI-PROHIBITED-GENAIMLTRAINING")
    tags.tagtype[700] = 1
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "TIFF", tiffinfo=tags)
    assert data_mining(out.getvalue()).codes == ("DMI-PROHIBITED-GENAIMLTRAINING",)


WIDE_ENCODINGS = [
    pytest.param("utf-16-be", b"", id="utf-16-be-no-mark"),  # ExifTool's t/images/XMP.jpg is written so
    pytest.param("utf-16-be", b"\xfe\xff", id="utf-16-be-mark"),
    pytest.param("utf-16-le", b"", id="utf-16-le-no-mark"),
    pytest.param("utf-16-le", b"\xff\xfe", id="utf-16-le-mark"),
    pytest.param("utf-32-be", b"", id="utf-32-be-no-mark"),
    pytest.param("utf-32-le", b"\xff\xfe\x00\x00", id="utf-32-le-mark"),
]


@pytest.mark.parametrize(("encoding", "mark"), WIDE_ENCODINGS)
@pytest.mark.parametrize(("code", "prohibits"), [("DMI-ALLOWED", False), ("DMI-PROHIBITED-AIMLTRAINING", True)])
def test_wide_packets_are_read_whatever_their_padding(encoding, mark, code, prohibits):
    # XMP may be serialised in UTF-16 or UTF-32; stripping the NUL padding off the raw bytes cut into the first
    # character of a UTF-16BE packet, and the image was refused as unreadable.
    text = ('<?xml version="1.0" encoding="UTF-16"?>' + data_mining_packet(code).decode() + "  ")
    packet = mark + text.encode(encoding) + b"\x00\x00\x00"  # odd NUL padding after the last character
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", xmp=packet)
    result = data_mining(out.getvalue())
    assert result.complete, result.notes
    assert result.codes == (code,)
    assert result.prohibits_ai_training is prohibits


def test_a_packet_that_only_looks_wide_is_noted_not_fatal():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", xmp=b"\xfe\xff\xd8\x00")  # a mark, then a lone surrogate
    result = data_mining(out.getvalue())
    assert not result.complete
    assert any("not well-formed" in note for note in result.notes)


def test_every_standard_jpeg_segment_is_read_not_only_the_last():
    first = app1(JPEG_XMP_SIGNATURE + data_mining_packet("DMI-PROHIBITED"))
    second = app1(JPEG_XMP_SIGNATURE + rdf("", 'xmlns:dc="http://purl.org/dc/elements/1.1/"'))
    image = with_segments(JPEG, first, second)
    with Image.open(io.BytesIO(image)) as opened:
        assert b"DataMining" not in opened.info["xmp"]  # Pillow keeps only the last
    assert len(read_xmp_packets(image)) == 2
    assert data_mining(image).prohibits_ai_training is True


def test_extended_xmp_is_reassembled_by_offset_even_out_of_order():
    extended_packet = rdf(f"<plus:DataMining>{PLUS_VOCAB}DMI-PROHIBITED</plus:DataMining>" + " " * 3000,
                          f'xmlns:plus="{PLUS_NS}"')
    chunks = extended_segments(extended_packet, 1000)
    standard = app1(JPEG_XMP_SIGNATURE + rdf("", 'xmlns:xmpNote="http://ns.adobe.com/xmp/note/"'))
    image = with_segments(JPEG, standard, *reversed(chunks))
    packets = read_xmp_packets(image)
    assert extended_packet in packets
    result = data_mining(image)
    assert result.codes == ("DMI-PROHIBITED",)
    assert result.notes == ()


def test_extended_xmp_with_missing_chunk_keeps_what_was_read_and_notes_it():
    extended_packet = rdf(f"<plus:DataMining>{PLUS_VOCAB}DMI-PROHIBITED</plus:DataMining>" + " " * 3000,
                          f'xmlns:plus="{PLUS_NS}"')
    chunks = extended_segments(extended_packet, 1000)
    image = with_segments(JPEG, chunks[0], chunks[2])
    packets = read_xmp_packets(image)
    assert packets == [extended_packet[:1000]]
    result = data_mining(image)
    assert any("gap before offset 2000" in note for note in result.notes)
    assert result.unreadable_packets == 1 and result.complete is False


def test_extended_xmp_guid_mismatch_is_noted():
    packet = rdf(f"<plus:DataMining>{PLUS_VOCAB}DMI-PROHIBITED</plus:DataMining>", f'xmlns:plus="{PLUS_NS}"')
    image = with_segments(JPEG, *extended_segments(packet, 100, guid=b"0" * 32))
    result = data_mining(image)
    assert result.prohibits_ai_training is True
    assert any("MD5" in note for note in result.notes)


def test_extended_segment_with_short_header_is_skipped():
    image = with_segments(JPEG, app1(JPEG_EXTENDED_XMP_SIGNATURE + b"short"))
    assert read_xmp_packets(image) == []


def test_marker_walk_stops_at_start_of_scan():
    sos = b"\xff\xda\x00\x08" + b"\x01\x01\x00\x00\x3f\x00"
    late = app1(JPEG_XMP_SIGNATURE + data_mining_packet("DMI-PROHIBITED"))
    image = b"\xff\xd8" + sos + late + b"\xff\xd9"
    assert read_xmp_packets(image) == []
    assert data_mining(image).codes == ()


def test_truncated_jpeg_yields_packets_before_the_cut():
    marked = with_xmp_data_mining(JPEG, "DMI-PROHIBITED")
    assert data_mining(marked[: len(marked) // 2]).codes == ("DMI-PROHIBITED",)


def test_truncated_xmp_segment_is_noted_and_not_fatal():
    marked = with_xmp_data_mining(JPEG, "DMI-PROHIBITED")
    cut = marked.index(b"DataMining") + 5
    result = data_mining(marked[:cut])
    assert result.codes == ()
    assert any("truncated" in note for note in result.notes)


def test_packet_in_unknown_container_is_found_by_scanning():
    blob = b"RIFF\x00\x00\x00\x00JUNK" + data_mining_packet("DMI-PROHIBITED") + b"\x00" * 10
    result = data_mining(blob)
    assert result.codes == ("DMI-PROHIBITED",)
    assert any("scanning" in note for note in result.notes)


# -- hostile input ---------------------------------------------------------------------

HOSTILE_PACKETS = [
    pytest.param(billion_laughs_packet(), "refused", id="billion-laughs"),
    pytest.param(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>',
                 "refused", id="external-entity"),
    pytest.param(b'<!DOCTYPE x:xmpmeta><x:xmpmeta xmlns:x="adobe:ns:meta/"/>', "refused", id="doctype-without-entities"),
    pytest.param(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>", "not well-formed", id="unclosed-tags"),
    pytest.param(b"<plus:DataMining>DMI-PROHIBITED</plus:DataMining>", "not well-formed", id="unbound-prefix"),
    pytest.param(b"\xff\xfe\x00<<<", "not well-formed", id="binary-garbage"),
    pytest.param(b"<a>" * 50_000 + b"</a>" * 50_000, None, id="deep-nesting"),
    pytest.param(b"\x00\x00  ", "empty", id="only-padding"),
]


@pytest.mark.parametrize(("packet", "note"), HOSTILE_PACKETS)
def test_hostile_packets_give_notes_not_exceptions(packet, note):
    started = time.monotonic()
    result = data_mining(embed_xmp(PNG, packet))
    assert time.monotonic() - started < 5
    assert result.codes == ()
    if note is not None:
        assert any(note in n for n in result.notes)


def test_hostile_xmp_builder_is_refused_quickly_and_marks_result_incomplete():
    image = with_hostile_xmp(JPEG)
    assert pixels(image) == pixels(JPEG)
    started = time.monotonic()
    result = data_mining(image)
    assert time.monotonic() - started < 5
    assert result.unreadable_packets == 1
    assert result.complete is False
    assert any("DTDForbidden" in n or "EntitiesForbidden" in n for n in result.notes)


HOSTILE_IMAGES = [
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xd8", id="soi-only"),
    pytest.param(b"\xff\xd8\xff", id="marker-prefix-only"),
    pytest.param(b"\xff\xd8\xff\xe1\x00", id="truncated-length"),
    pytest.param(b"\xff\xd8\xff\xe1\x00\x01", id="impossible-length"),
    pytest.param(b"\xff\xd8\x00\x00\x00", id="no-marker"),
    pytest.param(b"\xff\xd8\xff\x00", id="stuffed-byte"),
    pytest.param(b"\xff\xd8" + b"\xff" * 10_000, id="fill-bytes-only"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", id="truncated-png"),
    pytest.param(b"<x:xmpmeta", id="unterminated-scanned-packet"),
    pytest.param(bytes(range(256)) * 40, id="random-bytes"),
]


@pytest.mark.parametrize("image", HOSTILE_IMAGES)
def test_hostile_images_never_raise(image):
    assert isinstance(read_xmp_packets(image), list)
    assert isinstance(data_mining(image), IptcDataMining)


@pytest.mark.parametrize("value", [None, "not bytes", 42])
def test_non_bytes_input_gives_note(value):
    result = data_mining(value)
    assert result.codes == () and result.notes
