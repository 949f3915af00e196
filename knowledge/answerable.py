"""Answerability, not similarity: which records a message is really about, and what they state.

bm25 ranks records by any shared word, so a question about renovating a residential block reaches
股份制改造资助 on 改造, and a school's loan reaches the manufacturing loan-subsidy rules on 贷款. A
record answers only when the message shares its *distinctive* terms, or one of its titles or aliases
verbatim. A distinctive term occurs in few records, is not a generic word (改造, 建设, 补贴, 贷款, 企业,
政策, 项目 …) and holds no digits; it counts fully when it names the record's subject (its title or
aliases), and half when it only occurs in the record's text and is rare in Chinese at large (jieba's
own dictionary frequency): a record's narrative words (提前, 完成, 开通, 城市, 工程) are common words,
and sharing them says nothing about what the owner asks. Facts the message names (a growth rate, 股改)
count as evidence for the records whose conditions read them. Whether the record states the asked
aspect is a separate check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
import jieba.posseg

from knowledge.facts import extract_facts
from knowledge.rules import needed_facts
from knowledge.search import Hit, Searcher, default_searcher
from knowledge.segment import STOPWORDS, terms, tokenizer
from knowledge.segment import words as whole_words
from knowledge.spelling import sounds_in
from knowledge.text import normalize
from knowledge.understand import (
    ASKING_TO_KNOW,
    LONG_MESSAGE,
    NUMERALS,
    OWN_PLACES,
    asking_part,
    aspect_of,
    pos_tokenizer,
    without_courtesies,
)

# Words that decide nothing about which record is meant, however rare they are in the letter.
GENERIC = frozenset(
    """
