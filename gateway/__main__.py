"""Run the gateway: ``python -m gateway``."""

from __future__ import annotations

import logging

import uvicorn

from gateway.data.store import Store
from huiqitong.settings import service_settings


def main() -> None:
    """Serve the app on GATEWAY_HOST:GATEWAY_PORT with GATEWAY_WORKERS processes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # httpx logs every request URL at INFO, and Rasa's API takes its token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    s = service_settings()
    Store(s.db_url).create()  # once, before the workers start, so they do not race to create tables
    uvicorn.run(
        "gateway.main:create_app",
        factory=True,
        host=s.gateway_host,
        port=s.gateway_port,
        workers=s.gateway_workers,
        log_level="info",
        access_log=False,
        ws="none",
    )


if __name__ == "__main__":
    main()
