"""The admin CLI's demo data: public demo logins exist in development only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.stack import ROOT
from gateway.admin import DEMO_LIAISONS, load_demo
from gateway.data.registry import Registry
from gateway.data.store import Store


def test_demo_data_is_loaded_in_development_only(store: Store) -> None:
    registry = Registry(store)
    assert load_demo(registry, "production") is False
    assert registry.is_empty()
    assert load_demo(registry, "development") is True
    assert registry.liaison(DEMO_LIAISONS[0]["username"]) is not None
    assert load_demo(registry, "development") is False  # once


def test_make_run_outside_development_seeds_no_demo_logins(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RASA_", "HANDOFF_", "DATABASE_", "ENV"))}
    env.update(
        ENV="production",
        RASA_TOKEN="a-production-token",
        HANDOFF_SECRET="a-production-secret",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
    )
    done = subprocess.run(
        [sys.executable, "-m", "gateway.admin", "load-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "development only" in done.stdout
    assert "Demo console logins" not in done.stdout
    assert Registry(Store(env["DATABASE_URL"])).is_empty()