改造 建设 补贴 贷款 企业 政策 项目 中山 中山市 我市 全市 市 省 国家 政府 工业 推动 服务 支持 发展 工作 推进
实施 开展 提升 资金 奖励 资助 扶持 认定 平台 财政 省级 市级 国家级 信息 管理 经济 给予 建立 计划 重点 出台 资源
技术 问题 有关 相关 部门 单位 情况 进行 加快 不断 全面 积极 大力 已 为 等 年 个 家 万元 亿元 元 万 亿 系列 方面
中小 小企业 中小企业 中心 组织 领域 通过 拥有 共 向 我局 印发 措施 专项 新 办 申请 申报 条件 标准 要求 进度
金额 多少 钱 现在 今年 去年 目前 最新 哪里 公司 超过 不超过 最高 比例 大概 一下 可以 能够 增长 同比 下降 工厂 行业 产业 升级 转型 发放 补助 优惠 扶持资金
财政补贴 财政资金 财政补助 财政支持 财政奖励 资金补贴 补贴资金 全部 所有 一切 都 帮手 帮忙
每家 每个 每间 每户 每项 每次 每年 每1家 每1个 每一家 每一个
""".split()
)
# A term in more records than this names a theme, not a record.
DISTINCT_DF = 10
# Evidence needed to answer: one subject term that few records share (专精特新 is in nine of 51).
MIN_EVIDENCE = 1.5
FACT_EVIDENCE = 2.0
# A term of a record's text (not its title or aliases) counts only when it is rarer than this in jieba's
# dictionary of general Chinese (贴息 35, 学徒 201, 对接 189; 提前 2191, 开通 1404, 工程 16869), and then half.
COMMON_FREQ = 1000
BODY_SHARE = 0.5
_DIGIT = re.compile(r"\d")
# What kind of figure an amount question asks for, and how the quote must state it.
_MONEY_Q = re.compile(
    r"钱|万|亿|金额|额度|(补贴|补助|资助|奖励|奖补|奖金|奖|给|拿|领|发|补|分)(有|是|得|到|能)?(多少|几多|几)(?!\s*[家个项人次件所场])|"
    r"多少(补贴|补助|资助|奖励|奖补|贴息|资金)|(贷|借|融|贷款|授信|投|投资)(了|到|得)?(多少|几多)"
)
# 17.2 亿, 320 多万, 400 万国家财政补贴; not 1.56 亿标识, 4.8 万次 (counts of things)
_MONEY_A = re.compile(r"\d(\.\d+)?\s*(多|余)?\s*(元|(万|亿)(?!\s*[次个家人项件台套户名吨亩标枚条张笔家辆]))")
_SHARE_Q = re.compile(r"几成|比例|百分之几|百分比|几个点|%|多少成")
_SHARE_A = re.compile(r"\d\s*(%|成)")
_COUNT_Q = re.compile(r"(多少|几)(家|个|项|人|次|件|所|场|户)|数量|数目|总数")
# "每1家企业配备1个部门": a ratio, not a count of anything.
_RATIO = re.compile(r"每\s*\d+\s*[家个项人名位][^,，。;；]{0,10}?\d+\s*[家个项人名位]")
_COUNT_A = re.compile(
    r"(?<![每各])\d\s*(多|余)?\s*(万|亿)?\s*(家|个|项|人|次|件|所|场|户)"
)  # 640 家, 4.8 万次
_NUMBER_A = re.compile(r"\d")
# Money a firm or a person gets, as opposed to city-wide totals (贷款新增 26 亿, 累计发放 320 多万).
_TOTALS = re.compile(r"总|累计|合计|新增|统计|规模|投入|安排|拨付|出资|首期|已发放|全市")
# "每带一个学徒", "可以分几多": one trainee's or one firm's share, asked in the owner's words.
_ONE_SHARE = r"每(带|招|培养|培训|请|雇|聘|收|录用|用)(一|1)?(个|名|位|人)|(能|可以|可)分(多少|几多)"
_PER_RECIPIENT_Q = re.compile(
    _ONE_SHARE
    + r"|每人|每家|每个|每(一|1)个|每项|每(一|1)项|每年|每次|人均|(一|1)家|(一|1)个人|(一|1|单)个项目|按人头|能拿|能领|能给|能补|给多少(?![家个项人])|补多少|拿多少|"
    r"领多少|奖多少|发多少|可以拿|可以领|给几多|补几多|(能|可以)(贷|借|融)|分到|分得|摊到"
)
# The city as the one who spends ("政府每年拿出来多少"): its totals are what is asked, not one firm's share.
_CITY_SPENDS = re.compile(r"政府|市里|市财政|财政|全市|一共|总共")
_PER_FIRM_Q = re.compile(
    _ONE_SHARE
    + r"|每家|每间|每个企业|每个公司|每(一|1)家|(一|1)家企业|(每|一|1|单)(一|1)?个项目|每(一|1)?项|人均|每人|分到|分得|分落|摊到"
)
# Where within the letter's range one firm's amount falls (拿满, 最高那档, 按什么标准定): the letter gives
# ranges and ceilings, never how a firm's own amount is set.
_WITHIN_RANGE_Q = re.compile(
    r"拿满|(?<![奖贴])(拿|给|补)到?(最高|顶格|上限|满额)|最高(那|一)?档|顶格|按(什么|啥|哪些)(标准|档次|比例)(给|补|算|定)|"
    r"(怎么|如何)(算|定|核定|确定)(金额|数额|额度)?|具体(给|拿|补|发)多少|取决于"
)
# How much of a sum has been spent or is left since (今年用咗几多, 还剩多少): never in the letter.
_USAGE_Q = re.compile(
    r"(用|花|使用)(了|咗|掉)(多少|几多)|(剩|剩下|余下|到位|落实|兑现)(了|咗|掉)?(多少|几多)|还剩|还有多少(钱|额度)"
)
# An amount the letter does not say is per firm or in total (its label says 未明确).
_UNCLEAR_SPLIT = re.compile(r"未明确为每家|未明确.{0,4}(每家|合计)")
_SPLIT_Q = re.compile(r"每(一|1)?家|每(一|1)?个企业|(一|1)家(能|可以)?(拿|得|获)|各(拿|得|获)|平分|加起来")

# The quote itself sets a condition (对…的企业, 针对…, 已认定为…): only then does it state who qualifies.
_CONDITION_A = re.compile(
    r"对[^，。；]{2,40}的|针对|已认定为|条件|要求|符合|(瞄准|招引|面向)[^，。；]{2,40}企业"
)
# A person named in the quote (肖展欣市长, 联系人 郝毫保).
_NAME_A = re.compile(r"[\u4e00-\u9fa5]{2,3}(市长|局长|主任|书记|委员)|联系人")
# A record that gives or speaks of money or support for firms at all.
_OFFERS = re.compile(r"补贴|补助|资助|奖励|奖补|贴息|资金|财政|扶持|给予|免费|支持")
# A named kind of benefit the owner asks about: 租金补贴, 技改设备补贴, 稳岗补贴.
BENEFIT_WORDS = re.compile(r"补贴|补助|奖励|资助|奖补|贴息|扶持资金|奖金")
# How far before a benefit word a record's word still says which benefit it is (数字技能等技能人才培养…资金支持).
BENEFIT_REACH = 20


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


_FIGURE_Q = re.compile(r"(\d+(?:\.\d+)?)\s*(?:(?:-|到|至|~)\s*(\d+(?:\.\d+)?)\s*)?(万|亿)")


# "要增长多少才有补贴": the threshold of a fact is asked, which the records that decide on it state.
_ASKED_GROWTH = re.compile(
    r"增长(了)?(多少|几多|几成|百分之几|几个点|多大|几%)|增幅(多少|多大|是多少|要多大)|(多少|几成|百分之几)的?增长"
)


def asked_facts(text: str) -> frozenset[str]:
    """Facts whose threshold a message asks for (要比上一年增长多少 → growth_pct)."""
    return frozenset({"growth_pct"}) if _ASKED_GROWTH.search(text) else frozenset()


def question_figures(text: str) -> frozenset[float]:
    """The money figures a message quotes, in 万元 (10-100万 → {10, 100})."""
    found: set[float] = set()
    for low, high, unit in _FIGURE_Q.findall(text):
        scale = 10000.0 if unit == "亿" else 1.0
        found.update(float(v) * scale for v in (low, high) if v)
    return frozenset(found)


def _record_figures(rec: dict[str, Any]) -> frozenset[float]:
    return frozenset(
        float(a[k]) for a in rec.get("amounts_wan") or [] for k in ("min", "max") if a.get(k) is not None
    )


@lru_cache(maxsize=4096)
def _names_trade(word: str) -> bool:
    """Whether a word names a trade (五金, 灯饰): a fact about the firm."""
    return "industry" in extract_facts(word).values


class Answerability:
    """Term statistics of the curated records of one index."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.record_terms: dict[str, frozenset[str]] = {}
        self.subject_terms: dict[str, frozenset[str]] = {}
        whole: dict[str, frozenset[str]] = {}
        for pid, rec in searcher.policies.items():
            subject = " ".join([rec["title"], *(rec["aliases"] or [])])
            body = " ".join([rec["quote"], rec.get("benefit") or "", rec.get("audience") or ""])
            self.subject_terms[pid] = frozenset(terms(subject))
            whole[pid] = frozenset(whole_words(subject))
            self.record_terms[pid] = self.subject_terms[pid] | frozenset(terms(body))
        self.general = general_frequency(
            set().union(*self.record_terms.values()) if self.record_terms else set()
        )
        # A common word cut out of a longer subject word (机器 of 机器人, 通车 of 直通车) is not the subject;
        # the same word standing alone (电话 in 联系人及电话) is.
        for pid, named in self.subject_terms.items():
            self.subject_terms[pid] = frozenset(
                t for t in named if t in whole[pid] or self.general.get(t, 0) < COMMON_FREQ
            )
        self.df: dict[str, int] = {}
        for words in self.record_terms.values():
            for word in words:
                self.df[word] = self.df.get(word, 0) + 1
        self.n = max(len(self.record_terms), 1)

    def distinctive(self, word: str) -> bool:
        """A word that can tell records apart."""
        return (
            len(word) >= 2
            and word not in GENERIC
            and not _DIGIT.search(word)
            and 0 < self.df.get(word, 0) <= DISTINCT_DF
        )

    def weight(self, word: str, pid: str) -> float:
        """How much sharing ``word`` says that a message is about record ``pid``."""
        idf = math.log(self.n / self.df[word])
        if word in self.subject_terms[pid]:
            return idf
        return BODY_SHARE * idf if self.general.get(word, 0) < COMMON_FREQ else 0.0

    def matches(self, text: str, facts: dict[str, Any] | None = None, top: int = 8) -> list[Match]:
        """Records the message shares words with, best first, each with its evidence."""
        norm = normalize(text).lower()
        # "设备供应商说有个标杆示范认定": who told the owner is no evidence of what the message is about
        words = set(terms(norm)) - hearsay_speakers(norm)
        # "我们厂在小榄做五金…质量奖有几家": the trade a long message's story gives is the firm's fact (it
        # bears on records through ``facts``), not what the question is about
        asked = asking_part(norm, lead_in=False)
        trades = {w for w in words if w not in asked and _names_trade(w)}
        words -= {w for w in words if w not in asked and any(w in t for t in trades)}  # (小家 of 小家电)
        figures = question_figures(norm)
        bearing = set(facts or {}) | asked_facts(norm)
        phrases = {
            pid
            for pid, bonus in self.searcher.phrase_hits(norm).items()
            if bonus > 0 and self._phrase_is_distinctive(norm, pid)
        }
        out = []
        for hit in self.searcher.search(norm, top=top):
            own = self.record_terms.get(hit.policy_id, frozenset())
            shared = [w for w in words & own if self.distinctive(w) and self.weight(w, hit.policy_id) > 0]
            # 专精 inside 专精特新 is the same evidence, counted once.
            evidence = tuple(sorted(w for w in shared if not any(w != o and w in o for o in shared)))
            weight = sum(self.weight(w, hit.policy_id) for w in evidence)
            rec = self.searcher.policies.get(hit.policy_id) or {}
            if (
                bearing
                and rec.get("conditions")
                and bearing & set(needed_facts(rec["conditions"])) - {"zjtx_level"}
            ):
                weight += FACT_EVIDENCE
            if figures and figures <= _record_figures(rec):
                weight += FACT_EVIDENCE  # "能拿10-100万那个补贴吗": the owner quotes the record's own figure
            out.append(Match(hit, evidence, round(weight, 3), hit.policy_id in phrases))
        return out

    def names_record(self, text: str, pid: str) -> bool:
        """Whether ``text`` names record ``pid`` by its title or an alias, verbatim and distinctively."""
        return self._phrase_is_distinctive(normalize(text).lower(), pid)

    def _phrase_is_distinctive(self, text: str, pid: str) -> bool:
        rec = self.searcher.policies[pid]
        for phrase in [rec["title"], *(rec["aliases"] or [])]:
            key = normalize(phrase).lower()
            if len(key) >= 2 and key in text and key not in GENERIC:
                return True
        return False


