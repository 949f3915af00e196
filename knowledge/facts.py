"""Firm facts from what owners type: deterministic parsing of normalised text.

DIET entities align poorly with jieba tokens for amounts and percentages, and an eligibility
verdict must not hinge on a classifier's guess, so the facts that rules read are parsed here,
from the same normalised text NLU sees. Every function takes text already passed through
:func:`knowledge.text.normalize` (``extract_facts`` does that itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError

from huiqitong.vocabulary import ZJTX_LEVELS
from knowledge.text import normalize

__all__ = ["ZJTX_LEVELS"]  # re-exported for the packages that parse facts

UNKNOWN = "unknown"
# Industries the letter names (clusters 二（一）); owners' words on the left.
INDUSTRY_WORDS = {
    "板式家具": "板式家具",
    "家具": "板式家具",
    "小家电": "小家电",
    "家电": "家电",
    "厨电": "厨卫",
    "厨卫": "厨卫",
    "橱卫": "厨卫",
    "卫浴": "厨卫",
    "灯饰": "灯饰",
    "照明": "灯饰",
    "灯具": "灯具",
    "五金": "五金",
}
BOOL_FACTS = (
    "shareholding_reform",
    "digital_project",
    "manufacturing",
    "apprenticeship",
    "skill_certification",
)
_BOOL_WORDS = {
    "shareholding_reform": ("股份制改造", "股改", "股份改造", "改制"),
    "digital_project": (
        "数字化改造",
        "智能化改造",
        "数字化转型",
        "智能化转型",
        "数字化智能化",
        "数字化升级",
        "智能制造",
        "上云",
        "工业互联网",
        "数字化项目",
        "智能化项目",
        "智能工厂",
        "数字化车间",
        "数字化设备",
        "智能化设备",
        "自动化改造",
        "自动化生产线",
        "智能生产线",
        "生产线改造",
        "机器换人",
        "数字化生产线",
        "智能化生产线",
        "数字化产线",
        "智能化产线",
        "数字化工厂",
        "搞数字化",
        "搞智能化",
        "做数字化",
        "MES",
        "mes",
        "ERP",
        "erp",
    ),
    "manufacturing": ("制造业", "制造企业", "工厂", "生产企业", "做制造", "加工厂"),
    "apprenticeship": ("学徒制", "学徒"),
    "skill_certification": ("技能等级认定", "等级认定", "技能认定", "职业技能等级"),
}
_NEG = re.compile(
    r"(不|没|未|无|暂不|暂时不|还没|没有|并未|尚未|不会|不打算|不准备|不考虑)[^,.;!?，。；！？]{0,6}$"
)
# "省级工业互联网标杆企业项目": a level that opens the name of another measure is that measure's, not the firm's.
_OF_MEASURE = (
    r"(?![^,，。.!！?？;；\s]{0,10}(项目|平台|试点|中心|基地|节点|标杆|示范|工程|奖|大赛|园区|集群))"
)
_LEVEL_PATTERNS = (
    ("单项冠军培育", re.compile(r"单项冠军")),
    ("国家级小巨人", re.compile(r"小巨人|国家级专精特新|国家专精特新|国家级的")),
    (
        "省级",
        re.compile(
            r"省级专精特新|省专精特新|省级的|省级(?=$|[,，。.!！;；\s])|^省级"
            + _OF_MEASURE
            + r"|省里认定(?!的?单项冠军)|省级认定(?!的?单项冠军)|省一级"
        ),
    ),
    (
        "市级",
        re.compile(
            r"市级专精特新|市专精特新|市级的|市级(?=$|[,，。.!！;；\s])|^市级"
            + _OF_MEASURE
            + r"|市里认定(?!的?单项冠军)|市级认定(?!的?单项冠军)|市一级"
        ),
    ),
    (
        "无",
        re.compile(
            r"(不是|还不是|并非|非|没有?评上|没有?认定|没评|未认定|尚未认定|没有?申请过?)[^,.]{0,3}专精特新|"
            r"(没有?|未|从未|从来没有?)(去)?(评|评过|评上过|申报过?|申请过)[^,.]{0,2}专精特新"
        ),
    ),
)
# A bare "不是" / "没有" means 无 only as the answer to the level question.
_BARE_NO = re.compile(r"(都)?(不是|还不是|没有|都没有|没评上|还没有?)[的啊呢。.!]*")
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)%")
_GROWTH_CTX = re.compile(r"(增长|成长|增幅|增速|涨|提高|提升|上升|多了|增加|同比)")
_DECLINE_CTX = re.compile(r"(下降|下滑|减少|降了|跌|少了|负增长)")
_UP = r"(增长|成长|涨|提高|提升|增加|多|升|上升|增)"
_ABOUT = r"(超过|超|达到|达|近|约|接近|了|够|到|足)?"  # 涨够三成, 增长到四成
_CHENG = re.compile(rf"{_UP}(了|得)?{_ABOUT}(\d+(?:\.\d+)?)成")
_CHENG_DOWN = re.compile(rf"(下降|下滑|减少|跌|降|少|缩水|萎缩)了?{_ABOUT}(\d+(?:\.\d+)?)成")
_HALF = re.compile(rf"{_UP}了?{_ABOUT}(一半|1半)")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(亿元|亿|万元|万|元)")
_REVENUE_CTX = re.compile(r"(营收|营业收入|营业额|产值|销售额|收入|年销售|销售收入)")
_USCC = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{18}(?![0-9A-Z])")
_FIRM = re.compile(r"([\u4e00-\u9fa5A-Za-z0-9()]{2,30}?(?:股份有限公司|有限责任公司|有限公司|集团|公司))")
_NAME_INTRO = re.compile(r"(我们是|我们公司是|我们公司叫|公司叫|我们叫|我司是|名称是|名字是|叫做|叫)\s*$")
_NAME_QUESTION = re.compile(
    r"哪|什么|谁|几|怎|开个|开一个|开1个|开家|注册个|注册一个|注册1个|一家|1家|这家|那家|每家|^\d+(家|间|个)"
)
_FIRM_PREFIX = re.compile(
    r"^(我们是|我们公司是|我们公司叫|公司叫|我们叫|我是|我司是|我司|公司名称是|公司名是|企业名称是|名称是|叫做|叫)"
)
# A yes/no fact counts only when the owner says they do it ("打算股改"), not when they ask about it
# ("股改资助多少").
_DOING = re.compile(
    r"(打算|计划|准备|决定|定了|拍板|正在|在做|已经|已|开展|实施|推进|做了|做过|搞|进行|启动|完成|考虑|用于|用来|拿来|投入|上了|要|有|在|是|备案了?|上[\d一几两]*[条套台个批])[^,.;!?]{0,4}$"
)
# "打算把开料和封边线做智能化改造": the plan reaches past the object that 把 puts before the verb.
_DOING_BA = re.compile(r"(打算|计划|准备|决定|正在|已经|要|想)把[^,.;!?]{1,12}?(做|搞|进行|实施)?$")
_DOING_AFTER = re.compile(r"^[^,.;!?]{0,2}(正在|在|已经|已)?(推进|进行|实施|做|搞|办理|启动|完成)(中|了|着)?")
_OTHER_INDUSTRY = re.compile(r"(我们)?(是)?(做|搞)?[\u4e00-\u9fa5]{1,8}?(行业|产业|的|类|企业)?")
_UNSURE = re.compile(r"不清楚|不知道|不确定|不太清楚|说不准|不好说|跳过|保密|不方便")


@dataclass
class Facts:
    """What one message says about the firm; ``None`` means the message did not say."""

    values: dict[str, Any] = field(default_factory=dict)
    uscc_error: str | None = None


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码 (in Chinese), or None when it is valid."""
    try:
        uscc_std.validate(code)
    except ValidationError as exc:
        kind = type(exc).__name__
        if kind == "InvalidChecksum":
            return "最后一位校验码不对"
        if kind == "InvalidLength":
            return "长度应为18位"
        return "含有统一社会信用代码不使用的字符（不含 I、O、S、V、Z）"
    return None


