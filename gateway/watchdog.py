"""The hang check of ``make run``: a supervisord event listener that restarts a service which is alive
but no longer answers.

supervisord restarts a process that exits; a hung one (stopped, deadlocked, its event loop blocked)
still looks alive to it. On every ``TICK_5`` event this listener asks each running service's health
URL and kills (SIGKILL, to its process group: a hung process cannot stop cleanly) one that

- has answered since it started and now does not answer within HANG_TIMEOUT_S, or
- has not answered at all START_TIMEOUT_S after it started;

supervisord's autorestart then starts it again, as after a crash. It also kills what a dead
service left behind in its process group (orphaned gateway workers), which supervisord does only when
it stops a service itself.

Why not superlance's ``httpok``, the Supervisor project's own listener: it restarts a running program
whose URL refuses connections after at most ``(timeout - 1) // 10`` retries 10 s apart. Rasa binds its
port only once its model is loaded (35–116 s on this 2-core machine), so ``httpok`` either kills a Rasa
that is still loading, over and over on a slow server, or needs a ``startsecs`` above the slowest load,
which blinds the hang check for that long after every start and turns early crashes into start
failures. Here a refused connection before the first answer means "still starting".
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from supervisor import childutils
from supervisor.states import ProcessStates

logger = logging.getLogger("watchdog")


def probe(url: str, timeout_s: float) -> tuple[bool, str]:
    """Whether ``url`` answers 200 within ``timeout_s``, and what happened."""
    try:
        resp = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return resp.status_code == 200, f"HTTP {resp.status_code}"


def hung(answers: bool, answered_before: bool, age_s: float, start_timeout_s: float) -> bool:
    """Whether a running service must be restarted.

    Args:
        answers: it answered this check.
        answered_before: it answered an earlier check since its current process started.
        age_s: seconds since its current process started.
        start_timeout_s: how long a service may take to answer for the first time.
    """
    return not answers and (answered_before or age_s > start_timeout_s)


def kill_group(pid: int) -> None:
    """SIGKILL a supervised process and its children (supervisord makes each one a group leader)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # gone already: supervisord restarts it anyway


class Watchdog:
    """Checks the services supervisord runs and restarts the hung ones."""

    def __init__(self, rpc: Any, urls: dict[str, str], hang_timeout_s: float, start_timeout_s: float) -> None:
        self.rpc, self.urls = rpc, urls
        self.hang_timeout_s, self.start_timeout_s = hang_timeout_s, start_timeout_s
        self.answered: dict[str, int] = {}  # service → the pid that has answered
        self.groups: dict[str, int] = {}  # service → the process group of its current process
        self.killed: dict[
            str, int
        ] = {}  # service → the pid last killed (TICKs queued meanwhile see it still)

    def reap(self, infos: list[dict[str, Any]]) -> None:
        """Kill what is left of a service's previous process group.

        After a kill -9 of the gateway's uvicorn parent, its workers (GATEWAY_WORKERS > 1) live on
        holding the port, and the restarted gateway could never bind it. Done once, within 5 s of the
        change, so the number cannot have been reused by then.
        """
        for info in infos:
            name, pid = info["name"], info["pid"]
            old = self.groups.get(name)
            if old and old != pid:
                try:
                    os.killpg(old, signal.SIGKILL)
                    logger.warning(
                        "%s: killed the processes left from its previous process (group %s)", name, old
                    )
                except ProcessLookupError:
                    pass  # nothing was left: the usual case
            if pid:
                self.groups[name] = pid
            else:
                self.groups.pop(name, None)

    def check(self) -> list[str]:
        """One round: probe every running service at once; returns the services killed for a restart."""
        infos = [info for info in self.rpc.supervisor.getAllProcessInfo() if info["name"] in self.urls]
        self.reap(infos)
        running = {
            info["name"]: info
            for info in infos
            if info["state"] == ProcessStates.RUNNING and self.killed.get(info["name"]) != info["pid"]
        }
        if not running:
            return []
        with ThreadPoolExecutor(max_workers=len(running)) as pool:
            results = dict(
                zip(
                    running,
                    pool.map(lambda n: probe(self.urls[n], self.hang_timeout_s), running),
                    strict=True,
                )
            )
        killed = []
        for name, info in running.items():
            (answers, detail), pid, age = results[name], info["pid"], info["now"] - info["start"]
            before = self.answered.get(name) == pid
            if answers and not before:
                logger.info("%s (pid %s) answers, %d s after its start", name, pid, age)
                self.answered[name] = pid
            elif hung(answers, before, age, self.start_timeout_s):
                now = self.rpc.supervisor.getProcessInfo(name)
                if now["pid"] != pid or now["state"] != ProcessStates.RUNNING:
                    continue  # it exited during the check (a crash): supervisord restarts it already
                why = (
                    f"stopped answering within {self.hang_timeout_s:g} s"
                    if before
                    else f"has not answered {age} s after its start"
                )
                logger.warning(
                    "%s (pid %s) %s (%s: %s): killing it for a restart",
                    name,
                    pid,
                    why,
                    self.urls[name],
                    detail,
                )
                kill_group(pid)
                self.killed[name] = pid
                killed.append(name)
        return killed


def main(argv: list[str] | None = None) -> None:
    """Run as a supervisord event listener: ``python -m gateway.watchdog [options] NAME=URL ...``."""
    parser = argparse.ArgumentParser(prog="python -m gateway.watchdog")
    parser.add_argument("--hang-timeout", type=float, required=True, help="HANG_TIMEOUT_S")
    parser.add_argument("--start-timeout", type=float, required=True, help="START_TIMEOUT_S")
    parser.add_argument(
        "services", nargs="+", metavar="NAME=URL", help="a supervised program and its health URL"
    )
    args = parser.parse_args(argv)
    # stdout is supervisord's event protocol; the log goes to stderr (var/log/watchdog.log).
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    urls = dict(service.split("=", 1) for service in args.services)
    watchdog = Watchdog(childutils.getRPCInterface(os.environ), urls, args.hang_timeout, args.start_timeout)
    logger.info(
        "watching %s every 5 s (hang timeout %g s, start timeout %g s)",
        ", ".join(urls),
        args.hang_timeout,
        args.start_timeout,
    )
    while True:
        headers, _payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers["eventname"].startswith("TICK"):
            try:
                watchdog.check()
            except Exception:
                logger.exception("check failed")
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
