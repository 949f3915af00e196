"""Our Rasa launcher: ``python -m bot.serve [--stock]``.

Writes the endpoints file from settings, installs the fixes in :mod:`bot.fastpath` (unless
``--stock``), and runs ``rasa run --enable-api`` with the auth token, on loopback by default.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from bot.train import serving_model
from knowledge.settings import ROOT, Settings, get_settings


def endpoints(settings: Settings) -> dict[str, object]:
    """Rasa's endpoints: the action server, plus shared tracker and lock stores when configured."""
    conf: dict[str, object] = {"action_endpoint": {"url": settings.actions_url}}
    if settings.rasa_tracker_store_url:
        conf["tracker_store"] = {"type": "SQL", **_sql_parts(settings.rasa_tracker_store_url)}
    if settings.redis_url:
        host_port = settings.redis_url.split("//", 1)[-1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        conf["lock_store"] = {"type": "redis", "url": host, "port": int(port or 6379), "db": 1}
    return conf


def _sql_parts(url: str) -> dict[str, object]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "dialect": parsed.drivername, "url": parsed.host, "port": parsed.port,
        "username": parsed.username, "password": parsed.password, "db": parsed.database,
    }


def main(argv: list[str] | None = None) -> None:
    """Run Rasa with our settings."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve")
    parser.add_argument("--stock", action="store_true", help="no launcher fixes (benchmark baseline)")
    parser.add_argument("--port", type=int, help="override RASA_PORT")
    args = parser.parse_args(argv)
    settings = get_settings()
    port = args.port or settings.rasa_port
    path = settings.var_dir / f"endpoints-{port}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints(settings), allow_unicode=True), encoding="utf-8")
    model = serving_model()
    if not model.exists():
        sys.exit(f"error: no trained model {model.name}; run `make train`")
    if not args.stock:
        from bot import fastpath

        fastpath.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = [
        "rasa", "run", "--enable-api", "--auth-token", settings.rasa_token, "-i", settings.rasa_host,
        "-p", str(port), "--model", str(model), "--endpoints", str(path),
        "--credentials", str(ROOT / "bot" / "credentials.yml"),
    ]
    rasa_main()


if __name__ == "__main__":
    main()
