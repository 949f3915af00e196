"""What one owner message says and asks: firm facts, the aspect asked, scope and courtesy.

One turn must understand the whole message. Owners write facts and a question together ("我们是省级
专精特新，今年多了四成，有什么补贴？"), wrap content in politeness ("您好…谢谢"), and ask about a
condition without claiming it ("要是增长三成的话…"). This module reads all of that from the text
alone, clause by clause, so the NLU pipeline (facts as entities) and the actions (aspect, scope) read
a message the same way. Which record answers is decided by :mod:`knowledge.answerable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.facts import extract_facts
from knowledge.text import normalize

# --- clauses and who they are about ----------------------------------------------------------------
_CLAUSE_END = re.compile(r"[,，。.;；!！?？\n]+")
_FIRST_PERSON = re.compile(
    r"我们|我司|我公司|本公司|我厂|我企|本企业|本厂|咱们|咱|我单位|我这边|我方|敝司|我家|俺们|俺|(?<![自])我(?!国|市|省|局)"
)
_HYPOTHETICAL = re.compile(r"如果|假如|要是|假设|倘若|万一|若是|若|的话|比如说|比方说")
_QUESTION = re.compile(
    r"[?？]|吗|么$|呢|多少|什么|啥|哪些|哪个|哪里|哪儿|怎么|怎样|如何|能否|是否|可否|有没有|能不能|可不可以|"
    r"是不是|会不会|算不算|够不够|几[个万家项次年月天]|谁"
)

# --- aspects: what the owner wants to know --------------------------------------------------------
# Order matters: the first that matches wins (a "怎么申请…多少" question is about the procedure).
ASPECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("procedure", re.compile(
        r"怎么(申请|申报|办|领|报|弄|拿|获得|享受|兑现|操作|参加|加入|进入|对接|认定|备案)|怎样(申请|申报|办理|领取|获得|享受|拿到|参加|加入|认定)|"
        r"如何(申请|申报|办理|领取|获得|享受|拿到|参加|加入|进入|认定|备案|兑现)|流程|步骤|手续|材料|资料|表格|截止|期限|"
        r"什么时候|何时|几月|哪天|多久|多长时间|到账|发放时间|窗口在|去哪|在哪(里)?(办|申请|报|交|领)|哪里(办|申请|交|报|领)|"
        r"网址|链接|入口|标准是|怎么算|怎么计算|计算方法|比例是|审批|审核|公示|报名|申报时间|申请时间|向谁申请|找谁申请|"
        r"要交|要提交|需要提交|需要准备|准备什么|具体要求|细则(在哪|哪里|怎么)|通知(在哪|哪里)|还没(收到|到账|发)|迟迟")),
    ("qualify", re.compile(
        r"能不能(申请|享受|拿|领|申报|参加|获得|入|进)|能否(申请|享受|拿|领|申报|获得)|可不可以(申请|享受|拿|领|申报)|"
        r"(可以|能)(申请|享受|拿|领|申报|获得|参加)[^,，。?？]{0,8}(吗|么|不)|有没有资格|有资格|符合|够不够|算不算|"
        r"(我们|我司|我公司|本公司|咱们|我厂|我企)[^,，。?？]{0,12}(能|可以)[^,，。?？]{0,6}(拿|领|享受|申请|获得)|"
        r"有(什么|哪些|啥)[^,，。?？]{0,8}(可以|能)(拿|领|享受|申请|获得)|能享受(哪些|什么|啥)|能拿(什么|哪些|啥|多少)|"
        r"适合(我们|我司)")),
    ("who", re.compile(
        r"找谁|谁负责|哪个部门|什么部门|哪个单位|归谁管|谁管|联系(方式|电话|人)|电话|热线|对接(的)?(人|领导|部门)|"
        r"(有没有|有无|是否有|有)[^,，。?？]{0,6}(对接|挂点|专人|联系)[^,，。?？]{0,4}(领导|人|部门)?|谁来(对接|服务|联系)|"
        r"挂点领导是谁|负责人")),
    ("conditions", re.compile(
        r"条件|要求|门槛|哪些企业|什么(样的)?企业|什么(样的)?公司|谁可以|适用(对象|范围)?|对象是|针对(哪些|什么)|资格")),
    ("amount", re.compile(
        r"多少钱|多少万|多少|几万|几百万|金额|额度|补(贴|助)多少|给多少|奖(励)?多少|最高|上限|多大|规模")),
)
PROCEDURE_TOPICS = {
    "材料": "申请材料", "资料": "申请材料", "表格": "申请材料", "截止": "截止时间", "期限": "办理期限",
    "什么时候": "时间安排", "何时": "时间安排", "几月": "时间安排", "多久": "办理时长", "多长时间": "办理时长",
    "到账": "资金到账时间", "发放": "发放安排", "流程": "办理流程", "步骤": "办理流程", "手续": "办理手续",
    "怎么算": "计算标准", "计算": "计算标准", "比例": "计算比例", "标准": "具体标准", "去哪": "办理地点",
    "在哪": "办理地点", "哪里": "办理地点", "网址": "申报入口", "链接": "申报入口", "入口": "申报入口",
    "审批": "审批安排", "审核": "审核安排", "公示": "公示安排", "报名": "报名方式",
}
# "我们能享受哪些政策": every rule-bearing policy, not only those the message names.
_MATCH_ALL = re.compile(
    r"(能|可以)(享受|申请|拿|领)(到)?(哪些|什么|啥)(政策|补贴|扶持|优惠|支持|资金|奖励)?|"
    r"(有|有没有)(什么|哪些|啥)(政策|补贴|扶持|优惠|支持|资金|奖励)[^,，。?？]{0,6}(可以|能)?(拿|享受|申请|领)|"
    r"(适合|符合)(我们|我司)的(政策|补贴)|帮(我们|我)(看看|查查|匹配|判断)")

# --- scope ----------------------------------------------------------------------------------------
# Other places: named cities and provinces, and the anonymised forms of public message boards (A市, 某省).
_REGIONS = (
    "深圳|广州|佛山|东莞|珠海|江门|惠州|肇庆|汕头|湛江|茂名|清远|韶关|阳江|河源|梅州|汕尾|潮州|揭阳|云浮|"
    "北京|上海|天津|重庆|杭州|苏州|南京|无锡|宁波|温州|武汉|成都|西安|长沙|郑州|厦门|福州|青岛|济南|合肥|"
    "南昌|南宁|昆明|贵阳|海口|沈阳|大连|长春|哈尔滨|石家庄|太原|呼和浩特|兰州|银川|西宁|乌鲁木齐|拉萨|"
    "澳门|香港|台湾|浙江|江苏|福建|山东|河南|河北|湖南|湖北|四川|陕西|山西|安徽|江西|广西|云南|贵州|海南|"
    "辽宁|吉林|黑龙江|内蒙古|甘肃|宁夏|青海|新疆|西藏"
)
_OTHER_REGION = re.compile(
    rf"({_REGIONS})|(?<![\u4e00-\u9fa5])[A-Za-zＡ-Ｚ某XxＸ][市省县区州盟旗]|某(个)?(地|地方|城市|市|省|县|区)|外地|外省|外市|本县|我县|县里|县级市")
# An individual's own matters, and city services: someone else answers those, and the letter is silent.
_PERSONAL = re.compile(
    r"社保|医保|公积金|养老金|退休|工资|欠薪|拖欠工资|个税|个人所得税|职称|户口|户籍|落户|入户|购房|买房|房贷|"
    r"租房|廉租房|公租房|离婚|结婚|生育|产假|失业金|低保|驾照|身份证|护照|签证|子女入学|上学|学位|高考|中考")
_CITY_SERVICE = re.compile(
    r"医院|看病|挂号|疫苗|道路|马路|修路|路灯|红绿灯|公交|地铁|停车|交通|公园|绿化|小区|物业|业委会|垃圾|"
    r"噪音|噪声|扰民|摊贩|摆摊|占道|违建|拆迁|学校|幼儿园|学区|供水|停水|停电|燃气|排水|污水|水浸|内涝|"
    r"天气|彩票|股票|基金推荐|炒股|菜价|电影|旅游|景点|外卖")
# What makes a message an enterprise matter even when it names a school or a road.
_ENTERPRISE = re.compile(
    r"企业|公司|工厂|厂|制造|专精特新|小巨人|单项冠军|股改|股份制|生产|产业|集群|车间|商户|营业执照|开办|"
    r"融资|上市|知识产权|专利|商标|质量奖|学徒|技能等级|招商|数字化|智能化|工业")
_ZHONGSHAN = re.compile(r"中山|火炬|翠亨|小榄|古镇|石岐|东区|西区|南区|五桂山|黄圃|东凤|南头|阜沙|三角|民众|"
                        r"横栏|港口|沙溪|大涌|板芙|神湾|坦洲|三乡|东升|南朗")

# --- courtesy and people --------------------------------------------------------------------------
_GREETING = re.compile(r"^(您好|你好|hi|hello|嗨|哈喽|早上好|下午好|晚上好|早|在吗|在不在|有人吗)")
_THANKS = re.compile(r"谢谢|多谢|感谢|谢了|辛苦了|thank")
_GOODBYE = re.compile(r"再见|拜拜|bye|没有了|没事了|先这样|就这些")
_BOT = re.compile(r"(你|您)是(不是)?(机器人|真人|人工|AI|ai)|机器人吗|是真人吗")
_POLITE = re.compile(
    r"您好|你好|在吗|在不在|打扰(一下|了|您了)?|麻烦(您|你)?(一下)?|请问(一下)?|谢谢(您|你)?(了|啦)?|多谢|感谢(您|你)?|"
    r"辛苦(了|啦)?|不好意思|冒昧|劳驾|再见|拜拜|好的|好|嗯|哦|啊|呀|呢|哈|[~～!！。.,，?？\s]")
# A request for a person, not a question about the 挂点 service or the contact line.
_WANTS_PERSON = re.compile(
    r"转人工|人工(客服|服务|坐席)?(在吗|呢)?$|找人工|要人工|接人工|真人(客服)?|人工客服|"
    r"(转|转给|转接|接通|帮我(联系|找)|我要找|我想找|找一下|联系一下|让)[^,，。?？]{0,10}(工作人员|客服|挂点领导|领导|专人|负责人|人工|同事)|"
    r"(请|让|叫|麻烦)[^,，。?？]{0,12}(联系我|给我打电话|打给我|回电|来电|回个电话|加我)|"
    r"(跟|和|同)(工作人员|人|真人|领导)(聊|说|谈|沟通)|投诉|我要反映|我要举报|"
    r"(约|预约)[^,，。?？]{0,6}(见面|上门|走访|面谈)")


@dataclass
class Understanding:
    """Everything one message says and asks."""

    text: str
    facts: dict[str, Any] = field(default_factory=dict)
    hypothetical: dict[str, Any] = field(default_factory=dict)
    mentioned: dict[str, Any] = field(default_factory=dict)
    aspect: str | None = None
    procedure_topic: str | None = None
    asks: bool = False
    scope: str = "in"
    courtesy: tuple[str, ...] = ()
    wants_person: bool = False
    match_all: bool = False
    uscc_error: str | None = None

    @property
    def content(self) -> str:
        """The message without politeness and punctuation: empty when it only greets or thanks."""
        return _POLITE.sub("", self.text)


def clauses(text: str) -> list[str]:
    """Normalised text cut at punctuation, the question mark kept with its clause."""
    parts, last = [], 0
    for match in _CLAUSE_END.finditer(text):
        parts.append(text[last:match.end()])
        last = match.end()
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


def is_question(clause: str) -> bool:
    """Whether a clause asks something."""
    return bool(_QUESTION.search(clause))


def split_facts(text: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Facts the owner states about their own firm, facts posed as a condition, and all facts named.

    A clause speaks about the firm when it names the owner's side (我们, 我司 …) or follows a clause
    that did; a declarative message with no question at all ("省级，增长35%") is about the firm too.
    A hypothetical clause (要是, 如果 …) only poses a condition. A question without a first person
    ("省级专精特新有什么补贴？") names the facts of its subject, not of the asker.
    """
    norm = normalize(text)
    parts = clauses(norm)
    any_question = any(is_question(p) for p in parts)
    stated: dict[str, Any] = {}
    posed: dict[str, Any] = {}
    named: dict[str, Any] = {}
    about_self = False
    hypothetical_run = False
    for part in parts:
        found = extract_facts(part).values
        found = {k: v for k, v in found.items() if k not in ("firm_name", "uscc", "revenue_wan")}
        named.update(found)
        first_person = bool(_FIRST_PERSON.search(part))
        if _HYPOTHETICAL.search(part):
            hypothetical_run = True
            posed.update(found)
            continue
        if hypothetical_run and not first_person and is_question(part):
            posed.update(found)  # "要是增长三成的话，能拿多少？" — still the condition's clause
            continue
        hypothetical_run = False
        about_self = about_self or first_person
        if first_person or (about_self and not is_question(part)) or not any_question:
            for key, value in found.items():
                stated.setdefault(key, value)
    return stated, posed, named


