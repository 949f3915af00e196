"""Action unit tests: recorded trackers (as Rasa posts them) and a fresh CollectingDispatcher each.

The knowledge base is the real one, built under a temporary directory (see conftest.py); the
gateway is an ``httpx.MockTransport`` and the handoff outbox a real SQLite file under tmp_path.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from stdnum.cn import uscc

from actions.gateway_client import HandoffClient
from actions.handoff import hand_off
from actions.profile import turn_facts
from actions.respond import ActionRespond
from bot.facts_extractor import fact_entities
from huiqitong.settings import Settings
from knowledge.understand import split_facts

GROWTH_QUOTE = "我市对专精特新企业较上一年增长 30%的，给予 10-100 万元的财政资金补贴。"
REFORM_QUOTE = "对已认定为市级专精特新或单项冠军培育企业实施股份制改造的企业，给予最高不超过 200 万元资助。"
OFFER_BUTTONS = [{"title": "转人工", "payload": "/request_human"}, {"title": "不用了", "payload": "/deny"}]
SECRET = "test-handoff-secret"
GATEWAY_OK = {
    "escalation_id": 7,
    "status": "open",
    "liaison": "张三（市工业和信息化局）",
    "due_text": "今天 17:30 前",
}
USCC_BASE = "91442000MA4UQ8XXX"
USCC_VALID = USCC_BASE + uscc.calc_check_digit(USCC_BASE)
USCC_WRONG = USCC_BASE + ("0" if USCC_VALID[-1] != "0" else "1")


def user_event(
    text: str, intent: str, timestamp: float, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A UserUttered event as it appears in the tracker Rasa posts to the action server."""
    found = entities if entities is not None else fact_entities(text)  # what bot.facts_extractor adds
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.93}, "entities": found}
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": parse_data,
        "input_channel": "rest",
        "metadata": {},
    }


