"""A store of N stored faces without templates, for the rights benchmark: variants of real face photos.

The packaged photos (obama.jpg, obama3.jpg, biden.jpg) and matplotlib's
grace_hopper.jpg are detected once each; every stored image is a variant
(random crop around the face, resize, mirror, brightness, JPEG quality) whose
box follows from the geometry, as the crawl would have recorded it. A few
percent are of the person the probe (obama2.jpg, never stored) shows, so the
search has something to find. Built once per size and seed under
``benchmarks/out/`` (git-ignored) and reused.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps
from sqlalchemy import insert

OUT = Path(__file__).resolve().parent / "out"
#: Share of the stored faces that show the probe's person.
PERSON_SHARE = 0.03


@dataclass(frozen=True, slots=True)
class Base:
    name: str
    person: bool  # the probe's person
    body: bytes
    box: tuple[int, int, int, int]  # top, right, bottom, left in the original


def base_photos() -> list[Base]:
    import matplotlib

    from crawler.testsites.photos import face_photo
    from faces.detect import detect_faces

    bodies = {name: face_photo(name) for name in ("obama.jpg", "obama3.jpg", "biden.jpg")}
    bodies["grace_hopper.jpg"] = (Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").read_bytes()
    bases = []
    for name, body in bodies.items():
        box = detect_faces(body).boxes[0]
        bases.append(Base(name, name.startswith("obama"), body, (box.top, box.right, box.bottom, box.left)))
    return bases


def variant(base: Base, seed: int) -> tuple[bytes, tuple[int, int, int, int]]:
    """One stored image and its face box: cropped around the face, resized to 300-900 px, maybe mirrored."""
    rng = random.Random(seed)
    with Image.open(io.BytesIO(base.body)) as opened:
        picture = opened.convert("RGB")
    top, right, bottom, left = base.box
    side = bottom - top
    crop = (max(0, left - rng.randint(0, 2 * side)), max(0, top - rng.randint(0, 2 * side)),
            min(picture.width, right + rng.randint(side // 4, 2 * side)),
            min(picture.height, bottom + rng.randint(side // 4, 2 * side)))
    picture = picture.crop(crop)
    top, right, bottom, left = top - crop[1], right - crop[0], bottom - crop[1], left - crop[0]
    scale = rng.uniform(300, 900) / max(picture.size)
    scale = max(scale, 90 / side)  # keep the face at 90 px or more, as the crawl would find it
    picture = picture.resize((round(picture.width * scale), round(picture.height * scale)), Image.Resampling.BILINEAR)
    top, right, bottom, left = (round(v * scale) for v in (top, right, bottom, left))
    if rng.random() < 0.5:
        picture = ImageOps.mirror(picture)
        left, right = picture.width - right, picture.width - left
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.8, 1.2))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=rng.randint(70, 92))
    return out.getvalue(), (top, right, bottom, left)


def _write(args: tuple[Base, int, str]) -> tuple[str, str, int, int, int, tuple[int, int, int, int], bool]:
    base, seed, root = args
    body, box = variant(base, seed)
    sha256 = hashlib.sha256(body).hexdigest()
    relative = f"{sha256[:2]}/{sha256[2:4]}/{sha256}.jpg"
    target = Path(root) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    with Image.open(io.BytesIO(body)) as opened:
        width, height = opened.size
    return sha256, relative, len(body), width, height, box, base.person


def build(faces: int, seed: int = 1) -> tuple[Path, Path, int]:
    """The store's database file and image folder (built if missing), and how many faces show the person."""
    from storage import Database
    from storage.models import FaceRecord, ImageFile

    folder = OUT / f"rights-store-{faces}-{seed}"
    db_file, images, marker = folder / "store.db", folder / "images", folder / "person-faces"
    if marker.exists():
        return db_file, images, int(marker.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    db_file.unlink(missing_ok=True)
    bases = base_photos()
    people, others = [b for b in bases if b.person], [b for b in bases if not b.person]
    rng = random.Random(seed)
    work = [((rng.choice(people) if rng.random() < PERSON_SHARE else rng.choice(others)), seed * 10_000_000 + n,
             str(images)) for n in range(faces)]
    with multiprocessing.get_context("spawn").Pool() as pool:
        made = pool.map(_write, work, chunksize=64)
    unique = {row[0]: row for row in made}  # identical variants are one stored file, as in the image store
    database = Database(f"sqlite:///{db_file}")
    database.upgrade()
    now = datetime.now(UTC)
    with database.session() as session, session.begin():
        session.execute(insert(ImageFile), [
            {"sha256": sha, "path": rel, "byte_size": size, "format": "JPEG", "width": w, "height": h,
             "first_stored_at": now, "faces_searched_at": now, "faces_search_complete": True}
            for sha, rel, size, w, h, _, _ in unique.values()])
        session.execute(insert(FaceRecord), [
            {"image_sha256": sha, "face_index": 0, "top": box[0], "right": box[1], "bottom": box[2], "left": box[3],
             "detector": "hog", "landmark_model": "small", "found_at": now}
            for sha, _, _, _, _, box, _ in unique.values()])
    database.dispose()
    person = sum(1 for row in unique.values() if row[6])
    marker.write_text(str(person))
    return db_file, images, person