def speaks_for_firm(text: str) -> bool:
    """Whether the message speaks for the owner's own firm (我们, 我司 …) outside a hypothetical."""
    return any(_FIRST_PERSON.search(p) and not _HYPOTHETICAL.search(p) for p in clauses(normalize(text)))


def identity_facts(text: str) -> tuple[dict[str, Any], str | None]:
    """Firm name, credit code and revenue named anywhere in the message, and a credit-code problem."""
    facts = extract_facts(text)
    values = {k: v for k, v in facts.values.items() if k in ("firm_name", "uscc", "revenue_wan")}
    return values, facts.uscc_error


def aspect_of(text: str) -> str | None:
    """The aspect asked: procedure, qualify, who, conditions, amount; None for 'what is it'."""
    for name, pattern in ASPECTS:
        if pattern.search(text):
            return name
    return None


def procedure_topic(text: str) -> str:
    """What kind of procedural detail is asked for, in owners' words."""
    for key, topic in PROCEDURE_TOPICS.items():
        if key in text:
            return topic
    return "申请办法、材料和时间"


def scope_of(text: str) -> str:
    """``in``, or why the message is not a 中山 enterprise-policy matter: other_region, personal, city_service."""
    if _OTHER_REGION.search(text) and not _ZHONGSHAN.search(text):
        return "other_region"
    if _ENTERPRISE.search(text):
        return "in"
    if _PERSONAL.search(text):
        return "personal"
    if _CITY_SERVICE.search(text):
        return "city_service"
    return "in"


def courtesy_of(text: str) -> tuple[str, ...]:
    """The courtesies a message contains (greet, thanks, goodbye, bot), in that order."""
    found = []
    for name, pattern in (("greet", _GREETING), ("thanks", _THANKS), ("goodbye", _GOODBYE), ("bot", _BOT)):
        if pattern.search(text.lower() if name == "greet" else text):
            found.append(name)
    return tuple(found)


def understand(raw: str) -> Understanding:
    """Read one owner message (any script, width or numerals)."""
    text = normalize(raw)
    stated, posed, named = split_facts(text)
    identity, uscc_error = identity_facts(text)
    aspect = aspect_of(text)
    return Understanding(
        text=text,
        facts={**stated, **identity},
        hypothetical=posed,
        mentioned=named,
        aspect=aspect,
        procedure_topic=procedure_topic(text) if aspect == "procedure" else None,
        asks=any(is_question(p) for p in clauses(text)) or aspect is not None,
        scope=scope_of(text),
        courtesy=courtesy_of(text),
        wants_person=bool(_WANTS_PERSON.search(text)),
        match_all=bool(_MATCH_ALL.search(text)),
        uscc_error=uscc_error,
    )
