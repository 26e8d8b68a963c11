"""Face detection, encoding and comparison over face_recognition (dlib).

It stores nothing itself; callers decide what may be kept. Detection runs in
worker processes (:class:`FacePool`) so a crawl keeps downloading meanwhile.
"""

from faces.detect import DEFAULT_MAX_SIDE, Detection, FaceBox, detect_faces
from faces.encode import LANDMARK_MODEL, encode_faces
from faces.pool import FacePool

__all__ = ["DEFAULT_MAX_SIDE", "LANDMARK_MODEL", "Detection", "FaceBox", "FacePool", "detect_faces", "encode_faces"]
