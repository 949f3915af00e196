"""Curated policy records: one YAML file per section of the letter, loaded into typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATEGORIES = frozenset(
    {
        "eligibility",
        "financing",
        "talent",
        "digital_transformation",
        "cluster",
        "innovation",
        "industrial_design",
        "business_environment",
        "investment_fund",
        "quality_ip",
        "contact",
    }
)
STATUSES = frozenset({"in_force", "planned"})


@dataclass(frozen=True)
class Policy:
    """One measure, programme, platform, fund, figure or contact the letter mentions."""

    id: str
    title: str
    section: str
    departments: tuple[str, ...]
    category: str
    audience: str
    benefit_text: str
    amounts_wan: tuple[dict[str, Any], ...]
    conditions: dict[str, Any] | None
    status: str
    quote: str
    aliases: tuple[str, ...]
    section_title: str = ""
    source_file: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output (CLI, sources in bot replies)."""
        return {
            "policy_id": self.id,
            "title": self.title,
            "section": self.section,
            "departments": list(self.departments),
            "category": self.category,
            "audience": self.audience,
            "benefit": self.benefit_text,
            "amounts_wan": list(self.amounts_wan),
            "conditions": self.conditions,
            "status": self.status,
            "quote": self.quote,
            "aliases": list(self.aliases),
        }


class RecordError(ValueError):
    """A policy file that does not follow the record schema."""


def _policy(raw: dict[str, Any], section_title: str, source: str) -> Policy:
    missing = {"id", "title", "section", "departments", "category", "quote"} - raw.keys()
    if missing:
        raise RecordError(f"{source}: record {raw.get('id', '?')} lacks {sorted(missing)}")
    if raw["category"] not in CATEGORIES:
        raise RecordError(f"{source}: {raw['id']} has unknown category {raw['category']!r}")
    status = raw.get("status", "in_force")
    if status not in STATUSES:
        raise RecordError(f"{source}: {raw['id']} has unknown status {status!r}")
    benefit = raw.get("benefit") or {}
    if isinstance(benefit, str):
        benefit = {"text": benefit}
    return Policy(
        id=str(raw["id"]),
        title=str(raw["title"]),
        section=str(raw["section"]),
        departments=tuple(raw["departments"]),
        category=raw["category"],
        audience=str(raw.get("audience", "")),
        benefit_text=str(benefit.get("text", "")),
        amounts_wan=tuple(benefit.get("amounts_wan") or ()),
        conditions=raw.get("conditions"),
        status=status,
        quote=str(raw["quote"]),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        section_title=section_title,
        source_file=source,
    )


def load_policies(directory: Path) -> list[Policy]:
    """Load every record under ``directory`` (``*.yml``), in file and record order.

    Raises:
        RecordError: a record lacks a field, has an unknown category, or repeats an id.
    """
    policies: list[Policy] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in doc.get("records") or []:
            policy = _policy(raw, str(doc.get("section_title", "")), path.name)
            if policy.id in seen:
                raise RecordError(f"{path.name}: duplicate id {policy.id}")
            seen.add(policy.id)
            policies.append(policy)
    return policies
