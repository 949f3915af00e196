"""Knowledge-search benchmark: our FTS5 search vs rank_bm25 over the same passages, same process.

Measures p50/p95 per query over the real records and over a synthetic 20,000-passage corpus
generated from them, and recall@3 on the retrieval evaluation set for both rankers.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from rank_bm25 import BM25Okapi

from huiqitong.settings import ROOT, get_settings
from knowledge.build import passage_row, write_index
from knowledge.evaluate import load_eval, score
from knowledge.records import load_policies
from knowledge.search import Searcher
from knowledge.segment import terms

DISTRACTOR_OF = "distractor"


def synthetic_index(path: Path, size: int, seed: int = 7) -> None:
    """An index of ``size`` passages: the real records' passages plus distractor passages.

    A distractor stands for another policy text of a large archive: 40 words drawn from a Zipf-
    distributed synthetic vocabulary of 50,000 words, of which one in eight is instead a word of the
    letter, so that the letter's terms recur across the archive as they would in real documents.
    Distractors answer no question (policy id ``distractor``; it takes a place in the top 3 like any
    hit): recall measures whether the real record still ranks near the top among 20,000 passages.
    """
    policies = load_policies(get_settings().policies_dir)
    rng = random.Random(seed)
    base = [passage_row(p) for p in policies]
    letter_words = [w for row in base for w in row["quote_seg"].split()]
    synthetic = [f"词{i:05d}" for i in range(50_000)]
    weights = [1 / (rank + 1) for rank in range(len(synthetic))]
    rows = list(base)
    while len(rows) < size:
        words = [
            rng.choice(letter_words) if rng.random() < 0.125 else w
            for w in rng.choices(synthetic, weights=weights, k=40)
        ]
        rows.append(
            {
                "policy_id": DISTRACTOR_OF,
                "title_seg": " ".join(words[:4]),
                "aliases_seg": "",
                "quote_seg": " ".join(words[4:32]),
                "benefit_seg": " ".join(words[32:]),
            }
        )
    write_index(sqlite_utils.Database(path), policies, rows)


def bm25_over(path: Path) -> tuple[Callable[[str], list[str]], int]:
    """rank_bm25 over every passage of an index, with the same segmentation; returns (ranker, size)."""
    db = sqlite_utils.Database(path)
    rows = list(db.query("SELECT policy_id, title_seg, aliases_seg, quote_seg, benefit_seg FROM passages"))
    ids = [r["policy_id"] for r in rows]
    bm25 = BM25Okapi([" ".join(v for k, v in r.items() if k != "policy_id").split() for r in rows])

    def rank(question: str) -> list[str]:
        scores = bm25.get_scores(terms(question))
        top = sorted(range(len(ids)), key=lambda i: -scores[i])[:40]
        return list(dict.fromkeys(ids[i] for i in top if scores[i] > 0))[:5]

    return rank, len(rows)


def timed(fn: Callable[[str], Any], queries: list[str], repeat: int) -> dict[str, float]:
    """p50/p95 in ms over ``repeat`` passes of ``queries`` (after one warm-up pass)."""
    for q in queries:
        fn(q)
    samples = []
    for _ in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[int(len(samples) * 0.95) - 1],
        "n": len(samples),
    }


def run(quick: bool = False, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Both corpora, both rankers; returns the figures."""
    cases = load_eval(ROOT / "tests" / "data" / "retrieval_eval.jsonl")
    queries = [c["q"] for c in cases]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpora = {"records": get_settings().kb_path, "20k": Path(tmp) / "kb20k.db"}
        progress("kb: generating the synthetic 20,000-passage corpus ...")
        synthetic_index(corpora["20k"], 20_000)
        for name, path in corpora.items():
            searcher = Searcher(path)
            ours = lambda q, s=searcher: [h.policy_id for h in s.search(q, top=5)]  # noqa: E731
            bm25, size = bm25_over(path)
            progress(f"kb: timing {name} ({size} passages) ...")
            t_ours = timed(ours, queries, 1 if quick else 5)
            t_bm25 = timed(bm25, queries[: 40 if quick else len(queries)], 1)
            out[name] = {
                "passages": size,
                "ours": {**t_ours, **score(ours, cases)},
                "rank_bm25": {**t_bm25, **score(bm25, cases)},
                "speedup_p50": t_bm25["p50_ms"] / t_ours["p50_ms"],
            }
    return out
