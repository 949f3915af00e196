"""Shared fixtures: the real services, started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import ROOT, Stack, stack_env


def _require_model() -> None:
    from bot.train import model_path

    if not model_path().exists():
        pytest.fail("no trained model for the current training data: run `make train` (make test does)")
    if not (ROOT / "var" / "knowledge.db").exists():
        pytest.fail("knowledge base not built: run `make kb` (make test does)")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa (trained model, launcher fixes), the action server and the gateway, on free ports."""
    _require_model()
    tmp = tmp_path_factory.mktemp("stack")
    running = Stack(env=stack_env(tmp), logs=tmp)
    for name in ("rasa", "actions", "gateway"):
        running.start(name)
    try:
        for name in ("actions", "gateway", "rasa"):
            running.wait(name)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests keep screenshots and reports."""
    path = ROOT / "tests" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
