"""Eligibility verdicts: a firm profile against the conditions the letter states for a record.

Verdicts are 符合 / 不符合 / 信息不足, each with reasons and the quoted condition; a condition the
letter leaves open for a value (``unknown_values``) yields 信息不足, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from huiqitong.vocabulary import FACT_LABELS
from knowledge.facts import UNKNOWN

MATCH, NO_MATCH, UNDECIDED = "符合", "不符合", "信息不足"


@dataclass
class Verdict:
    """The outcome of one policy's conditions for one firm."""

    policy_id: str
    status: str
    reasons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def describe(value: Any) -> str:
    """A fact value as owners read it."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check(
    cond: dict[str, Any], profile: dict[str, Any], source: str = "答复函"
) -> tuple[str, str, list[str]]:
    """(status, reason, missing facts) of one condition or group."""
    if "all" in cond or "any" in cond:
        parts = [_check(c, profile, source) for c in cond.get("all") or cond.get("any") or []]
        statuses = [p[0] for p in parts]
        missing = [m for p in parts for m in p[2]]
        reasons = [p[1] for p in parts]
        if "all" in cond:
            status = NO_MATCH if NO_MATCH in statuses else UNDECIDED if UNDECIDED in statuses else MATCH
            chosen = [r for p, r in zip(statuses, reasons, strict=True) if p == status] or reasons
        else:
            status = MATCH if MATCH in statuses else UNDECIDED if UNDECIDED in statuses else NO_MATCH
            chosen = [r for p, r in zip(statuses, reasons, strict=True) if p == status] or reasons
        return status, "；".join(chosen), missing if status == UNDECIDED else []
    fact, op, want = cond["fact"], cond["op"], cond.get("value")
    label = FACT_LABELS.get(fact, fact)
    have = profile.get(fact)
    if have is None:
        return UNDECIDED, f"尚不清楚{label}", [fact]
    if have == UNKNOWN:  # the owner said they do not know: undecided, but not worth asking again
        return UNDECIDED, f"尚不清楚{label}", []
    note = f"（{cond['note']}）" if cond.get("note") else ""
    if op == "in":
        if have in (want or []):
            return MATCH, f"{label}：{describe(have)}", []
        if have in (cond.get("unknown_values") or []):
            return UNDECIDED, f"{label}为{describe(have)}，{source}未明确该情形是否适用{note}", []
        return (
            NO_MATCH,
            f"{label}为{describe(have)}，不在{source}所列范围（{'、'.join(map(str, want or []))}）内",
            [],
        )
    if op == ">=":
        try:
            ok = float(have) >= float(want if want is not None else "nan")
        except (TypeError, ValueError):
            return UNDECIDED, f"{label}无法判断", [fact]
        verb = "达到" if ok else "低于"
        return (
            (MATCH if ok else NO_MATCH),
            f"{label}{describe(have)}%，{verb}{source}要求的{describe(want)}%",
            [],
        )
    if op == "==":
        ok = have == want
        return (MATCH if ok else NO_MATCH), f"{label}：{describe(have)}", []
    raise ValueError(f"unknown condition operator {op!r}")


def evaluate(
    policy_id: str, conditions: dict[str, Any], profile: dict[str, Any], source: str = "答复函"
) -> Verdict:
    """Verdict of one policy's ``conditions`` (``{"all": [...]}`` or ``{"any": [...]}``) for ``profile``;
    reasons name the record's ``source`` (答复函, or a later notice's 文号)."""
    status, reason, missing = _check(conditions, profile, source)
    return Verdict(policy_id, status, [r for r in reason.split("；") if r], list(dict.fromkeys(missing)))


def left_open(conditions: dict[str, Any] | None, facts: dict[str, Any]) -> str | None:
    """What the letter leaves open for the values ``facts`` name ("专精特新级别为省级的企业能否适用"),
    or None: a question about 省级 firms of a measure the letter gives 市级 ones is not answered by it."""
    if not conditions:
        return None
    for cond in conditions.get("all") or conditions.get("any") or []:
        if "all" in cond or "any" in cond:
            found = left_open(cond, facts)
            if found:
                return found
            continue
        have = facts.get(cond["fact"])
        if have is not None and have in (cond.get("unknown_values") or []):
            return f"{FACT_LABELS.get(cond['fact'], cond['fact'])}为{describe(have)}的企业能否适用"
    return None


def needed_facts(conditions: dict[str, Any]) -> list[str]:
    """Every fact a policy's conditions read, in order."""
    if "all" in conditions or "any" in conditions:
        return [f for c in conditions.get("all") or conditions.get("any") or [] for f in needed_facts(c)]
    return [conditions["fact"]]


def next_missing(rules: dict[str, dict[str, Any]], profile: dict[str, Any]) -> list[str]:
    """Facts still worth asking: those that could change an undecided verdict, the one that decides the
    most verdicts first (ties in the conversational order: level before growth, ...)."""
    counts: dict[str, int] = {}
    for pid, conditions in rules.items():
        verdict = evaluate(pid, conditions, profile)
        for fact in verdict.missing:
            counts[fact] = counts.get(fact, 0) + 1
    order = list(FACT_LABELS)
    return sorted(counts, key=lambda f: (-counts[f], order.index(f) if f in order else len(order)))