def state(sender_id: str, slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """A tracker state whose latest message is its last user event."""
    last = [e for e in events if e["event"] == "user"][-1]
    return {
        "sender_id": sender_id,
        "slots": slots,
        "latest_message": {**last["parse_data"], "metadata": last["metadata"]},
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }


LISTEN = {"event": "action", "timestamp": 1718000000.0, "name": "action_listen"}
ASK_GROWTH_SUBSIDY = state(
    "owner-growth",
    {},
    [
        LISTEN,
        user_event("专精特新企业增长30%有什么补贴", "ask_policy", 1718000001.0),
    ],
)
ASK_REFORM_PROCEDURE = state(
    "owner-procedure",
    {},
    [
        LISTEN,
        user_event("股改资助怎么申请，要交什么材料", "ask_procedure", 1718000001.0),
    ],
)
ASK_OFF_TOPIC = state(
    "owner-offtopic",
    {},
    [
        LISTEN,
        user_event("公积金怎么提取", "ask_policy", 1718000001.0),
    ],
)
STATES_FACTS = state(
    "owner-facts",
    {},
    [
        LISTEN,
        user_event("我们是省级专精特新，去年增长了百分之三十五", "provide_firm_info", 1718000001.0),
    ],
)
ANSWERS_ASKED_FACT = state(
    "owner-affirm",
    {"asked_fact": "shareholding_reform", "zjtx_level": "市级"},
    [
        LISTEN,
        user_event("我们能拿股改资助吗", "ask_eligibility", 1718000001.0),
        {"event": "bot", "timestamp": 1718000002.0, "text": "贵企业是否实施股份制改造？"},
        user_event("是的", "affirm", 1718000003.0),
    ],
)
DENIES_ASKED_FACT = state(
    "owner-deny",
    {"asked_fact": "shareholding_reform", "zjtx_level": "市级"},
    [
        LISTEN,
        user_event("我们能拿股改资助吗", "ask_eligibility", 1718000001.0),
        {"event": "bot", "timestamp": 1718000002.0, "text": "贵企业是否实施股份制改造？"},
        user_event("没有", "deny", 1718000003.0),
    ],
)
BUTTON_ENTITY = state(
    "owner-button",
    {"asked_fact": "industry"},
    [
        LISTEN,
        user_event(
            '/provide_firm_info{"industry":"灯饰"}',
            "provide_firm_info",
            1718000001.0,
            [{"entity": "industry", "value": "灯饰", "start": 0, "end": 0}],
        ),
    ],
)
ASK_GROWTH_ELIGIBILITY = state(
    "owner-eligible",
    {
        "zjtx_level": "省级",
        "growth_pct": 35.0,
        "asked_fact": "growth_pct",
        "pending_targets": ["zjtx-growth-subsidy"],
    },
    [
        LISTEN,
        user_event("我们能拿增长补贴吗", "ask_eligibility", 1718000001.0),
        {"event": "bot", "timestamp": 1718000002.0, "text": "贵企业较上一年增长了多少？"},
        user_event("35%", "provide_firm_info", 1718000003.0),
    ],
)
FACTS_AND_QUESTION = state(
    "owner-one-turn",
    {"zjtx_level": "市级", "shareholding_reform": True},
    [
        LISTEN,
        user_event("我们市级专精特新，准备搞股份制改造，资助给多少？", "ask_policy", 1718000001.0),
    ],
)
MUNICIPAL_REFORMING_FIRM = state(
    "owner-match",
    {"zjtx_level": "市级", "growth_pct": 35.0, "shareholding_reform": True},
    [
        LISTEN,
        user_event("我们能享受哪些政策", "match_policies", 1718000001.0),
    ],
)
EMPTY_PROFILE = state(
    "owner-empty",
    {},
    [
        LISTEN,
        user_event("我们能享受哪些政策", "match_policies", 1718000001.0),
    ],
)
NOT_ZJTX = state(
    "owner-not-zjtx",
    {"zjtx_level": "无"},
    [
        LISTEN,
        user_event("我们能享受哪些政策", "match_policies", 1718000001.0),
        {"event": "bot", "timestamp": 1718000002.0, "text": "贵企业是否专精特新？"},
        user_event("不是专精特新", "provide_firm_info", 1718000003.0),
    ],
)
CREDIT_CODE_OK = state(
    "owner-uscc-ok",
    {},
    [
        LISTEN,
        user_event(f"我们的统一社会信用代码是{USCC_VALID}", "provide_firm_info", 1718000001.0),
    ],
)
CREDIT_CODE_WRONG = state(
    "owner-uscc-wrong",
    {},
    [
        LISTEN,
        user_event(f"我们的统一社会信用代码是{USCC_WRONG}", "provide_firm_info", 1718000001.0),
    ],
)
WANTS_A_PERSON = state(
    "owner-handoff",
    {
        "zjtx_level": "省级",
        "shareholding_reform": True,
        "open_question": "股改资助怎么申请，要交什么材料",
        "last_sources": ["zjtx-shareholding-reform"],
        "handoff_offered": True,
    },
    [
        LISTEN,
        user_event("股改资助怎么申请，要交什么材料", "ask_procedure", 1718000001.0),
        {"event": "bot", "timestamp": 1718000002.0, "text": "答复函没有写明申请材料。"},
        user_event("转人工", "request_human", 1718000003.0),
    ],
)
EXPECTED_PACKET = {
    "sender_id": "owner-handoff",
    "channel": "rest",
    "firm": {"name": None, "uscc": None},
    "intent": "ask_procedure",
    "reason": "user_request",
    "slots": {"zjtx_level": "省级", "shareholding_reform": True},
    "question": "股改资助怎么申请，要交什么材料",
    "citations": [
        {
            "policy_id": "zjtx-shareholding-reform",
            "title": "专精特新股份制改造资助",
            "section": "三（二）",
            "departments": ["市工业和信息化局"],
        }
    ],
    "last_turns": [
        {"role": "user", "text": "股改资助怎么申请，要交什么材料", "timestamp": 1718000001.0},
        {"role": "bot", "text": "答复函没有写明申请材料。", "timestamp": 1718000002.0},
        {"role": "user", "text": "转人工", "timestamp": 1718000003.0},
    ],
}


def tracker(recorded: dict[str, Any]) -> Tracker:
    return Tracker.from_dict(json.loads(json.dumps(recorded)))


def run(action: Any, recorded: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run an action on a recorded tracker: (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(recorded), {}))
    return events, dispatcher.messages


def first_message(
    said: str, intent: str = "ask_policy", sender: str = "owner-first"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run action_respond on a conversation's first message: (events, messages)."""
    return run(ActionRespond(), state(sender, {}, [LISTEN, user_event(said, intent, 1718000001.0)]))


def client_settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        kb_path=tmp_path / "unused.db",
        handoff_secret=SECRET,
        handoff_url="http://gateway.test/internal/handoff",
    )


def gateway(status: int, body: dict[str, Any], posted: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handler)


def outbox_rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(tmp_path / "handoff_outbox.db")
    rows = con.execute(
        "SELECT id, sender_id, sent_at IS NOT NULL, attempts, last_error FROM outbox ORDER BY id"
    ).fetchall()
    con.close()
    return rows


def test_answer_leads_with_the_amount_then_quotes_and_cites_with_the_letters_date() -> None:
    events, messages = run(ActionRespond(), ASK_GROWTH_SUBSIDY)
    assert len(messages) == 1
    message = messages[0]
    lead, quote = message["text"].split("\n")[:2]
    assert "10-100 万元" in lead
    assert (
        quote
        == f"答复函原文（专精特新企业增长补贴）：“{GROWTH_QUOTE}”（依据：答复函 三（二），2022年6月8日；负责部门：市工业和信息化局）"
    )
    assert message["buttons"] == [
        {"title": "帮我判断我们企业是否符合", "payload": "我们企业能享受专精特新企业增长补贴吗？"}
    ]
    assert message["custom"]["sources"] == [
        {
            "policy_id": "zjtx-growth-subsidy",
            "title": "专精特新企业增长补贴",
            "section": "三（二）",
            "cited_as": "答复函",
        },
    ]
    assert events == [
        SlotSet("open_question", "专精特新企业增长30%有什么补贴"),
        SlotSet("last_sources", ["zjtx-growth-subsidy"]),
    ]


def test_an_answer_withdraws_a_pending_offer_of_a_person() -> None:
    recorded = copy.deepcopy(ASK_GROWTH_SUBSIDY)
    recorded["slots"]["handoff_offered"] = True
    events, _ = run(ActionRespond(), recorded)
    assert events[-1] == SlotSet("handoff_offered", False)


def test_a_procedure_question_says_the_letter_is_silent_and_labels_the_related_record() -> None:
    events, messages = run(ActionRespond(), ASK_REFORM_PROCEDURE)
    assert len(messages) == 1
    message = messages[0]
    assert message["text"].startswith("答复函没有写明申请材料。")
    assert "不是对这个问题的回答" in message["text"]
    assert REFORM_QUOTE in message["text"]
    assert message["buttons"] == OFFER_BUTTONS
    assert message["custom"] == {
        "sources": [
            {
                "policy_id": "zjtx-shareholding-reform",
                "title": "专精特新股份制改造资助",
                "section": "三（二）",
                "cited_as": "答复函",
            },
        ]
    }
    assert events == [
        SlotSet("handoff_offered", True),
        SlotSet("open_question", "股改资助怎么申请,要交什么材料"),
        SlotSet("last_sources", ["zjtx-shareholding-reform"]),
    ]


def test_whether_a_planned_measure_has_happened_is_beyond_a_2022_letter() -> None:
    _, messages = first_message("百亿母基金现在设立了吗？", "ask_procedure", "owner-plan")
    text = messages[0]["text"]
    assert text.startswith("答复函没有写明2022年6月以后的进展。")
    assert "不是对这个问题的回答" in text  # the plan itself, shown as related, never as the answer
    assert "计划年内" in text
    assert "百亿级" in text
    assert messages[0]["buttons"] == OFFER_BUTTONS
    # A measure the letter reports as done is answered from its own account.
    _, messages = first_message("项目落地协同管理平台上线了吗？", "ask_procedure", "owner-done")
    assert "原文" in messages[0]["text"]
    assert not messages[0]["text"].startswith("答复函没有写明")


# The firm's story the label-keeping ``story`` rewrite puts before a question (bot/eval_dialogue.py).
FIRM_STORY = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。"


def reply_to(sender: str, message: str, intent: str = "ask_policy") -> str:
    _, messages = run(ActionRespond(), state(sender, {}, [LISTEN, user_event(message, intent, 1718000001.0)]))
    return messages[0]["text"]


def test_another_firms_award_and_a_titles_criteria_are_declined_and_a_dated_event_answered() -> None:
    neighbour = reply_to("owner-other", "我们隔壁的中山市恒达五金有限公司有没有拿到集群组合支持？")
    assert neighbour.startswith("答复函没有写明隔壁的中山市恒达五金有限公司等具体企业的情况。")
    criteria = reply_to("owner-title", "评专精特新要满足什么条件？营收要达到多少？")
    assert criteria.startswith("答复函没有写明评定/认定专精特新的条件。")
    assert "不是对这个问题的回答" in criteria  # the growth subsidy, shown as related, never as the answer
    provincial = reply_to("owner-level", "股改资助，省级专精特新能不能拿？")
    assert provincial.startswith(
        "答复函没有写明专精特新认定级别为省级的企业能否适用。"
    )  # the letter names 市级
    issued = reply_to("owner-date", "市政府那个一号文系几时印发嘅？")
    assert "2022年1月" in issued
    assert "原文" in issued
    assert not issued.startswith("答复函没有写明")


def test_the_question_not_the_story_decides_between_records_of_equal_evidence() -> None:
    # 领导 is evidence for the 挂点 service and for 书记市长直通车 alike; 镇里 and 打电话 in the story are no
    # reason to pick the 专精特新 service for a firm that wants to reach the city's leaders
    reply = reply_to(
        "owner-channel",
        "上个月我们报建一个仓库，卡在镇里两个多月没动静，打电话过去每次都说在走流程，老板很火。"
        "企业有困难想直接向市里领导反映，有没有什么渠道？",
    )
    assert reply.startswith("优化升级“书记市长直通车”功能")


def test_a_story_of_the_firm_before_a_question_of_what_a_measure_is_gets_the_answer() -> None:
    story = FIRM_STORY
    what = reply_to("owner-story-what", story + "协同创新试点那个组合支持具体是什么模式？")
    assert "政府政策+智能制造供应商+融资担保+产业链中小企业" in what
    assert "信息不足" not in what
    assert "符合" not in what
    # asked for the firm itself, the same story gets the verdict
    ours = reply_to("owner-story-ours", story + "协同创新试点那个组合支持我们能不能参加？")
    assert "【特色产业集群产业链协同创新试点（组合支持）】" in ours


def test_a_person_asked_for_is_spoken_of_where_the_record_assigns_one() -> None:
    assigned = reply_to("owner-assigned", "专精特新企业有冇专人跟进㗎？听人讲有领导挂点")
    assert assigned.startswith("针对省市专精特新企业建立专门线上工作群")
    # a record that assigns nobody does not say who reviews
    nobody = reply_to("owner-nobody", "股改资助有没有专人负责审核？")
    assert nobody.startswith("答复函没有写明“专人”方面的内容。")


def test_a_request_or_a_count_inside_politeness_is_no_greeting() -> None:
    chore = reply_to("owner-chore", "您好，打扰一下，帮我写一段给客户的新年祝福 谢谢！", "greet")
    assert chore.startswith("抱歉，这个问题不在我能解答的范围内。")
    count = reply_to("owner-count", "您好，打扰一下，省机器人骨干企业中山有几间 谢谢！", "greet")
    assert count.startswith("中山拥有省机器人骨干企业3家。")


def test_words_typed_as_a_search_or_a_world_question_inside_politeness_are_no_greeting() -> None:
    search = reply_to("owner-search", "您好，打扰一下，贴息 银行 谢谢！", "greet")
    assert "原文" in search
    assert "贴息" in search
    world = reply_to("owner-world", "您好，打扰一下，今天会不会打台风？ 谢谢！", "greet")
    assert world.startswith("抱歉，这个问题不在我能解答的范围内。")
    # a question to the bot itself is small talk
    _, bot = run(
        ActionRespond(), state("owner-there", {}, [LISTEN, user_event("晚上好呀，还在上班吗", "greet", 1.0)])
    )
    assert [m.get("response") for m in bot] == ["utter_greet"]
    # a long story typed by voice between courtesies is read as voice: the question decides, not the trade
    story = reply_to(
        "owner-voice-polite",
        "您好，打扰一下，我哋係火炬开发区做电子元件嘅旧年啱啱搬咗新厂房成日都唔知政府出咗咩政策"
        "隔离厂嘅老细话政府有个平台可以推送惠企政策我想知道嗰个平台叫乜嘢名 谢谢！",
        "greet",
    )
    assert "中易办" in story
    assert not story.startswith("答复函没有写明")


def test_the_question_after_a_story_decides_what_is_asked_about() -> None:
    story = FIRM_STORY
    # a sentence asking of firms of a kind in general: what the letter leaves open for them is said
    general = reply_to("owner-story-general", story + "省级专精特新企业做股份制改造，有冇资助？")
    assert general.startswith("答复函没有写明专精特新认定级别为省级的企业能否适用。")
    # voice typed after the story: its question decides, not the trade in the same run
    voice = reply_to(
        "owner-story-voice",
        story
        + "我们做灯具的新款刚上市一个月就被隔壁镇的厂抄了外观一模一样客户都跑过去了想问下中山有没有地方可以帮企业快速维权的",
    )
    assert "快速维权" in voice
    assert not voice.startswith("答复函没有写明")
    # beside what the record names: the story is the firm's, the question is not
    banks = reply_to("owner-story-banks", story + "除咗中行，工行建行有冇类似嘅专精特新对接活动？")
    assert banks.startswith("答复函没有写明“工行”方面的内容。")
    # a world question after the firm's story is no matter of the letter
    dinner = reply_to("owner-story-dinner", story + "今晚食咩好")
    assert dinner.startswith("抱歉，这个问题不在我能解答的范围内。")
    # the kind of firm the story tells of is the owner's, not a kind asked about
    growth = reply_to(
        "owner-story-kind",
        "您好，我是三角镇一家纺织企业的财务。年底要给董事会做一份政策汇总，其中涉及市里对专精特新企业的增长补贴。"
        "具体是增长多少、补贴区间是多少？",
    )
    assert "30%" in growth
    assert not growth.startswith("答复函没有写明")


def test_an_individuals_matter_is_out_of_scope_and_cites_nothing() -> None:
    events, messages = run(ActionRespond(), ASK_OFF_TOPIC)
    assert [(m["buttons"], m.get("custom")) for m in messages] == [([], {})]
    assert "不在我能解答的范围内" in messages[0]["text"]
    assert "答复函原文" not in messages[0]["text"]
    assert events == [SlotSet("last_sources", [])]


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (STATES_FACTS, {"zjtx_level": "省级", "growth_pct": 35.0}),
        (ANSWERS_ASKED_FACT, {"shareholding_reform": True}),
        (DENIES_ASKED_FACT, {"shareholding_reform": False}),
        (BUTTON_ENTITY, {"industry": "灯饰"}),
        (ASK_GROWTH_SUBSIDY, {}),
        (ASK_OFF_TOPIC, {}),
    ],
    ids=[
        "stated",
        "affirm-to-asked-fact",
        "deny-to-asked-fact",
        "button-entity",
        "policy-question-is-not-about-the-asker",
        "nothing",
    ],
)
def test_turn_facts_are_what_the_message_states_or_answers(recorded: dict[str, Any], expected: dict) -> None:
    assert turn_facts(tracker(recorded)) == expected


