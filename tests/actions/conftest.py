"""Shared fixtures of the action tests: one knowledge base built under a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from huiqitong.settings import Settings, get_settings
from knowledge.build import build
from knowledge.search import reset_searcher


@pytest.fixture(scope="session", autouse=True)
def knowledge_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Point the process-wide settings and searcher at a freshly built index, then restore them."""
    directory = tmp_path_factory.mktemp("actions-kb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_PATH", str(directory / "kb.db"))
        mp.setenv("VAR_DIR", str(directory))
        get_settings.cache_clear()
        reset_searcher()
        settings = get_settings()
        assert settings.kb_path == directory / "kb.db"
        assert build(settings) is True
        yield settings
    get_settings.cache_clear()
    reset_searcher()
