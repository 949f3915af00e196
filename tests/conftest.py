"""Shared fixtures: the real services, started once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.stack import ROOT, Stack, free_port, stack_env
from tests.fakes.wecom_api import AGENT_ID, CORP_ID, CORP_SECRET, KF_SECRET, FakeWeComServer

WECOM_TOKEN = "hqtTestToken"
WECOM_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
BOT_TOKEN = "hqtBotToken"
BOT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
KF_TOKEN = "hqtKfToken"
KF_AES_KEY = "KfKfKfKfKf0123456789abcdefghijklmnopqrstuvw"


def _require_model() -> None:
    from bot.train import serving_model

    if not serving_model().exists():
        pytest.fail("no trained model for the current training data: run `make train` (make test does)")
    if not (ROOT / "var" / "knowledge.db").exists():
        pytest.fail("knowledge base not built: run `make kb` (make test does)")


def wecom_env(server: FakeWeComServer) -> dict[str, str]:
    """Settings that point WeCom (app, group bot and 微信客服) at the local fake."""
    return {
        "WECOM_TOKEN": WECOM_TOKEN,
        "WECOM_ENCODING_AES_KEY": WECOM_AES_KEY,
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": CORP_SECRET,
        "WECOM_API_BASE": server.base,
        "WECOM_BOT_TOKEN": BOT_TOKEN,
        "WECOM_BOT_ENCODING_AES_KEY": BOT_AES_KEY,
        "WECOM_KF_TOKEN": KF_TOKEN,
        "WECOM_KF_ENCODING_AES_KEY": KF_AES_KEY,
        "WECOM_KF_SECRET": KF_SECRET,
    }


@pytest.fixture(scope="session")
def wecom_server() -> Iterator[FakeWeComServer]:
    """The local fake of WeCom's API, for the whole session."""
    with FakeWeComServer() as server:
        yield server


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, wecom_server: FakeWeComServer) -> Iterator[Stack]:
    """Rasa (trained model, launcher fixes), the action server and the gateway, on free ports, with
    WeCom configured against the local fake API."""
    _require_model()
    tmp = tmp_path_factory.mktemp("stack")
    # One other local origin (another port) may embed the widget: the cross-origin browser test serves it.
    # SLA reminders are looked for every second, so the reminder test need not wait a minute.
    env = stack_env(
        tmp,
        **wecom_env(wecom_server),
        ALLOWED_ORIGINS=f"http://127.0.0.1:{free_port()}",
        REMINDER_INTERVAL_S="1",
    )
    with Stack(env=env, logs=tmp).running() as running:
        yield running


@pytest.fixture(scope="session")
def kb_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own for the knowledge-operations tests: editors publish into a copy of the
    knowledge base, so what they change never reaches the shared stack's answers."""
    _require_model()
    tmp = tmp_path_factory.mktemp("kb_stack")
    shutil.copy(ROOT / "var" / "knowledge.db", tmp / "knowledge.db")
    env = stack_env(tmp, KB_PATH=str(tmp / "knowledge.db"))
    with Stack(env=env, logs=tmp).running() as running:
        yield running


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests keep screenshots and reports."""
    path = ROOT / "tests" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