@pytest.mark.parametrize(
    ("text", "stated", "posed"),
    [
        (
            "我们是省级专精特新，今年比去年多了四成，有什么补贴可以拿？",
            {"zjtx_level": "省级", "growth_pct": 40.0},
            {},
        ),
        (
            "我们市级专精特新，准备搞股份制改造，资助给多少？",
            {"zjtx_level": "市级", "shareholding_reform": True},
            {},
        ),
        ("专精特新企业增长超过三成，补贴有多少？", {}, {}),
        ("要是增长三成的话能拿多少", {}, {"growth_pct": 30.0}),
        ("如果我们搞股改，能给多少", {}, {"shareholding_reform": True}),
        ("省级，增长35%", {"zjtx_level": "省级", "growth_pct": 35.0}, {}),
    ],
    ids=[
        "facts-then-question",
        "planned-reform",
        "general-question",
        "hypothetical",
        "hypothetical-first-person",
        "bare-facts",
    ],
)
def test_fact_entities_are_only_what_the_owner_states_about_the_firm(
    text: str, stated: dict, posed: dict
) -> None:
    assert {e["entity"]: e["value"] for e in fact_entities(text)} == stated
    assert split_facts(text)[1] == posed


def test_facts_and_a_question_in_one_message_get_the_verdict_in_that_turn() -> None:
    events, messages = run(ActionRespond(), FACTS_AND_QUESTION)
    text = messages[0]["text"]
    assert text.startswith("按您说的情况，贵企业符合【专精特新股份制改造资助】的条件。")
    assert "✅【专精特新股份制改造资助】符合" in text
    assert "200 万元" in text
    assert len(messages) == 1  # everything decided: no question follows
    assert SlotSet("asked_fact", None) in events


