"""``make bench``: run the benchmarks, print the figures, write ``bench/results/<timestamp>.json``.

Today it measures the knowledge base (ours vs rank_bm25); the service throughput benchmark
(stock Rasa vs our stack) is still to come.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench import kb
from knowledge.build import build
from knowledge.settings import ROOT


def main(argv: list[str] | None = None) -> int:
    """Run, print, save."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    build()
    started = time.time()
    result = kb.run(quick=args.quick, progress=lambda m: print(m, flush=True))
    big = result["20k"]
    summary = {
        "cores": os.cpu_count(), "quick": args.quick,
        "kb_p50_ms_records": result["records"]["ours"]["p50_ms"],
        "kb_p50_ms_20k": big["ours"]["p50_ms"], "kb_p95_ms_20k": big["ours"]["p95_ms"],
        "bm25_p50_ms_20k": big["rank_bm25"]["p50_ms"], "kb_speedup_vs_bm25_20k": big["speedup_p50"],
        "kb_recall3": result["records"]["ours"]["recall@3"], "bm25_recall3": result["records"]["rank_bm25"]["recall@3"],
        "kb_recall3_20k": big["ours"]["recall@3"], "bm25_recall3_20k": big["rank_bm25"]["recall@3"],
        "kb": result, "seconds": round(time.time() - started, 1),
    }
    for corpus, figures in result.items():
        o, b = figures["ours"], figures["rank_bm25"]
        print(f"{corpus:8} passages={figures['passages']:6}  ours p50={o['p50_ms']:.3f}ms p95={o['p95_ms']:.3f}ms "
              f"r@3={o['recall@3']:.3f} | rank_bm25 p50={b['p50_ms']:.2f}ms r@3={b['recall@3']:.3f} "
              f"| speed-up {figures['speedup_p50']:.0f}x")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
