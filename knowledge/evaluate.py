"""Retrieval evaluation: recall@1, recall@3 and MRR of our search and of rank_bm25, same records."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.search import Searcher
from knowledge.segment import terms

Ranker = Callable[[str], list[str]]


def load_eval(path: Path) -> list[dict[str, Any]]:
    """The labelled questions: one JSON object per line with ``q`` and ``expected`` ids."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def bm25_ranker(searcher: Searcher) -> Ranker:
    """rank_bm25 over the same record texts and the same segmentation: the obvious alternative."""
    from rank_bm25 import BM25Okapi

    ids = list(searcher.policies)
    docs = []
    for pid in ids:
        rec = searcher.policies[pid]
        text = " ".join([rec["title"], " ".join(rec["aliases"] or []), rec["quote"], rec["benefit"] or ""])
        docs.append(terms(text))
    bm25 = BM25Okapi(docs)

    def rank(question: str) -> list[str]:
        scores = bm25.get_scores(terms(question))
        order = sorted(range(len(ids)), key=lambda i: -scores[i])
        return [ids[i] for i in order[:5] if scores[i] > 0]

    return rank


def score(ranker: Ranker, cases: list[dict[str, Any]]) -> dict[str, float]:
    """recall@1, recall@3 (any expected id in the top k) and MRR of the first expected id."""
    r1 = r3 = mrr = 0.0
    for case in cases:
        got = ranker(case["q"])
        expected = set(case["expected"])
        ranks = [i for i, pid in enumerate(got, 1) if pid in expected]
        first = ranks[0] if ranks else None
        r1 += first == 1
        r3 += first is not None and first <= 3
        mrr += 1 / first if first else 0.0
    n = max(len(cases), 1)
    return {"recall@1": r1 / n, "recall@3": r3 / n, "mrr": mrr / n, "n": len(cases)}


def misses(ranker: Ranker, cases: list[dict[str, Any]], k: int = 3) -> list[tuple[str, list[str], list[str]]]:
    """Questions whose expected ids are not in the top k: (question, expected, got)."""
    out = []
    for case in cases:
        got = ranker(case["q"])[:k]
        if not set(case["expected"]) & set(got):
            out.append((case["q"], case["expected"], got))
    return out