def test_a_verdict_shows_what_is_decided_then_asks_one_fact() -> None:
    recorded = state(
        "owner-form",
        {"zjtx_level": "省级"},
        [
            LISTEN,
            user_event("我们能拿增长补贴吗", "ask_eligibility", 1718000001.0),
        ],
    )
    events, messages = run(ActionRespond(), recorded)
    assert "❔【专精特新企业增长补贴】信息不足" in messages[0]["text"]
    assert "10-100 万元" in messages[0]["text"]
    assert messages[1]["text"].startswith("贵企业较上一年增长了多少？")
    assert len(messages) == 2
    assert SlotSet("asked_fact", "growth_pct") in events
    assert SlotSet("pending_targets", ["zjtx-growth-subsidy"]) in events


def test_the_answer_to_the_asked_fact_completes_the_verdict() -> None:
    events, messages = run(ActionRespond(), ASK_GROWTH_ELIGIBILITY)
    text = messages[0]["text"]
    assert "✅【专精特新企业增长补贴】符合" in text
    assert f"条件原文：“{GROWTH_QUOTE}”" in text
    assert "根据您提供的信息（专精特新认定级别：省级；较上一年增长率：35%），对照答复函：" in text
    assert messages[0]["custom"]["verdicts"] == [
        {
            "policy_id": "zjtx-growth-subsidy",
            "status": "符合",
            "reasons": ["专精特新认定级别：省级", "较上一年增长率35%，达到答复函要求的30%"],
        }
    ]
    assert SlotSet("asked_fact", None) in events


