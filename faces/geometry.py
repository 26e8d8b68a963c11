"""Boxes and tiles: where to look in a large image, and when two boxes are one face.

Kept apart from detection so the geometry can be checked without dlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil


@dataclass(frozen=True, slots=True)
class FaceBox:
    top: int
    right: int
    bottom: int
    left: int

    @property
    def area(self) -> int:
        return max(0, self.right - self.left) * max(0, self.bottom - self.top)


def same_face(one: FaceBox, other: FaceBox) -> bool:
    """True for boxes of one face found twice: at two scales (IoU >= 0.3) or cut by a tile edge (mostly inside).

    Two scales of dlib's pyramid give the same face boxes 5/6 apart (IoU about
    0.7); neighbouring faces, even in a contact sheet, barely overlap.
    """
    width = min(one.right, other.right) - max(one.left, other.left)
    height = min(one.bottom, other.bottom) - max(one.top, other.top)
    if width <= 0 or height <= 0:
        return False
    shared = width * height
    return shared >= 0.3 * (one.area + other.area - shared) or shared >= 0.6 * min(one.area, other.area)


def spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Cover ``[0, length)`` with equal spans of at most ``tile``, each sharing at least ``overlap`` with the next.

    So anything no longer than ``overlap`` lies wholly inside one span.
    """
    if length <= tile:
        return [(0, length)]
    if tile <= overlap + 1:
        raise ValueError(f"a tile of {tile} px cannot overlap its neighbour by {overlap} px")
    shared = overlap + 1  # one pixel of slack for rounding the starts down
    count = ceil((length - shared) / (tile - shared))
    size = ceil((length + (count - 1) * shared) / count)
    return [(start, start + size) for start in (index * (length - size) // (count - 1) for index in range(count))]


def tiles(width: int, height: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles (left, top, right, bottom) covering a ``width`` x ``height`` image, row by row."""
    return [(left, top, right, bottom) for top, bottom in spans(height, tile, overlap)
            for left, right in spans(width, tile, overlap)]
