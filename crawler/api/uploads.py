"""Uploads are bounded before they are read whole, and every file is checked as an image before anything else.

:class:`BodyLimit` refuses a body larger than the upload endpoints can ever need (files times per-file limit,
plus room for the other fields): at once from its Content-Length, or as soon as a chunked body passes it, so a
50 MiB upload is never buffered. Each file is then held to the per-file limit, sniffed (JPEG, PNG or WebP by its
first bytes, whatever its declared type), and decoded by faircrawl's one guarded image loader (pixel limit
checked from the header, before decoding): a decompression bomb is refused without allocating it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawler.api.errors import ApiError, error_response
from faces.images import decode_image
from policy.errors import ImageError

#: Room for the form's other fields and multipart framing on top of the files themselves.
FORM_OVERHEAD_BYTES = 256 * 1024
#: Room for one part's headers (name, filename, type) on top of the file.
PART_HEADER_BYTES = 16 * 1024
#: How much more of a refused body is read and dropped before answering 413 (then the connection is closed).
LINGER_BYTES = 4 * 1024 * 1024
ACCEPTED = "JPEG, PNG or WebP"


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_files: int
    max_file_bytes: int
    max_pixels: int

    @property
    def max_body_bytes(self) -> int:
        return self.max_files * self.max_file_bytes + FORM_OVERHEAD_BYTES

    def too_large_message(self) -> str:
        return (f"the upload is too large: at most {self.max_files} file(s) of {_size(self.max_file_bytes)} each; "
                "send a smaller photo (a face needs far fewer pixels)")


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


class BodyLimit:
    """Refuse request bodies over ``limits.max_body_bytes`` before reading them whole (pure ASGI, streaming)."""

    def __init__(self, app: ASGIApp, limits: UploadLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            length = None
        if length is not None and length > limit:
            response = error_response(413, self.limits.too_large_message(), headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0
        parts = PartSizes(_boundary(dict(scope.get("headers") or []).get(b"content-type", b"")),
                          self.limits.max_file_bytes + PART_HEADER_BYTES)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                problem = None
                if received > limit:
                    problem = self.limits.too_large_message()
                elif parts.too_large(chunk):
                    problem = (f"a file is larger than {_size(self.limits.max_file_bytes)}, the limit per file; "
                               "send a smaller photo")
                if problem is not None:
                    await _linger(receive, message)
                    raise BodyTooLarge(problem)
            return message

        await self.app(scope, limited_receive, send)


async def _linger(receive: Receive, message: Message) -> None:
    """Read (and drop) a little more of a refused body, so a client slightly over the limit still hears the 413
    instead of a reset connection; a much larger body is cut off."""
    drained = 0
    while message.get("more_body") and drained < LINGER_BYTES:
        message = await receive()
        drained += len(message.get("body", b""))


class PartSizes:
    """Counts the bytes of the multipart part being received, so one file over its limit is cut off as it streams
    (the boundary is found across chunk edges by keeping the last few bytes)."""

    def __init__(self, boundary: bytes | None, limit: int) -> None:
        self.delimiter = b"--" + boundary if boundary else None
        self.limit, self.current, self.tail = limit, 0, b""

    def too_large(self, chunk: bytes) -> bool:
        if self.delimiter is None:
            return False
        data = self.tail + chunk
        last = data.rfind(self.delimiter)
        self.current = len(data) - last - len(self.delimiter) if last >= 0 else self.current + len(chunk)
        self.tail = data[-(len(self.delimiter) - 1):]
        return self.current > self.limit


def _boundary(content_type: bytes) -> bytes | None:
    kind, _, parameters = content_type.partition(b";")
    if kind.strip().lower() != b"multipart/form-data":
        return None
    for parameter in parameters.split(b";"):
        name, _, value = parameter.strip().partition(b"=")
        if name.strip().lower() == b"boundary" and value.strip(b' "'):
            return value.strip(b' "')
    return None


async def read_images(files: list[UploadFile], limits: UploadLimits, field: str) -> list[tuple[str, bytes]]:
    """Each file's (name, bytes), once each is within the limits and decodes as a JPEG, PNG or WebP image."""
    if len(files) > limits.max_files:
        raise ApiError(413, f"too many files in {field!r}: {len(files)}, at most {limits.max_files}")
    read = []
    for number, upload in enumerate(files, 1):
        name = _name(upload, field, number)
        if upload.size is not None and upload.size > limits.max_file_bytes:
            raise ApiError(413, f"{name} is {_size(upload.size)}; at most {_size(limits.max_file_bytes)} per file")
        content = await upload.read(limits.max_file_bytes + 1)
        if len(content) > limits.max_file_bytes:
            raise ApiError(413, f"{name} is larger than {_size(limits.max_file_bytes)}, the limit per file")
        check_image(name, content, limits.max_pixels)
        read.append((name, content))
    return read


def check_image(name: str, content: bytes, max_pixels: int) -> None:
    """ApiError (400, 413, 415 or 422) unless ``content`` is a JPEG, PNG or WebP image that decodes."""
    if not content:
        raise ApiError(400, f"{name} is empty (0 bytes): choose the photo again")
    if not sniffed(content):
        looks = "an HTML page" if content[:64].lstrip().lower().startswith((b"<!doctype", b"<html")) else "not a " + ACCEPTED
        raise ApiError(415, f"{name} is {looks} image; upload a {ACCEPTED} photo")
    try:
        decode_image(content, max_pixels)
    except ImageError as error:
        if error.code == "image.too_many_pixels":
            raise ApiError(413, f"{name} has too many pixels (limit {max_pixels:,}; possible decompression bomb); "
                                "upload a smaller photo") from None
        raise ApiError(422, f"{name} cannot be decoded ({error.code}): it may be truncated or damaged; "
                            "upload the photo again or another one") from None


def sniffed(content: bytes) -> bool:
    """JPEG, PNG or WebP by signature."""
    return (content.startswith(b"\xff\xd8\xff") or content.startswith(b"\x89PNG\r\n\x1a\n")
            or content[:4] == b"RIFF" and content[8:12] == b"WEBP")


def _name(upload: UploadFile, field: str, number: int) -> str:
    given = "".join(c for c in (upload.filename or "") if c.isprintable())[:80]
    return f"{field} {number}" + (f" ({given!r})" if given else "")


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MiB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KiB"