# A-not-A questions (能不能, 有没有, ...) ask; they do not negate.
_A_NOT_A = re.compile(r"(能|是|有|可|会|要|可以|打|在|做)(不|没)\1")


def negated(text: str, start: int) -> bool:
    """Whether the words just before position ``start`` negate what follows."""
    return bool(_NEG.search(_A_NOT_A.sub("", text[max(0, start - 8) : start])))


def parse_level(text: str) -> str | None:
    """专精特新 level named in ``text``, or None. Where two are named, the first is the firm's: the other
    names a measure ("我们是市级专精特新小巨人那个400万国家补贴能拿吗", typed by voice without a pause)."""
    found = first_level(text)
    return found[0] if found else None


def first_level(text: str) -> tuple[str, int] | None:
    """The first 专精特新 level named in ``text`` and where it starts, or None."""
    found = [
        (m.start(), rank) for rank, (_, pattern) in enumerate(_LEVEL_PATTERNS) if (m := pattern.search(text))
    ]
    if not found:
        return None
    at, rank = min(found)
    return _LEVEL_PATTERNS[rank][0], at


# What rose when a cost rose ("厂房租金涨了两成", "原材料涨了30%"): the firm's costs, not its growth.
_COST_BEFORE = re.compile(
    r"(租金|房租|厂租|租|成本|原材料|材料|原料|工资|人工|用工|价格|价钱|单价|电费|水电|运费|物流|利息|社保|开支|支出|费用|物价)"
    r"[^,.;!?]{0,4}$"
)


