"""The combined view of ``make run``: new lines of each service's log file, prefixed with its name.

supervisord writes each service to its own file under ``var/log/`` (and rotates it: ``rasa.log`` becomes
``rasa.log.1`` and a new ``rasa.log`` starts); an operator at the terminal still wants one stream, as
honcho printed it. ``python -m gateway.logview DIR NAME ...`` follows ``DIR/NAME.log`` for each name,
across rotations, from where each file ended when it started.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO


@dataclass
class Followed:
    """One log file being followed: its open handle (None until it exists) and unfinished line."""

    name: str
    path: Path
    handle: BinaryIO | None = None
    inode: int = 0
    partial: bytes = b""

    def open(self, at_end: bool) -> None:
        """Open the file if it exists: at its end the first time, from its start after a rotation."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        if at_end:
            handle.seek(0, os.SEEK_END)
        self.handle, self.inode = handle, os.fstat(handle.fileno()).st_ino

    def rotated(self) -> bool:
        """Whether the path now names another file, or the file was truncated."""
        assert self.handle is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return True
        return st.st_ino != self.inode or st.st_size < self.handle.tell()

    def lines(self) -> list[str]:
        """The complete new lines since the last call."""
        if self.handle is None:
            return []
        data = self.partial + self.handle.read()
        *done, self.partial = data.split(b"\n")
        return [line.decode("utf-8", "replace").rstrip("\r") for line in done]


def follow(
    log_dir: Path, names: list[str], out: TextIO = sys.stdout, poll_s: float = 0.25, rounds: int | None = None
) -> None:
    """Print each new line of ``log_dir/<name>.log`` as ``HH:MM:SS name | line``.

    Args:
        log_dir: the folder supervisord writes to.
        names: the services to follow.
        out: where the view goes.
        poll_s: seconds between looks at the files.
        rounds: stop after this many looks (None: follow forever).
    """
    width = max(len(n) for n in names)
    files = [Followed(name, log_dir / f"{name}.log") for name in names]
    for f in files:
        f.open(at_end=True)
    done = 0
    while rounds is None or done < rounds:
        for f in files:
            batch = f.lines()
            if f.handle is None:
                f.open(at_end=False)
            elif f.rotated():
                batch += f.lines()  # what was written before the rename
                if f.partial:
                    batch.append(f.partial.decode("utf-8", "replace"))
                f.handle.close()
                f.handle, f.partial = None, b""
                f.open(at_end=False)
            stamp = time.strftime("%H:%M:%S")
            for line in batch:
                out.write(f"{stamp} {f.name:<{width}} | {line}\n")
        out.flush()
        done += 1
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> None:
    """``python -m gateway.logview DIR NAME ...``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        raise SystemExit("usage: python -m gateway.logview DIR NAME ...")
    follow(Path(args[0]), args[1:])


if __name__ == "__main__":
    main()
