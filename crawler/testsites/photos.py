"""Real face photos shipped inside packages, fetched at set-up, never at run time.

The face_recognition 1.3.0 *source* distribution carries ``tests/test_images/``
(three photos of one person and one of another; the wheel does not). Set-up
(``./dev.sh``, or ``faircrawl testsites fetch-photos``) downloads that sdist from
the package index with pip and extracts the photos under the virtualenv; the
test sites and the tests only read them from there.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from policy.errors import PhotosMissingError

SDIST_REQUIREMENT = "face_recognition==1.3.0"
SDIST_PHOTO_FOLDER = "face_recognition-1.3.0/tests/test_images/"

#: sha256 of each photo, as listed in the project's reference (faces.md §2).
PACKAGED_FACE_PHOTOS: dict[str, str] = {
    "obama.jpg": "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
    "obama2.jpg": "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
    "obama3.jpg": "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
    "biden.jpg": "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
}


def photos_dir() -> Path:
    """Where set-up puts the photos: inside the virtualenv, beside the packages."""
    return Path(sys.prefix) / "share" / "faircrawl" / "packaged-photos"


def face_photo(name: str) -> bytes:
    """Bytes of one packaged face photo, checked against its known sha256."""
    path = photos_dir() / name
    if not path.is_file():
        raise PhotosMissingError(
            f"packaged face photo {path} is missing; run `faircrawl testsites "
            "fetch-photos` (./dev.sh does it during set-up)"
        )
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != PACKAGED_FACE_PHOTOS[name]:
        raise PhotosMissingError(f"packaged face photo {path} does not match its sha256; fetch again")
    return content


def photos_present() -> bool:
    return all((photos_dir() / name).is_file() for name in PACKAGED_FACE_PHOTOS)


def fetch_packaged_photos() -> Path:
    """Download the face_recognition sdist with pip and extract its test photos."""
    target = photos_dir()
    if photos_present():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download_dir:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "--dest", download_dir, SDIST_REQUIREMENT],
            check=True,
        )
        archive = next(Path(download_dir).glob("face_recognition-*.tar.gz"))
        with tarfile.open(archive) as sdist:
            for member in sdist.getmembers():
                name = member.name.removeprefix(SDIST_PHOTO_FOLDER)
                if member.name.startswith(SDIST_PHOTO_FOLDER) and name in PACKAGED_FACE_PHOTOS:
                    extracted = sdist.extractfile(member)
                    assert extracted is not None
                    (target / name).write_bytes(extracted.read())
    for name in PACKAGED_FACE_PHOTOS:
        face_photo(name)  # verifies the checksum
    return target