def general_frequency(words: set[str]) -> dict[str, int]:
    """jieba's dictionary frequency (general Chinese) of ``words``; absent words are rare."""
    path = Path(jieba.__file__).parent / "dict.txt"
    found: dict[str, int] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, rest = line.partition(" ")
            if word in words:
                found[word] = int(rest.split(" ", 1)[0])
    return found


_PHONE_Q = re.compile(r"电话|热线|联系方式|号码|手机")
_PHONE_A = re.compile(r"\d{7,}|\d{3,4}-\d{7,8}")
_ANY_PERSON = frozenset("领导 负责人 人员 人 牵头人 专人 专员 对接人".split())


def asks_contact(question: str) -> bool:
    """Whether the question asks for a number or an account to contact (电话, 手机, 微信 …)."""
    return bool(_PHONE_Q.search(question) or _MOBILE_Q.search(question))


_MOBILE_Q = re.compile(r"手机|微信|邮箱|email|e-mail|QQ", re.IGNORECASE)
_MOBILE_A = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|微信|邮箱|@")
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


_CHOICE = re.compile(r"([^。.!！?？]{1,24}?)还是([^,，。.!！?？]{1,16})")


def _choice_unsettled(question: str, quote: str) -> bool:
    """A choice between alternatives that the quote does not settle: it names neither ("一次性发下来，还是
    分几期拨"), or both, or one side has no word of its own beside what the two share ("补给银行还是补给企业":
    补给 frames the choice, 企业 is generic, so naming 银行 does not say who gets it)."""
    # Only what is asked: a story's "还是市长做主任" (and it is the mayor) offers no choice.
    match = _CHOICE.search(asking_part(normalize(question)))
    if match is None:
        return False
    left = next((p for p in reversed(re.split(r"[是,，]", match.group(1))) if p.strip()), "")

    def words(side: str) -> set[str]:
        return {
            w
            for w in terms(side)
            if len(w) >= 2 and w not in GENERIC and w not in STOPWORDS and not _QUESTION_CLAUSE.search(w)
        }

    sides = [words(left), words(match.group(2))]
    if not all(sides):
        # "中国银行还是哪家": one alternative and a question word; settled when the quote names it.
        return bool(sides[0] | sides[1]) and not any(w in quote for w in sides[0] | sides[1])
    shared = sides[0] & sides[1]
    sides = [side - shared for side in sides]
    named = [any(w in quote for w in side) for side in sides]
    return not (named.count(True) == 1 and all(sides))


# A part of a figure the record gives whole ("640家里面专精特新有几家", "邦盛北斗自己拿了多少", "省里出多少"):
# the record's figure is the owner's premise, the part is not in it.
_WITHIN = re.compile(
    r"(\d+(?:\.\d+)?)\s*(万|亿)?\s*[家个项人元]?[^,，。?？]{0,6}(里面|入面|其中|当中|之中|中间)"
)
_OWN_SHARE = re.compile(r"自己(拿|得|获|占|分)")
_LEVEL_SHARE = re.compile(r"(国家|省|市|区|镇)里?(出|给|承担|拿)(了)?(多少|几多|几)")


def _part_of_whole(question: str) -> bool:
    """Whether the question asks for a part of a whole it quotes ("640家里面有多少家是专精特新"; "省里出几多，
    市里出几多" splits a sum between levels; "市里拿出多少钱" asks the sum)."""
    shares = {m.group(1) for m in _LEVEL_SHARE.finditer(question)}
    return bool(_WITHIN.search(question) or _OWN_SHARE.search(question) or len(shares) > 1)


# Which ones of a count were counted ("那三家机器人骨干企业是哪三家"): only a quote listing them before the
# count says ("鑫光智能、邦盛北斗两家"); "设在哪几个城市" asks for a list, which a quote may give as it is.
_WHICH_ONES = re.compile(r"(哪|边)(?!1(?!\d))(\d+|两)(家|个|间|项|所|位)")  # 哪3家; 哪一个 asks which one
_LISTED = re.compile(r"([\u4e00-\u9fa5]{2,10}、)+[\u4e00-\u9fa5]{2,10}(等)?\s*(两|\d+)\s*(家|个|项|所|位)")


