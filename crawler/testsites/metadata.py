"""Deterministic images that carry embedded opt-out signals, for the test sites.

The XMP packet is spliced into the file's bytes (a JPEG APP1 segment, a PNG
iTXt ``XML:com.adobe.xmp`` chunk) exactly where Pillow's ``xmp=`` save
argument would put it, without re-encoding, so the pixels (and the decoded
image hash) stay identical to the input's and only the metadata differs.
"""

from __future__ import annotations

import re
import struct
import zlib
from xml.sax.saxutils import escape, quoteattr

PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
PLUS_VOCABULARY = "http://ns.useplus.org/ldf/vocab/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_RIGHTS_NS = "http://ns.adobe.com/xap/1.0/rights/"
JPEG_XMP_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
FORMS = ("attribute", "resource", "text")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_RESERVED_PREFIXES = {"x", "rdf", "xml", "xmlns", "xmpRights"}
_PACKET_START = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_PACKET_END = '<?xpacket end="w"?>'
_MAX_APP1_PAYLOAD = 65533


def with_xmp_data_mining(
    image_bytes: bytes, code: str, *, prefix: str = "plus", form: str = "attribute",
    web_statement: str | None = None, licensor_url: str | None = None,
) -> bytes:
    """``image_bytes`` (JPEG or PNG) with an XMP packet setting ``plus:DataMining`` to ``code``.

    ``code`` is a PLUS code such as ``DMI-PROHIBITED-AIMLTRAINING`` (or a full
    URI); ``prefix`` is the namespace prefix bound to the PLUS URI; ``form``
    picks how the value is written: ``attribute``, ``resource`` (rdf:resource)
    or ``text`` (element text). Any existing XMP packet is replaced.
    """
    return embed_xmp(image_bytes, data_mining_packet(code, prefix=prefix, form=form,
                                                     web_statement=web_statement, licensor_url=licensor_url))


def with_hostile_xmp(image_bytes: bytes) -> bytes:
    """``image_bytes`` with a billion-laughs XMP packet (a DTD whose entities expand to ~3 GB)."""
    return embed_xmp(image_bytes, billion_laughs_packet())


def data_mining_packet(
    code: str, *, prefix: str = "plus", form: str = "attribute",
    web_statement: str | None = None, licensor_url: str | None = None,
) -> bytes:
    """A complete XMP packet carrying ``plus:DataMining`` in the chosen form."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, not {form!r}")
    if not _NCNAME.match(prefix) or prefix in _RESERVED_PREFIXES:
        raise ValueError(f"{prefix!r} cannot be used as the PLUS namespace prefix")
    uri = code if code.startswith(("http://", "https://")) else PLUS_VOCABULARY + code
    attributes = [f"xmlns:{prefix}={quoteattr(PLUS_NS)}"]
    children: list[str] = []
    if form == "attribute":
        attributes.append(f"{prefix}:DataMining={quoteattr(uri)}")
    elif form == "resource":
        children.append(f"<{prefix}:DataMining rdf:resource={quoteattr(uri)}/>")
    else:
        children.append(f"<{prefix}:DataMining>{escape(uri)}</{prefix}:DataMining>")
    if web_statement is not None:
        attributes.append(f"xmlns:xmpRights={quoteattr(XMP_RIGHTS_NS)}")
        children.append(f"<xmpRights:WebStatement>{escape(web_statement)}</xmpRights:WebStatement>")
    if licensor_url is not None:
        children.append(
            f'<{prefix}:Licensor><rdf:Seq><rdf:li rdf:parseType="Resource">'
            f"<{prefix}:LicensorURL>{escape(licensor_url)}</{prefix}:LicensorURL>"
            f"</rdf:li></rdf:Seq></{prefix}:Licensor>"
        )
    description = f'<rdf:Description rdf:about="" {" ".join(attributes)}'
    description += f">{''.join(children)}</rdf:Description>" if children else "/>"
    return _packet(description)


def billion_laughs_packet(levels: int = 9) -> bytes:
    """The classic entity-expansion attack, wrapped as an XMP packet with a DataMining element."""
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    doctype = f"<!DOCTYPE x:xmpmeta [\n{chr(10).join(entities)}\n]>"
    body = (
        f'<rdf:Description rdf:about="" xmlns:plus={quoteattr(PLUS_NS)}>'
        f"<plus:DataMining>&lol{levels};</plus:DataMining></rdf:Description>"
    )
    return (f"{_PACKET_START}\n{doctype}\n" + _xmpmeta(body) + f"\n{_PACKET_END}").encode("utf-8")


def embed_xmp(image_bytes: bytes, packet: bytes) -> bytes:
    """Splice ``packet`` into a JPEG (APP1) or PNG (iTXt) without touching the pixel data."""
    if image_bytes.startswith(b"\xff\xd8"):
        return _embed_jpeg(image_bytes, packet)
    if image_bytes.startswith(_PNG_SIGNATURE):
        return _embed_png(image_bytes, packet)
    raise ValueError("only JPEG and PNG images can carry test XMP")


def _packet(description: str) -> bytes:
    return f"{_PACKET_START}\n{_xmpmeta(description)}\n{_PACKET_END}".encode()


def _xmpmeta(description: str) -> str:
    return (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf={quoteattr(RDF_NS)}>'
        f"{description}</rdf:RDF></x:xmpmeta>"
    )


def _embed_jpeg(image_bytes: bytes, packet: bytes) -> bytes:
    payload = JPEG_XMP_SIGNATURE + packet
    if len(payload) > _MAX_APP1_PAYLOAD:
        raise ValueError(f"XMP packet of {len(packet)} bytes does not fit one JPEG APP1 segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    kept: list[bytes] = []
    insert_at = 0  # after the leading JFIF APP0 / Exif APP1 segments
    position = 2
    while position + 4 <= len(image_bytes):
        marker = image_bytes[position + 1]
        if image_bytes[position] != 0xFF or marker == 0xDA:
            break
        length = struct.unpack(">H", image_bytes[position + 2:position + 4])[0]
        whole = image_bytes[position:position + 2 + length]
        is_xmp = marker == 0xE1 and whole[4:].startswith(JPEG_XMP_SIGNATURE)
        if not is_xmp:
            leading = marker == 0xE0 or (marker == 0xE1 and whole[4:].startswith(b"Exif\x00\x00"))
            kept.append(whole)
            if leading and insert_at == len(kept) - 1:
                insert_at = len(kept)
        position += 2 + length
    kept.insert(insert_at, segment)
    return b"\xff\xd8" + b"".join(kept) + image_bytes[position:]


def _embed_png(image_bytes: bytes, packet: bytes) -> bytes:
    itxt = PNG_XMP_KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + packet  # uncompressed, no language
    chunks: list[bytes] = []
    position = len(_PNG_SIGNATURE)
    while position + 8 <= len(image_bytes):
        length, kind = struct.unpack(">I4s", image_bytes[position:position + 8])
        whole = image_bytes[position:position + 12 + length]
        position += 12 + length
        if kind == b"iTXt" and whole[8:].startswith(PNG_XMP_KEYWORD + b"\x00"):
            continue
        chunks.append(whole)
        if kind == b"IHDR":
            chunks.append(_png_chunk(b"iTXt", itxt))
    return _PNG_SIGNATURE + b"".join(chunks) + image_bytes[position:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
