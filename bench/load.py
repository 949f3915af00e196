"""Service benchmark: the same model and the same real policy questions, each request its own
conversation, through stock Rasa, our launcher-fixed Rasa, our gateway, and the scaled stack.

An asyncio httpx client keeps ``concurrency`` requests in flight, warms up first, and records each
request's latency; each service's CPU time per turn and resident memory are read from /proc (a
service's whole process tree: uvicorn's workers are children of the gateway's process).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.stack import POSTGRES_URL, REDIS_URL, ROOT, Stack, free_port, require, stack_env

CONCURRENCY = (1, 8, 16, 32)
Progress = Callable[[str], None]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def _tree_sum(pid: int, read: Callable[[int], float]) -> float:
    total = 0.0
    for p in process_tree(pid):
        try:
            total += read(p)
        except OSError:  # exited meanwhile
            continue
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and every process descended from it, live or reaped."""
    return _tree_sum(pid, cpu_seconds)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB."""
    return _tree_sum(pid, rss_mb)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0–100) of sorted samples."""
    if not samples:
        return float("nan")
    index = min(len(samples) - 1, max(0, round(q / 100 * len(samples)) - 1))
    return samples[index]


async def run_load(
    url: str,
    body: Callable[[str, str], dict[str, Any]],
    questions: list[str],
    concurrency: int,
    requests: int,
    warmup: int,
) -> dict[str, float]:
    """Keep ``concurrency`` requests in flight until ``requests`` are done; latency in ms."""
    texts = itertools.cycle(questions)
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one() -> float:
            started = time.perf_counter()
            resp = await client.post(url, json=body(f"bench-{uuid.uuid4().hex}", next(texts)))
            # Each request is another owner: one client must not send every owner's conversation
            # cookie (/api/chat sets one per new conversation) with every later request.
            client.cookies.clear()
            if resp.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {resp.status_code} {resp.text[:200]}")
            return (time.perf_counter() - started) * 1000

        async def worker(n: int, out: list[float]) -> None:
            for _ in range(n):
                out.append(await one())

        async def batch(total: int) -> tuple[list[float], float]:
            out: list[float] = []
            share = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]
            started = time.perf_counter()
            await asyncio.gather(*(worker(n, out) for n in share if n))
            return sorted(out), time.perf_counter() - started

        await batch(warmup)
        latencies, elapsed = await batch(requests)
    return {
        "concurrency": concurrency,
        "requests": requests,
        "turns_per_s": requests / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def rest_body(sender: str, text: str) -> dict[str, Any]:
    """Rasa's REST webhook body."""
    return {"sender": sender, "message": text}


def chat_body(_sender: str, text: str) -> dict[str, Any]:
    """Our /api/chat body: a new conversation each time (the gateway issues its id and secret)."""
    return {"text": text}


def measure(
    name: str,
    url: str,
    body: Callable[[str, str], dict[str, Any]],
    questions: list[str],
    quick: bool,
    progress: Progress,
    cpu_pids: list[int] | None = None,
    processes: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Every concurrency level against one target. ``cpu_pids`` (Rasa's) give ``rasa_cpu_ms_per_turn``;
    ``processes`` (service → pid, each counted with its process tree) give ``cpu_ms_per_turn`` summed
    and ``cpu_ms_per_turn_by_process``."""
    levels = {}
    for c in CONCURRENCY:
        # Quick still runs a second or more per level: at 150 turns/s, 64 turns measured 0.4 s and the
        # same code's CPU per turn moved by a tenth between runs.
        n = (30 if c == 1 else 240) if quick else (60 if c == 1 else 320)
        warmup = min(n, 2 * c + 4)
        cpu_before = sum(cpu_seconds(p) for p in cpu_pids or [])
        by_process = {k: tree_cpu_seconds(p) for k, p in (processes or {}).items()}
        result: dict[str, Any] = dict(asyncio.run(run_load(url, body, questions, c, n, warmup=warmup)))
        # Warm-up turns count too: CPU per turn over warm-up + measured requests.
        if cpu_pids:
            spent = sum(cpu_seconds(p) for p in cpu_pids) - cpu_before
            result["rasa_cpu_ms_per_turn"] = spent * 1000 / (n + warmup)
        if processes:
            per_turn = {
                k: round((tree_cpu_seconds(processes[k]) - before) * 1000 / (n + warmup), 2)
                for k, before in by_process.items()
            }
            result["cpu_ms_per_turn_by_process"] = per_turn
            result["cpu_ms_per_turn"] = round(sum(per_turn.values()), 2)
        levels[str(c)] = result
        progress(
            f"  {name:7} c={c:<3} {result['turns_per_s']:7.1f} turns/s  p50 {result['p50_ms']:6.1f} ms  "
            f"p95 {result['p95_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms"
        )
    return levels


@contextmanager
def single_stack(tmp: Path, stock: bool, with_gateway: bool) -> Iterator[Stack]:
    """Rasa (stock or launcher-fixed), the action server and, optionally, the gateway (without the
    per-conversation message limit, which the long conversation would hit)."""
    tmp.mkdir(parents=True, exist_ok=True)
    with Stack(env=stack_env(tmp, RATE_LIMIT_PER_MINUTE="1000000"), logs=tmp).running(
        gateway=with_gateway, rasa_args=("--stock",) if stock else ()
    ) as stack:
        yield stack


@contextmanager
def scaled_stack(tmp: Path, instances: int = 2, workers: int = 2) -> Iterator[Stack]:
    """N Rasa instances (PostgreSQL tracker store, Redis lock store), one action server, and a gateway
    with ``workers`` processes on PostgreSQL, in a database of its own."""
    tmp.mkdir(parents=True, exist_ok=True)
    database = f"hqt_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        require(POSTGRES_URL, "PostgreSQL", "TEST_POSTGRES_URL"), isolation_level="AUTOCOMMIT"
    )
    server = POSTGRES_URL.rsplit("/", 1)[0]
    with admin.connect() as con:
        con.execute(sa.text(f"CREATE DATABASE {database}"))
    ports = [free_port() for _ in range(instances - 1)]
    env = stack_env(
        tmp,
        DATABASE_URL=f"{server}/{database}",
        RASA_TRACKER_STORE_URL=f"{server}/{database}",
        REDIS_URL=require(REDIS_URL, "Redis", "TEST_REDIS_URL"),
        GATEWAY_WORKERS=str(workers),
    )
    env["RASA_URLS"] = ",".join(
        [f"http://127.0.0.1:{env['RASA_PORT']}", *(f"http://127.0.0.1:{p}" for p in ports)]
    )
    stack = Stack(env=env, logs=tmp)
    try:
        stack.start("actions")
        stack.start("rasa")
        stack.wait("rasa")
        for i, port in enumerate(ports, start=2):
            stack.start(f"rasa{i}", "--port", str(port))
        stack.start("gateway")
        for name in ("actions", "gateway", *(f"rasa{i}" for i in range(2, instances + 1))):
            stack.wait(name)
        yield stack
    finally:
        stack.stop()
        with admin.connect() as con:
            con.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()


def rasa_pids(stack: Stack) -> list[int]:
    """PIDs of every Rasa instance of a stack."""
    return [p.pid for name, p in stack.procs.items() if name.startswith("rasa")]


def service_pids(stack: Stack) -> dict[str, int]:
    """Service name (rasa, rasa2 ..., actions, gateway) → the PID the stack started it as."""
    return {name: p.pid for name, p in stack.procs.items()}


def stack_rss_mb(stack: Stack) -> dict[str, float]:
    """Resident memory of each service of a stack (with its process tree), in MB."""
    return {name: round(tree_rss_mb(pid), 1) for name, pid in service_pids(stack).items()}


def listening_pids(ports: dict[str, int]) -> dict[str, int]:
    """PID of the process listening on each port (role → pid), from /proc (no psutil here)."""
    inodes: dict[str, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            port = int(fields[1].rsplit(":", 1)[1], 16)
            for role, wanted in ports.items():
                if port == wanted and fields[3] == "0A":  # LISTEN
                    inodes[fields[9]] = role
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        for link in links:
            if link.startswith("socket:[") and link[8:-1] in inodes:
                found.setdefault(inodes[link[8:-1]], int(entry.name))
    return found


def startup(tmp: Path, progress: Progress) -> dict[str, Any]:
    """`make run` from an installed venv and a trained model to a healthy /healthz; Rasa's model-load
    time (its process start to a loaded model); and each service's memory."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = stack_env(tmp)
    gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    rasa = f"http://127.0.0.1:{env['RASA_PORT']}/status?token={env['RASA_TOKEN']}"
    log = (tmp / "make-run.log").open("wb")
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    rasa_ready = healthy = float("nan")
    rss: dict[str, float] = {}
    try:
        ports = {
            "rasa": int(env["RASA_PORT"]),
            "actions": int(env["ACTIONS_PORT"]),
            "gateway": int(env["GATEWAY_PORT"]),
        }
        deadline = started + 600
        while time.perf_counter() < deadline and proc.poll() is None:
            try:
                if rasa_ready != rasa_ready and httpx.get(rasa, timeout=2).status_code == 200:
                    rasa_ready = time.perf_counter() - started
                if httpx.get(f"{gateway}/healthz", timeout=5).status_code == 200:
                    healthy = time.perf_counter() - started
                    rss = {role: round(rss_mb(pid), 1) for role, pid in listening_pids(ports).items()}
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    model_load = model_load_s()
    progress(
        f"  make run → healthy /healthz {healthy:.1f} s (Rasa answering after {rasa_ready:.1f} s; "
        f"model load alone {model_load:.1f} s); RSS MB {rss}"
    )
    return {"startup_s": healthy, "rasa_ready_s": rasa_ready, "model_load_s": model_load, "rss_mb": rss}


_LOAD_SCRIPT = """
import sys, time
from rasa.core.agent import Agent
started = time.perf_counter()
Agent.load(sys.argv[1])
print(time.perf_counter() - started)
"""


def model_load_s() -> float:
    """Seconds Rasa takes to load the trained model (imports excluded), in a fresh process."""
    from bot.train import serving_model

    done = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, str(serving_model())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    return float(lines[-1]) if done.returncode == 0 and lines else float("nan")
