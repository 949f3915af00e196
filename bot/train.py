"""Train the Rasa model only when its inputs changed: ``python -m bot.train``.

The model file is named by a hash of config, domain, stories, rules, NLU data, the jieba
dictionary and the code that shapes NLU input, so tests and ``make run`` reuse it.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import rasa
import yaml

from huiqitong.settings import ROOT, get_settings

BOT = ROOT / "bot"
NLU = ROOT / "nlu_data"
_CODE = (ROOT / "bot" / "tokenizer.py", ROOT / "knowledge" / "text.py", ROOT / "knowledge" / "dialect.py")


def training_inputs() -> list[Path]:
    """Every file whose change calls for a new model."""
    files = [BOT / "config.yml", BOT / "domain.yml", *sorted((BOT / "data").glob("*.yml"))]
    files += sorted(NLU.rglob("*.yml")) + sorted((NLU / "jieba").glob("*")) + list(_CODE)
    return files


def inputs_hash() -> str:
    """Hash of the training inputs and the Rasa version."""
    digest = hashlib.sha256(rasa.__version__.encode())
    for path in training_inputs():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(_content(path))
    return digest.hexdigest()[:16]


def _content(path: Path) -> bytes:
    """What a file means to training: code by its syntax tree, YAML by its data (reformatting or
    re-commenting either does not call for a new model), anything else by its bytes."""
    if path.suffix == ".py":
        return ast.dump(ast.parse(path.read_bytes())).encode()
    if path.suffix == ".yml":
        return json.dumps(
            yaml.safe_load(path.read_text(encoding="utf-8")), sort_keys=True, default=str
        ).encode()
    return path.read_bytes()


def model_path() -> Path:
    """Where the model for the current inputs lives (trained or not)."""
    return get_settings().models_dir / f"hqt-{inputs_hash()}.tar.gz"


def serving_model() -> Path:
    """The model Rasa serves: RASA_MODEL when set (a pinned deployment), else the current inputs' model."""
    pinned = get_settings().rasa_model
    return Path(pinned) if pinned else model_path()


def train(force: bool = False) -> Path:
    """Train unless a model for the same inputs exists; returns the model path."""
    target = model_path()
    if target.exists() and not force:
        print(f"model up to date: {target.relative_to(ROOT)}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"training {target.name} (inputs changed) ...", flush=True)
    started = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        str(BOT / "config.yml"),
        "--domain",
        str(BOT / "domain.yml"),
        "--data",
        str(NLU),
        str(BOT / "data"),
        "--out",
        str(target.parent),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    print(f"trained in {time.perf_counter() - started:.0f}s: {target.relative_to(ROOT)}")
    for old in target.parent.glob("hqt-*.tar.gz"):
        if old != target:
            old.unlink()
    return target


def main() -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m bot.train")
    parser.add_argument("--force", action="store_true", help="train even when a cached model exists")
    train(force=parser.parse_args().force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
