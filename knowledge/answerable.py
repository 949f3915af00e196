"""Answerability, not similarity: which records a message is really about, and what they state.

bm25 ranks records by any shared word, so a question about renovating a residential block reaches
股份制改造资助 on 改造, and a school's loan reaches the manufacturing loan-subsidy rules on 贷款. A
record answers only when the message shares its *distinctive* terms: words that occur in few
records and are not generic (改造, 建设, 补贴, 贷款, 企业, 政策, 项目 …), or one of its titles or
aliases verbatim. Facts the message names (a growth rate, 股改) count as evidence for the records
whose conditions read them. Whether the record states the asked aspect is a separate check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from knowledge.search import Hit, Searcher, default_searcher
from knowledge.segment import terms
from knowledge.text import normalize

# Words that decide nothing about which record is meant, however rare they are in the letter.
GENERIC = frozenset("""
改造 建设 补贴 贷款 企业 政策 项目 中山 中山市 我市 全市 市 省 国家 政府 工业 推动 服务 支持 发展 工作 推进
实施 开展 提升 资金 奖励 资助 扶持 认定 平台 财政 省级 市级 国家级 信息 管理 经济 给予 建立 计划 重点 出台 资源
技术 问题 有关 相关 部门 单位 情况 进行 加快 不断 全面 积极 大力 已 为 等 年 个 家 万元 亿元 元 万 亿 系列 方面
中小 小企业 中小企业 中心 组织 领域 通过 拥有 共 向 我局 印发 措施 专项 新 办 申请 申报 条件 标准 要求 进度
金额 多少 钱 现在 今年 去年 目前 最新 哪里 公司 超过 不超过 最高 比例 大概 一下 可以 能够 增长 同比 下降 工厂 行业 产业 升级 转型 发放 补助 优惠 扶持资金
""".split())
# A term in more records than this names a theme, not a record.
DISTINCT_DF = 10
# Evidence needed to answer: about one rare term, or two themed ones.
MIN_EVIDENCE = 2.0
FACT_EVIDENCE = 2.0
_MONEY_Q = re.compile(r"钱|万|金额|额度|(补贴|补助|资助|奖励|奖金|给|拿|领|发)多少|多少(补贴|补助|资助|奖励)")
_MONEY_A = re.compile(r"\d(\.\d+)?\s*(万|亿|元)")
_NUMBER_A = re.compile(r"\d")


@dataclass(frozen=True)
class Match:
    """A record and the evidence that the message is about it."""

    hit: Hit
    evidence: tuple[str, ...]
    weight: float
    phrase: bool

    @property
    def answerable(self) -> bool:
        """Whether the evidence is strong enough to answer from this record."""
        return self.phrase or self.weight >= MIN_EVIDENCE


class Answerability:
    """Term statistics of the curated records of one index."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.record_terms: dict[str, frozenset[str]] = {}
        for pid, rec in searcher.policies.items():
            text = " ".join([rec["title"], " ".join(rec["aliases"] or []), rec["quote"],
                             rec.get("benefit") or "", rec.get("audience") or ""])
            self.record_terms[pid] = frozenset(terms(text))
        self.df: dict[str, int] = {}
        for words in self.record_terms.values():
            for word in words:
                self.df[word] = self.df.get(word, 0) + 1
        self.n = max(len(self.record_terms), 1)

    def distinctive(self, word: str) -> bool:
        """A word that can tell records apart."""
        return len(word) >= 2 and word not in GENERIC and 0 < self.df.get(word, 0) <= DISTINCT_DF

    def matches(self, text: str, facts: dict[str, Any] | None = None, top: int = 8) -> list[Match]:
        """Records the message shares words with, best first, each with its evidence."""
        norm = normalize(text).lower()
        words = set(terms(norm))
        phrases = {pid for pid, bonus in self.searcher.phrase_hits(norm).items() if bonus > 0 and
                   self._phrase_is_distinctive(norm, pid)}
        out = []
        for hit in self.searcher.search(norm, top=top):
            own = self.record_terms.get(hit.policy_id, frozenset())
            shared = [w for w in words & own if self.distinctive(w)]
            # 专精 inside 专精特新 is the same evidence, counted once.
            evidence = tuple(sorted(w for w in shared if not any(w != o and w in o for o in shared)))
            weight = sum(math.log(self.n / self.df[w]) for w in evidence)
            rec = self.searcher.policies.get(hit.policy_id) or {}
            if facts and rec.get("conditions") and set(facts) & set(condition_facts(rec["conditions"])) - {"zjtx_level"}:
                weight += FACT_EVIDENCE
            out.append(Match(hit, evidence, round(weight, 3), hit.policy_id in phrases))
        return out

    def _phrase_is_distinctive(self, text: str, pid: str) -> bool:
        rec = self.searcher.policies[pid]
        for phrase in [rec["title"], *(rec["aliases"] or [])]:
            key = normalize(phrase).lower()
            if len(key) >= 2 and key in text and key not in GENERIC:
                return True
        return False


def condition_facts(conditions: dict[str, Any]) -> list[str]:
    """Every fact a record's conditions read."""
    if "all" in conditions or "any" in conditions:
        return [f for c in conditions.get("all") or conditions.get("any") or [] for f in condition_facts(c)]
    return [conditions["fact"]]


_PERSON_A = re.compile(r"领导|联系人|电话|挂点|专人|负责人|工作群")


def fits(aspect: str | None, question: str, rec: dict[str, Any]) -> bool:
    """Whether a record is the kind that answers the aspect: a person for 'who', money for an amount."""
    if aspect == "who":
        return bool(_PERSON_A.search(rec["quote"]))
    if aspect == "amount":
        return states(aspect, question, rec)
    if aspect in ("conditions", "qualify"):
        return bool(rec.get("conditions"))
    return False


def states(aspect: str | None, question: str, rec: dict[str, Any]) -> bool:
    """Whether a record's quote states the aspect asked (the amount, who, conditions …)."""
    quote = normalize(rec["quote"])
    if aspect == "amount":
        if _MONEY_Q.search(question):
            return bool(_MONEY_A.search(quote))
        return bool(_NUMBER_A.search(quote))
    if aspect == "who":
        return bool(rec.get("departments"))
    if aspect in ("conditions", "qualify"):
        return bool(rec.get("conditions") or rec.get("audience"))
    return True


@lru_cache(maxsize=2)
def _answerability(searcher: Searcher) -> Answerability:
    return Answerability(searcher)


def default_answerability() -> Answerability:
    """Statistics over the configured index, built once per searcher."""
    return _answerability(default_searcher())
