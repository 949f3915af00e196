"""Start the real services (Rasa with the trained model, the action server, the gateway) as child
processes on free ports: shared by the tests and the benchmarks (which never import tests/)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The PostgreSQL server (a database the tests may create schemas and databases in) and the Redis
# server that the scale-out tests and benchmarks use: this machine's, unless overridden.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


class ServiceMissing(RuntimeError):
    """A server the tests need (PostgreSQL, Redis) does not answer."""


def require(url: str, what: str, override: str) -> str:
    """``url`` when something listens at its host and port; else a clear ServiceMissing."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return url
    except OSError as exc:
        raise ServiceMissing(
            f"{what} is needed by this test and does not answer at {parts.hostname}:{parts.port} ({exc}); "
            f"start it, or point {override} at one (README: Requirements)"
        ) from exc


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """A running set of services and the environment they share."""

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)  # further Rasa instances: name → --port

    @property
    def gateway(self) -> str:
        """Gateway base URL."""
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    @property
    def rasa(self) -> str:
        """Rasa base URL."""
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def actions(self) -> str:
        """Action server base URL."""
        return f"http://127.0.0.1:{self.env['ACTIONS_PORT']}"

    @contextmanager
    def running(self, gateway: bool = True, rasa_args: tuple[str, ...] = ()) -> Iterator[Stack]:
        """Start Rasa, the action server and (optionally) the gateway, wait until all answer, and
        stop everything on exit."""
        names = ("rasa", "actions", *(["gateway"] if gateway else []))
        try:
            self.start("rasa", *rasa_args)
            for name in names[1:]:
                self.start(name)
            for name in reversed(names):  # Rasa loads its model last: wait for it last
                self.wait(name)
            yield self
        finally:
            self.stop()

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `python -m gateway.admin ARGS` against this stack's database."""
        done = subprocess.run(
            [sys.executable, "-m", "gateway.admin", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def add_liaison(
        self,
        username: str,
        password: str,
        name: str,
        department: str,
        *,
        wecom_userid: str = "",
        role: str = "",
    ) -> None:
        """Register a liaison (``gateway.admin add-liaison``) in this stack's database."""
        extra = [
            *(("--wecom-userid", wecom_userid) if wecom_userid else ()),
            *(("--role", role) if role else ()),
        ]
        self.admin(
            "add-liaison",
            "--username",
            username,
            "--password",
            password,
            "--name",
            name,
            "--department",
            department,
            *extra,
        )

    def start(self, name: str, *args: str) -> None:
        """Start one service (`rasa`, `actions`, `gateway`; `rasa2` ... are further Rasa instances,
        started with `--port P`) in the background."""
        module = {"rasa": "bot.serve", "actions": "actions", "gateway": "gateway"}[name.rstrip("0123456789")]
        if "--port" in args:
            self.ports[name] = args[args.index("--port") + 1]
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one service (SIGKILL by default, as a crash would)."""
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop everything started."""
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)

    def wait(self, name: str, timeout: float = 240.0) -> None:
        """Block until a service answers its health URL."""
        urls = {
            "rasa": f"{self.rasa}/status?token={self.env['RASA_TOKEN']}",
            "actions": f"{self.actions}/health",
            "gateway": f"{self.gateway}/openapi.json",
        }
        if name in self.ports:  # rasa2 ...
            urls[name] = f"http://127.0.0.1:{self.ports[name]}/status?token={self.env['RASA_TOKEN']}"
        url = urls[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.logs / (name + '.log')}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{name} not up after {timeout}s; see {self.logs / (name + '.log')}")


def stack_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a test stack: own ports, own var dir and database, the shared KB and model."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "RASA_MODEL"
        or not k.startswith(
            ("RASA_", "ACTIONS_", "GATEWAY_", "DATABASE_", "WECOM_", "HANDOFF_", "ENV", "REDIS_")
        )
    }
    env.update(
        {
            "RASA_PORT": str(free_port()),
            "ACTIONS_PORT": str(free_port()),
            "GATEWAY_PORT": str(free_port()),
            "RASA_TOKEN": "test-rasa-token",
            "HANDOFF_SECRET": "test-handoff-secret",
            "VAR_DIR": str(tmp),
            "KB_PATH": str(ROOT / "var" / "knowledge.db"),
            "DATABASE_URL": f"sqlite:///{tmp / 'app.db'}",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            # Every test client is 127.0.0.1: only the test of this limit keeps the default.
            "NEW_CONVERSATIONS_PER_MINUTE": "100000",
        }
    )
    env.update(extra)
    return env
