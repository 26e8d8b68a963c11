"""Face detection, encoding and comparison over face_recognition (dlib).

Filled in by the faces issue; it stores nothing itself, callers decide what
may be kept. Today it offers only what the skeleton proves: that
face_recognition imports and encodes a real face after set-up.
"""

from faces.encode import encode_faces

__all__ = ["encode_faces"]
