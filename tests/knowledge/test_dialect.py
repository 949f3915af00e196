"""Written Cantonese is read as Mandarin, and Mandarin text is left alone; owners' WeChat spaces end
clauses; a bare 公司 in a question is not a firm name; years after the letter are noticed."""

from __future__ import annotations

import pytest

from knowledge.facts import extract_facts
from knowledge.text import normalize
from knowledge.understand import clauses, later_year, split_facts, understand

CANTONESE = [
    ("我哋係省級專精特新，有冇得攞？", "我们是省级专精特新,有没有得拿?"),
    ("專精特新增長三成能拿幾多", "专精特新增长3成能拿多少"),
    ("中易办点样注册 网址係乜", "中易办怎样注册 网址是什么"),
    ("但系我哋唔打算股改", "但是我们不打算股改"),
    ("标识解析二级节点係边间公司做嘅", "标识解析二级节点是哪家公司做的"),
    ("麻烦叫我哋嘅挂点领导打个电话畀我", "麻烦叫我们的挂点领导打个电话给我"),
    ("股改资助同增长补贴可唔可以一齐攞", "股改资助同增长补贴可不可以一起拿"),
    ("唔该晒", "谢谢"),
    (
        "假如增长40%，系攞10万定100万？点计？",
        "假如增长40%,是拿10万还是100万?怎么计?",
    ),  # 定 between figures: or
    ("推荐咗几多间入去？", "推荐了多少家进去?"),
    ("我哋定咗明年做股改，10万定金已经畀咗", "我们定了明年做股改,10万定金已经给了"),  # 定 is not always "or"
    ("股改资助系一次过畀定分期畀？", "股改资助是1次过给还是分期给?"),  # 定 between two ways: or
    ("资助系直接畀企业定畀银行㗎？", "资助是直接给企业还是给银行㗎?"),
    ("呢个系唔系一定要市级？", "这个是不是一定要市级?"),  # 一定, 规定, 决定 stay words
    ("佢哋规定几时交？", "他们规定什么时候交?"),
    ("快速维权中心喺边？电话几多？", "快速维权中心在哪?电话多少?"),
    ("办事大厅喺边度？", "办事大厅在哪里?"),
    ("研发费用加计扣除点计", "研发费用加计扣除怎么计"),  # 点 + a verb asks how, even alone
    ("协同创新试点报名要咩材料", "协同创新试点报名要什么材料"),  # 试点 is a word
]
MANDARIN = [
    "联系我们的系统关系",
    "仲裁委员会",
    "中山市数字化转型体系",
    "一系列措施",
    "我们是市级专精特新",
    "试点计划有哪些",  # 试点, 节点, 挂点 are words: their 点 asks nothing
    "二级节点计算能力",
]


@pytest.mark.parametrize(("raw", "expected"), CANTONESE)
def test_cantonese_reads_as_mandarin(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("text", MANDARIN)
def test_mandarin_is_left_alone(text: str) -> None:
    assert normalize(text) == text


def test_a_cantonese_question_is_a_question_and_its_negation_a_negation() -> None:
    assert understand("专精特心增长三成能拿几多").asks
    stated, _, _ = split_facts("市级专精特新 但系我哋唔打算股改 咁股改资助仲有冇得攞")
    assert stated == {"zjtx_level": "市级", "shareholding_reform": False}


def test_spaces_between_words_end_clauses() -> None:
    assert clauses("我们是市级专精特新 小巨人那个400万国家补贴我们能拿吗") == [
        "我们是市级专精特新",
        "小巨人那个400万国家补贴我们能拿吗",
    ]
    stated, _, _ = split_facts("我们是市级专精特新 小巨人那个400万国家补贴我们能拿吗")
    assert stated["zjtx_level"] == "市级"  # the level the owner states, not the programme asked about


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("开个公司现在要多久", None),
        ("标识解析二级节点是哪家公司做的", None),
        ("每家公司能拿多少", None),
        ("我们是中山市明辉灯饰有限公司", "中山市明辉灯饰有限公司"),
        ("我们公司叫华锐五金公司", "华锐五金公司"),
        ("中山市欧雅家具有限公司想问下补贴", "中山市欧雅家具有限公司"),
    ],
)
def test_firm_names_need_a_name(text: str, name: str | None) -> None:
    assert extract_facts(text).values.get("firm_name") == name


def test_years_after_the_letter() -> None:
    assert later_year("二〇二三年专精特新增长补贴标准有没有变") == 2023
    assert later_year("2021年立项了几个") is None
    assert later_year("今年有没有") is None


@pytest.mark.parametrize(
    ("text", "mandarin"),
    [
        ("增长30%系按营收计定系按产值计？", "增长30%是按营收计还是按产值计?"),
        ("旧年营收1.2亿，今年做到1.68亿，可唔可以申请", "去年营收1.2亿,今年做到1.68亿,可不可以申请"),
        ("有几多间企业攞过", "有多少家企业拿过"),
        ("小巨人嗰400万系每间200万", "小巨人那400万是每家200万"),
        ("你系咪机械人嚟㗎", "你是不是机器人来㗎"),
    ],
)
def test_cantonese_words_for_or_last_year_firms_and_robot(text: str, mandarin: str) -> None:
    assert normalize(text) == mandarin


def test_a_level_naming_the_measure_asked_about_is_not_the_firms() -> None:
    stated, _, named = split_facts("那个小巨人400万国家补贴我们可以拿吗")
    assert "zjtx_level" not in stated
    assert named["zjtx_level"] == "国家级小巨人"
    stated, _, _ = split_facts("我们是小巨人企业，补贴能拿多少")
    assert stated["zjtx_level"] == "国家级小巨人"


def test_a_bare_statement_is_the_firms_once_the_conversation_spoke_for_it() -> None:
    assert "growth_pct" not in split_facts("增长了三成五，增长补贴行不行？")[0]
    assert split_facts("增长了三成五，增长补贴行不行？", speaking=True)[0]["growth_pct"] == 35.0


def test_a_figure_of_a_given_year_is_the_speakers() -> None:
    """ "今年增长咗45%" reports what happened to someone: the owner's firm, not a condition."""
    assert split_facts("今年增长咗45%，有冇增长补贴？")[0]["growth_pct"] == 45.0
    assert "growth_pct" not in split_facts("专精特新企业今年增长了30%，补贴多少？")[0]
    assert "growth_pct" not in split_facts("要是今年增长三成，能拿多少？")[0]


@pytest.mark.parametrize(
    ("text", "aspect", "topic"),
    [
        ("38号函而家仲有冇效？有冇被新文件取代咗？", "procedure", "现行安排"),
        ("通过市长直通车提的工单，一般几天有回复？", "procedure", "办理时长"),
        ("国家级小巨人企业也有挂点领导吗？", "qualify", None),
        ("投资额多少以上才算重点项目？", "conditions", None),
    ],
)
def test_status_durations_also_and_thresholds_are_read_as_asked(
    text: str, aspect: str, topic: str | None
) -> None:
    u = understand(text)
    assert (u.aspect, u.procedure_topic) == (aspect, topic)


def test_this_before_a_classifier_and_recently() -> None:
    from knowledge.understand import understand

    assert "这边" in understand("扩产中山呢边冇地，想喺佛山顺德开分厂，点申请？").text
    assert understand("呢排好忙，股改资助几多呢？").text.startswith("最近")
