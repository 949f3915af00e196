"""System packages the test suite needs: Debian chromium (Playwright drives it by executable_path;
Playwright's own browser download is not possible here), a CJK font and an emoji font (verdicts mark
✅ ❔ ❌), and docker-compose, which
validates docker-compose.yml offline (no Docker engine runs here).

``python -m tests.sysdeps`` installs what is missing when run as root, else explains in one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

PACKAGES = {
    "chromium": "chromium",
    "fonts-wqy-zenhei": None,
    "fonts-noto-color-emoji": None,
    "docker-compose": "docker-compose",
}


def missing() -> list[str]:
    """Debian packages not installed yet."""
    absent = []
    for package, binary in PACKAGES.items():
        if binary is not None:
            if shutil.which(binary) is None:
                absent.append(package)
        elif subprocess.run(["dpkg", "-s", package], capture_output=True).returncode != 0:
            absent.append(package)
    return absent


def main() -> int:
    """Install missing packages (root) or fail with a one-line message."""
    absent = missing()
    if not absent:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(
            f"error: the browser tests need Debian packages {' '.join(absent)}: "
            f"run `sudo apt-get install -y {' '.join(absent)}`",
            file=sys.stderr,
        )
        return 1
    print(f"installing {' '.join(absent)} (browser tests) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *absent], check=True, env=env
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
