"""Measure a child process: wall time, peak RSS, CPU, plus what it cost the server and the host.

Linux only (``/proc``, ``os.wait4``); elsewhere the /proc-based figures are NaN.
``os.wait4`` reports the child's rusage together with that of the children it
reaped itself (faircrawl's face-worker processes), so CPU covers them, but
``ru_maxrss`` is the largest *single* process: the sampled tree RSS adds the
workers up.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
SAMPLE_SECONDS = 0.25


@dataclass(frozen=True)
class Measured:
    returncode: int
    wall: float  # seconds, start to exit
    peak_rss_mib: float  # ru_maxrss: the largest single process
    tree_rss_mib: float  # sampled peak of the summed RSS of the process and its descendants
    cpu: float  # user + system seconds, reaped children included
    server_cpu: float  # CPU seconds the server process spent meanwhile
    other_load: float  # CPU seconds other processes used, or the hypervisor stole, meanwhile (noise)


def _stat_fields(pid: int | str) -> list[str]:
    """/proc/PID/stat fields after the command name (index 0 is field 3, the state)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy (user, nice, system, irq, softirq) or stolen, since boot."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / TICKS


def tree_rss_mib(root: int) -> float:
    """Summed RSS of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry.name)
        except OSError:
            continue  # exited meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = int(fields[21])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * PAGE_MIB


class TreeRssSampler(threading.Thread):
    """Samples tree_rss_mib(pid) in the background until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, tree_rss_mib(self.pid))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak


def run_measured(command: list[str], cwd: Path, log_path: Path, server_pid: int,
                 env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` to completion, output to ``log_path``; os.wait4 gives the child's own rusage."""
    server_before, busy_before = cpu_seconds(server_pid), machine_busy_seconds()
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeRssSampler(process.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            tree_peak = sampler.stop()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen
    cpu, server_cpu = usage.ru_utime + usage.ru_stime, cpu_seconds(server_pid) - server_before
    other = machine_busy_seconds() - busy_before - cpu - server_cpu  # includes this sampler: a few ms
    return Measured(process.returncode, wall, usage.ru_maxrss / 1024, max(tree_peak, usage.ru_maxrss / 1024),
                    cpu, server_cpu, max(0.0, other))
