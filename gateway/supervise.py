"""``make run`` as a service: supervisord runs every part and restarts what exits.

honcho, the Procfile runner ``make run`` used before, stops every process when one exits, so a crash
of Rasa took down the gateway, which was built to answer exactly that case. supervisord (Supervisor,
from PyPI) restarts a process that exits and leaves the others running: at once when it had been up,
with back-off (1 s, 2 s, ... for ``START_RETRIES`` tries) when it dies while starting.
:mod:`gateway.watchdog`, one of its event listeners, restarts a process that is alive but hung.

``python -m gateway.supervise`` writes ``$VAR_DIR/supervisord.conf`` from the settings and becomes
``supervisord -n``, so Ctrl-C and SIGTERM reach supervisord itself, which stops every child before it
exits. Each service logs to ``$VAR_DIR/log/<service>.log``, rotated by supervisord; when stdout can be
reopened (a terminal, a pipe or a file, not journald's socket) a combined view
(:mod:`gateway.logview`) and the readiness announcement (:mod:`gateway.ready`) are printed there too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from huiqitong.settings import ROOT, Settings, service_settings

START_SECS = 10  # up this long counts as started; an exit before that is a failed start (back-off)
START_RETRIES = 10  # failed starts in a row before supervisord gives up on a service (state FATAL)
STOP_WAIT_S = 20  # Rasa takes 5–7 s to stop cleanly; after this supervisord sends SIGKILL
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True)
class Service:
    """One supervised service: its program name, ``python -m`` arguments and health URL."""

    name: str
    argv: tuple[str, ...]
    health_url: str


def _url(host: str, port: int, path: str) -> str:
    host = _WILDCARD_HOSTS.get(host, host)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"


def services(settings: Settings) -> list[Service]:
    """Rasa (one instance per RASA_URLS entry on this machine), the action server and the gateway.

    A RASA_URLS entry on another host is a Rasa that runs there, not under this supervisor.
    """
    local = {"127.0.0.1", "localhost", "::1", settings.rasa_host, *_WILDCARD_HOSTS}
    ports = [urlsplit(url).port or 80 for url in settings.rasa_urls_list if urlsplit(url).hostname in local]
    rasa = [
        Service(
            "rasa" if i == 0 else f"rasa{i + 1}",
            ("bot.serve", "--port", str(port)),
            _url(settings.rasa_host, port, "/"),
        )
        for i, port in enumerate(ports)
    ]
    return [
        *rasa,
        Service("actions", ("actions",), _url(settings.actions_host, settings.actions_port, "/health")),
        # Not /healthz: that one also waits for Rasa and the database, and a slow dependency is no
        # reason to restart the gateway.
        Service("gateway", ("gateway",), _url(settings.gateway_host, settings.gateway_port, "/openapi.json")),
    ]


def log_dir(settings: Settings) -> Path:
    """Where each service's log file lives."""
    return settings.var_dir.resolve() / "log"


def config_path(settings: Settings) -> Path:
    """The generated supervisord configuration (``supervisorctl -c`` takes it too)."""
    return settings.var_dir.resolve() / "supervisord.conf"


def _cmd(*argv: str) -> str:
    """A supervisord ``command=``: shell-quoted (it splits with shlex), ``%`` escaped (it expands ``%(x)s``)."""
    return _esc(" ".join(shlex.quote(a) for a in argv))


def _esc(value: object) -> str:
    return str(value).replace("%", "%%")


def _section(header: str, **keys: object) -> str:
    return "\n".join([f"[{header}]", *(f"{k}={v}" for k, v in keys.items())]) + "\n"


