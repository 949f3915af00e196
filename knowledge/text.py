"""The one text-normalisation function used by NLU, the knowledge base and the eligibility rules.

繁→简 (opencc ``t2s``), 粤语口语→普通话用词 (``knowledge.dialect``), 全角→半角 (NFKC),
中文数字→阿拉伯数字 (cn2an). cn2an's own
``transform()`` rewrites every numeral character it meets (统一 → 统1, 五金 → 5金, 一站式 →
1站式), which breaks policy names, so we hand cn2an only the spans that really are quantities:
``百分之…``, numeral runs that carry a unit (十百千万亿), digit strings like 二〇二二, and a single
numeral directly followed by a unit of measure.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from functools import lru_cache

import cn2an
import opencc

from knowledge.dialect import to_mandarin

_NUM = "零〇一二两三四五六七八九十百千万亿"
_PERCENT = re.compile(rf"百分之([{_NUM}点]+|\d+(?:\.\d+)?)")
_RUN = re.compile(rf"[{_NUM}点]+")
# A lone numeral is a quantity only before a unit of measure (一家, 五年, 三项); 五金, 一站式,
# 第一步, 二级母基金 and 一（二） are names or ordinals and must stay as written.
_MEASURE = "万亿元%倍年个月天日家人项次岁层所台件名位成"
# Words built on numerals that must never be rewritten.
_PROTECTED = (
    "统一",
    "万一",
    "一起",
    "一下",
    "一些",
    "一直",
    "一定",
    "一般",
    "一体",
    "唯一",
    "单一",
    "一站式",
    "一把手",
    "一线",
    "五金",
    "十四五",
    "一方面",
    "一是",
    "二是",
    "三是",
    "四是",
    "一批",
    "一并",
    "进一步",
    "一成不变",
    "一样",
    "同一",
    "第一",
    "一律",
    "一旦",
    "逐一",
    "一切",
    "之一",
)
_PROTECT_RE = re.compile("|".join(sorted(map(re.escape, _PROTECTED), key=len, reverse=True)))
_WS = re.compile(r"[ \t\u3000]+")
# Owners' everyday wording of the letter's own terms (the letter says 贴息 and 驻外招商; owners say 贴利息 and
# 驻点招商): read as the letter's word, so search and the check of what a record speaks of agree.
OWNERS_TERMS = {
    "补贴利息": "贴息",  # before _PAYS_INTEREST, which would leave 补贴息
    "利息补贴": "贴息",
    "驻点招商": "驻外招商",
    "跑手续": "代办",  # 帮企业跑手续: the 帮办代办 service
    "传媒": "媒体",  # 有冇传媒嚟报道
    "推送政策": "政策推送",  # 主动推政策畀企业: the 中易办 platform's 惠企政策精准推送
    "推政策": "政策推送",
}
# Government paying a firm's interest, however said (帮企业贴贷款利息, 帮手还啲利息, 补点利息): the 贴息 of the
# letter. Only after a verb of paying: "利息多少" or "贷款利率" ask something else.
_PAYS_INTEREST = re.compile(r"(贴|补|还|付|垫)(些|点|部分|一部分|一些)?(贷款|银行)?的?利息")
# "利息政府能不能帮忙出一部分": the interest named first and the government paying it after, the same 贴息.
_INTEREST_PAID = re.compile(
    r"利息(?=[^,，。;；?？!！]{0,10}?(政府|市里|财政|你们|局里|帮)[^,，。;；?？!！]{0,6}?"
    r"(出|补|贴|承担|分担|报销|负担|减免)(?!不起|不了))"
)
# "啲利息政府有冇帮手贴息": the interest put first as the topic is what 贴息 already says; left in, it reads
# as a second matter asked about.
_INTEREST_TOPIC = re.compile(r"(?:贷款|银行)?的?利息(?=[^,，。;；?？!！]{0,12}?贴息)")


def without_interest_topic(text: str) -> str:
    """``text`` without an interest named before the 贴息 that pays it (run again after spelling
    correction, which turns 贴习 into 贴息)."""
    return _INTEREST_TOPIC.sub("", text)


_OWNERS_TERMS = re.compile("|".join(sorted(map(re.escape, OWNERS_TERMS), key=len, reverse=True)))
# "这份函", "那封函", "份函", "复函": the only letter an owner can mean here is the 答复函 the bot answers
# from, whose own records (date, 文号, contact) call it that.
_OUR_LETTER = re.compile(
    r"((?:这|那|该|此|本|你们的?|你们嘅)?(?:份|封|个)?)(?<![答公来发信复])(?:回?复)?函(?![数授件])"
)
_UNITS = set("十百千万亿")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _to_number(span: str) -> str | None:
    """Convert one numeral span with cn2an, or None when cn2an rejects it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if not _UNITS & set(span) and "点" not in span:
                value = cn2an.cn2an(span, "direct")
            else:
                value = cn2an.cn2an(span, "smart")
        except (ValueError, KeyError, IndexError):
            return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _convert_run(span: str, following: str) -> str:
    """Arabic form of a numeral run, keeping a trailing 万/亿 as the unit owners write (2000万)."""
    has_unit = bool(_UNITS & set(span)) or "点" in span
    if not has_unit and len(span) < 3 and not (following and following in _MEASURE):
        return span
    if span in ("点", "万", "亿", "千", "百") or span.startswith("点") or span.endswith("点"):
        return span
    if len(span) > 1 and span[-1] in "万亿" and not _UNITS & set(span[:-1]) - {"十", "百", "千"}:
        head = _to_number(span[:-1])
        if head is not None:
            return head + span[-1]
    converted = _to_number(span)
    if converted is not None and span[-1] in "万亿" and converted.isdigit() and int(converted) % 10000 == 0:
        return f"{int(converted) // 10000}万"  # 一亿一千万 → 11000万: the unit stays, as owners write it
    return span if converted is None else converted


