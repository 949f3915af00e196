"""Docs as tests: every setting, route, make target and admin command is documented."""

from __future__ import annotations

import re

import yaml

from gateway.main import create_app
from huiqitong.settings import ROOT, Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


def test_every_setting_is_in_env_example() -> None:
    listed = set(re.findall(r"^([A-Z_0-9]+)=", ENV_EXAMPLE, flags=re.M))
    assert {name.upper() for name in Settings.__fields__} == listed


def test_every_route_is_in_readme() -> None:
    """Each route's whole path, parameters included, e.g. `/api/escalations/{id}/claim`."""
    app = create_app(Settings())
    documented = set(re.findall(r"(/[\w./{}-]*)", README))
    paths = {getattr(route, "path", "") for route in app.routes} - {
        "/openapi.json",
        "/docs/oauth2-redirect",
        "/redoc",
        "/static",
    }
    missing = sorted(
        path
        for path in paths
        if re.sub(r"\{[^}]*\}", "{id}", path)
        not in {re.sub(r"\{[^}]*\}", "{id}", d.rstrip(".")) for d in documented}
    )
    assert not missing


def test_every_route_has_a_docstring() -> None:
    app = create_app(Settings())
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and getattr(route, "include_in_schema", False):
            assert endpoint.__doc__, getattr(route, "path", route)


def test_every_make_target_is_in_readme() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, flags=re.M)
    assert "run" in targets
    assert "test" in targets
    for target in targets:
        assert f"`{target}`" in README or f"make {target}" in README, target


def test_every_admin_command_is_in_readme() -> None:
    source = (ROOT / "gateway" / "admin.py").read_text(encoding="utf-8")
    commands = set(re.findall(r'add_parser\("([a-z-]+)"', source)) | {"import-firms", "import-liaisons"}
    for command in commands:
        assert f"gateway.admin {command}" in README, command


def test_pre_commit_runs_what_make_lint_runs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert recipe is not None
    lint = [line.strip().replace("$(VENV)", ".venv") for line in recipe.group(1).splitlines()]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    assert hooks == lint


def test_the_console_and_widget_keep_no_copy_of_the_vocabulary() -> None:
    """Labels of the domain's words are served (GET /api/vocabulary), never copied into the JS."""
    from huiqitong import vocabulary

    labels = {
        label
        for part in vocabulary.as_json().values()
        if isinstance(part, dict)
        for label in part.values()
        if len(label) >= 3
    }
    for script in ("console.js", "widget.js"):
        text = (ROOT / "gateway" / "static" / script).read_text(encoding="utf-8")
        copied = sorted(label for label in labels if f'"{label}"' in text)
        assert not copied, f"{script} copies {copied}"
