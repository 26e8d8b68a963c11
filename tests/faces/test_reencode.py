"""Re-encoding work is cut into batches of about the same number of faces (an image to detect weighs more)."""

from __future__ import annotations

from faces.reencode import BATCH_FACES, DETECT_WEIGHT, ImageJob, batches


def test_batches_hold_about_the_same_work_and_keep_every_job_in_order() -> None:
    box = (0, 10, 10, 0)
    jobs = [ImageJob(f"{n}", f"/x/{n}.jpg", (box,) * (n % 3) if n % 5 else None) for n in range(100)]
    cut = list(batches(jobs))
    assert [job for batch in cut for job in batch] == jobs
    for batch in cut[:-1]:
        weight = sum(DETECT_WEIGHT if job.boxes is None else max(1, len(job.boxes)) for job in batch)
        assert BATCH_FACES <= weight < BATCH_FACES + DETECT_WEIGHT
    assert list(batches([])) == []
