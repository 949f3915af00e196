"""Held-out NLU evaluation: ``python -m bot.eval_nlu`` (``make eval-nlu``).

Runs ``rasa test nlu`` on ``tests/nlu/test_nlu.yml`` with the current model and prints the intent
macro-F1 and the path of the confusion-matrix PNG.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.train import serving_model
from huiqitong.settings import ROOT, get_settings

TEST_SET = ROOT / "tests" / "nlu" / "test_nlu.yml"


def evaluate(out_dir: Path | None = None) -> dict[str, Any]:
    """Run the evaluation; returns macro-F1, accuracy, per-intent F1 and the report paths."""
    out = out_dir or get_settings().var_dir / "nlu_eval"
    out.mkdir(parents=True, exist_ok=True)
    model = serving_model()
    if not model.exists():
        raise SystemExit(f"error: no trained model {model.name}; run `make train`")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "nlu",
            "--nlu",
            str(TEST_SET),
            "--model",
            str(model),
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    per_intent = {
        k: v["f1-score"]
        for k, v in report.items()
        if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg")
    }
    return {
        "macro_f1": report["macro avg"]["f1-score"],
        "accuracy": report.get("accuracy"),
        "per_intent_f1": per_intent,
        "confusion_matrix": str(out / "intent_confusion_matrix.png"),
        "errors": str(out / "intent_errors.json"),
    }


def main() -> int:
    """Print the figures."""
    result = evaluate()
    print(f"intent macro-F1: {result['macro_f1']:.3f}   accuracy: {result['accuracy']:.3f}")
    per_intent: dict[str, float] = result["per_intent_f1"]
    for intent, f1 in sorted(per_intent.items(), key=lambda kv: kv[1]):
        print(f"  {intent:22} F1 {f1:.3f}")
    print(f"confusion matrix: {result['confusion_matrix']}")
    print(f"misclassified examples: {result['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