def test_match_policies_lists_what_a_municipal_reforming_firm_matches() -> None:
    events, messages = run(ActionRespond(), MUNICIPAL_REFORMING_FIRM)
    text = messages[0]["text"]
    verdicts = {v["policy_id"]: v["status"] for v in messages[0]["custom"]["verdicts"]}
    shown = [s["policy_id"] for s in messages[0]["custom"]["sources"]]
    assert text.startswith("按您说的情况，贵企业符合：")
    assert "✅【专精特新企业增长补贴】符合" in text
    assert "✅【专精特新股份制改造资助】符合" in text
    assert verdicts["little-giant-national-subsidy"] == "不符合"
    assert "little-giant-national-subsidy" not in shown
    matched = [pid for pid in shown if verdicts[pid] == "符合"]
    assert shown[: len(matched)] == matched  # matches first, largest benefit first, then the undecided
    assert matched[0] == "zjtx-shareholding-reform"
    assert SlotSet("last_sources", shown) in events


def test_match_policies_with_an_empty_profile_asks_only_the_level() -> None:
    events, messages = run(ActionRespond(), EMPTY_PROFILE)
    assert len(messages) == 1  # nothing decided, nothing listed: one message with the one question
    assert messages[0]["text"] == "可以，我按答复函逐条帮您判断。贵企业是否已认定为专精特新企业？是哪一级？"
    assert {b["payload"] for b in messages[0]["buttons"]} >= {'/provide_firm_info{"zjtx_level": "省级"}'}
    assert SlotSet("asked_fact", "zjtx_level") in events


def test_politeness_never_overrides_the_question() -> None:
    recorded = state(
        "owner-polite",
        {},
        [
            LISTEN,
            user_event(
                "您好，打扰了，想请教一下专精特新企业增长补贴最多给多少？麻烦了，谢谢！",
                "thanks",
                1718000001.0,
            ),
        ],
    )
    _, messages = run(ActionRespond(), recorded)
    assert "10-100 万元" in messages[0]["text"]


def test_a_question_about_the_liaison_service_is_answered_not_handed_off() -> None:
    events, messages = first_message("专精特新企业有没有对接的领导？", "request_human", "owner-liaison")
    assert "挂点服务" in messages[0]["text"]
    assert "（依据：答复函 三（一）" in messages[0]["text"]
    assert ConversationPaused() not in events


@pytest.mark.parametrize("text", ["我们小区要改造，什么时候开工", "A市专精特新补贴多少", "公积金怎么提取"])
def test_other_places_and_livelihood_matters_are_out_of_scope(text: str) -> None:
    _, messages = run(
        ActionRespond(), state("owner-oos", {}, [LISTEN, user_event(text, "ask_policy", 1718000001.0)])
    )
    assert "不在我能解答的范围内" in messages[0]["text"]
    assert "（依据：" not in messages[0]["text"]


def test_a_generic_word_shared_with_a_record_is_no_answer() -> None:
    _, messages = run(
        ActionRespond(),
        state(
            "owner-generic",
            {},
            [LISTEN, user_event("我们公司想了解研发费用加计扣除的比例", "ask_policy", 1718000001.0)],
        ),
    )
    assert messages[0]["text"].startswith("中工信函〔2022〕38号答复函没有涉及这个问题")
    assert "答复函原文" not in messages[0]["text"]


def test_a_valid_credit_code_is_confirmed() -> None:
    _, messages = run(ActionRespond(), CREDIT_CODE_OK)
    assert f"统一社会信用代码：{USCC_VALID}（校验通过）" in messages[0]["text"]


def test_a_wrong_check_digit_is_explained() -> None:
    events, messages = run(ActionRespond(), CREDIT_CODE_WRONG)
    assert events == [SlotSet("uscc", None)]
    assert [m["text"] for m in messages] == [
        f"统一社会信用代码 {USCC_WRONG} 最后一位校验码不对，请核对后重新输入。"
    ]