def _percent(match: re.Match[str]) -> str:
    span = match.group(1)
    # 百分之百: cn2an wants 一百; only here is a bare leading 百/千 surely a number (千万别 is not).
    value = _to_number(span) or (_to_number("一" + span) if span[0] in "百千" else None)
    return (value or span) + "%"


def _numerals(text: str) -> str:
    text = _PERCENT.sub(_percent, text)
    pieces: list[str] = []
    last = 0
    for protected in _PROTECT_RE.finditer(text):
        pieces.append(_numerals_unprotected(text[last : protected.start()]))
        pieces.append(protected.group(0))
        last = protected.end()
    pieces.append(_numerals_unprotected(text[last:]))
    return "".join(pieces)


def _numerals_unprotected(text: str) -> str:
    return _RUN.sub(lambda m: _convert_run(m.group(0), text[m.end() : m.end() + 1]), text)


# A speaker correcting themselves ("增长了3成,不对不对,是2成半", "我们是市级,呃,不对,是省级"): what
# follows the correction replaces what it corrects. Not "对不对" (a question) nor "不对外" (no pause after it).
_CORRECTION = re.compile(
    r"(?:[,，\s]*(?:呃|嗯|啊|哦|额)*[,，\s]*(?:(?<!对)不对(?:不对)*|说错了?|讲错了?|搞错了?|口误|更正一下))+"
    r"(?=[,，\s]|应该|应当|是|\d)[,，\s]*(?:呃|嗯)*[,，\s]*(?:应该|应当)?(?:是)?[,，\s]*"
)
_CLAUSE_BREAK = re.compile(r"[,，。;；!！?？]")
_SPOKEN_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_SPOKEN_LEVEL = re.compile(r"国家级|省级|市级|区级|镇级")
_WHOLE_CLAUSE = 8  # a clause this short that is corrected by a figure of another kind is replaced whole


def without_self_corrections(text: str) -> str:
    """The message as the speaker meant it: each corrected figure or level replaced by its correction
    ("今年增长了3成,不对,是2成半" → "今年增长了2成半"; "2020年,不对,2021年那届" → "2021年那届")."""
    while match := _CORRECTION.search(text):
        before, after = text[: match.start()], text[match.end() :]
        if not after or not before:
            break
        said = _CLAUSE_BREAK.split(before)[-1]
        start = len(before) - len(said)
        for kind in (_SPOKEN_FIGURE, _SPOKEN_LEVEL):
            if kind.match(after) and (found := list(kind.finditer(said))):
                start += found[-1].start()
                break
        else:
            if len(said) > _WHOLE_CLAUSE:  # what is corrected cannot be told: say it as it was
                break
        text = before[:start] + after
    return text


# What a chat app adds around the owner's words (WeCom and WeChat groups, a forwarded message):
# a quoted message ("「张经理:股改有补贴吗」" then a separator line), a forwarding label (【转发】), @-mentions
# ("@惠企通", "@所有人") and stickers or emoji ([表情], [鼓掌], 😤).
_QUOTED = re.compile(r"「[^「」:\n]{1,16}:([^「」]+)」(?:\s*(?:-\s*){3,})?")
_FORWARDED = re.compile(r"【(?:转发|转载|分享|引用)】|^(?:转发|转)\s*[:：]")
_MENTION = re.compile(r"@(?:惠企通|机器人|小助手|所有人|全体成员)|@[^\s@,，。.!！?？:]{1,12}(?=\s|$)")
STICKER = re.compile(r"\[[^\[\]\s\d]{1,6}\]|[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]+")


def without_chat_markup(text: str) -> str:
    """``text`` (normalised) as the owner wrote it, without the markup a chat app adds: a quoted message
    becomes a sentence of its own ("「张经理:股改有补贴吗」这个呢?" → "股改有补贴吗。这个呢?"), @-mentions
    go, a forwarding label is hearsay ("【转发】…" → "据说,…": someone else wrote it, not the owner's facts),
    and a sticker or emoji between words is a pause. A message of stickers or emoji alone (👍, [抱拳]) is
    kept: it is the whole of what the owner said."""
    said = _QUOTED.sub(r"\1。", _MENTION.sub(" ", _FORWARDED.sub("据说,", text)))
    if STICKER.sub("", said).strip(" ,，。.!！?？~～"):
        said = STICKER.sub("，", said)
    said = re.sub(r"\s*([,，。])(?:\s*[,，。])+", r"\1", said)
    return _WS.sub(" ", said).strip(" ，,") or text


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Normalise owner text once, at the edge, for NLU, search and rules.

    Args:
        text: Raw text as typed (traditional or simplified, full- or half-width, any numerals).

    Returns:
        Simplified, half-width Mandarin text with Chinese numerals as Arabic digits and runs of
        spaces folded, e.g. '增长百分之三十' and '增长３０％' both become '增长30%', and
        '我哋係省級專精特新，有冇得攞' becomes '我们是省级专精特新,有没有得拿'.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    # Control characters carry no meaning in a chat message; keep newlines and tabs.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = _OUR_LETTER.sub(r"\1答复函", to_mandarin(_t2s().convert(text)))
    text = _OWNERS_TERMS.sub(lambda m: OWNERS_TERMS[m.group(0)], text)
    text = without_interest_topic(_INTEREST_PAID.sub("贴息", _PAYS_INTEREST.sub("贴息", text)))
    text = without_self_corrections(_numerals(text))
    return _WS.sub(" ", text).strip()