def _of_cost(text: str, start: int) -> bool:
    """Whether the rise at ``start`` is of a cost named just before it in its clause."""
    return bool(_COST_BEFORE.search(text[max(0, start - 10) : start]))


def _and_a_half(text: str, end: int) -> float:
    """5 points for a 半 right after N成 (两成半 is 25%), else 0."""
    return 5.0 if text.startswith("半", end) else 0.0


def parse_growth(text: str, *, asked: bool = False) -> float | None:
    """Growth over last year in percent; negative for a decline. ``asked``: the bot just asked it."""
    cheng = next((m for m in _CHENG.finditer(text) if not _of_cost(text, m.start())), None)
    if cheng:
        tail = re.match(r"([1-9一二三四五六七八九])(?![\d%])", text[cheng.end() :])  # 三成五 → 35%
        extra = (
            float(
                "一二三四五六七八九".index(tail.group(1)) + 1
                if not tail.group(1).isdigit()
                else tail.group(1)
            )
            if tail
            else _and_a_half(text, cheng.end())
        )
        return float(cheng.group(4)) * 10 + extra
    down = next((m for m in _CHENG_DOWN.finditer(text) if not _of_cost(text, m.start())), None)
    if down:
        return -float(down.group(3)) * 10 - _and_a_half(text, down.end())  # 跌了两成(半)
    if re.search(r"翻(了)?(一|1)?(番|倍)", text):
        return 100.0
    if _HALF.search(text):
        return 50.0  # 多了一半
    for match in _PERCENT.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        rises = [*_GROWTH_CTX.finditer(before), *_DECLINE_CTX.finditer(before)]
        nearest = max(rises, key=lambda m: m.start(), default=None)
        if nearest and _of_cost(before, nearest.start()):
            continue  # 原材料涨了30%
        value = float(match.group(1))
        if _DECLINE_CTX.search(before) or _DECLINE_CTX.search(text[match.end() : match.end() + 3]):
            return -abs(value)
        if _GROWTH_CTX.search(before) or asked:
            return value
    figures = _two_figures(text)
    if figures is not None:
        return figures
    if asked and re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*", text):
        return float(text)
    if asked and re.search(r"没(有)?增长|持平|零增长", text):
        return 0.0
    return None


