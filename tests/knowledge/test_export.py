"""``python -m knowledge export`` writes back what it indexed: the seed round-trips exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from huiqitong.settings import ROOT, Settings
from knowledge.build import build
from knowledge.records import Policy, load_policies, load_sources


def test_export_round_trips_the_seed(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, kb_path=tmp_path / "kb.db")
    assert build(settings) is True
    out = tmp_path / "exported"
    done = subprocess.run(
        [sys.executable, "-m", "knowledge", "export", "--out", str(out)],
        env={"KB_PATH": str(settings.kb_path), "VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "exported 51 records in 5 files and 1 sources" in done.stdout
    seed = load_policies(ROOT / "knowledge" / "policies")
    back = load_policies(out / "policies")

    def form(policies: list[Policy]) -> dict[str, tuple[dict[str, Any], str, str]]:
        return {p.id: (p.as_dict(), p.section_title, p.source_file) for p in policies}

    assert form(back) == form(seed)
    assert load_sources(out / "sources") == load_sources(ROOT / "knowledge" / "sources")
