"""ALLOWED_ORIGINS: the owner-facing routes answer the listed sites (with credentials), nothing else
does, and ``*`` is refused. The in-process app on a real SQLite store; Rasa is not needed here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.main import create_app
from huiqitong.settings import Settings

PORTAL = "https://gxj.zs.gov.cn"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-conversation-token",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        allowed_origins=f"{PORTAL}/, https://www.zs.gov.cn",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path",
    [
        "/api/chat",
        "/api/conversations/web-x/messages",
        "/api/conversations/web-x/stream",
        "/api/conversations/web-x",
    ],
)
def test_an_allowed_site_may_call_the_owner_routes_with_credentials(client: TestClient, path: str) -> None:
    resp = client.options(path, headers={"Origin": PORTAL, **PREFLIGHT})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == PORTAL  # the site itself, never *
    assert resp.headers["access-control-allow-credentials"] == "true"
    assert "x-conversation-token" in resp.headers["access-control-allow-headers"].lower()
    missing = client.get("/api/conversations/web-x/messages", headers={"Origin": PORTAL})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == PORTAL


def test_other_sites_and_other_routes_get_no_cors(client: TestClient) -> None:
    refused = client.options("/api/chat", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = client.get("/api/conversations/web-x/messages", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers
    for path in (
        "/api/escalations",
        "/api/liaison/login",
        "/api/admin/audit",
    ):  # the console stays same-origin
        resp = client.options(path, headers={"Origin": PORTAL, **PREFLIGHT})
        assert "access-control-allow-origin" not in resp.headers, path


def test_a_wildcard_origin_is_refused() -> None:
    with pytest.raises(ValueError, match="ALLOWED_ORIGINS"):
        Settings(allowed_origins="https://a.example,*")
