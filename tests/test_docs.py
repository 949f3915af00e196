"""Docs as tests: every setting, route, make target and admin command is documented."""

from __future__ import annotations

import re

from gateway.main import create_app
from knowledge.settings import ROOT, Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


def test_every_setting_is_in_env_example() -> None:
    listed = set(re.findall(r"^([A-Z_0-9]+)=", ENV_EXAMPLE, flags=re.M))
    assert {name.upper() for name in Settings.__fields__} == listed


def test_every_route_is_in_readme() -> None:
    app = create_app(Settings())
    paths = {
        route.path
        for route in app.routes
        if route.path not in ("/openapi.json", "/docs/oauth2-redirect", "/redoc", "/static")
    }
    for path in paths:
        first = path.split("{")[0].rstrip("/") or "/"
        assert f"`{first}" in README or f" {first}" in README, path


def test_every_route_has_a_docstring() -> None:
    app = create_app(Settings())
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and getattr(route, "include_in_schema", False):
            assert endpoint.__doc__, route.path


def test_every_make_target_is_in_readme() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, flags=re.M)
    assert "run" in targets and "test" in targets
    for target in targets:
        assert f"`{target}`" in README or f"make {target}" in README, target


def test_every_admin_command_is_in_readme() -> None:
    source = (ROOT / "gateway" / "admin.py").read_text(encoding="utf-8")
    commands = set(re.findall(r'add_parser\("([a-z-]+)"', source)) | {"import-firms", "import-liaisons"}
    for command in commands:
        assert f"gateway.admin {command}" in README, command
