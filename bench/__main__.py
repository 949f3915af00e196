"""``make bench``: side-by-side benchmark; prints figures, writes ``bench/results/<timestamp>.json``
and a PNG chart. ``--quick`` (``make bench QUICK=1``) measures the same keys with fewer requests.

1. stock ``rasa run`` + our action server, straight to Rasa's REST webhook (what Rasa alone gives);
2. our launcher-fixed Rasa straight to REST, and the same through the gateway's ``POST /api/chat``
   (CPU per turn of each service, memory), then one 510-turn conversation through ``/api/chat``;
3. the scaled stack (2 Rasa instances on a PostgreSQL tracker store and a Redis lock store, a
   2-worker gateway on PostgreSQL) through ``/api/chat``;
4. knowledge search vs rank_bm25 over the real records and a 20,000-passage corpus;
5. start-up of ``make run`` to a healthy /healthz, model load time, memory per service.

From these, a capacity model (:mod:`bench.capacity`): turns/s and processes for 1, 4, 16 and 64 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import capacity, conversation, kb, load, profile
from bench.stack import Stack
from huiqitong.settings import ROOT
from knowledge.build import build
from knowledge.evaluate import load_eval


def chart(result: dict[str, Any], summary: dict[str, Any], path: Path) -> None:
    """Throughput and p50/p95/p99 per concurrency for each stack; latency per turn of the long
    conversation; the capacity table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ((ax1, ax2), (ax3, ax4)) = plt.subplots(2, 2, figsize=(12, 9))
    for name, levels in result["services"].items():
        xs = [int(c) for c in levels]
        ax1.plot(xs, [levels[c]["turns_per_s"] for c in levels], marker="o", label=name)
        for q, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            ax2.plot(xs, [levels[c][q] for c in levels], style, marker=".", label=f"{name} {q[:3]}")
    ax1.set(
        title="throughput",
        xlabel="concurrent conversations",
        ylabel="turns/s",
        xscale="log",
        xticks=load.CONCURRENCY,
    )
    ax1.set_xticklabels([str(c) for c in load.CONCURRENCY])
    ax2.set(
        title="latency", xlabel="concurrent conversations", ylabel="ms", xscale="log", xticks=load.CONCURRENCY
    )
    ax2.set_xticklabels([str(c) for c in load.CONCURRENCY])
    ax1.legend()
    ax2.legend(fontsize=6, ncol=2)
    long = result["long_conversation"]
    ax3.plot(range(1, len(long["latency_ms"]) + 1), long["latency_ms"], ".", markersize=2)
    ax3.set(
        title=f"one conversation through /api/chat: turns 490-510 / 1-20 = {long['turn_ms_ratio_500_vs_10']:.2f}",
        xlabel="turn",
        ylabel="ms",
    )
    ax4.axis("off")
    model = summary["capacity"]
    ax4.set_title(
        f"capacity: {model['cpu_ms_per_turn']:.1f} ms CPU per turn, ≤ {model['turns_per_s_per_rasa_instance']:.0f}"
        f" turns/s per Rasa instance, scaled efficiency {model['scaled_efficiency']:.2f}",
        fontsize=9,
    )
    rows = capacity.table(model)
    cells = ax4.table(cellText=rows[1:], colLabels=rows[0], loc="center")
    cells.auto_set_font_size(False)
    cells.set_fontsize(10)
    cells.scale(1, 1.8)
    fig.suptitle(f"huiqitong benchmark, {result['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    """Run every part, print progress and figures, save JSON and PNG."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer requests (under 5 minutes)")
    parser.add_argument("--skip-services", action="store_true", help="knowledge search only")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy profiles of stock and launcher-fixed Rasa, and of each service of our stack",
    )
    args = parser.parse_args(argv)
    say = lambda m: print(m, flush=True)  # noqa: E731
    build()
    started = time.time()
    questions = [c["q"] for c in load_eval(ROOT / "tests" / "data" / "retrieval_eval.jsonl")]
    result: dict[str, Any] = {"cores": os.cpu_count(), "quick": args.quick, "services": {}}
    if not args.skip_services:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)

            def direct_rasa(name: str, s: Stack) -> None:
                """Measure Rasa straight through its REST webhook (and profile it if asked)."""
                url = f"{s.rasa}/webhooks/rest/webhook"
                result["services"][name] = load.measure(
                    name, url, load.rest_body, questions, args.quick, say, load.rasa_pids(s)
                )
                if args.profile:
                    result.setdefault("profile", {})[name] = profile.profile_rasa(
                        s.procs["rasa"].pid, url, load.rest_body, questions, tmp / f"{name}.pyspy"
                    )

            say("1/5 stock Rasa (no launcher fixes) + action server, REST webhook ...")
            with load.single_stack(tmp / "stock", stock=True, with_gateway=False) as s:
                direct_rasa("stock", s)
            say("2/5 our launcher: Rasa straight to REST, then the whole stack through /api/chat ...")
            with load.single_stack(tmp / "single", stock=False, with_gateway=True) as s:
                direct_rasa("direct", s)
                result["services"]["single"] = load.measure(
                    "single",
                    f"{s.gateway}/api/chat",
                    load.chat_body,
                    questions,
                    args.quick,
                    say,
                    load.rasa_pids(s),
                    load.service_pids(s),
                )
                say(f"  one conversation of {conversation.TURNS} turns through /api/chat ...")
                long = result["long_conversation"] = conversation.run(s.gateway, questions)
                say(
                    f"  median turns 1-20 {long['median_ms_turns_1_20']} ms, turns 490-510 "
                    f"{long['median_ms_turns_490_510']} ms: ratio {long['turn_ms_ratio_500_vs_10']}"
                )
                result["rss_single"] = load.stack_rss_mb(s)
                say(f"  RSS MB after the run {result['rss_single']}")
                if args.profile:
                    result.setdefault("profile", {})["single"] = profile.profile_processes(
                        load.service_pids(s),
                        f"{s.gateway}/api/chat",
                        load.chat_body,
                        questions,
                        tmp / "single.pyspy",
                    )
            say("3/5 scaled: 2 Rasa (PostgreSQL tracker, Redis lock) + 2 gateway workers on PostgreSQL ...")
            with load.scaled_stack(tmp / "scaled") as s:
                result["services"]["scaled"] = load.measure(
                    "scaled",
                    f"{s.gateway}/api/chat",
                    load.chat_body,
                    questions,
                    args.quick,
                    say,
                    load.rasa_pids(s),
                    load.service_pids(s),
                )
            say("4/5 start-up of `make run` ...")
            result["startup"] = load.startup(tmp / "startup", say)
    say("5/5 knowledge search vs rank_bm25 ...")
    result["kb"] = kb.run(quick=args.quick, progress=say)
    summary = summarise(result)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = out_dir / f"{stamp}.json"
    summary["seconds"] = round(time.time() - started, 1)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if result["services"]:
        chart(result, summary, out_dir / f"{stamp}.png")
    for key, value in summary.items():
        if not isinstance(value, dict):
            say(f"{key:40} {value:.3f}" if isinstance(value, float) else f"{key:40} {value}")
    if result["services"]:
        say(f"{'cpu_ms_per_turn_single_c8_by_process':40} {summary['cpu_ms_per_turn_single_c8_by_process']}")
        say(f"{'rss_mb_single_by_process':40} {summary['rss_mb_single_by_process']}")
        for line in capacity.lines(summary["capacity"]):
            say(line)
    say(f"results: {path.relative_to(ROOT)}" + (f" and {stamp}.png" if result["services"] else ""))
    return 0


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys other checks read, plus everything measured."""
    services, big, records = result["services"], result["kb"]["20k"], result["kb"]["records"]
    summary: dict[str, Any] = {
        "cores": result["cores"],
        "quick": result["quick"],
        "kb_p50_ms_20k": big["ours"]["p50_ms"],
        "kb_p95_ms_20k": big["ours"]["p95_ms"],
        "kb_speedup_vs_bm25_20k": big["speedup_p50"],
        "bm25_p50_ms_20k": big["rank_bm25"]["p50_ms"],
        "kb_recall3": records["ours"]["recall@3"],
        "bm25_recall3": records["rank_bm25"]["recall@3"],
        "kb_recall3_20k": big["ours"]["recall@3"],
        "bm25_recall3_20k": big["rank_bm25"]["recall@3"],
        "kb_p50_ms_records": records["ours"]["p50_ms"],
    }
    if services:
        tput = {name: levels["8"]["turns_per_s"] for name, levels in services.items()}
        single8, efficiency = services["single"]["8"], tput["scaled"] / tput["single"]
        summary.update(
            {
                "turns_per_s_stock_c8": tput["stock"],
                "turns_per_s_direct_c8": tput["direct"],
                "turns_per_s_single_c8": tput["single"],
                "turns_per_s_scaled_c8": tput["scaled"],
                "throughput_ratio_single_vs_stock_c8": tput["single"] / tput["stock"],
                "throughput_ratio_scaled_vs_stock_c8": tput["scaled"] / tput["stock"],
                "throughput_ratio_gateway_vs_direct_c8": tput["single"] / tput["direct"],
                "p95_ms_scaled_c16": services["scaled"]["16"]["p95_ms"],
                "rasa_cpu_ms_per_turn_stock_c8": services["stock"]["8"].get("rasa_cpu_ms_per_turn"),
                "rasa_cpu_ms_per_turn_direct_c8": services["direct"]["8"].get("rasa_cpu_ms_per_turn"),
                "startup_s": result["startup"]["startup_s"],
                "model_load_s": result["startup"]["model_load_s"],
                "rasa_ready_s": result["startup"]["rasa_ready_s"],
                "rss_mb": result["startup"]["rss_mb"],
                "turn_ms_ratio_500_vs_10": result["long_conversation"]["turn_ms_ratio_500_vs_10"],
                "cpu_ms_per_turn_single_c8": single8["cpu_ms_per_turn"],
                "cpu_ms_per_turn_single_c8_by_process": single8["cpu_ms_per_turn_by_process"],
                "p50_ms_single_c1": services["single"]["1"]["p50_ms"],
                "p95_ms_single_c8": single8["p95_ms"],
                "rss_mb_total": round(sum(result["rss_single"].values()), 1),
                "rss_mb_single_by_process": result["rss_single"],
                "scaled_efficiency_c8": efficiency,
                "capacity": capacity.model(single8["cpu_ms_per_turn_by_process"], efficiency),
                "long_conversation": result["long_conversation"],
                "services": services,
            }
        )
    summary["kb"] = result["kb"]
    if "profile" in result:
        summary["profile"] = result["profile"]
    return summary


if __name__ == "__main__":
    sys.exit(main())
