"""The deployment files cannot run here (no Docker engine, no systemd as PID 1): validate
docker-compose.yml offline with Debian's docker-compose, deploy/huiqitong.service with
`systemd-analyze verify` where it runs, and check both against the settings the code reads and the
services `make run` supervises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gateway.supervise import supervisord_config
from huiqitong.settings import ROOT, Settings

MODULES = {"bot.serve", "actions", "gateway"}
SETTINGS = {name.upper() for name in Settings.__fields__}
UNIT = ROOT / "deploy" / "huiqitong.service"
UNIT_HOME = "/opt/huiqitong"  # where the unit expects the project


def resolved(*profile: str) -> dict[str, dict[str, object]]:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: `make test` installs it (tests/sysdeps.py)")
    args = ["docker-compose", *[a for p in profile for a in ("--profile", p)]]
    done = subprocess.run([*args, "config"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(yaml.safe_load(done.stdout)["services"])


@pytest.mark.parametrize("profile", [(), ("scaled",)])
def test_compose_file_is_valid(profile: tuple[str, ...]) -> None:
    args = ["docker-compose", *[a for p in profile for a in ("--profile", p)], "config", "-q"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_app_service_matches_the_code() -> None:
    services = resolved("scaled")
    supervised = supervisord_config(Settings())
    defaults = Settings()
    apps = {name: svc for name, svc in services.items() if svc.get("image") == "huiqitong:latest"}
    assert {"rasa", "actions", "gateway", "rasa-scaled", "actions-scaled", "gateway-scaled"} <= set(apps)
    for name, svc in apps.items():
        command = list(svc["command"])  # type: ignore[call-overload]
        assert command[:2] == ["python", "-m"], name
        assert command[2] in MODULES, name
        assert f"-m {command[2]}" in supervised  # the same entry points as `make run`
        assert svc.get("restart") == "unless-stopped", name  # a container whose process dies comes back
        env = dict(svc["environment"])  # type: ignore[call-overload]
        assert set(env) <= SETTINGS, set(env) - SETTINGS
        targets = {v["target"] if isinstance(v, dict) else str(v).split(":")[1] for v in svc["volumes"]}  # type: ignore[attr-defined]
        assert {"/app/var", "/app/models"} <= targets, name
        assert svc.get("healthcheck"), name
        port = {
            "bot.serve": defaults.rasa_port,
            "actions": defaults.actions_port,
            "gateway": defaults.gateway_port,
        }
        assert str(port[command[2]]) in str(svc["healthcheck"]), name
    for name in ("gateway", "gateway-scaled"):
        ports: list[object] = list(apps[name]["ports"])  # type: ignore[call-overload]
        published = [str(p["target"]) if isinstance(p, dict) else str(p).split(":")[-1] for p in ports]
        assert str(defaults.gateway_port) in published
    scaled_env = dict(apps["rasa-scaled"]["environment"])  # type: ignore[call-overload]
    assert scaled_env["RASA_TRACKER_STORE_URL"].startswith("postgresql://")
    assert scaled_env["REDIS_URL"].startswith("redis://")
    assert apps["rasa-scaled"]["deploy"]["replicas"] == 2  # type: ignore[index]
    assert {"postgres", "redis"} <= set(services)
    assert all(services[name].get("restart") == "unless-stopped" for name in ("postgres", "redis"))


def unit_entries() -> list[tuple[str, str, str]]:
    """(section, key, value) of every line of the systemd unit, repeated keys kept."""
    entries, section = [], ""
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def test_systemd_unit_runs_the_supervisor_with_known_settings() -> None:
    entries = unit_entries()
    service = {key: value for section, key, value in entries if section == "Service"}
    assert {section for section, _, _ in entries} == {"Unit", "Service", "Install"}
    assert (
        service["ExecStart"] == f"{UNIT_HOME}/.venv/bin/python -m gateway.supervise"
    )  # what `make run` runs
    assert service["WorkingDirectory"] == UNIT_HOME
    assert service["User"] != "root"
    assert service["KillMode"] == "mixed"
    assert service["Restart"] == "on-failure"
    # supervisord stops the services one after another, each within its stop wait (20 s).
    stopwait = configparser.ConfigParser(interpolation=None)
    stopwait.read_string(supervisord_config(Settings()))
    waits = [
        int(stopwait[s]["stopwaitsecs"])
        for s in stopwait.sections()
        if s.startswith("program:") and "stopwaitsecs" in stopwait[s]
    ]
    assert int(service["TimeoutStopSec"]) > sum(waits)
    environment = [value for section, key, value in entries if key == "Environment"]
    assert {value.split("=", 1)[0] for value in environment} <= SETTINGS
    assert not [key for _, key, _ in entries if key == "EnvironmentFile"]  # the code reads .env itself


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze here: the unit's keys are checked by the test above")
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(UNIT_HOME, str(ROOT)), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    ours = [line for line in done.stderr.splitlines() if UNIT.name in line]
    assert done.returncode == 0, done.stderr
    assert not ours, done.stderr
