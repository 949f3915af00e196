"""Pauses in unpunctuated speech: where a voice message or a message typed in one breath has its commas.

Speech recognition in WeChat and the 12345 hotline's transcripts give "我们是做注塑的工厂打算贷款上一条自动化
生产线贴息能不能享受" with no punctuation, and everything downstream reads clauses: which clause asks, which
tells the firm's story, which states a fact of the firm. A story's words ("申请材料", "工资", "截止日期") are
then read as what is asked. ``with_pauses`` puts a comma back where the owners of our development set put
one between the same words.

The model is a linear classifier over the words on either side of each gap (jieba with the shared user
dictionary), trained by ``python -m knowledge.pauses`` on the owners' punctuated messages of the development
split of ``tests/data/dialogue`` (never the held-out split) and the NLU training examples, and kept as a table
of feature weights in ``knowledge/pauses.json``. Only runs of ``MIN_RUN`` characters or more without
punctuation are cut: what an owner punctuated is read as punctuated.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.segment import tokenizer
from knowledge.text import normalize

MODEL = Path(__file__).with_name("pauses.json")
MIN_RUN = 30  # characters without punctuation before a run is read as spoken in one breath
THRESHOLD = 0.7
_PUNCT = re.compile(r"[,，。.!！?？;；:：、\s]+")
# an NLU example's entity annotation, [省级专精特新](zjtx_level) or [省级]{"entity": …}: its text alone
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_RUN = re.compile(rf"[^,，。.!！?？;；:：、\s]{{{MIN_RUN},}}")


def _features(tokens: list[str], i: int, since: int) -> Iterator[str]:
    """What the gap after ``tokens[i]`` looks like; ``since``: characters since the last pause."""
    left, right = tokens[i], tokens[i + 1]
    before = tokens[i - 1] if i > 0 else "^"
    after = tokens[i + 2] if i + 2 < len(tokens) else "$"
    yield "bias"
    yield f"L:{left}"
    yield f"R:{right}"
    yield f"LR:{left}|{right}"
    yield f"LL:{before}|{left}"
    yield f"RR:{right}|{after}"
    yield f"l:{left[-1]}"
    yield f"r:{right[0]}"
    yield f"lr:{left[-1]}|{right[0]}"
    yield f"d:{min(since, 24) // 4}"


def _examples(text: str) -> Iterator[tuple[list[str], int, int, bool]]:
    """Each gap between words of a punctuated text, with whether the writer paused there."""
    pieces = [p for p in _PUNCT.split(normalize(text).lower()) if p]
    tokens: list[str] = []
    ends: set[int] = set()
    for piece in pieces:
        tokens += [w for w in tokenizer().lcut(piece) if w.strip()]
        ends.add(len(tokens) - 1)
    since = 0
    for i in range(len(tokens) - 1):
        since += len(tokens[i])
        yield tokens, i, since, i in ends
        if i in ends:
            since = 0


@lru_cache(maxsize=1)
def _weights() -> dict[str, float]:
    if not MODEL.exists():
        return {}
    return dict(json.loads(MODEL.read_text(encoding="utf-8"))["weights"])


def _cut(run: str, weights: dict[str, float]) -> str:
    tokens = [w for w in tokenizer().lcut(run) if w]
    out, since = [], 0
    for i, token in enumerate(tokens):
        out.append(token)
        if i == len(tokens) - 1:
            break
        since += len(token)
        score = sum(weights.get(f, 0.0) for f in _features(tokens, i, since))
        if 1 / (1 + math.exp(-score)) > THRESHOLD:
            out.append(",")
            since = 0
    return "".join(out)


@lru_cache(maxsize=4096)
def with_pauses(text: str) -> str:
    """``text`` (normalised) with a comma wherever its long unpunctuated runs pause."""
    weights = _weights()
    if not weights or not _RUN.search(text):
        return text
    return _RUN.sub(lambda m: _cut(m.group(0), weights), text)


def _training_texts() -> list[str]:
    """The owners' messages of the development split and the NLU examples that carry punctuation."""
    import yaml

    from bot.eval_dialogue import load_cases

    texts = [t for c in load_cases() if c["split"] == "dev" for t in c["turns"]]
    root = Path(__file__).resolve().parent.parent / "nlu_data"
    for path in sorted(root.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                texts.append(_ANNOTATION.sub(r"\1", line.strip()[2:]))
    return [t for t in texts if _PUNCT.search(t.strip().rstrip("?？!！。."))]


def train() -> dict[str, Any]:
    """Fit the pause classifier and write ``pauses.json``; returns its held-back accuracy figures."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = _training_texts()
    rows, labels, group = [], [], []
    for n, text in enumerate(texts):
        for tokens, i, since, pause in _examples(text):
            rows.append(dict.fromkeys(_features(tokens, i, since), 1))
            labels.append(pause)
            group.append(n % 10)
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    # one text in ten held back to report how well the pauses are found
    train_rows = [k for k, g in enumerate(group) if g]
    test_rows = [k for k, g in enumerate(group) if not g]
    check = LogisticRegression(C=0.5, max_iter=2000, fit_intercept=False)
    check.fit(matrix[train_rows], [labels[k] for k in train_rows])
    predicted = check.predict(matrix[test_rows])
    truth = [labels[k] for k in test_rows]
    tp = sum(1 for p, t in zip(predicted, truth, strict=True) if p and t)
    figures = {
        "texts": len(texts),
        "gaps": len(labels),
        "precision": round(tp / max(sum(predicted), 1), 3),
        "recall": round(tp / max(sum(truth), 1), 3),
    }
    model = LogisticRegression(C=0.5, max_iter=2000, fit_intercept=False)
    model.fit(matrix, labels)
    weights = {
        name: round(float(w), 3)
        for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
        if abs(w) >= 0.05
    }
    MODEL.write_text(
        json.dumps({"figures": figures, "weights": weights}, ensure_ascii=False, sort_keys=True, indent=0),
        encoding="utf-8",
    )
    _weights.cache_clear()
    with_pauses.cache_clear()
    return figures


if __name__ == "__main__":
    print(json.dumps(train(), ensure_ascii=False))
