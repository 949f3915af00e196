"""Where a stack's processes spend their CPU under load: py-spy samples, summarised by function."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import run_load


def _summarise(raw: Path, top: int) -> dict[str, Any]:
    """Self and inclusive shares per function from py-spy's collapsed-stack output."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] for f in stack.split(";")]
        self_time[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = lambda c: {k: round(100 * v / max(total, 1), 1) for k, v in c.most_common(top)}  # noqa: E731
    return {"samples": total, "self_pct": share(self_time), "inclusive_pct": share(inclusive)}


def _spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--output",
            str(out),
            "--rate",
            "200",
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def profile_processes(
    pids: dict[str, int],
    url: str,
    body: Callable[[str, str], dict[str, Any]],
    questions: list[str],
    out_dir: Path,
    requests: int = 400,
    top: int = 15,
) -> dict[str, Any]:
    """Sample each process (name → pid) with py-spy while ``requests`` turns run at concurrency 8."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spies = {
        name: (_spy(pid, out_dir / f"{name}.pyspy"), out_dir / f"{name}.pyspy") for name, pid in pids.items()
    }
    try:
        asyncio.run(run_load(url, body, questions, 8, requests, warmup=16))
    finally:
        for proc, _ in spies.values():
            proc.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
    result: dict[str, Any] = {}
    for name, (proc, out) in spies.items():
        _, err = proc.communicate(timeout=60)
        result[name] = (
            _summarise(out, top) if out.exists() else {"error": err.decode(errors="replace")[-500:]}
        )
    return result


def profile_rasa(
    pid: int,
    url: str,
    body: Callable[[str, str], dict[str, Any]],
    questions: list[str],
    out: Path,
    requests: int = 400,
    top: int = 15,
) -> dict[str, Any]:
    """Sample Rasa (pid) with py-spy while ``requests`` turns run at concurrency 8."""
    return profile_processes({"rasa": pid}, url, body, questions, out, requests, top)["rasa"]