def states(aspect: str | None, question: str, rec: dict[str, Any]) -> bool:
    """Whether a record's quote states the aspect asked (the amount, who, conditions …)."""
    quote = normalize(rec["quote"])
    # (a fee's choice, 免费还是收费, by the benefit too: where the letter's sentence runs past the quote's
    # page, 帮办代办's 免费 is there)
    settles = quote + normalize(rec.get("benefit") or "") if aspect == "fee" else quote
    if _choice_unsettled(question, settles):
        return False
    if aspect in (None, "amount", "name") and _part_of_whole(normalize(question)):
        return False
    if _WHICH_ONES.search(question) and not _LISTED.search(quote):
        return False  # the record counts them and names none
    amounts = rec.get("amounts_wan") or []
    if aspect in (None, "amount", "qualify") and amounts:
        if _WITHIN_RANGE_Q.search(question) and not any(a.get("min") == a.get("max") for a in amounts):
            return False  # the letter gives the range (10–100 万) or the ceiling, not one firm's figure
        if _SPLIT_Q.search(question) and all(_UNCLEAR_SPLIT.search(str(a.get("label"))) for a in amounts):
            return False  # "每家400万还是加起来": the letter does not say
    if aspect == "amount" and _USAGE_Q.search(question):
        return False  # how much has been used or is left: the letter gives what was planned, not since
    if (
        aspect == "qualify"
        and _MONEY_Q.search(question)
        and _PER_FIRM_Q.search(asking_part(question, lead_in=False))
        and not recipient_amounts(rec)
    ):
        return False  # "每个项目能拿多少" of a record that gives only the city's total
    if aspect == "amount":
        if not _counts_that(question, rec):
            return False  # "多少个设计人员" of a record that counts design centres; "让多少股份" of a fund's size
        # (what the question asks, not a story's "我们几个股东" or hearsay's "有人说1个项目几百万")
        questions = asking_part(question, lead_in=False)
        if (
            _MONEY_Q.search(question)
            and _PER_RECIPIENT_Q.search(questions)
            and not _SHARE_Q.search(question)
            and (_PER_FIRM_Q.search(questions) or not _CITY_SPENDS.search(question))
        ):
            return bool(recipient_amounts(rec))  # what one firm gets, not what the city spent
        for asked, stated in ((_SHARE_Q, _SHARE_A), (_MONEY_Q, _MONEY_A), (_COUNT_Q, _COUNT_A)):
            if asked.search(questions):
                return bool(stated.search(_RATIO.sub("", quote) if asked is _COUNT_Q else quote))
        if BENEFIT_WORDS.search(question):
            return bool(_MONEY_A.search(quote))  # "配套奖励配多少" of a record that only counts projects
        return bool(_NUMBER_A.search(quote))
    if aspect == "advice":
        return False  # whether a firm should apply is an opinion no record gives
    if aspect == "fee":
        # The benefit says 免费 where the letter's sentence runs past the quote's page (帮办代办).
        return bool(re.search(r"免费|收费|费用", quote + normalize(rec.get("benefit") or "")))
    if aspect == "combine":
        return bool(re.search(r"叠加|同时享受|不重复|重复享受|兼得|不得同时", quote))
    if (
        aspect in (None, "amount", "qualify")
        # (not the story before the question: "好多补贴都是过了截止日期才知道，有没有平台推送政策")
        and BENEFIT_WORDS.search(asking_part(question, lead_in=False))
        and not _OFFERS.search(normalize(" ".join([rec["title"], rec["quote"], rec.get("benefit") or ""])))
    ):
        return False  # "有没有奖励" of a record that speaks of no money at all
    if aspect == "who":
        if _PHONE_Q.search(question) and not _PHONE_A.search(quote):
            return False  # "办公电话是多少" of a record that names a department but no number
        if _MOBILE_Q.search(question) and not _MOBILE_A.search(quote):
            return False  # "有没有手机或者微信" of a record that gives an office line
        return bool(rec.get("departments"))
    if aspect == "name":
        return bool(_NAME_A.search(quote))
    if aspect in ("conditions", "qualify"):
        return bool(_CONDITION_A.search(quote))
    return True


_LEVELS = frozenset("国家级 省级 市级 区级 镇级".split())


@lru_cache(maxsize=1024)
def _pos_cut(question: str) -> tuple[tuple[str, str], ...]:
    """The question normalised, lower-cased and cut with parts of speech (cached: a turn asks it of
    every record it ranks, each cut costing a millisecond or more)."""
    return tuple((t.word, t.flag) for t in pos_tokenizer().cut(normalize(question).lower()) if t.word.strip())


def _counts_that(question: str, rec: dict[str, Any]) -> bool:
    """Whether the record speaks of what the question counts or measures: the noun after 多少个/几家/多少
    (设计人员 → 人员, 多少股份 → 股份), when it names something of its own (企业, 钱 and other plain words
    go with any figure). Only what a long message asks counts: its story's "我们几个股东" tells."""
    tokens = _pos_cut(asking_part(question, lead_in=False))
    for i, (word, flag) in enumerate(tokens):
        after_which = i > 0 and tokens[i - 1][0].endswith(("哪", "那", "这"))  # 那几个: those, not how many
        # 五十几个工人: about fifty, not how many
        after_which = after_which or (i > 0 and bool(re.search(rf"[{NUMERALS}]$", tokens[i - 1][0])))
        counting = (
            flag == "m"
            and not after_which
            and (word in ("多少", "几") or re.fullmatch(r"几[家个项人次件所场]", word))
        )
        if not counting:
            continue
        j = i + 2 if word in ("多少", "几") and i + 1 < len(tokens) and tokens[i + 1][1] == "q" else i + 1
        text = normalize(" ".join([rec["title"], *(rec.get("aliases") or []), rec["quote"]])).lower()
        # 几家省级专精特新企业: a level before the counted noun narrows it; a record that names no such
        # level ("640家专精特新…") counts something else.
        if j < len(tokens) and tokens[j][0] in _LEVELS:
            if tokens[j][0] not in text:
                return False
            j += 2 if j + 1 < len(tokens) and tokens[j + 1][0] == "的" else 1
        nouns = []
        while j < len(tokens) and tokens[j][1] in ("n", "nz", "nt", "nw", "vn"):
            nouns.append(tokens[j][0])
            j += 1
        if not nouns:
            continue
        head = nouns[-1]
        if head in GENERIC or head in _PLAIN_NOUNS or head in STOPWORDS or len(head) < 2:
            continue
        # Chinese compounds end in their head: 国家补贴 counts what 国家财政补贴 does.
        # (a level before it still narrows it: 国家级小巨人 is not every 小巨人 the record counts).
        return head in text or (len(head) >= 4 and not head.startswith(tuple(_LEVELS)) and head[-2:] in text)
    return True


