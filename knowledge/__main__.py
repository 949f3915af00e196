"""Command line: ``python -m knowledge build|search|show|eval``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from huiqitong.settings import ROOT, get_settings
from knowledge.build import build
from knowledge.evaluate import bm25_ranker, load_eval, misses, score
from knowledge.export import export
from knowledge.search import Searcher


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="惠企通 knowledge base")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build", help="build var/knowledge.db when its sources changed")
    p_build.add_argument("--force", action="store_true", help="rebuild even when current")
    p_search = sub.add_parser("search", help="search the letter's policies")
    p_search.add_argument("query")
    p_search.add_argument("--top", type=int, default=5)
    p_search.add_argument("--json", action="store_true", help="print a JSON array")
    p_show = sub.add_parser("show", help="print one record as JSON")
    p_show.add_argument("id")
    p_export = sub.add_parser("export", help="write the published knowledge back as YAML records and sources")
    p_export.add_argument(
        "--out", help="a directory (policies/ and sources/ under it); default: knowledge/ itself"
    )
    p_eval = sub.add_parser("eval", help="recall@1/@3 and MRR of our search and rank_bm25")
    p_eval.add_argument("--file", default=str(ROOT / "tests" / "data" / "retrieval_eval.jsonl"))
    p_eval.add_argument("--misses", action="store_true", help="list the questions missed at 3")
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.cmd == "build":
        t0 = time.perf_counter()
        built = build(settings, force=args.force)
        state = "built" if built else "up to date"
        print(f"knowledge base {state}: {settings.kb_path} ({time.perf_counter() - t0:.2f}s)")
        return 0
    if args.cmd == "export":
        if not settings.kb_path.exists():
            print(
                f"error: no index at {settings.kb_path} (run `make kb` or start the gateway)", file=sys.stderr
            )
            return 1
        out = Path(args.out) if args.out else None
        counts = export(
            settings.kb_path,
            out / "policies" if out else settings.policies_dir,
            out / "sources" if out else settings.sources_dir,
        )
        print(
            f"exported {counts['records']} records in {counts['files']} files and {counts['sources']} sources"
        )
        return 0
    build(settings)
    searcher = Searcher(settings.kb_path)
    if args.cmd == "search":
        if not args.query.strip():
            print("error: empty query", file=sys.stderr)
            return 2
        hits = searcher.search(args.query, top=max(1, args.top))
        if args.json:
            print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False))
        else:
            for h in hits:
                print(f"{h.score:7.3f}  {h.policy_id:32}  {h.section:8}  {h.title}")
        return 0
    if args.cmd == "show":
        rec = searcher.get(args.id)
        if rec is None:
            print(f"error: no record {args.id!r}", file=sys.stderr)
            return 1
        print(json.dumps(rec, ensure_ascii=False, indent=2))
        return 0
    cases = load_eval(ROOT / args.file if not args.file.startswith("/") else Path(args.file))
    ours = lambda q: [h.policy_id for h in searcher.search(q, top=5)]  # noqa: E731
    bm25 = bm25_ranker(searcher)
    print(f"records: {len(searcher.policies)}  questions: {len(cases)}")
    print(f"{'ranker':10} {'recall@1':>9} {'recall@3':>9} {'MRR':>7}")
    for name, ranker in (("ours", ours), ("rank_bm25", bm25)):
        s = score(ranker, cases)
        print(f"{name:10} {s['recall@1']:9.3f} {s['recall@3']:9.3f} {s['mrr']:7.3f}")
    if args.misses:
        for q, exp, got in misses(ours, cases):
            print(f"MISS {q} | expected {exp} | got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
