"""Curated policy records: one YAML file per section of the letter, loaded into typed objects."""

from __future__ import annotations

import json
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
STATUSES = frozenset({"in_force", "planned", "expired"})
STATUS_LABELS = {"in_force": "现行", "planned": "计划中", "expired": "已失效"}
CATEGORY_LABELS = {
    "eligibility": "认定与梯度培育",
    "financing": "融资",
    "talent": "人才与技能",
    "digital_transformation": "数字化转型",
    "cluster": "产业集群",
    "innovation": "创新平台",
    "industrial_design": "工业设计",
    "business_environment": "营商环境",
    "investment_fund": "产业基金",
    "quality_ip": "质量与知识产权",
    "contact": "联系方式",
}
# The letter every seed record quotes unless it names another source.
DEFAULT_SOURCE = "letter-2022-38"


@dataclass(frozen=True)
class Source:
    """A document records quote from: the 2022 letter, or a notice an editor added later."""

    id: str
    title: str
    doc_no: str = ""
    issuer: str = ""
    date: str = ""  # YYYY-MM-DD
    disclosure: str = ""
    cited_as: str = ""  # the short name citations use (答复函); the 文号 or title when empty
    contact: str = ""
    text: str = ""

    @property
    def citation_name(self) -> str:
        """How a citation names this source."""
        return self.cited_as or self.doc_no or self.title

    def meta(self) -> dict[str, str]:
        """Everything but the text."""
        return {k: v for k, v in self.__dict__.items() if k != "text"}


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
    source_id: str = DEFAULT_SOURCE
    valid_from: str = ""  # YYYY-MM-DD, optional
    valid_until: str = ""

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
            "source_id": self.source_id,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


class RecordError(ValueError):
    """A policy file that does not follow the record schema."""


def policy_from_dict(raw: dict[str, Any], section_title: str = "", source: str = "") -> Policy:
    """A record from its YAML/JSON form (``benefit`` as text or ``{text, amounts_wan}``).

    Raises:
        RecordError: a required field is missing, or the category or status is unknown.
    """
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
        source_id=str(raw.get("source_id") or DEFAULT_SOURCE),
        valid_from=str(raw.get("valid_from") or ""),
        valid_until=str(raw.get("valid_until") or ""),
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
            policy = policy_from_dict(raw, str(doc.get("section_title", "")), path.name)
            if policy.id in seen:
                raise RecordError(f"{path.name}: duplicate id {policy.id}")
            seen.add(policy.id)
            policies.append(policy)
    return policies


def load_sources(directory: Path) -> list[Source]:
    """Every source document under ``directory``: ``<id>.txt`` with its ``<id>.meta.json``."""
    found = []
    for meta_path in sorted(directory.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        sid = meta_path.name.removesuffix(".meta.json")
        text_path = directory / str(meta.get("file") or f"{sid}.txt")
        found.append(
            Source(
                id=sid,
                title=str(meta.get("title", "")),
                doc_no=str(meta.get("doc_no", "")),
                issuer=str(meta.get("issuer", "")),
                date=str(meta.get("date", "")),
                disclosure=str(meta.get("disclosure", "")),
                cited_as=str(meta.get("cited_as", "")),
                contact=str(meta.get("contact", "")),
                text=text_path.read_text(encoding="utf-8") if text_path.exists() else "",
            )
        )
    return found