def recipient_amounts(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's money figures that one firm can get (万元), without city-wide totals."""
    return [a for a in rec.get("amounts_wan") or [] if not _TOTALS.search(str(a.get("label", "")))]


# Nouns that say nothing about which measure is meant, however an owner uses them (营收, 产值 … only say
# what a growth figure measures, which the letter leaves open): the means of a thing (渠道, 途径), its
# size (封顶, 额度), a place or a team in general (外地, 小组) name the kind of answer, not the topic.
_PLAIN_NOUNS = frozenset(
    """
朋友 事情 事 东西 时候 地方 老板 同事 大家 人家 人 钱 问题 情况 文件 内容 方面 部分 东东 答复 答复函 答案 回答 机器人 客服
资料 信息 消息 新闻 通知 网上 手机 电话号码 号码 具体 详细 一点 一些 东区 西区 南区 北区 市里 省里 镇里 区里
问下 问问 请问 级别 动作 名字 名称 模式 作用 用处 用途 意思 好处 类型 种类 区别 范围 措施 举措 支持 帮助 服务 工作 一块 这块 那块
实际 全程 收费 费用 免费 真的 假的 说法 回事 程度 水平 力度 效果 结果 目的 专门 数据 数字
办法 细则 文件 文号 规定 条文 原文 机构 组织 单位 部门 地方 专项 项目 计划 安排 活动 全称 简称
奖金 补贴 补助 资助 奖励 奖补 钱款 资金 干嘛 干啥 啥子 关系 机会 资格 门槛 编号 数量 数目 总数
营收 营业收入 收入 产值 销售额 销售 利润 业绩 营业额 效益
小厂 小企业 小公司 厂家 厂子 官方 正规 正式 对口 达标 专属 相关 有关 对应 主要 一般 平时 日常
起来 例子 举例 前提 个数 区间 幅度 渠道 途径 方式 门路 路子 封顶 上限 额度 金额 数额 顶格 外地 本地 当地 异地 外省 各地 城市 小组 团队 队伍 专班
贵局 贵单位 贵部门 贵司 贵处 贵委 贵办 贵方 贵中心 贵机关 你局 你们局 本局
""".split()
)
_FOCUS_TAGS = ("n", "nz", "nt", "nw")
_PUNCTUATION = re.compile(r"[,，。.;；!！?？\n]")
_THE_BOT = frozenset("客服 机器人 小助手 助手 助理 客服机器人".split())
_SELF = frozenset("我们 我哋 我司 我厂 我公司 本公司 咱们 我企 我们公司 我们厂".split())
_MODALS = frozenset("可以 能 能够 会 可 在 正在 得以".split())
_PLACE_KINDS = frozenset(
    "开发区 高新区 新区 园区 工业园 产业园 镇 街道 社区 片区 经开区 高新技术开发区".split()
)
# Who told the owner ("人事说有个学徒制", "同行话政府会评标杆", "客户经理讲可以贴息"): the speaker of hearsay is
# not what the owner asks about.
_SAYS = frozenset("说 讲 话 说过 讲过 话过 提到 提过 告诉 介绍 建议 推荐 通知 讲话 说的 讲的".split())
_AVOIDED = re.compile(r"(不用|不必|无需|无须|免得|省得|不需要|用不着|免去)")
_QUESTION_CLAUSE = re.compile(
    r"[?？]|吗|呢|么|多少|几多|什么|啥|哪|怎|如何|能否|是否|可否|有没有|能不能|可不可以|是不是|谁|"
    rf"(?<![好{NUMERALS}])几[个家项次年月天时间名位成]|" + ASKING_TO_KNOW  # (五十几个工人 tells)
)


_BRAND = re.compile(r"(?<![A-Za-z])[A-Z]{2,}(?![A-Za-z])")  # typed in capitals: TCL, OPPO
# Latin words owners use that name no firm: the bot, a greeting, an abbreviation of our own topics.
_NOT_BRANDS = frozenset("ai ok okay hi hello app pdf word excel www com cn http https gov sme ipo".split())


def hearsay_speakers(text: str) -> frozenset[str]:
    """The nouns that told the owner something ("人事说", "设备供应商讲"), unless the message also speaks of
    them otherwise ("供应商说…，供应商有没有补贴")."""
    tokens = _pos_cut(text)
    pairs = list(zip(tokens, [*tokens[1:], ("", "")], strict=True))
    said = {word for (word, flag), (nxt, _) in pairs if nxt in _SAYS and flag.startswith("n")}
    elsewhere = {word for (word, _), (nxt, _) in pairs if nxt not in _SAYS}
    return frozenset(said - elsewhere)


# Voice input without punctuation ("朋友圈有人转发说专精特新企业业绩涨三成以上政府会给补贴真的假的给多少钱啊"): a
# question's clause is what lies just before its question word and just after it, not the story before.
VOICE_SHORT = 20
_SPOKEN_PAUSE = re.compile(
    r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])"
)  # a space between words ends a clause
_VOICE_QUESTION = re.compile(  # (这么晚, 那么多: no question)
    r"吗|呢|(?<![这那什怎多要])么|多少|几多|什么|啥|哪|怎|如何|能否|是否|可否|有没有|能不能|可不可以|是不是|谁|"
    rf"(?<![{NUMERALS}])几[个家项次年月天时间]|" + ASKING_TO_KNOW
)
_BEFORE_QUESTION, _AFTER_QUESTION = 10, 8


def around_questions(text: str) -> str:
    """The stretches of unpunctuated text around its question words, as clauses ("，" between them); the
    text itself when it has no question word."""
    spans = [m.span() for m in _VOICE_QUESTION.finditer(text)]
    if not spans:
        return text
    # a stretch starts and ends at a word's edge, never inside 挂点 or 工业互联网
    edges, at = [0], 0
    for word, _ in _pos_cut(text):
        at = text.lower().find(word, at) + len(word) if word in text.lower()[at:] else at
        edges.append(at)
    kept: list[list[int]] = []
    for start, end in spans:
        low = min((e for e in edges if e >= start - _BEFORE_QUESTION), default=0)
        high = max((e for e in edges if e <= end + _AFTER_QUESTION), default=len(text))
        low, high = min(low, start), max(high, end)
        if kept and low <= kept[-1][1]:
            kept[-1][1] = max(kept[-1][1], high)
        else:
            kept.append([low, high])
    return "，".join(text[low:high] + "?" for low, high in kept)


