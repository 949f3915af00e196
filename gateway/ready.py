"""Wait until /healthz is green, then print where to go and where the logs are (``make run``'s last
word); supervisord runs it once, next to the services."""

from __future__ import annotations

import time

import httpx

from gateway.supervise import config_path, log_dir, shown
from huiqitong.settings import get_settings


def wait_healthy(url: str, timeout_s: float = 600.0) -> bool:
    """Poll ``url``/healthz until it answers 200; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=3.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    return False


def main() -> None:
    """Announce readiness once, and how to watch and control the services."""
    settings = get_settings()
    url = settings.gateway_url
    started = time.monotonic()
    if wait_healthy(url, timeout_s=settings.start_timeout_s):
        print(f"惠企通 is ready after {time.monotonic() - started:.0f}s", flush=True)
        print(f"  chat widget:     {url}/", flush=True)
        print(f"  liaison console: {url}/console   (demo logins were printed above)", flush=True)
        print(f"  API docs:        {url}/docs", flush=True)
    else:
        print(f"惠企通 did not become healthy; see {url}/healthz", flush=True)
    print(
        f"  logs:            {shown(log_dir(settings))}/<service>.log (rotated at {settings.log_max_mb} MB)",
        flush=True,
    )
    print(f"  status:          .venv/bin/supervisorctl -c {shown(config_path(settings))} status", flush=True)


if __name__ == "__main__":
    main()