_FIGURE = r"(\d+(?:\.\d+)?)\s*(亿|万)?元?"
# "去年营收1000万，今年1400万", "产值从1000万增长到1400万": growth is the change between the two figures.
_LAST_THIS = re.compile(
    rf"(去年|上年|上一年|前一年)[^,.;!?]{{0,8}}?{_FIGURE}[^.;!?]{{0,12}}?(今年|本年|这一年|今年度)[^,.;!?]{{0,8}}?{_FIGURE}"
)
# "前年营收4200万，旧年做到5600万": the year before last against last year.
_BEFORE_LAST = re.compile(
    rf"(前年)[^,.;!?]{{0,8}}?{_FIGURE}[^.;!?]{{0,12}}?(去年|上年)[^,.;!?]{{0,8}}?{_FIGURE}"
)
# "从1000万增长到1400万", "由五千万去到七千万" (Cantonese 去到), "由1000万升至1400万".
_FROM_TO = re.compile(
    rf"(?:从|由){_FIGURE}(增长|增加|涨|提高|提升|上升|升|下降|减少|降|跌|去|做)?了?(到|至){_FIGURE}"
)


# Money that is not a year's revenue, between or before the two figures.
_NOT_REVENUE = re.compile(r"贷|借|投资|投入|融资|花了|买|补贴|资助|奖励|成本|利润|税")


def _two_figures(text: str) -> float | None:
    """Growth in percent from last year's and this year's figures, when a message gives both."""
    match = _LAST_THIS.search(text) or _BEFORE_LAST.search(text)
    if match:
        before, after = (match.group(2), match.group(3)), (match.group(5), match.group(6))
    else:
        match = _FROM_TO.search(text)
        if not match:
            return None
        before, after = (match.group(1), match.group(2)), (match.group(5), match.group(6))
    if not _REVENUE_CTX.search(text):
        return None  # 去年招了10人，今年15人: not a figure the growth rules read
    if _NOT_REVENUE.search(match.group(0)):
        return None  # 去年营收9000万，今年打算贷款2000万: the second figure is a loan, not revenue

    def wan(figure: tuple[str, str | None]) -> float:
        return float(figure[0]) * (10000 if figure[1] == "亿" else 1)

    first, second = wan(before), wan(after)
    return round((second - first) / first * 100, 1) if first > 0 else None


def parse_amount_wan(text: str) -> float | None:
    """First money amount in ``text``, in 万元."""
    match = _AMOUNT.search(text)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value * 10000 if unit.startswith("亿") else value / 10000 if unit == "元" else value


# "我们是做服装的": an industry the letter's clusters do not name is 其他, which their rules can decide.
_MAKES = re.compile(
    r"(我们|我司|我们公司|我们厂|本公司|公司|厂里)?(是)?(做|搞|生产|从事)([\u4e00-\u9fa5]{2,5}?)(的|行业|生意|产品)"
)
_NOT_AN_INDUSTRY = re.compile(
    r"改造|转型|项目|股改|学徒|认定|培训|贷款|融资|上市|申报|申请|数字化|智能化|生意|企业|公司"
)


# "我们是一家服装厂", "我哋系间注塑厂": the trade before 厂/企业/公司 when the owner says what the firm is.
_IS_A = re.compile(
    r"(我们|我哋|我司|我们公司|本公司|我公司)(是|系)(1|一)?(家|间|个)?([\u4e00-\u9fa5]{2,4}?)(工厂|厂|企业|公司)"
)
# What the firm is besides its trade: its size, ownership, titles, age, place.
_NOT_A_TRADE = re.compile(
    r"专精|小巨人|冠军|国家|省|市级|中小|小微|微型|民营|私营|外资|港资|台资|合资|国有|本地|中山|制造|科技型|高新|规上|"
    r"规模|龙头|骨干|初创|成立|老|大型|中型|小型|的|个体|普通|一般|传统|生产型|实体"
)


def industries_named(text: str) -> list[str]:
    """The letter's industry clusters ``text`` names, in order, each word read once (小家电 is not 家电 too)."""
    taken: list[tuple[int, int, str]] = []
    for word in sorted(INDUSTRY_WORDS, key=len, reverse=True):
        for m in re.finditer(re.escape(word), text):
            if not any(a < m.end() and m.start() < b for a, b, _ in taken):
                taken.append((m.start(), m.end(), INDUSTRY_WORDS[word]))
    return list(dict.fromkeys(industry for _, _, industry in sorted(taken)))


