"""Checks an editor's record must pass before it is stored: the rule that every statement the bot makes
is a verbatim, cited quote, enforced per field.

A record is refused when its quote is not in its source (both normalised as the index normalises
them), when an amount it states does not occur in its quote, or when a condition names a fact the
eligibility rules do not know. The YAML seed passes the same checks (``tests/knowledge``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from huiqitong.vocabulary import FACT_LABELS
from knowledge.records import CATEGORIES, STATUSES, Source
from knowledge.text import normalize

RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
OPS = ("in", ">=", "==")
CONTEXT = 30
# A number in normalised text and the unit after it: 300万, 1.5亿, 10-100万 (each end).
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|千万|万)?")
_BARE = re.compile(r"(?<![\d十百千])([十百千])(亿|万)")
_MAGNITUDE = {"十": "10", "百": "100", "千": "1000"}


@dataclass(frozen=True)
class QuoteAt:
    """Where a quote sits in its source's normalised text."""

    start: int
    end: int
    before: str
    after: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the console."""
        return {"start": self.start, "end": self.end, "before": self.before, "after": self.after}


def _squeeze(text: str) -> str:
    """Normalised text without line breaks: a quote may span a line break of the source."""
    return re.sub(r"\s*\n\s*", "", normalize(text))


def quote_at(source_text: str, quote: str) -> QuoteAt | None:
    """The place of ``quote`` in ``source_text`` after normalisation, or None when it is not there."""
    haystack, needle = _squeeze(source_text), _squeeze(quote)
    if not needle:
        return None
    start = haystack.find(needle)
    if start < 0:
        return None
    end = start + len(needle)
    return QuoteAt(start, end, haystack[max(0, start - CONTEXT) : start], haystack[end : end + CONTEXT])


def quoted_amounts_wan(quote: str) -> set[float]:
    """Every amount the quote states, in 万元 (300万 → 300, 1.5亿 → 15000); bare numbers count as given."""
    found: set[float] = set()
    # 百亿级, 千万元: a bare magnitude before a unit is one of it (normalize keeps such set phrases).
    text = _BARE.sub(lambda m: _MAGNITUDE[m.group(1)] + m.group(2), normalize(quote))
    for number, unit in _NUMBER.findall(text):
        value = float(number)
        found.add(value)
        if unit == "亿":
            found.add(value * 10000)
        elif unit == "千万":
            found.add(value * 1000)
    return found


def _condition_errors(cond: Any, path: str = "conditions") -> list[str]:
    if not isinstance(cond, dict):
        return [f"{path} 应为 {{all: [...]}}、{{any: [...]}} 或单个条件"]
    if "all" in cond or "any" in cond:
        parts = cond.get("all") if "all" in cond else cond.get("any")
        if not isinstance(parts, list) or not parts:
            return [f"{path} 的 all/any 应为非空列表"]
        return [e for i, part in enumerate(parts) for e in _condition_errors(part, f"{path}[{i}]")]
    errors = []
    fact = cond.get("fact")
    if fact not in FACT_LABELS:
        errors.append(f"{path} 引用了未知的企业情况“{fact}”（可用：{'、'.join(FACT_LABELS)}）")
    op = cond.get("op")
    if op not in OPS:
        errors.append(f"{path} 的运算“{op}”未知（可用：{'、'.join(OPS)}）")
    value = cond.get("value")
    if op == "in" and not (isinstance(value, list) and value):
        errors.append(f"{path} 的 in 需要一个非空的取值列表")
    if op == ">=" and (isinstance(value, bool) or not isinstance(value, int | float)):
        errors.append(f"{path} 的 >= 需要一个数值")
    return errors


def _date_error(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return f"日期“{value}”应为 YYYY-MM-DD"
    return None


def record_errors(raw: dict[str, Any], sources: dict[str, Source]) -> dict[str, str]:
    """What is wrong with a record, one message per field (empty when it may be stored).

    Args:
        raw: The record as the console sends it (``benefit_text``, ``amounts_wan`` at the top level).
        sources: The known sources by id.
    """
    errors: dict[str, str] = {}
    if not RECORD_ID.fullmatch(str(raw.get("id") or "")):
        errors["id"] = "编号只能用小写字母、数字和“-”，2–64 个字符"
    for name, label in (("title", "标题"), ("section", "章节"), ("quote", "引文")):
        if not str(raw.get(name) or "").strip():
            errors[name] = f"{label}不能为空"
    if not [d for d in raw.get("departments") or [] if str(d).strip()]:
        errors["departments"] = "至少填写一个负责部门"
    if raw.get("category") not in CATEGORIES:
        errors["category"] = f"类别“{raw.get('category')}”未知"
    if raw.get("status") not in STATUSES:
        errors["status"] = f"状态“{raw.get('status')}”未知"
    for name in ("valid_from", "valid_until"):
        if message := _date_error(raw.get(name)):
            errors[name] = message
    if not errors.keys() & {"valid_from", "valid_until"} and raw.get("valid_from") and raw.get("valid_until"):
        if str(raw["valid_until"]) < str(raw["valid_from"]):
            errors["valid_until"] = "有效期止不能早于有效期起"
    source = sources.get(str(raw.get("source_id") or ""))
    if source is None:
        errors["source_id"] = f"来源“{raw.get('source_id')}”不存在"
    elif "quote" not in errors and quote_at(source.text, str(raw["quote"])) is None:
        errors["quote"] = f"引文在来源《{source.title}》中找不到（按规范化后逐字比较）；请从原文复制"
    if "quote" not in errors:
        stated = quoted_amounts_wan(str(raw["quote"]))
        missing = []
        for amount in raw.get("amounts_wan") or []:
            for key in ("min", "max"):
                value = amount.get(key) if isinstance(amount, dict) else None
                if value is not None and float(value) not in stated:
                    missing.append(f"{value:g}万" if isinstance(value, int | float) else str(value))
        if missing:
            errors["amounts_wan"] = f"金额 {'、'.join(dict.fromkeys(missing))} 不在引文中；金额必须出自引文"
    if raw.get("conditions") is not None:
        if problems := _condition_errors(raw["conditions"]):
            errors["conditions"] = "；".join(problems)
    return errors
