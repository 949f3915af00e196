"""docker-compose.yml cannot run here (no Docker engine): validate it offline with Debian's
docker-compose and check every service against the settings the code reads."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from knowledge.settings import ROOT, Settings

MODULES = {"bot.serve", "actions", "gateway"}
SETTINGS = {name.upper() for name in Settings.__fields__}


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
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    defaults = Settings()
    apps = {name: svc for name, svc in services.items() if svc.get("image") == "huiqitong:latest"}
    assert {"rasa", "actions", "gateway", "rasa-scaled", "actions-scaled", "gateway-scaled"} <= set(apps)
    for name, svc in apps.items():
        command = list(svc["command"])  # type: ignore[call-overload]
        assert command[:2] == ["python", "-m"] and command[2] in MODULES, name
        assert f"-m {command[2]}" in procfile  # the same entry points as `make run`
        env = dict(svc["environment"])  # type: ignore[call-overload]
        assert set(env) <= SETTINGS, set(env) - SETTINGS
        targets = {v["target"] if isinstance(v, dict) else str(v).split(":")[1] for v in svc["volumes"]}  # type: ignore[union-attr]
        assert {"/app/var", "/app/models"} <= targets, name
        assert svc.get("healthcheck"), name
        port = {"bot.serve": defaults.rasa_port, "actions": defaults.actions_port, "gateway": defaults.gateway_port}
        assert str(port[command[2]]) in str(svc["healthcheck"]), name
    for name in ("gateway", "gateway-scaled"):
        published = [str(p["target"]) if isinstance(p, dict) else str(p).split(":")[-1] for p in apps[name]["ports"]]  # type: ignore[union-attr]
        assert str(defaults.gateway_port) in published
    scaled_env = dict(apps["rasa-scaled"]["environment"])  # type: ignore[call-overload]
    assert scaled_env["RASA_TRACKER_STORE_URL"].startswith("postgresql://")
    assert scaled_env["REDIS_URL"].startswith("redis://")
    assert apps["rasa-scaled"]["deploy"]["replicas"] == 2  # type: ignore[index]
    assert {"postgres", "redis"} <= set(services)
