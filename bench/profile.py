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

# Leaf frames of a process waiting for work: uvloop's event loop (sanic's ``serve``, uvicorn's
# ``asyncio_run``) and idle thread-pool workers. py-spy cannot tell them from work here.
IDLE = {"serve", "asyncio_run", "_worker", "run_forever", "_run_once", "select", "wait"}
# Where a Rasa turn goes: stage → the Rasa function that contains it.
RASA_STAGES = {
    "NLU pipeline": "_parse_message_with_graph",
    "policies": "_predict_next_with_tracker",
    "tracker load": "get_tracker",
    "tracker save": "save_tracker",
    "custom action call": "_run_action",
}


def _summarise(raw: Path, top: int, stages: dict[str, str] | None = None) -> dict[str, Any]:
    """Self and inclusive shares per function of the busy samples in py-spy's raw output (idle
    waits left out, their share given apart), and the share of each of ``stages``."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f.split(" (")[0] for f in stack.split(";")]
        if frames[-1] in IDLE:
            idle += n
            continue
        busy += n
        self_time[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    pct = lambda v: round(100 * v / max(busy, 1), 1)  # noqa: E731
    result = {
        "samples": busy,
        "idle_pct": round(100 * idle / max(busy + idle, 1), 1),
        "self_pct": {k: pct(v) for k, v in self_time.most_common(top)},
        "inclusive_pct": {k: pct(v) for k, v in inclusive.most_common(top)},
    }
    if stages:
        result["stages_pct"] = {stage: pct(inclusive[function]) for stage, function in stages.items()}
    return result


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
            # Only the thread holding the GIL: where the CPU goes. Without it a thread waiting on a lock
            # (SQLite's busy handler, the gateway's writer lock) is sampled as busy in the function that
            # waits, and the gateway's profile showed waits as half its "work".
            "--gil",
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
        stages = RASA_STAGES if name.startswith("rasa") else None
        result[name] = (
            _summarise(out, top, stages) if out.exists() else {"error": err.decode(errors="replace")[-500:]}
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