def parse_industry(text: str) -> str | None:
    """The letter's industry cluster named in ``text`` (longest owner word wins), or 其他 for another trade;
    None where it lists several ("灯饰小家电厨卫那个上云试点"): that is a measure's list, not the firm's trade."""
    named = industries_named(text)
    if named:
        return named[0] if len(named) == 1 else None
    made = _MAKES.search(text)
    if made and not _NOT_AN_INDUSTRY.search(made.group(4)):
        return "其他"
    trade = _IS_A.search(text)
    if trade and not _NOT_AN_INDUSTRY.search(trade.group(5)) and not _NOT_A_TRADE.search(trade.group(5)):
        return "其他"
    return None


def parse_bool(fact: str, text: str, *, asked: bool = False) -> bool | None:
    """True/False when ``text`` says the firm does (not) do the thing ``fact`` is about.

    ``asked``: the bot just asked about this fact, so naming it is an answer even without a verb.
    """
    for word in _BOOL_WORDS[fact]:
        pos = text.find(word)
        if pos >= 0:
            if negated(text, pos):
                return False
            before = text[max(0, pos - 8) : pos]
            after = text[pos + len(word) : pos + len(word) + 6]
            if (
                asked
                or fact == "manufacturing"
                or _DOING.search(before)
                or _DOING_AFTER.search(after)
                or _DOING_BA.search(text[max(0, pos - 20) : pos])
            ):
                return True
    return None


def extract_facts(raw: str, *, requested: str | None = None, intent: str | None = None) -> Facts:
    """Every firm fact ``raw`` states.

    Args:
        raw: The user's message as typed.
        requested: The fact the bot just asked for, so that a bare '是', '35%' or '省级' answers it.
        intent: The NLU intent, so affirm/deny answer a yes/no question.

    Returns:
        The facts found (``unknown`` where the owner said they do not know the asked fact).
    """
    text = normalize(raw)
    facts = Facts()
    values = facts.values
    level = parse_level(text)
    if level is None and requested == "zjtx_level" and (intent == "deny" or _BARE_NO.fullmatch(text)):
        level = "无"
    if level:
        values["zjtx_level"] = level
    growth = parse_growth(text, asked=requested == "growth_pct")
    if growth is not None:
        values["growth_pct"] = growth
    industry = parse_industry(text)
    if industry:
        values["industry"] = industry
    elif (
        requested == "industry"
        and intent not in ("affirm", "deny")
        and _OTHER_INDUSTRY.fullmatch(text)
        and not _UNSURE.search(text)
    ):
        values["industry"] = "其他"  # a short answer naming an industry the letter's clusters do not cover
    for fact in BOOL_FACTS:
        answer = parse_bool(fact, text, asked=requested == fact)
        if answer is None and requested == fact and intent in ("affirm", "deny"):
            answer = intent == "affirm"
        if answer is not None:
            values[fact] = answer
    if requested and requested not in values and _UNSURE.search(text):
        values[requested] = UNKNOWN
    if _REVENUE_CTX.search(text):
        amount = parse_amount_wan(text)
        if amount is not None:
            values["revenue_wan"] = amount
    code = _USCC.search(text.upper())
    if code:
        problem = uscc_problem(code.group(0))
        if problem:
            facts.uscc_error = f"统一社会信用代码 {code.group(0)} {problem}，请核对后重新输入。"
        else:
            values["uscc"] = code.group(0)
    for firm in _FIRM.finditer(text):
        name = _FIRM_PREFIX.sub("", firm.group(1))
        # "开个公司要多久", "是哪家公司做的" name no firm: a bare …公司 counts only when introduced as a name.
        introduced = name != firm.group(1) or bool(_NAME_INTRO.search(text[: firm.start()]))
        formal = name.endswith(("有限公司", "有限责任公司", "集团"))
        if (
            len(name) >= 4
            and "的" not in name
            and not name.startswith(("我们", "你们", "贵"))
            and not _NAME_QUESTION.search(name)
            and (formal or introduced)
        ):
            values["firm_name"] = name
            break
    return facts