@lru_cache(maxsize=4096)
def focus_nouns(question: str) -> tuple[str, ...]:
    """The nouns of the question's asking clauses: what the owner wants to know about (cached: a turn
    asks it of several records, each POS cut costing a millisecond or more)."""
    question = without_courtesies(question)
    if len(question) > LONG_MESSAGE and not _PUNCTUATION.search(question):
        question = asking_part(normalize(question), lead_in=False)  # voice input: its questions alone
    if (
        len(question) > VOICE_SHORT
        and not _PUNCTUATION.search(question)
        and not _SPOKEN_PAUSE.search(question)
    ):
        question = around_questions(normalize(question))
    # Cut after a question mark too: "…多少家?我们是小榄做音响的" asks only in its first clause.
    clauses = [c for c in re.findall(r"[^,，。.;；!！?？\n]+[?？]?", normalize(question)) if c.strip()]
    asking = [c for c in clauses if _QUESTION_CLAUSE.search(c)]
    if not asking:
        # "我们厂在小榄做五金…订单一般。贴息 银行": words typed as into a search box after a story are what
        # is looked for; with no question anywhere, the last sentence is the request
        last = [t for t in re.split(r"(?<=[。.!！?？\n])", normalize(question)) if t.strip()][-1:]
        asking = [c for c in clauses if last and c in last[0]] or clauses
    # "我们厂在小榄做五金…。我们做灯具的新款…想问下中山有没有地方可以帮企业快速维权的": one long clause
    # typed by voice after a punctuated story is read as voice too, around its question words.
    asking = [part for c in asking for part in _voiced(c)]
    marked = [c for c in asking if c.endswith(("?", "？"))]
    if marked and len(question) > LONG_MESSAGE:
        asking = marked  # a story's "客户总问我们有没有这个牌子" reports a question; the owner's end in ?
    # "…网上办，不用去大厅排队": what the owner wants to avoid is not what they ask about.
    wanted = [c for c in asking if not _AVOIDED.match(c.strip())] or asking
    found = []
    known = _dictionary_words()
    brands = set(_BRAND.findall(question))
    speakers = hearsay_speakers(question)
    for clause in wanted:
        previous = ""
        tokens = list(pos_tokenizer().cut(clause.lower()))
        for at, token in enumerate(tokens):
            word, flag = token.word.strip(), token.flag
            # "你们这个智能客服依据哪份文件": what describes the bot itself is not what is asked about
            if word in speakers or (at + 1 < len(tokens) and tokens[at + 1].word in _THE_BOT):
                previous = word
                continue
            # 我们灯饰厂, 我司这种企业: the owner describing their firm, not what they ask about; 可以交流,
            # 在整理: a word after a modal or 在 is a verb there, whatever jieba tags it.
            after_self, after_modal = previous in _SELF, previous in _MODALS
            # 火炬|开发区, 翠亨|新区: the kind of place after one of our towns is that town too
            in_own_place = bool(previous) and bool(OWN_PLACES.fullmatch(previous)) and word in _PLACE_KINDS
            previous = word or previous
            if after_self or after_modal or in_own_place or OWN_PLACES.fullmatch(word):
                continue  # (小榄, 古镇: a town of our own city, where the firm is, not what is asked)
            # A word no dictionary knows is as likely a typo (资注, 贴西) as a topic: it decides nothing.
            if word.upper() in brands and word not in _NOT_BRANDS:
                found.append(word)  # TCL, OPPO: a firm's name, never a typo of ours
                continue
            if (
                flag in _FOCUS_TAGS
                and len(word) >= 2
                and not _says_nothing(word)
                and "了" not in word  # 搞了个: jieba's glue, never a noun
                and not _plain_compound(word)
                and not _DIGIT.search(word)
                and word in known
            ):
                found.append(word)
    return tuple(dict.fromkeys(found))


def _voiced(clause: str) -> list[str]:
    """A clause as long as a story and without a spoken pause, cut to the stretches around its question
    words; any other clause as it is."""
    if len(clause) <= LONG_MESSAGE or _SPOKEN_PAUSE.search(clause):
        return [clause]
    return re.findall(r"[^,，?？]+[?？]?", around_questions(clause)) or [clause]


def _says_nothing(word: str) -> bool:
    """A generic word, a stopword or a plain noun: it names no matter of the letter."""
    return word in GENERIC or word in STOPWORDS or word in _PLAIN_NOUNS


def _plain_compound(word: str) -> bool:
    """A word made of a plain noun and at most one character or another plain word: 专门机构, and what
    jieba glues from a neighbour's last character (座机号码 cut 座|机号码, 那份文件 cut 那|份文件)."""
    head, tail = word[:-2], word[-2:]
    plain = _PLAIN_NOUNS | GENERIC
    return len(word) >= 3 and tail in plain and (len(head) <= 1 or head in plain)


def _missing(rec: dict[str, Any], word: str) -> bool:
    """Whether the record never speaks of ``word``, not even by a homophone (人材 of 人才); a person asked for
    (专人, 对接人) is spoken of where the record assigns one (每家企业配备一个部门或镇街领导)."""
    if word in _ANY_PERSON and _PERSON_A.search(rec["quote"]):
        return False
    return not covers(rec, word) and not sounds_in(word, spoken_text(rec))


def unmeasured(question: str, rec: dict[str, Any]) -> str | None:
    """What a how-much question measures when the record never speaks of it: a focus noun whose head (its
    last two characters: 注册资本's 资本) the record does not say, even by sound; None otherwise. Stricter
    than :func:`off_focus`, which counts 注册资本 as spoken of where a record says 注册公司."""
    text = spoken_text(rec)
    return next(
        (n for n in focus_nouns(question) if n[-2:] not in text and not sounds_in(n[-2:], text)),
        None,
    )


def topic_nouns(question: str) -> list[str]:
    """Focus nouns that name a topic rather than a fact about the firm (五金, 省级 are facts)."""
    return [n for n in focus_nouns(question) if not extract_facts(n).values]


def uncovered_topic(question: str, rec: dict[str, Any]) -> str | None:
    """A topic the question asks about that the record never speaks of (媒体报道 of a pilot), or None."""
    return next((n for n in topic_nouns(question) if _missing(rec, n)), None)


def covers(rec: dict[str, Any], word: str) -> bool:
    """Whether a record's text speaks of ``word``: the word, or any two characters of it in a row that
    are not a generic word (学徒治 is a typo of 学徒制, 专精特新企业 names 专精特新)."""
    text = spoken_text(rec)
    # (a generic part says nothing: 住房补贴 is not spoken of where a record says 补贴)
    return word in text or any(
        word[i : i + 2] in text and word[i : i + 2] not in GENERIC for i in range(len(word) - 1)
    )


def spoken_text(rec: dict[str, Any]) -> str:
    """Every word a record says (title, aliases, quote, benefit, audience, departments), normalised."""
    return _spoken_text(
        rec["title"],
        tuple(rec.get("aliases") or ()),
        rec["quote"],
        rec.get("benefit") or "",
        rec.get("audience") or "",
        tuple(rec.get("departments") or ()),
    )


@lru_cache(maxsize=1024)
def _spoken_text(
    title: str,
    aliases: tuple[str, ...],
    quote: str,
    benefit: str,
    audience: str,
    departments: tuple[str, ...],
) -> str:
    """A record's words, normalised once (a question is checked against every record)."""
    return normalize(" ".join([title, *aliases, quote, benefit, audience, *departments])).lower()