def supervisord_config(settings: Settings, python: str = sys.executable, view: bool = True) -> str:
    """The supervisord configuration for these settings.

    Args:
        settings: ports, VAR_DIR, the hang and start timeouts and the log rotation.
        python: the interpreter that runs every service (the venv's).
        view: also print the combined log view and the readiness announcement on supervisord's stdout.
    """
    var, logs = settings.var_dir.resolve(), log_dir(settings)
    rotated = {
        "stdout_logfile_maxbytes": f"{settings.log_max_mb}MB",
        "stdout_logfile_backups": settings.log_backups,
    }
    on_stdout = {"stdout_logfile": "/dev/stdout", "stdout_logfile_maxbytes": 0, "redirect_stderr": "true"}
    sections = [
        _section(
            "supervisord",
            nodaemon="true",
            identifier="huiqitong",
            logfile=_esc(logs / "supervisord.log"),
            logfile_maxbytes=f"{settings.log_max_mb}MB",
            logfile_backups=settings.log_backups,
            pidfile=_esc(var / "supervisord.pid"),
            childlogdir=_esc(logs),
        ),
        # The control socket, for the watchdog and `supervisorctl`; only this user may use it.
        _section("unix_http_server", file=_esc(var / "supervisor.sock"), chmod="0700"),
        _section(
            "rpcinterface:supervisor",
            **{"supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"},
        ),
        _section("supervisorctl", serverurl=_esc(f"unix://{var / 'supervisor.sock'}")),
    ]
    watched = services(settings)
    for priority, svc in enumerate(watched, start=10):
        sections.append(
            _section(
                f"program:{svc.name}",
                command=_cmd(python, "-m", *svc.argv),
                directory=_esc(ROOT),
                priority=priority,
                autorestart="true",
                startsecs=START_SECS,
                startretries=START_RETRIES,
                stopwaitsecs=STOP_WAIT_S,
                # A service's own children (gateway workers) stop and die with it.
                stopasgroup="true",
                killasgroup="true",
                redirect_stderr="true",
                stdout_logfile=_esc(logs / f"{svc.name}.log"),
                **rotated,
                environment='PYTHONUNBUFFERED="1"',
            )
        )
    # A check may wait HANG_TIMEOUT_S while TICK_5 events queue: room for them all.
    sections.append(
        _section(
            "eventlistener:watchdog",
            events="TICK_5",
            priority=900,
            autorestart="true",
            buffer_size=settings.hang_timeout_s // 5 + 10,
            stdout_logfile="NONE",
            command=_cmd(
                python,
                "-m",
                "gateway.watchdog",
                "--hang-timeout",
                str(settings.hang_timeout_s),
                "--start-timeout",
                str(settings.start_timeout_s),
                *(f"{svc.name}={svc.health_url}" for svc in watched),
            ),
            stderr_logfile=_esc(logs / "watchdog.log"),
            stderr_logfile_maxbytes=f"{settings.log_max_mb}MB",
            stderr_logfile_backups=settings.log_backups,
        )
    )
    if view:
        names = [svc.name for svc in watched] + ["watchdog"]
        sections.append(
            _section(
                "program:view",
                command=_cmd(python, "-m", "gateway.logview", str(logs), *names),
                directory=_esc(ROOT),
                priority=1,
                autorestart="true",
                startsecs=0,
                **on_stdout,
            )
        )
        sections.append(
            _section(
                "program:ready",
                command=_cmd(python, "-m", "gateway.ready"),
                directory=_esc(ROOT),
                priority=999,
                autorestart="false",
                startsecs=0,
                **on_stdout,
            )
        )
    return "\n".join(sections)


def stdout_reopenable() -> bool:
    """Whether supervisord can reopen our stdout as ``/dev/stdout`` (a socket, as under systemd, cannot)."""
    try:
        return not stat.S_ISSOCK(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def shown(path: Path) -> str:
    """A path as an operator in the project folder would type it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> None:
    """Write the configuration, say where the logs go, and become supervisord."""
    parser = argparse.ArgumentParser(prog="python -m gateway.supervise", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config-only", action="store_true", help="write the configuration, print its path, exit"
    )
    args = parser.parse_args(argv)
    settings = service_settings()
    log_dir(settings).mkdir(parents=True, exist_ok=True)
    path = config_path(settings)
    path.write_text(supervisord_config(settings, view=stdout_reopenable()), encoding="utf-8")
    if args.config_only:
        print(path)
        return
    names = ", ".join(svc.name for svc in services(settings))
    print(
        f"supervisord runs {names}; logs in {shown(log_dir(settings))}/<service>.log "
        f"(status: .venv/bin/supervisorctl -c {shown(path)} status)",
        flush=True,
    )
    os.execv(sys.executable, [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(path)])


if __name__ == "__main__":
    main()
