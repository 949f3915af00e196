"""A capacity model from one benchmark run, so a deployment is sized by arithmetic rather than by a
scale-out race on whatever cores the benchmark machine has.

Inputs, all measured on the single stack at 8 concurrent conversations: the CPU each service spends
per turn (Rasa, actions, gateway) and the scaled stack's efficiency (its throughput ÷ the single
stack's on the same cores, which prices the shared PostgreSQL tracker store and Redis lock store).

For ``cores`` CPU cores kept busy:
- one stack fits while a single Rasa process can keep up: turns/s = cores × 1000 ÷ CPU ms per turn;
- beyond that the scaled shape is needed, and its shared stores cost ``scaled_efficiency``;
- a Rasa instance is one process with one event loop: it gives at most 1000 ÷ Rasa's CPU ms per turn
  turns/s, so the instances needed are the Rasa cores rounded up; likewise action servers and gateway
  workers.
"""

from __future__ import annotations

import math
from typing import Any

CORES = (1, 4, 16, 64)


def model(cpu_ms_by_process: dict[str, float], scaled_efficiency: float) -> dict[str, Any]:
    """Projected turns/s and processes per service for each of :data:`CORES`."""
    per_turn = sum(cpu_ms_by_process.values())
    rasa_ms = sum(v for k, v in cpu_ms_by_process.items() if k.startswith("rasa"))
    per_instance = 1000 / rasa_ms
    rows = []
    for cores in CORES:
        turns = cores * 1000 / per_turn
        if turns > per_instance:  # more than one Rasa instance: the scaled shape and its stores
            turns *= scaled_efficiency
        share = {k: turns * v / 1000 for k, v in cpu_ms_by_process.items()}
        rows.append(
            {
                "cores": cores,
                "turns_per_s": round(turns, 1),
                "rasa_instances": max(1, math.ceil(turns / per_instance - 1e-9)),
                "action_servers": max(1, math.ceil(share.get("actions", 0) - 1e-9)),
                "gateway_workers": max(1, math.ceil(share.get("gateway", 0) - 1e-9)),
                "cores_by_process": {k: round(v, 2) for k, v in share.items()},
                # What the shared stores and the scaled shape's overhead take.
                "cores_other": round(cores - sum(share.values()), 2),
            }
        )
    return {
        "cpu_ms_per_turn": round(per_turn, 2),
        "rasa_cpu_ms_per_turn": round(rasa_ms, 2),
        "turns_per_s_per_rasa_instance": round(per_instance, 1),
        "scaled_efficiency": round(scaled_efficiency, 3),
        "rows": rows,
    }


def table(capacity: dict[str, Any]) -> list[list[str]]:
    """The model as rows of text, header first (for the terminal and the chart)."""
    out = [["cores", "turns/s", "Rasa", "actions", "gateway"]]
    for row in capacity["rows"]:
        out.append(
            [
                str(row["cores"]),
                f"{row['turns_per_s']:.0f}",
                str(row["rasa_instances"]),
                str(row["action_servers"]),
                str(row["gateway_workers"]),
            ]
        )
    return out


def lines(capacity: dict[str, Any]) -> list[str]:
    """The table as aligned text lines, with the figures it rests on."""
    rows = table(capacity)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return [
        f"capacity: {capacity['cpu_ms_per_turn']} ms CPU per turn (Rasa {capacity['rasa_cpu_ms_per_turn']}), "
        f"≤ {capacity['turns_per_s_per_rasa_instance']} turns/s per Rasa instance, "
        f"scaled efficiency {capacity['scaled_efficiency']}",
        *text,
    ]
