"""Spoken messages: pauses put back into voice input, self-corrections, talk about the line itself."""

from __future__ import annotations

import json

import pytest

from knowledge.pauses import MIN_RUN, MODEL, with_pauses
from knowledge.text import normalize, without_chat_markup, without_self_corrections
from knowledge.understand import asking_part, split_facts, understand

VOICE = "我们是做注塑的工厂五十几个工人今年打算贷款上一条自动化生产线贴息能不能享受"


def test_the_pause_model_is_trained_and_reports_how_well_it_finds_pauses() -> None:
    figures = json.loads(MODEL.read_text(encoding="utf-8"))["figures"]
    assert figures["gaps"] > 10_000
    assert figures["precision"] >= 0.8  # a wrong pause splits a clause that was whole


def test_a_voice_message_gets_its_pauses_back_and_only_its_question_is_asked() -> None:
    paused = with_pauses(normalize(VOICE))
    assert paused.replace(",", "") == normalize(VOICE)  # nothing but commas is added
    assert paused.count(",") >= 1
    assert asking_part(paused, lead_in=False).startswith("贴息")


def test_a_message_the_owner_punctuated_or_a_short_one_is_read_as_written() -> None:
    typed = "我们是省级专精特新,今年增长35%,增长补贴能拿吗?"
    assert with_pauses(typed) == typed
    short = normalize(VOICE)[: MIN_RUN - 1]
    assert with_pauses(short) == short


def test_a_story_in_one_breath_keeps_the_firms_facts_and_its_question() -> None:
    u = understand(
        "我哋系做水泵嘅早两年评咗省级专精特新今年市场都算稳不过原材料贵咗好多利润薄咗工人工资又年年加"
        "讲返产值去年产值8000万今年9200万可唔可以申请增长补贴"
    )
    assert u.facts["zjtx_level"] == "省级"
    assert u.facts["growth_pct"] == pytest.approx(15.0)
    assert u.scope == "in"  # 工资 is the story's, not a personal matter asked about


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("今年增长了3成,不对不对,是2成半,那个增长补贴能不能拿?", "今年增长了2成半,那个增长补贴能不能拿?"),
        ("我们是市级,呃,不对,是省级专精特新", "我们是省级专精特新"),
        ("那个工业设计大赛,2020年,不对,2021年那届", "那个工业设计大赛,2021年那届"),
        ("你说的对不对?", "你说的对不对?"),  # a question, not a correction
        ("这样做是不对的", "这样做是不对的"),
    ],
)
def test_a_self_correction_replaces_what_it_corrects(said: str, meant: str) -> None:
    assert without_self_corrections(said) == meant


def test_the_corrected_figure_is_the_firms_fact() -> None:
    u = understand("我们是省级专精特新，今年增长了三成，不对不对，是两成半，那个增长补贴能不能拿？")
    assert u.facts["growth_pct"] == pytest.approx(25.0)


@pytest.mark.parametrize(
    "text",
    ["喂，你好，喂喂，听得到吗？", "早晨啊，食咗饭未？", "哈哈不好意思，刚才按错了，发了一段语音，不用理。"],
)
def test_talk_about_the_line_itself_is_small_talk(text: str) -> None:
    assert understand(text).small_talk


@pytest.mark.parametrize("text", ["试一下社保怎么交", "测试一下股改资助有多少"])
def test_a_matter_named_beside_a_test_is_not_small_talk(text: str) -> None:
    assert not understand(text).small_talk


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("「张经理:股改有补贴吗」\n- - - - - - - - - - - - - - -\n这个呢?", "股改有补贴吗。这个呢?"),
        ("@惠企通 这条补多少钱?", "这条补多少钱?"),
        ("【转发】对专精特新企业增长30%的给予补贴", "据说,对专精特新企业增长30%的给予补贴"),
        (
            "我们产品外观被人抄了😤 中山有没有行政调解的地方?",
            "我们产品外观被人抄了， 中山有没有行政调解的地方?",
        ),
        ("股改资助多少[捂脸]", "股改资助多少"),
        ("👍", "👍"),  # a sticker alone is the whole message
        ("[抱拳]", "[抱拳]"),
        ("邮箱abc@qq.com 发给我", "邮箱abc@qq.com 发给我"),  # an address is no mention
    ],
)
def test_chat_markup_is_not_the_owners_words(typed: str, meant: str) -> None:
    assert without_chat_markup(normalize(typed)) == meant


def test_a_group_chats_own_talk_is_small_talk_and_its_request_for_a_person_a_handoff() -> None:
    assert understand("大家早上好☀️ 今天也是搬砖的1天[表情]").small_talk
    assert understand("欢迎新朋友入群[鼓掌]").small_talk
    assert not understand("欢迎新朋友入群，请问股改资助多少").small_talk
    assert understand("能不能拉1个工信局的工作人员进群？").wants_person
    assert understand("@惠企通 贴息够条件吗？").aspect == "qualify"
    assert understand("那个贷款贴息政策我们能用吗？").aspect == "qualify"
    assert understand("贷款可以用来买设备吗").aspect != "qualify"


@pytest.mark.parametrize(
    ("said", "level"),
    [
        ("我们是市级专精特新小巨人那个400万国家补贴我们能拿吗", "市级"),  # voice: no pause before the measure
        ("我们是国家级专精特新小巨人国家那个小巨人财政补贴我们能拿吗", "国家级小巨人"),
        ("您好,我司是市里认定的单项冠军培育企业", "单项冠军培育"),
    ],
)
def test_the_first_level_named_is_the_firms_the_next_names_a_measure(said: str, level: str) -> None:
    assert understand(said).facts.get("zjtx_level") == level


def test_what_a_peer_said_is_hearsay_not_another_firm_asked_about() -> None:
    u = understand("同行讲专精特新企业业绩做上去政府会俾钱系咪真㗎俾几多")
    assert u.other_firm is None
    assert u.aspect == "amount"


@pytest.mark.parametrize(
    ("said", "growth"),
    [
        ("今年增长咗45%有冇增长补贴", 45.0),  # a year's figure, then the question, in one breath
        ("今年增长咗三成五增长补贴得唔得", 35.0),  # the question after the measure it is about
        ("去年比前年增长了两成多一点增长补贴有戏吗", 20.0),
    ],
)
def test_a_years_figure_said_before_the_question_in_one_breath_is_the_firms(said: str, growth: float) -> None:
    assert understand(said, speaking=True).facts.get("growth_pct") == growth


@pytest.mark.parametrize(
    "said", ["专精特新企业增长三成有没有补贴", "专精特心增长三成能拿几多", "中山对制造业用电有没有补贴"]
)
def test_a_short_general_question_states_no_fact_of_the_firm(said: str) -> None:
    assert understand(said).facts == {}


def test_a_forwarded_policy_statement_is_not_the_firms_facts() -> None:
    forwarded = "【转发】对专精特新企业较上一年增长30%的，给予财政资金补贴……"
    assert understand(forwarded).facts == {}
    assert split_facts(forwarded)[0] == {}  # what the NLU pipeline's fact extractor reads too
    assert (
        understand("市级专精特新，增长三成五，准备股改").facts["growth_pct"] == 35.0
    )  # facts alone still are