def test_hand_off_posts_the_packet_and_pauses_the_bot(tmp_path: Path) -> None:
    posted: list[httpx.Request] = []
    client = HandoffClient(client_settings(tmp_path), transport=gateway(200, GATEWAY_OK, posted))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(hand_off(dispatcher, tracker(WANTS_A_PERSON), "user_request", client=client))
    assert events == [SlotSet("handoff_offered", False), ConversationPaused()]
    assert {"event": "pause", "timestamp": None} in events
    assert len(posted) == 1
    request = posted[0]
    assert (request.method, str(request.url)) == ("POST", "http://gateway.test/internal/handoff")
    assert request.headers["X-Handoff-Secret"] == SECRET
    assert json.loads(request.content) == EXPECTED_PACKET
    assert [(m["text"], m["custom"]) for m in dispatcher.messages] == [
        (
            "已为您转接张三（市工业和信息化局），工作人员将在今天 17:30 前回复。在此期间您发的消息会直接转给工作人员，机器人暂停作答。",
            {"handoff": {"escalation_id": 7, "status": "open", "liaison": "张三（市工业和信息化局）"}},
        )
    ]
    assert client.pending() == []
    assert outbox_rows(tmp_path) == [(1, "owner-handoff", 1, 1, None)]


def test_hand_off_with_the_gateway_down_keeps_the_packet_and_says_so(tmp_path: Path) -> None:
    down: list[httpx.Request] = []
    client = HandoffClient(client_settings(tmp_path), transport=gateway(503, {"detail": "unavailable"}, down))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(hand_off(dispatcher, tracker(WANTS_A_PERSON), "user_request", client=client))
    assert events == [SlotSet("handoff_offered", False)]
    assert ConversationPaused() not in events
    assert len(dispatcher.messages) == 1
    assert "郝毫保" in dispatcher.messages[0]["text"]
    assert "88308273" in dispatcher.messages[0]["text"]
    assert client.pending() == [(1, EXPECTED_PACKET)]
    assert len(down) == 1
    [(row_id, sender, sent, attempts, error)] = outbox_rows(tmp_path)
    assert (row_id, sender, sent, attempts) == (1, "owner-handoff", 0, 1)
    assert error.startswith("gateway answered 503")

    posted: list[httpx.Request] = []
    later = HandoffClient(client_settings(tmp_path), transport=gateway(200, GATEWAY_OK, posted))
    assert asyncio.run(later.flush()) == 1
    assert later.pending() == []
    assert [json.loads(r.content) for r in posted] == [EXPECTED_PACKET]
    assert posted[0].headers["X-Handoff-Secret"] == SECRET
    assert [row[:4] for row in outbox_rows(tmp_path)] == [(1, "owner-handoff", 1, 2)]


def test_flush_with_the_gateway_still_down_sends_nothing(tmp_path: Path) -> None:
    down: list[httpx.Request] = []
    client = HandoffClient(client_settings(tmp_path), transport=gateway(503, {}, down))
    asyncio.run(hand_off(CollectingDispatcher(), tracker(WANTS_A_PERSON), "user_request", client=client))
    assert asyncio.run(client.flush()) == 0
    assert len(client.pending()) == 1
    assert [row[:4] for row in outbox_rows(tmp_path)] == [(1, "owner-handoff", 0, 2)]


def follow_up_reply(sender: str, slots: dict[str, Any], message: str) -> str:
    """The reply to a short message sent after a reply that cited the slots' ``last_sources``."""
    _, messages = run(
        ActionRespond(), state(sender, slots, [LISTEN, user_event(message, "ask_policy", 1718000002.0)])
    )
    return messages[0]["text"]


def test_a_short_follow_up_is_read_against_the_record_just_discussed() -> None:
    reform = {"last_sources": ["zjtx-shareholding-reform"]}
    most = follow_up_reply("owner-fu1", reform, "最多几多钱？")
    assert "200 万元" in most
    assert most.startswith("对已认定为市级专精特新")  # the answer, not "not in my scope"
    materials = follow_up_reply("owner-fu2", reform, "要什么材料")
    assert materials.startswith("答复函没有写明申请材料。")
    assert "【专精特新股份制改造资助】" in materials  # shown as related, not as the answer
    rate = follow_up_reply("owner-fu3", {"last_sources": ["boc-inclusive-loans"]}, "利率系几多？")
    assert rate.startswith("答复函没有写明“利率”方面的内容。")
    # A message naming a subject of its own is not a follow-up of the last one.
    growth = follow_up_reply("owner-fu4", {"last_sources": ["zjtx-growth-subsidy"]}, "那股改的呢？")
    assert "200 万元" in growth
    elsewhere = follow_up_reply("owner-fu5", reform, "那佛山呢？")
    assert "不在我能解答的范围内" in elsewhere
    # Nor is one asking what the last record does not say and a record it matches on its own does.
    dated = follow_up_reply("owner-fu6", {"last_sources": ["letter-proposal"]}, "嗰份函係幾時發嘅？")
    assert "2022 年 6 月 8 日" in dated
    assert "答复函原文（答复函落款日期）" in dated


