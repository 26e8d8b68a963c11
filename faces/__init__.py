"""Face detection, encoding and comparison over face_recognition (dlib), and the one guarded image loader.

It stores nothing itself; callers decide what may be kept. Detection runs in
worker processes (:class:`FacePool`) so a crawl keeps downloading meanwhile.
Every image is decoded by :func:`decode_image`; face_recognition is imported
only through ``faces.library``.
"""

from faces.detect import DEFAULT_MAX_SIDE, Detection, detect_faces
from faces.encode import LANDMARK_MODEL, encode_faces
from faces.geometry import FaceBox
from faces.images import DEFAULT_MAX_PIXELS, DecodedImage, decode_image, perceptual_hash
from faces.pool import FacePool

__all__ = ["DEFAULT_MAX_PIXELS", "DEFAULT_MAX_SIDE", "LANDMARK_MODEL", "DecodedImage", "Detection", "FaceBox",
           "FacePool", "decode_image", "detect_faces", "encode_faces", "perceptual_hash"]