def off_focus(question: str, rec: dict[str, Any]) -> str | None:
    """A noun the question asks about that the record never speaks of, when half of them are such; else None."""
    nouns = focus_nouns(question)
    # "哪位领导任主任" of a record that names a person: 领导 is the kind of answer asked for, not a topic.
    names_person = bool(_NAME_A.search(normalize(rec["quote"])))
    missing = [
        n
        for n in nouns
        if _missing(rec, n) and not (names_person and n in _ANY_PERSON) and not _cut_across(question, n, rec)
    ]
    return missing[0] if nouns and len(missing) * 2 >= len(nouns) else None


def _cut_across(question: str, word: str, rec: dict[str, Any]) -> bool:
    """Whether ``word`` is jieba's cut across the start of the record's own name in the question (过市 of
    "获评过市政府质量奖"): a piece of the name, not a topic of its own."""
    text = normalize(question).lower()
    name = " ".join([rec["title"], *(rec.get("aliases") or [])])
    for at in (m.start() for m in re.finditer(re.escape(word), text)):
        end = at + len(word)
        for k in range(at + 1, end):
            # a name of two characters or more of the record starts inside the word and runs past it
            if any(text[k:j] in name for j in range(end + 2, min(len(text), k + 12) + 1)):
                return True
    return False


_OTHER_KIND = re.compile(
    r"(其他|其它|(?<![级区类性差分识辨告])别的|别家|其余)([\u4e00-\u9fa5]{2,4}?)(?=有|还|也|呢|吗|能|可|是|会|[,，。?？]|$)"
)


# "除了中行，工行建行有没有…": what is asked about is what comes after the exception.
_EXCEPT = r"(除了|除咗|除开|除去)"
_BESIDES = re.compile(_EXCEPT + r"[^,，。?？]{1,12}?(以外|之外)?[,，]([^。?？]{2,40})")


def _besides(question: str, rec: dict[str, Any]) -> str | None:
    """A noun asked about beside what the record names ("除了中行，工行建行有没有" of the 中国银行 record:
    工行), when the record never speaks of it; None otherwise."""
    found = _BESIDES.search(normalize(question))
    if not found:
        return None
    for token in pos_tokenizer().cut(found.group(3).lower()):
        word = token.word.strip()
        if (
            len(word) >= 2
            and (token.flag.startswith("n") or token.flag == "j")  # j: 工行, 农行
            and not _says_nothing(word)
            and not extract_facts(word).values
            and _missing(rec, word)
        ):
            return word
    return None


# "除了五金、家电、灯具、板式家具，还有哪些产业集群": others beyond a list, asked by naming the list.
_BESIDES_ASK = re.compile(
    _EXCEPT + r"([^,，。?？]{1,40}?)(以外|之外)?[,，]?(还有|仲有|另外|其他|其它|别的|还)"
    r"[^。?？]{0,4}?(哪些|什么|啥|边啲|边几|咩|哪几|哪个|哪家|边个|边间)"
)
_ENUMERATION = re.compile(r"[^,，。;；:：“”()（）、]{1,10}(?:、[^,，。;；:：“”()（）、]{1,10})+")


def nothing_besides(question: str, rec: dict[str, Any]) -> str | None:
    """What the question asks for beyond a list it names, when the record's own list holds nothing else:
    the list ("除了五金、家电、灯具、板式家具") or None."""
    found = _BESIDES_ASK.search(normalize(question))
    if not found:
        return None
    named = [n.strip() for n in re.split(r"[、,，和及与跟/]", found.group(2)) if len(n.strip()) >= 2]
    quote = normalize(rec["quote"])
    if not named or not all(n in quote for n in named):
        return None
    for listed in _ENUMERATION.finditer(quote):
        items = listed.group(0).split("、")
        if any(n in listed.group(0) for n in named):
            return found.group(1) + found.group(2) if all(any(n in i for n in named) for i in items) else None
    return None


# "并非重点项目…这类一般项目是否也能享受": a project (or kind) the record's own qualifier leaves out.
_NOT_OF_KIND = re.compile(  # (not 是不是 and 系唔系, which ask)
    r"((?<![是])不是|并非|(?<![是并])非(?!常)|不属于|算不上|(?<!系)唔系|唔属于|未列入|没有列入|不在)"
)
_ORDINARY_PROJECT = re.compile(r"(一般|普通|寻常|小型|非重点|其他|其它)(的|性)?(项目|工程)")
_ALSO = re.compile(r"也|都|同样|一样|亦")
_TITLES = re.compile(r"专精特新|小巨人|单项冠军")


def excluded_kind(question: str, rec: dict[str, Any]) -> str | None:
    """A kind the question says it is not, of those the record is for ("并非重点项目…是否也能享受" of the
    重点项目 window), or an ordinary project where the record is for 重点/重大 ones; None otherwise."""
    norm = normalize(question)
    text = spoken_text(rec)
    if not _ALSO.search(asking_part(norm, lead_in=False)):
        return None
    for negation in _NOT_OF_KIND.finditer(norm):
        after = negation.end(1)
        scope = re.split(r"[,，。?？!！]", norm[after : after + 14])[0]
        for word in whole_words(scope):
            if (
                len(word) >= 3
                and word not in GENERIC
                and word in text
                and not extract_facts(word).values
                and not _TITLES.search(word)  # 不是专精特新: the firm's title, which verdicts weigh
            ):
                return norm[negation.start() : after + scope.find(word) + len(word)]
    ordinary = _ORDINARY_PROJECT.search(norm)
    if ordinary and re.search(r"(重点|重大)(项目|工程)", text) and ordinary.group(1) not in text:
        return ordinary.group(0)
    return None


def narrower(question: str, rec: dict[str, Any]) -> str | None:
    """A kind narrower than the record's that the question asks about ("农业银行" of a record on 中国银行):
    a word of four or more characters whose head the record speaks of and whose modifier it never does;
    or one asked about beside what the record names ("除了中行，工行建行有没有")."""
    text = spoken_text(rec)
    other = _OTHER_KIND.search(normalize(question))
    if other and other.group(2)[-2:] in text:
        return other.group(0)  # "其他银行有没有类似活动" of the 中国银行 record: beyond what it names
    besides = _besides(question, rec) or nothing_besides(question, rec)
    if besides:
        return besides
    for noun in focus_nouns(question):
        head, modifier = noun[-2:], noun[:-2]
        if len(noun) >= 4 and head in text and not covers(rec, modifier):
            return noun
    return None


# What a kind of firm is called by: 港资企业, 小微企业, 外资公司.
_FIRM_HEADS = ("企业", "公司", "厂家", "厂商")
# How jieba tags a word that says what kind a firm is: a noun (港资), a distinguishing word (中型), a
# name-like cut (小微), an abbreviation.
_KIND_TAGS = frozenset({"n", "nz", "b", "nr", "j", "an"})
# A firm's legal form (有限公司 改制成 股份有限公司) is what any firm is: no kind the letter must name.
_LEGAL_FORMS = frozenset({"有限", "股份", "有限责任", "股份有限", "集团"})


