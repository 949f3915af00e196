"""Our Rasa launcher: ``python -m bot.serve [--stock]``.

Writes the endpoints file from settings, installs the fixes in :mod:`bot.fastpath` (unless
``--stock``), and runs ``rasa run --enable-api`` with the auth token, on loopback by default.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from huiqitong.settings import ROOT, Settings, service_settings


def endpoints(settings: Settings, stock: bool = False) -> dict[str, object]:
    """Rasa's endpoints: the action server, plus shared tracker and lock stores when configured.

    Without a shared tracker store, ours keeps each conversation's current session in memory
    (:class:`bot.tracker_store.SessionTrackerStore`); with one, ours is Rasa's SQL store with fewer
    round trips (:class:`bot.tracker_store.SessionSQLTrackerStore`); ``stock`` keeps Rasa's own.
    """
    # Selective domain: only actions that declare `send_domain: true` get the whole domain with
    # every call (rasa 3.6 otherwise serialises it into each request).
    conf: dict[str, object] = {
        "action_endpoint": {"url": settings.actions_url, "enable_selective_domain": True}
    }
    if settings.rasa_tracker_store_url:
        kind = "SQL" if stock else "bot.tracker_store.SessionSQLTrackerStore"
        conf["tracker_store"] = {"type": kind, **_sql_parts(settings.rasa_tracker_store_url)}
    elif not stock:
        conf["tracker_store"] = {"type": "bot.tracker_store.SessionTrackerStore"}
    if settings.redis_url:
        host_port = settings.redis_url.split("//", 1)[-1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        conf["lock_store"] = {"type": "redis", "url": host, "port": int(port or 6379), "db": 1}
    return conf


def _sql_parts(url: str) -> dict[str, object]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "dialect": parsed.drivername,
        "url": parsed.host,
        "port": parsed.port,
        "username": parsed.username,
        "password": parsed.password,
        "db": parsed.database,
    }


def ensure_tracker_tables(settings: Settings, attempts: int = 5) -> None:
    """Create the shared SQL tracker store's tables before Rasa starts: instances starting together
    would otherwise race to create them and one would die."""
    if not settings.rasa_tracker_store_url:
        return
    import time

    from rasa.core.tracker_store import SQLTrackerStore

    parts = _sql_parts(settings.rasa_tracker_store_url)
    for attempt in range(attempts):
        try:
            store = SQLTrackerStore(
                domain=None,
                dialect=str(parts["dialect"]),
                host=parts["url"],
                port=parts["port"],
                db=str(parts["db"]),
                username=parts["username"],
                password=parts["password"],
            )
            store.engine.dispose()
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(1.0 + attempt)


def main(argv: list[str] | None = None) -> None:
    """Run Rasa with our settings."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve")
    parser.add_argument("--stock", action="store_true", help="no launcher fixes (benchmark baseline)")
    parser.add_argument("--port", type=int, help="override RASA_PORT")
    args = parser.parse_args(argv)
    if not args.stock:
        # Before anything imports Rasa (which imports TensorFlow): a model with no TensorFlow component
        # is served without it (bot.without_tensorflow; about 340 MB less memory).
        from bot import without_tensorflow

        config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
        if without_tensorflow.install(config):
            print("rasa: serving without TensorFlow (the model uses none of its components)", file=sys.stderr)
        # skops (the format of the intent classifier's model) walks every loaded module once per
        # scikit-learn type when first imported: 7.7 s after TensorFlow's thousands of modules, 1.6 s
        # before them. Import it before anything imports Rasa.
        import skops.io  # noqa: F401
    from bot.train import serving_model

    settings = service_settings()
    port = args.port or settings.rasa_port
    path = settings.var_dir / f"endpoints-{port}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints(settings, args.stock), allow_unicode=True), encoding="utf-8")
    model = serving_model()
    if not model.exists():
        sys.exit(f"error: no trained model {model.name}; run `make train`")
    ensure_tracker_tables(settings)
    if not args.stock:
        from bot import fastpath

        fastpath.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = [
        "rasa",
        "run",
        "--enable-api",
        "--auth-token",
        settings.rasa_token,
        "-i",
        settings.rasa_host,
        "-p",
        str(port),
        "--model",
        str(model),
        "--endpoints",
        str(path),
        "--credentials",
        str(ROOT / "bot" / "credentials.yml"),
    ]
    rasa_main()


if __name__ == "__main__":
    main()