def test_facts_stated_earlier_make_a_bare_statement_the_firms() -> None:
    recorded = state(
        "owner-ctx",
        {"zjtx_level": "单项冠军培育"},
        [LISTEN, user_event("今年增长咗三成五，增长补贴得唔得？", "ask_eligibility", 1718000003.0)],
    )
    _, messages = run(ActionRespond(), recorded)
    assert messages[0]["text"].startswith("按您说的情况，贵企业符合【专精特新企业增长补贴】的条件。")


@pytest.mark.parametrize(("confidence", "handed_off"), [(0.93, True), (0.6, False)])
def test_a_request_for_a_person_put_as_a_question_follows_a_sure_classifier(
    confidence: float, handed_off: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pattern of a request matches "边位同事得闲可以睇下我哋嘅情况？"; a classifier sure it is one hands off,
    an unsure one does not."""
    reasons: list[str] = []

    async def hand_off(_dispatcher: Any, _tracker: Any, reason: str, **_: Any) -> list[dict[str, Any]]:
        reasons.append(reason)  # what the real one posts to the gateway is tested above
        return [ConversationPaused()]

    monkeypatch.setattr("actions.respond.hand_off", hand_off)
    event = user_event("边位同事得闲可以睇下我哋嘅情况？", "request_human", 1718000001.0)
    event["parse_data"]["intent"]["confidence"] = confidence
    events, _ = run(ActionRespond(), state("owner-ask-person", {}, [LISTEN, event]))
    assert reasons == (["user_request"] if handed_off else [])
    assert (ConversationPaused() in events) is handed_off


def test_a_short_benefit_question_after_the_facts_is_asked_for_the_firm() -> None:
    """ "我哋系市级专精特新，准备做股份制改造" then "有冇资助？": no record is named, so the verdicts of what
    the firm just described can get, not "the letter does not say"."""
    recorded = state(
        "owner-short-benefit",
        {"zjtx_level": "市级", "shareholding_reform": True},
        [LISTEN, user_event("有冇资助？", "ask_policy", 1718000001.0)],
    )
    _, messages = run(ActionRespond(), recorded)
    assert "【专精特新股份制改造资助】符合" in messages[0]["text"]
    assert "200 万元" in messages[0]["text"]


def test_a_story_naming_a_measure_is_answered_about_it_not_interrogated() -> None:
    """Only the firm's trade, a measure named outright, no question: the measure, not every verdict and
    "贵企业是否已认定为专精特新企业？"."""
    text = (
        "我们公司在做伺服电机的核心控制算法，卡了一年多，老板压力很大。"
        "听说市里有个战略性新兴产业技术攻关专项，专门支持制造业核心技术攻关。"
    )
    _, messages = run(
        ActionRespond(), state("owner-story", {}, [LISTEN, user_event(text, "inform", 1718000001.0)])
    )
    assert messages[0]["text"].startswith("市科技局实施战略性新兴产业技术攻关专项")
    assert not any("是否已认定为专精特新企业" in m.get("text", "") for m in messages)


def test_one_question_of_two_records_answers_each_and_a_chore_is_declined() -> None:
    _, messages = run(
        ActionRespond(),
        state(
            "owner-each",
            {},
            [LISTEN, user_event("中易办同书记市长直通车分别有咩用？", "ask_policy", 1718000001.0)],
        ),
    )
    texts = "\n".join(m["text"] for m in messages)
    assert "中易办" in texts
    assert "书记市长直通车" in texts
    assert not any(m["text"].startswith("答复函没有写明") for m in messages)
    chore = reply_to("owner-chore", "帮我写一篇公司年会的老板致辞，三百字左右", intent="match_policies")
    assert "不在我能解答的范围内" in chore
    elsewhere = reply_to(
        "owner-far", "天门那个塑料制品厂每天排毒烟，附近的人呼吸都困难，请环保局派人过来调查！"
    )
    assert "不在我能解答的范围内" in elsewhere  # not a person of ours to send


def test_a_story_around_a_question_of_ours_does_not_decide_the_reply() -> None:
    # 技工学校 in the story is no city service, a customer's 投诉 no complaint of the owner's
    school = reply_to(
        "owner-story-school",
        "我们厂是做数控机床配件的，技术工人一直招不到，打算在厂里建个技能实训基地，跟技工学校合作搞培训。"
        "想问下这种技能人才的培训基地、实训基地，政府会不会有资金支持？",
    )
    assert "实训基地" in school
    assert "不在我能解答的范围" not in school
    complaint = reply_to(
        "owner-story-complaint",
        "我哋喺古镇做灯饰，最近有人翻版我哋嘅吸顶灯，搞到有客户打电话嚟投诉品质。"
        "律师话打官司要好耐又贵，中山有冇地方可以帮手调解知识产权纠纷？",
    )
    assert "知识产权纠纷行政调解中心" in complaint
    # a parent's letter about a school asks nothing of ours, whatever record its question matches
    parent = reply_to(
        "owner-story-parent",
        "我是一名学生家长，小孩今年9月该上学，按以往划片是万辛庄小学，但现在学校迁址，路程太远，"
        "希望能得到领导的重视，能不能从新划片",
    )
    assert "不在我能解答的范围" in parent


def test_thanks_after_the_firms_facts_do_not_swallow_them() -> None:
    reply = reply_to("owner-facts-thanks", "您好，打扰一下，我们是市级专精特新，去年到今年涨了35% 谢谢！")
    assert "符合" in reply
    assert not reply.startswith("不客气")


def test_a_record_that_speaks_of_what_is_asked_comes_before_one_that_shares_more_else() -> None:
    reply = reply_to("owner-rank-focus", "我哋嘅外观设计俾人抄咗，中山有冇地方可以快啲帮手维权？")
    assert "快速维权服务中心" in reply.splitlines()[0]


def test_whether_a_firm_falls_within_a_measure_gets_a_verdict() -> None:
    within = reply_to("owner-trade-within", "我们做板式家具的，上云上平台试点我们在不在范围？")
    assert within.startswith("按您说的情况，贵企业不符合")


def test_a_record_matched_on_the_firms_trade_alone_is_not_what_another_question_asks() -> None:
    reply = reply_to(
        "owner-trade-fair",
        "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。我们想去广交会，参展费有没有补贴？",
    )
    assert not reply.startswith(("按您说的情况", "目前还不能判断"))
    assert "协同创新" not in reply.splitlines()[0]


def test_a_supposed_case_gets_the_verdict_of_that_case_and_no_question_that_would_store_it() -> None:
    recorded = state(
        "owner-supposed",
        {},
        [
            LISTEN,
            user_event(
                "假设我们是市级专精特新，今年增长了25%，能拿增长补贴吗", "ask_eligibility", 1718000001.0
            ),
        ],
    )
    events, messages = run(ActionRespond(), recorded)
    text = messages[0]["text"]
    assert text.startswith("按您假设的情况，贵企业不符合【专精特新企业增长补贴】的条件。")
    assert "低于答复函要求的30%" in text
    assert len(messages) == 1  # no question: an answer would be taken for the firm's own fact
    assert SlotSet("asked_fact", None) in events
    assert not any(e.get("name") == "growth_pct" and e.get("value") for e in events)


def test_a_supposition_that_decides_nothing_is_answered_not_judged() -> None:
    _, messages = first_message("如果我们做股改，最多能拿多少资助？", "ask_policy", "owner-supposed-open")
    assert "200 万元" in messages[0]["text"]
    assert "按您假设的情况" not in messages[0]["text"]


@pytest.mark.parametrize(
    "question",
    [
        "新型学徒制每带一个学徒，企业能拿多少补贴？",  # what firms in general get: the record does not say
        "我们企业引进一个博士，政府给企业补贴吗？",  # the lead-in names what is asked (博士), not the trade
        "厂区屋顶想建光伏，有没有建设补贴？",
    ],
)
def test_a_story_that_gives_only_the_trade_makes_no_verdict_of_a_question_about_something_else(
    question: str,
) -> None:
    story = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。"
    _, messages = first_message(story + question, "ask_policy", "owner-story")
    first = messages[0]["text"].split("\n")[0]
    assert "贵企业" not in first  # no 符合/不符合/不能判断 of the firm
    assert "答复函没有" in first


def test_a_request_with_a_word_no_record_speaks_of_is_not_a_request_to_check_every_policy() -> None:
    said = "您好，打扰一下，我们想去广交会，参展费有没有补贴？ 谢谢！"
    _, messages = first_message(said, "match_policies", "owner-fair")
    assert "逐条帮您判断" not in messages[0]["text"]
    assert "答复函没有" in messages[0]["text"]
    everything = state(
        "owner-all", {}, [LISTEN, user_event("我们能享受哪些政策", "match_policies", 1718000001.0)]
    )
    _, messages = run(ActionRespond(), everything)
    assert "逐条帮您判断" in messages[0]["text"]


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        (
            "五金家电灯具这些行业，政府说的组合支持到底是哪几样东西组合在一起？",
            "政府政策+智能制造供应商",
        ),  # the measure's list
        ("要是我们明年增长三成的话，大概能拿多少补贴？", "10-100 万元"),  # the case supposed
        ("专精特新增长三成能拿几多", "10-100 万元"),  # a kind of firm the question names
    ],
)
def test_a_question_after_a_trade_story_about_a_measures_list_a_supposition_or_a_kind_is_answered(
    question: str, fact: str
) -> None:
    story = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。"
    _, messages = first_message(story + question, "ask_policy", "owner-story2")
    assert "贵企业" not in messages[0]["text"].split("\n")[0]
    assert fact in messages[0]["text"]


def test_a_request_after_a_trade_story_is_not_the_firms_facts_alone() -> None:
    said = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。帮我写一段给客户的新年祝福"
    _, messages = first_message(said, "provide_firm_info", "owner-story3")
    assert "贵企业" not in messages[0]["text"]
    assert "符合" not in messages[0]["text"].split("\n")[0]
    alone = state(
        "owner-story4",
        {},
        [
            LISTEN,
            user_event("我们厂在小榄做五金二十多年了，五十几个工人。", "provide_firm_info", 1718000001.0),
        ],
    )
    _, messages = run(ActionRespond(), alone)
    assert "所属产业：五金" in messages[0]["text"]  # facts alone: what they decide, at once


def test_the_name_of_a_document_asked_beside_the_firms_facts_is_answered_not_judged() -> None:
    said = (
        "我们在准备一个数字化改造项目的银行贷款，客户经理说可以申请贴息，我要在项目申请报告里写上政策依据，"
        "贴息那个细则的全称是什么？"
    )
    _, messages = first_message(said, "ask_policy", "owner-title")
    assert "贵企业" not in messages[0]["text"].split("\n")[0]
    assert "《中山市制造业数字化智能化转型银行贷款贴息与风险补偿实施细则》" in messages[0]["text"]