def firm_kind(question: str, rec: dict[str, Any]) -> str | None:
    """A kind of firm the question speaks of that the record never names ("港资企业评咗专精特新，都可以申请
    增长补贴吗": 港资企业), so whether that kind is covered is not in the letter; None otherwise.

    The kind is what jieba cuts before 企业/公司 (or glues to it: 外资企业); a fact of the firm
    (专精特新, 五金, 省级), a generic word (中小企业) and what the record speaks of (骨干企业) name no
    other kind.
    """
    previous: tuple[str, str] | None = None
    for word, flag in _pos_cut(question):
        if word.endswith(_FIRM_HEADS) and len(word) >= 4 and flag in _KIND_TAGS:
            kind = word[:-2]
        elif word in _FIRM_HEADS and previous is not None and previous[1] in _KIND_TAGS:
            kind = previous[0]
        else:
            previous = (word, flag)
            continue
        previous = (word, flag)
        if (
            len(kind) >= 2
            and kind not in _SELF
            and kind not in _LEGAL_FORMS
            and not _says_nothing(kind)
            and not _says_nothing(kind + word[-2:])
            and not extract_facts(kind).values
            and not _DIGIT.search(kind)
            and _missing(rec, kind)
        ):
            return kind + word[-2:]  # 港资 + 企业, whether jieba cut them apart or glued them
    return None


# Verbs of asking and wanting: they say nothing about which matter the question is about.
_LIGHT_VERBS = frozenset(
    """
知道 了解 咨询 请教 打听 问问 想问 请问 需要 可以 能够 应该 办理 处理 申请 申报 提交 准备 开始 结束 完成 办完 弄完 搞定
享受 获得 领取 拿到 得到 给予 支持 帮忙 帮助 联系 对接 查询 查到 看到 找到 告诉 回复 解决 安排 落实 执行 实施 开展 参加
""".split()
)


_SELF_CLAUSE = re.compile("|".join(sorted(_SELF, key=len, reverse=True)))
# (not "那么有多少家企业评上过", where 那么 only carries on: 咁 in Cantonese)
_CONTRAST = re.compile(r"\s*((那么|那)(?!有|是|要|就|还|可以|能|会|么)|那如果|那要是|换成|改成|如果是|要是)")


def other_matter(question: str, rec: dict[str, Any], evidence: tuple[str, ...]) -> str | None:
    """A word of the question's asking clause that no record speaks of, when the record matched only on
    the clauses before it ("开公司1个工作日就办完，那注销公司要多久": 开公司 is the premise, 注销 the
    question); None when the asking clause names the record itself or refers back to it ("能拿多少")."""
    parts = [c for c in re.findall(r"[^,，。;；!！?？\n]+[?？]?", normalize(question).lower()) if c.strip()]
    asking = [c for c in parts if _QUESTION_CLAUSE.search(c)]
    if not asking or len(asking) == len(parts):
        return None
    asked = "".join(asking)
    if any(word in asked for word in evidence):
        return None
    if _SELF_CLAUSE.search(asked) and (extract_facts(asked).values or extract_facts(question).values):
        # "我们做纺织印染的可以参加吗", "我们是服装厂…我们这种服装企业符合吗": the owner's own firm, asked of
        # the record before it
        return None
    stats = default_answerability()
    if any(stats.distinctive(w) and covers(rec, w) for w in terms(asked)):
        return None  # "是跟哪家银行合作搞的": the question names something of the record (银行)
    known = _dictionary_words()
    policies = default_searcher().policies.values()
    # A verb names the matter only in a contrast ("那注销公司呢"); otherwise it is as likely the owner's way
    # of asking (够格, 好像) as a topic.
    tags = (
        ("n", "nz", "nt", "nw", "vn", "v") if _CONTRAST.match(asking[-1]) else ("n", "nz", "nt", "nw", "vn")
    )
    for token in pos_tokenizer().cut(asked):
        word = token.word.strip()
        if (
            token.flag in tags
            and len(word) >= 2
            and word in known
            and not _says_nothing(word)
            and word not in _LIGHT_VERBS
            and word not in _SELF
            and not _DIGIT.search(word)
            and not _QUESTION_CLAUSE.search(word)
            and aspect_of(word) is None  # 符合条件, 流程: what is asked, not what about
            and not extract_facts(word).values
            and not any(covers(rec, word) for rec in policies)
        ):
            return word
    return None


def _dictionary_words() -> dict[str, int]:
    """Every word of the knowledge base's jieba tokenizer (its dictionary plus our user dictionary)."""
    return tokenizer().FREQ


def unnamed_benefit(question: str, rec: dict[str, Any]) -> str | None:
    """A kind of benefit the question names (租金补贴) that the record does not speak of, or None.

    The word just before 补贴/奖励/资助 … says which benefit is meant; when that word is a real one (not
    a stopword or a generic word) and the record's text never uses it, the record is not about it.
    """
    # "出国参展的补贴": the 的 between says nothing; the word before it names the benefit, a verb there (参展)
    # as a noun would.
    whole = _pos_cut(question)
    cut = [
        (word, "vn" if flag == "v" and i + 1 < len(whole) and whole[i + 1][0] == "的" else flag)
        for i, (word, flag) in enumerate(whole)
        if word != "的"
    ]
    aliases = {normalize(a) for a in rec.get("aliases") or []}
    texts = [normalize(t) for t in (rec["title"], *aliases, rec["quote"], rec.get("benefit") or "")]

    def names(word: str) -> bool:
        # One of the record's names, or its words just before one of its benefit words: "招工补贴" is not
        # the 学徒制培训补贴 of a record whose slogan (招工即招生) speaks of hiring far from any money.
        return word in aliases or any(
            _OFFERS.search(text[m.end() : m.end() + BENEFIT_REACH])
            for text in texts
            for m in re.finditer(re.escape(word), text)
        )

    for (before, flag), (word, _) in zip(cut, cut[1:], strict=False):
        if (
            BENEFIT_WORDS.fullmatch(word)
            and len(before) >= 2
            and flag.startswith(("n", "vn"))
            and before not in GENERIC
            and before not in STOPWORDS
            and not BENEFIT_WORDS.search(before)
            and not any(names(t) for t in terms(before))
        ):
            return before + word
    return None


@lru_cache(maxsize=2)
def _answerability(searcher: Searcher) -> Answerability:
    return Answerability(searcher)


def default_answerability() -> Answerability:
    """Statistics over the configured index, built once per searcher."""
    return _answerability(default_searcher())
