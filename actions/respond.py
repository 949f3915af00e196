"""The one reply to every owner message: understand the whole message, then answer what was asked.

Rasa classifies the intent and fills the fact slots (``bot.facts_extractor``); this action reads the
whole message (:mod:`knowledge.understand`) and decides, in this order: a request for a person; the
answer to a fact the bot just asked; other places and individuals' matters; a complaint; courtesy
with nothing else in it; facts alone (the verdicts they decide); the owner's own application of a
measure of the letter (to a person); a procedure the letter does not give; a verdict when the owner
asks about their own firm; an answer when a record really is about the message and states what was
asked; otherwise an honest 'the letter does not say', or out of scope when nothing in the message is
about enterprise policy. Politeness never overrides content, and the intent is one signal among
several, not the decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import (
    ASPECT_WORDS,
    answer,
    letter_states_procedure,
    not_in_letter,
    out_of_scope,
    part_not_stated,
    staff_answer,
    stated_part,
    unstated_question,
)
from actions.eligibility import decided, rule_policies, verdict_reply
from actions.handoff import hand_off
from actions.profile import FACT_SLOTS, IDENTITY_SLOTS, profile, turn_facts
from knowledge.answerable import (
    GENERIC,
    MIN_EVIDENCE,
    Match,
    asks_contact,
    covers,
    default_answerability,
    excluded_kind,
    firm_kind,
    fits,
    narrower,
    off_focus,
    other_matter,
    states,
    topic_nouns,
    uncovered_topic,
    unnamed_benefit,
)
from knowledge.facts import UNKNOWN, extract_facts, industries_named
from knowledge.rules import left_open, needed_facts
from knowledge.search import Searcher, default_searcher
from knowledge.segment import STOPWORDS, terms, tokenizer
from knowledge.staff import best_match
from knowledge.understand import (
    FIRMS_IN_GENERAL,
    LETTER_YEAR,
    LONG_MESSAGE,
    Understanding,
    asking_part,
    clauses,
    complains,
    is_question,
    keyword_query,
    later_year,
    on_topic,
    questions_of,
    scope_of,
    speaks_for_firm,
    tells_own_case,
    understand,
)

COURTESY_RESPONSES = {
    "bot": "utter_iamabot",
    "goodbye": "utter_goodbye",
    "thanks": "utter_thanks",
    "greet": "utter_greet",
    "ack": "utter_how_can_help",
}
# Every domain response this action utters (rasa data validate cannot see them used in a story).
RESPONSES = frozenset({*COURTESY_RESPONSES.values(), "utter_default", "utter_how_can_help"})
# Something asked of the bot ("帮我写一段新年祝福"): a request, not a remark beside thanks.
_REQUEST = re.compile(r"(帮|给|替|为)(我|我们)|请你|你帮")
INTENT_COURTESY = {"bot_challenge": "bot", "goodbye": "goodbye", "thanks": "thanks", "greet": "greet"}
# The owner asks what they can get (money, a share, eligibility), whatever else the message names.
# The name or number of a document asked for ("细则的全称是什么", "文件叫什么名字", "文号系咩").
_ASKS_TITLE = re.compile(
    r"全称|全名|名称|文号|(叫|是)(什么|咩|啥)(名字?)?(?=$|[?？,，。呢啊])|什么名字|咩名|叫咩"
)
_ASKS_BENEFIT = re.compile(
    r"补贴|补助|资助|奖励|奖补|扶持|贴息|多少|几多|钱|能拿|能领|有没有份|有份|符合|享受"
)


_TRADE = frozenset({"industry", "manufacturing"})  # what a firm makes: how owners introduce themselves


def _by_facts(match: Match) -> bool:
    """Whether a record matched only on words that state a firm's facts (灯饰, 小家电, 省级), or on the
    facts alone (no word of its own at all)."""
    return all(extract_facts(w).values for w in match.evidence)


# A count of firms or projects, or a city-wide total, asked beside the owner's own facts.
_CITY_FIGURE = re.compile(
    r"(多少|几多|几)(家|个|项|所|场|次|户)|一共|总共|累计|合计|全市|哪(\d+|两|几)?(家|间)"
)
# How sure the intent classifier must be that a question is a request for a person, when no pattern of
# one matched (those are certain) and it names no matter of policy.
HANDOFF_CONFIDENCE = 0.8
# Words for our own service's people (转人工, 工作人员, 客服): a request for them is ours, whatever it is about.
_OUR_STAFF = re.compile(r"人工|客服|工作人员|真人|挂点|工信局|贵局|你们")
# A weaker match may still be shown as related (labelled so) when the letter is silent.
RELATED_EVIDENCE = 1.0


OFF_FOCUS_PENALTY = 2.0


# Words of asking that name nothing asked about (能不能拿, 有没有, 多少钱, 市里).
_ASKING_WORDS = frozenset(
    "没有 不要 多少钱 享受 市里 可以 申请 获得 符合 条件 资格 能不能 有没有 可不可以 怎么样 知道 了解".split()
    # nor do the words of a plan (准备做智能化改造: the plan is the firm's fact)
    + "准备 打算 计划 正在 已经 想要 希望 今年 明年 年底 年内".split()
)


def _by_trade(u: Understanding, rec: dict[str, Any]) -> bool:
    """Whether the firm's trade is what the record's conditions read (the cluster pilots)."""
    return (
        "industry" in u.mentioned
        and bool(rec.get("conditions"))
        and "industry" in needed_facts(rec["conditions"])
    )


def _own_words(u: Understanding) -> list[str]:
    """The question's own words: of its asking part, neither a fact nor a generic or asking word; where
    the question itself has none ("…我们企业引进1个博士，政府给企业补贴吗"), those of its lead-in."""

    def own(part: str) -> list[str]:
        return [
            w
            for w in terms(part)
            if len(w) >= 2
            and w not in GENERIC
            and w not in STOPWORDS
            and w not in _ASKING_WORDS
            and not extract_facts(w).values
        ]

    return own(asking_part(u.said, lead_in=False)) or own(asking_part(u.said))


def _story_facts_only(u: Understanding, stated: set[str]) -> bool:
    """Whether the facts stated are only the story's, and the question after it asks neither for the firm nor
    for what it can get: "我们厂在小榄做五金二十多年了…组合支持具体是什么模式" asks what the measure is."""
    asked = asking_part(u.said)
    named = set(extract_facts(asked).values)
    return (
        len(u.said) > LONG_MESSAGE
        and asked != u.said
        and not speaks_for_firm(asked)
        # (a list of the letter's trades, "五金家电灯具这些行业", is a measure's, not the firm's own trade)
        and (not named & stated or len(industries_named(asked)) >= 2)
        and (
            # the trade alone, and a question of what a measure gives firms ("…做五金…。新型学徒制每带一个学徒，
            # 企业能拿多少补贴", "要咩条件先报得"), not of whether the firm can apply
            (stated <= _TRADE and u.aspect in ("amount", "conditions"))
            # "…。新型学徒制每带1个学徒，企业能拿多少补贴": what firms in general can get; "股改资助，省级专精特新
            # 能不能拿", "专精特新增长3成能拿几多": what a kind of firm the question names can; "要是我们明年增长
            # 3成的话，能拿多少": what the case supposed would
            or (
                stated <= _TRADE
                and u.aspect == "qualify"
                and (bool(FIRMS_IN_GENERAL.search(asked)) or bool(named - stated) or bool(u.hypothetical))
            )
            or (u.aspect not in ("qualify", "amount", "conditions") and not _ASKS_BENEFIT.search(asked))
        )
    )


def _unspoken_words(u: Understanding) -> list[str]:
    """The question's own words that are words of the dictionary and that no record speaks of: 参展 of
    "我们想去广交会，参展费有没有补贴" (not 厂能, jieba's glue of 我们厂能拿什么钱)."""
    known = tokenizer().FREQ  # (a prefix of a word is there too, with frequency 0)
    records = default_searcher().policies.values()
    return [w for w in _own_words(u) if known.get(w) and not any(covers(rec, w) for rec in records)]


# A request put as an imperative ("帮我写1段给客户的新年祝福", "请列一下…"): it asks, without a question word.
_REQUEST = re.compile(r"^(请|麻烦|帮我|帮忙|给我|替我|(你|您)(帮|给|替)我)")


def _asks_after_story(u: Understanding) -> bool:
    """Whether a story of the firm is followed by a sentence that asks without a question word: keywords
    typed as into a search box ("…订单一般。专精特新 补贴 标准") or a request ("…。帮我写1段新年祝福")."""
    sentences = [s.strip() for s in re.split(r"[。！!？?\n]+", u.said) if s.strip()]
    if len(sentences) < 2:
        return False
    last = sentences[-1]
    # (not "请多指教": a request has something to do)
    request = bool(_REQUEST.search(last)) and len(last) >= 6
    return not extract_facts(last).values and (keyword_query(last) or request)


def _question_for_firm(u: Understanding, stated: set[str]) -> bool:
    """Whether a long message's question itself speaks for the firm (我们, or a fact of the firm in it),
    rather than only its story; a short message is one with its question."""
    asked = asking_part(u.said, lead_in=False)
    if len(u.said) <= LONG_MESSAGE or asked == u.said:
        return True
    return speaks_for_firm(asked) or bool(set(extract_facts(asked).values) & stated)


def _asks_beyond(u: Understanding, rec: dict[str, Any]) -> bool:
    """Whether the question has a word of its own that the record never speaks of: 参展 of "参展费有没有补贴"
    beside the cluster pilot a 五金 firm matched on its trade."""
    return any(not covers(rec, w) for w in _own_words(u))


@lru_cache(maxsize=256)
def _question_scores(searcher: Searcher, asked: str) -> dict[str, float]:
    """bm25 of a long message's asking part, per record (one search per message and index, however many
    times a turn ranks its matches)."""
    return {h.policy_id: h.score for h in searcher.search(asked, top=16)}


def ranked(matches: list[Match], u: Understanding) -> list[Match]:
    """Answerable matches, strongest evidence first; a verbatim alias, being the kind of record that
    answers the aspect asked (a person for 'who', money for 'how much') and the bm25 rank of what is asked
    (a long message's questions, not its story) add to it."""
    policies = default_searcher().policies

    # bm25 of what is asked: between records the evidence ties on (领导: the 挂点 service and 书记市长直通车
    # for "企业有困难想直接向市里领导反映"), the story's words (镇里, 打电话) decide nothing.
    asked = asking_part(u.said)
    if asked != u.said:
        on_question = _question_scores(default_searcher(), asked)
        scores = {m.hit.policy_id: on_question.get(m.hit.policy_id, 0.0) for m in matches}
    else:
        scores = {m.hit.policy_id: m.hit.score for m in matches}
    top = max(scores.values(), default=1.0) or 1.0
    named_in = default_answerability().names_record

    def strength(m: Match) -> float:
        rec = policies.get(m.hit.policy_id, {})
        fit = fits(u.aspect, u.text, rec) if rec else False
        # Each fact the message names (its own or supposed: 如果市级、增长三成) that the record's
        # conditions read: 增长三成 points at the growth subsidy rather than the 股改 grant.
        # The trade an owner introduces themself with (做五金的) points at no record.
        read = (
            set(needed_facts(rec["conditions"])) & set(u.mentioned) - _TRADE
            if rec.get("conditions")
            else set()
        )
        return (
            m.weight
            # (a name the story gives, "网上看到市政府出了个1号文…转型办公室是谁当主任", is not what is asked)
            + (3.0 if m.phrase and (asked == u.said or named_in(asked, m.hit.policy_id)) else 0.0)
            + (1.5 if fit else 0.0)
            + 2.0 * scores[m.hit.policy_id] / top
            + len(read)
            # "外观设计俾人抄咗，有冇地方帮手维权": a record that never speaks of what is asked (维权) comes
            # after one that does, however much else it shares (设计)
            - (OFF_FOCUS_PENALTY if rec and off_focus(u.text, rec) else 0.0)
        )

    strong = [m for m in matches if m.answerable]
    return sorted(strong, key=lambda m: (-strength(m), -m.hit.score))


_HOW_VERB = re.compile(r"(怎么|怎样|如何|点样|咋)(才能|去|来)?([\u4e00-\u9fa5]{2})")


# "分别", "各自": a question asked of each thing it names.
_EACH = re.compile(r"分别|各自|各有|各是|各管|两者|两样(东西)?各")


def _by_action(match: Match, text: str) -> bool:
    """Whether a record matched only on the verb of a how-to ("点注册？" after 中易办: 注册 is the action
    asked about, not another subject)."""
    how = _HOW_VERB.search(text)
    return how is not None and not match.phrase and set(match.evidence) <= {how.group(3)}


# A follow-up in a few words ("最多几多钱？", "找谁？", "省级呢") is about the record just discussed.
FOLLOW_UP_CHARS = 16


def follow_up(u: Understanding, tracker: Tracker) -> Understanding:
    """The message read against the record the last reply was about, when it is a short question that
    names no subject of its own ("最多几多钱？" after the 股改 answer is "股改资助最多几多钱"); else as is.

    Only the text that records are matched against changes: the facts, the aspect asked, the scope and
    everything else are the message's own. A question naming another record verbatim, another place,
    a request for a person or an answer to the fact the bot asked is not a follow-up.
    """
    sources = tracker.get_slot("last_sources") or []
    rec = default_searcher().policies.get(sources[0]) if sources else None
    if (
        rec is None
        or not u.asks
        or u.scope != "in"
        or u.wants_person
        or tracker.get_slot("asked_fact")
        or len(u.content) > FOLLOW_UP_CHARS
    ):
        return u
    own = [
        m
        for m in ranked(default_answerability().matches(u.text, {**u.mentioned}), u)
        if not _by_action(m, u.text)
    ]
    if any(
        m.hit.policy_id != rec["id"] and (m.phrase or not all(covers(rec, w) for w in m.evidence))
        for m in own
    ):
        return u  # "那股改的呢" names a subject of its own; "跟哪家银行合作" speaks of the 中行 record's bank
    policies = default_searcher().policies
    # Only a question for a piece of information: "有冇份" asks of the record discussed whatever else matches.
    if (
        u.aspect in ("procedure", "amount", "who", "name")
        and not _tells(u, rec)
        and any(m.weight >= MIN_EVIDENCE and _tells(u, policies[m.hit.policy_id]) for m in own)
    ):
        return u  # "嗰份函係幾時發嘅" after the 提案 record: the letter's date record, matched on its own, says it
    return replace(u, text=f"{rec['title']},{u.text}", context=rec["title"], on_topic=True)


def _tells(u: Understanding, rec: dict[str, Any]) -> bool:
    """Whether a record states the aspect the message asks (for a procedure: the detail asked)."""
    if u.aspect == "procedure":
        return letter_states_procedure(u.procedure_topic or "", rec)
    return states(u.aspect, u.text, rec)


def each_question(u: Understanding) -> list[Match] | None:
    """A message that asks two or three things, each answered by a different record ("主任是谁？1号文的文号
    是什么？"): one record for each question, in order; None when any question has no record of its own
    that states what it asks, or when they all ask about the same record (one answer covers them)."""
    questions = questions_of(u.said)
    policies = default_searcher().policies
    if len(questions) == 1 and _EACH.search(questions[0]):
        # "中易办同书记市长直通车分别有咩用？": one question of two records it names outright.
        named = [m for m in ranked(default_answerability().matches(u.text, {**u.mentioned}), u) if m.phrase]
        if 2 <= len(named) <= 3 and all(states(u.aspect, u.text, policies[m.hit.policy_id]) for m in named):
            return named
        return None
    if not 2 <= len(questions) <= 3:
        return None
    found: list[Match] = []
    for question in questions:
        own = understand(question)
        strong = ranked(default_answerability().matches(own.text, {**u.mentioned}), own)
        # The best match, or one matched as strongly that states it (几时发 → the letter's date, not its 文号)
        best = next(
            (
                m
                for m in strong
                if m.weight >= max(MIN_EVIDENCE, strong[0].weight) and _tells(own, policies[m.hit.policy_id])
            ),
            None,
        )
        if best is None:
            return None
        rec = policies[best.hit.policy_id]
        if (
            off_focus(own.text, rec)
            or later_year(own.text, f"{rec['title']} {rec['quote']}")
            # the whole message must allow it too: "640家入面，专精特新有几多家" asks a part of a total
            or (own.aspect != "procedure" and not states(own.aspect, u.text, rec))
        ):
            return None
        if all(m.hit.policy_id != best.hit.policy_id for m in found):
            found.append(best)
    return found if len(found) >= 2 else None


def courtesy_reply(
    dispatcher: CollectingDispatcher, understanding: Understanding, intent: str | None
) -> list[EventType]:
    """Greet, thank, say goodbye or say what the bot is; ask to rephrase when it is none of these."""
    kinds = [k for k in ("bot", "goodbye", "greet", "thanks", "ack") if k in understanding.courtesy]
    kind = kinds[0] if kinds else INTENT_COURTESY.get(intent or "")
    dispatcher.utter_message(response=COURTESY_RESPONSES[kind] if kind else "utter_default")
    return []


def confirm_facts(dispatcher: CollectingDispatcher, new: dict[str, Any]) -> list[EventType]:
    """The owner only told us who the firm is (name, credit code, revenue): say what was recorded."""
    parts = []
    if new.get("firm_name"):
        parts.append(f"企业名称：{new['firm_name']}")
    if new.get("uscc"):
        parts.append(f"统一社会信用代码：{new['uscc']}（校验通过）")
    if new.get("revenue_wan") is not None:
        parts.append(f"营业收入：约{new['revenue_wan']:g}万元")
    dispatcher.utter_message(
        text="已记录：" + "；".join(parts) + "。\n可以问我“我们能享受哪些政策”，我会按答复函逐条判断。",
        buttons=[{"title": "我们能享受哪些政策？", "payload": "/match_policies"}],
    )
    return []


# A question to the bot itself or of its presence ("还在上班吗", "你是机器人吗", "在忙吗"), not of the world.
_TO_THE_BOT = re.compile(
    r"你|您|机器|真人|ai|人工|在吗|在不在|在忙|喺唔喺|上班|下班|忙|休息|吃(了|咗)?饭|^(最近)?(怎么样|好吗|还好吗)",
    re.IGNORECASE,
)


def _beside_courtesy(u: Understanding) -> bool:
    """Whether something besides the courtesies is asked of the bot: a request ("您好，帮我写一段新年祝福，
    谢谢") or words of enterprise policy typed apart as into a search box ("您好，贴息 银行 谢谢")."""
    return bool(_REQUEST.match(u.content)) or (
        keyword_query(u.text) and (u.on_topic or ActionRespond._names_record(u))
    )


def _asks_world(u: Understanding) -> bool:
    """A question of the world inside courtesies ("您好，今天会不会打台风？谢谢"), which is out of scope rather
    than small talk; a question to the bot or of its presence is small talk."""
    return (
        not u.on_topic
        and len(u.content) >= 4
        and is_question(u.content)
        and not _TO_THE_BOT.search(u.content)
    )


class ActionRespond(Action):
    """Reply to an owner message: handoff, verdict, answer, honest decline, out of scope or courtesy."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Decide and send the reply; set the slots it changes."""
        text = (tracker.latest_message or {}).get("text") or ""
        # A button payload carries no text to read; facts stated earlier make a bare statement the firm's.
        u = understand("" if text.startswith("/") else text, speaking=bool(profile(tracker)))
        u = follow_up(u, tracker)
        new = turn_facts(tracker)
        for key, value in u.facts.items():
            new.setdefault(
                key, value
            )  # NLU reads the text as typed; a homophone typo (打算股该) is read here
        events: list[EventType] = [SlotSet(k, v) for k, v in new.items() if tracker.get_slot(k) != v]
        reply = await self.decide(dispatcher, tracker, new, u)
        if tracker.get_slot("handoff_offered") and not any(e.get("name") == "handoff_offered" for e in reply):
            reply.append(SlotSet("handoff_offered", False))  # an offer stands for the next message only
        stated = {k: v for k, v in new.items() if k in FACT_SLOTS and v is not None and v != UNKNOWN}
        if stated and dispatcher.messages:
            # The firm's profile (精准推送): the gateway keeps what the owner stated, never a hypothetical
            # (understand() leaves those out of ``new``) nor an "I don't know".
            last = dispatcher.messages[-1]
            last["custom"] = {**(last.get("custom") or {}), "facts": stated}
        return events + reply

    async def decide(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, new: dict[str, Any], u: Understanding
    ) -> list[EventType]:
        """The reply for this message (see the module docstring for the order)."""
        message = tracker.latest_message or {}
        classified = message.get("intent") or {}
        intent = classified.get("name")
        payload = (message.get("text") or "").startswith("/")
        firm = {**profile(tracker), **{k: v for k, v in new.items() if k in FACT_SLOTS}}
        asked = tracker.get_slot("asked_fact")
        clear: list[EventType] = [SlotSet("asked_fact", None)] if asked else []

        error = next(
            (e.get("value") for e in message.get("entities") or [] if e.get("entity") == "uscc_error"), None
        )
        if error:
            dispatcher.utter_message(text=str(error))
            return [SlotSet("uscc", None)]
        confidence = float(classified.get("confidence") or 0.0)
        # "请环保局派人过来调查" of another city's factory or a city matter: not a person of ours to send.
        elsewhere = u.scope != "in" and not _OUR_STAFF.search(u.text) and not self._letter_names_region(u)
        if (intent == "request_human" and payload) or (
            not elsewhere
            and (
                u.wants_person
                or (intent == "request_human" and not u.asks)
                # "有冇人可以同我倾下？": a request put as a question, sure to the classifier and naming
                # no matter of policy that could be the question instead.
                or (intent == "request_human" and confidence >= HANDOFF_CONFIDENCE and not u.policy_words)
            )
        ):
            return clear + await hand_off(dispatcher, tracker, reason="user_request")
        if asked and asked in new and not self._new_question(u):
            targets = list(tracker.get_slot("pending_targets") or [])
            return verdict_reply(dispatcher, targets, firm, bool(tracker.get_slot("pending_all")))
        if tracker.get_slot("handoff_offered") and intent in ("affirm", "deny") and not u.asks:
            if intent == "affirm":
                return await hand_off(dispatcher, tracker, reason="offer_accepted")
            dispatcher.utter_message(response="utter_how_can_help")
            return [SlotSet("handoff_offered", False)]
        if payload:
            return clear + self.by_intent(dispatcher, intent, firm)
        if u.small_talk:  # 天气不错 names no city service to report
            return clear + courtesy_reply(dispatcher, u, intent)
        if (
            u.scope != "in"
            and not self._letter_names_region(u)
            and not (u.scope in ("city_service", "personal") and self._question_stands_alone(u))
        ):
            return clear + out_of_scope(dispatcher, u.scope)
        if u.complaint and not self._only_in_story(u, complains):
            return clear + await hand_off(dispatcher, tracker, reason="user_request")
        # "…总算搞清楚了，谢谢！" asks nothing; "…补贴多少，谢谢" does.
        # "您好，我们是市级的，今年涨了20% 谢谢！" states the firm's facts: they are answered, thanks or not.
        stated_now = {k for k in new if k in FACT_SLOTS}
        closing = (
            bool({"thanks", "goodbye"} & set(u.courtesy))
            and not any(is_question(c) for c in clauses(u.text))
            and stated_now <= _TRADE
            and not _beside_courtesy(u)
        )
        if not u.content or "bot" in u.courtesy or closing:
            return clear + courtesy_reply(dispatcher, u, intent)
        if stated_now <= _TRADE and u.courtesy and not u.asks and not _beside_courtesy(u):
            # "你好，我係坦洲做五金嘅老闆娘…你哋整咗個咁方便嘅": an introduction with thanks, not a request.
            return clear + courtesy_reply(dispatcher, u, intent)
        if (
            stated_now
            and not u.asks
            and not (stated_now <= _TRADE and (self._names_record(u) or _asks_after_story(u)))
        ):
            # Facts alone: show at once what they decide for the policy just discussed (or for all of
            # them), then ask the one fact that decides the most. A story that gives only the firm's trade
            # and names a measure ("听说市里有个战略性新兴产业技术攻关专项") is answered about that measure.
            rules = rule_policies()
            discussed = [pid for pid in tracker.get_slot("last_sources") or [] if pid in rules]
            return clear + verdict_reply(dispatcher, discussed or list(rules), firm, everything=not discussed)
        if set(new) & set(IDENTITY_SLOTS) and not u.asks:
            return clear + confirm_facts(dispatcher, new)
        return clear + await self.from_letter(dispatcher, tracker, u, intent, firm, stated_now)

    def by_intent(
        self, dispatcher: CollectingDispatcher, intent: str | None, firm: dict[str, Any]
    ) -> list[EventType]:
        """A button payload without text: its intent decides."""
        if intent == "match_policies":
            return verdict_reply(dispatcher, list(rule_policies()), firm, everything=True)
        if intent in ("affirm", "deny", "provide_firm_info"):
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        return courtesy_reply(dispatcher, Understanding(text=""), intent)

    async def from_letter(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        u: Understanding,
        intent: str | None,
        firm: dict[str, Any],
        stated_now: set[str],
    ) -> list[EventType]:
        """Procedure, verdict, answer or honest decline, from what the letter states."""
        text = (tracker.latest_message or {}).get("text") or ""
        matches = default_answerability().matches(u.text, {**u.mentioned})
        # A record matched on the firm's facts alone (a 五金 firm, the 五金 cluster pilot) is not what a
        # question of something else asks about ("参展费有没有补贴", "高企认定咗奖几多").
        policies = default_searcher().policies
        strong = [
            m
            for m in ranked(matches, u)
            if m.evidence
            or not _by_trade(u, policies[m.hit.policy_id])
            or not _asks_beyond(u, policies[m.hit.policy_id])
        ]
        rules = rule_policies()
        subject = strong[0] if strong else None
        if u.own_case and subject is not None and not self._only_in_story(u, tells_own_case):
            # The owner's own application of a measure of the letter: a specific case, for a person.
            return await hand_off(dispatcher, tracker, reason="specific_case")
        if u.other_firm:
            # Whether another firm got a measure: the letter reports measures and totals, never recipients.
            return not_in_letter(dispatcher, u, subject, f"{u.other_firm}等具体企业的情况")
        if u.becoming:
            # The criteria for being rated 专精特新 (小巨人 …): the letter's measures start from firms that are.
            return not_in_letter(dispatcher, u, subject, f"评定/认定{u.becoming}的条件")
        reviewed = best_match(u.text, default_searcher().staff)
        if reviewed is not None and not stated_now:
            # An editor published a liaison's answer to this very question: give it, labelled as such.
            return staff_answer(dispatcher, reviewed, text)
        elsewhere = (
            other_matter(u.text, policies[subject.hit.policy_id], subject.evidence)
            if subject is not None
            else None
        )
        if elsewhere:
            # The record matched the owner's premise; the question is about something no record speaks of.
            return not_in_letter(dispatcher, u, subject, f"“{elsewhere}”方面的内容")
        separate = None if stated_now or u.match_all or u.context else each_question(u)
        if separate:
            # "38号函系几时发嘅？联系人电话又系几多？": each question answered from its own record.
            events: list[EventType] = []
            for found in separate:
                events += answer(dispatcher, found, [], text, offer_check=False)
            return events + [SlotSet("last_sources", [m.hit.policy_id for m in separate])]
        if u.aspect == "procedure":
            if subject is not None and not letter_states_procedure(
                u.procedure_topic or "", policies[subject.hit.policy_id]
            ):
                # Another record the message is about as much may give it (the letter's date, not its 文号).
                # A follow-up's subject is strong on the discussed record's own title: there a record of
                # the same kind said with the owner's own words is enough ("几时发嘅" after the 文号).
                discussed = policies[subject.hit.policy_id]
                subject = next(
                    (
                        m
                        for m in strong[1:]
                        if (
                            m.weight >= max(MIN_EVIDENCE, subject.weight)
                            or (
                                u.context
                                and not _by_action(m, u.said)
                                and m.weight >= MIN_EVIDENCE
                                and policies[m.hit.policy_id].get("category") == discussed.get("category")
                            )
                        )
                        and letter_states_procedure(u.procedure_topic or "", policies[m.hit.policy_id])
                    ),
                    subject,
                )
            rec = policies[subject.hit.policy_id] if subject else None
            if rec is not None and u.procedure_topic == "目前进展" and rec.get("status") == "planned":
                # "设立了吗" of a measure the letter only planned: a 2022 letter cannot say what happened since.
                return not_in_letter(dispatcher, u, subject, "2022年6月以后的进展")
            if rec is not None and letter_states_procedure(u.procedure_topic or "", rec):
                return answer(dispatcher, subject, [], text, offer_check=False)  # type: ignore[arg-type]
            if rec is not None and stated_part(u.said, rec):
                # "首期多大，怎么申请": answer what the letter states, then decline the procedure.
                events = answer(dispatcher, subject, [], text, offer_check=False)  # type: ignore[arg-type]
                return events + part_not_stated(dispatcher, u, rec)
            return not_in_letter(dispatcher, u, subject, u.procedure_topic)
        # The policies asked about: the best match, and others only when matched about as strongly.
        ruled = [m for m in strong if m.hit.policy_id in rules]
        # A rule-bearing record counts only when the message is about it about as much as about any record:
        # "我们做卫浴的…市政府质量奖有几家" is about the award, not the cluster pilot the industry names.
        if ruled and ruled[0].weight < 0.6 * strong[0].weight and not ruled[0].phrase:
            ruled = []
        # "做小家电的…评上省级工业设计中心有没有奖励": the pilot matched on the firm's industry alone, the
        # question on another record's own words.
        if ruled and strong[0] is not ruled[0] and _by_facts(ruled[0]) and not _by_facts(strong[0]):
            ruled = []
        targets = [m.hit.policy_id for m in ruled if m.weight >= 0.8 * ruled[0].weight][:3] if ruled else []
        # About the owner's own firm: facts or a first person in this message, or, with facts already
        # known, a question of whether / what they can get.
        about_firm = (
            bool(stated_now)
            or speaks_for_firm(u.text)
            or (bool(firm) and (u.match_all or u.aspect == "qualify"))
            or self._short_after_facts(u, firm, stated_now)
        )
        if u.match_all and about_firm and not (targets and u.aspect == "amount"):
            return verdict_reply(dispatcher, list(rules), firm, everything=True)
        # "我们想参加广交会，展位费补多少" names a topic of its own: not a request to check every policy.
        topics = topic_nouns(u.text)
        # "依据哪份文件？文号发我" names a record of its own, as strongly as any: not a request either.
        names_record = bool(strong) and not ruled
        # "您好，我们想去广交会，参展费有没有补贴？谢谢": a word of its own (参展费) no record speaks of.
        if (
            intent == "match_policies"
            and not targets
            and about_firm
            and not topics
            and not names_record
            and not _unspoken_words(u)
        ):
            return verdict_reply(dispatcher, list(rules), firm, everything=True)
        # Facts that bear on a record make a verdict, unless the owner asks about something else the
        # record never speaks of ("灯饰厂转型做得好，政府会不会找媒体报道") rather than what they can get.
        supposed = {**firm, **u.hypothetical}
        if (
            targets
            and u.hypothetical
            and u.aspect == "qualify"
            and self._facts_bear_on(set(u.hypothetical), rules[targets[0]])
            and decided(targets, supposed)
        ):
            # "假设我们是市级专精特新，今年增长了25%，能拿增长补贴吗": whether the case supposed would qualify.
            return verdict_reply(dispatcher, targets, supposed, everything=False, supposed=True)
        if (
            targets
            and about_firm
            # "我是五金厂的，联系电话是多少" asks for a number, not what the firm can get
            and not (u.aspect == "who" and asks_contact(u.text))
            and u.aspect != "advice"  # which to do first is an opinion, whatever the firm's facts
            # "参展费用有没有补贴" beside a 灯饰 firm's facts: a benefit the pilot never speaks of
            and not unnamed_benefit(asking_part(u.text, lead_in=False), policies[targets[0]])
            # "已经有多少家企业在开展", "一共拨付了多少": a figure of the city, not what the firm can get
            and not (u.aspect == "amount" and _CITY_FIGURE.search(u.text))
            # "…贴息那个细则的全称是什么": the name of a document, whatever the firm's facts
            and not _ASKS_TITLE.search(asking_part(u.said, lead_in=False))
            and (
                (u.aspect == "qualify" and not _story_facts_only(u, stated_now))
                # "我们刚评上国家级小巨人" then "有没有领导挂点服务": asked for the firm just described
                or (
                    self._short_after_facts(u, firm, stated_now)
                    and self._facts_bear_on(set(firm), rules[targets[0]])
                )
                or (
                    self._facts_bear_on(stated_now, rules[targets[0]])
                    and (_ASKS_BENEFIT.search(u.text) or not uncovered_topic(u.text, policies[targets[0]]))
                    and not _story_facts_only(u, stated_now)
                )
            )
        ):
            return verdict_reply(dispatcher, targets, firm, everything=False)
        if (
            about_firm
            and not strong
            and not topics
            and (
                u.aspect == "qualify"
                # "我哋系市级专精特新，准备做股改" then "有冇资助？": what the firm just described can get
                or (self._short_after_facts(u, firm, stated_now) and _ASKS_BENEFIT.search(u.text))
            )
        ):
            return verdict_reply(dispatcher, list(rules), firm, everything=True)
        if subject is not None and not states(u.aspect, u.text, policies[subject.hit.policy_id]):
            # Another record the message is about may state what is asked (640 家 in the loans, not the event),
            # but not instead of one the owner named verbatim (五年50亿 is that record, whatever it says).
            subject = next(
                (
                    m
                    for m in strong[1:]
                    if m.weight >= max(MIN_EVIDENCE, 0.8 * subject.weight)
                    and (m.phrase or not subject.phrase)
                    and states(u.aspect, u.text, policies[m.hit.policy_id])
                ),
                subject,
            )
        if subject is not None:
            rec = policies[subject.hit.policy_id]
            # "我们2023年增长了35%" is the owner's fact; "2022年度呢" of a 2020-2021 count is not in the record.
            # "我们厂在小榄做五金…。除咗中行，工行建行有冇类似嘅对接活动？": the story is the firm's, the
            # question is not; what the owner's own words would mean is weighed only where the question speaks.
            own = about_firm and _question_for_firm(u, stated_now)
            year = None if own else later_year(u.said, f"{rec['title']} {rec['quote']}")
            if year:
                after = "（答复函是2022年6月的文件）" if year > LETTER_YEAR else ""
                return not_in_letter(dispatcher, u, subject, f"{year}年的情况{after}")
            if u.aspect == "qualify" and not rec.get("conditions") and about_firm:
                return not_in_letter(dispatcher, u, subject, "申请条件")
            if not states(u.aspect, u.text, rec):
                return not_in_letter(dispatcher, u, subject, ASPECT_WORDS.get(u.aspect or "", "这方面的内容"))
            benefit = unnamed_benefit(u.text, rec)
            if benefit:
                return not_in_letter(dispatcher, u, subject, benefit)
            asked = asking_part(u.said)  # (the kind of firm a story tells of is the owner's, not asked about)
            focus = off_focus(u.text, rec) or (None if own else narrower(asked, rec))
            if focus:
                return not_in_letter(dispatcher, u, subject, f"“{focus}”方面的内容")
            kind = None if own else firm_kind(asked, rec)
            if kind and u.aspect in (None, "qualify", "conditions", "amount"):
                # "港资企业评咗专精特新，都可以申请增长补贴吗": the record never names that kind of firm.
                return not_in_letter(dispatcher, u, subject, f"{kind}能否适用")
            excluded = excluded_kind(u.said, rec)
            if excluded:
                # "并非重点项目…这类一般项目是否也能享受免费代办": the record is for the kind the owner is not.
                return not_in_letter(dispatcher, u, subject, f"{excluded}能否适用")
            # (about the firm, only what the question names of firms in general: "我们厂在小榄做五金…。省级
            # 专精特新企业做股份制改造，有冇资助？")
            general = {k: v for k, v in u.mentioned.items() if k not in firm}
            unsettled = left_open(rec.get("conditions"), general if about_firm else u.mentioned)
            if unsettled and u.aspect in (None, "qualify", "conditions", "amount"):
                # "省级专精特新能不能拿股改资助": the letter names 市级 and leaves 省级 open.
                return not_in_letter(dispatcher, u, subject, unsettled)
            related = [m for m in strong if m is not subject and m.weight >= MIN_EVIDENCE][:2]
            events = answer(dispatcher, subject, related, text, offer_check=bool(rec.get("conditions")))
            # "开公司要什么材料？注册资本最少要多少？": answer what is stated, then say what is not.
            unstated = unstated_question(u.said, rec, [policies[m.hit.policy_id] for m in related])
            return events + (part_not_stated(dispatcher, u, rec, unstated) if unstated else [])
        # thanks with a remark, no policy question in it; a request inside the politeness ("您好，帮我写一段
        # 新年祝福，谢谢") is answered for what it is
        if (
            u.courtesy
            and not (u.asks and u.scope == "in" and (u.policy_words or u.on_topic))
            and not _beside_courtesy(u)
            and not _asks_world(u)
        ):
            return courtesy_reply(dispatcher, u, intent)
        if not u.on_topic or not on_topic(asking_part(u.said, lead_in=False)):
            # nothing of enterprise policy in it at all, or only in the story before the question ("我们厂在
            # 小榄做五金…。今晚食咩好")
            return out_of_scope(dispatcher, "other")
        if not u.asks and len(u.content) < 6:
            dispatcher.utter_message(response="utter_default")
            return []
        weak = next((m for m in matches if m.weight >= RELATED_EVIDENCE), None)
        return not_in_letter(dispatcher, u, weak, None)

    @staticmethod
    def _names_record(u: Understanding) -> bool:
        """Whether the message names a record by its own words (not by the firm's facts) outright."""
        strong = ranked(default_answerability().matches(u.text, {**u.mentioned}), u)
        return (
            bool(strong)
            and not _by_facts(strong[0])
            and (strong[0].phrase or strong[0].weight >= 2 * MIN_EVIDENCE)
        )

    @staticmethod
    def _new_question(u: Understanding) -> bool:
        """Whether the message asks something of its own about a record (not just answers the bot)."""
        return bool(u.asks and u.aspect and ranked(default_answerability().matches(u.text), u))

    @classmethod
    def _only_in_story(cls, u: Understanding, says: Callable[[str], bool]) -> bool:
        """Whether what ``says`` finds (a 投诉, a case stuck) is only in a long message's story, its question
        standing alone: a customer's complaint told before "有冇地方调解知识产权纠纷" is no complaint to hand on."""
        return not says(asking_part(u.text)) and cls._question_stands_alone(u)

    @staticmethod
    def _question_stands_alone(u: Understanding) -> bool:
        """A long message whose story holds words that would decide the reply (业主加租, 技工学校, a customer's
        投诉, 卡在 a technology) but whose question, read with the clause that leads in, is a matter of ours
        on its own and names a record of the letter on that record's own terms ("这种技能人才的培训基地、实训基地，
        政府会不会有资金支持"): the story is the background, the question decides."""
        questions = asking_part(u.text)  # with the clause that leads in: "市里在搞一个资源库，这个是哪个部门"
        if scope_of(questions) != "in":  # (unless the clause that leads in is the story's: "业主年年加租…")
            questions = asking_part(u.text, lead_in=False)
        # (a firm's story: a parent's letter about a school asks nothing of ours, whatever it matches)
        if questions == u.text or not u.on_topic or scope_of(questions) != "in":
            return False
        strong = ranked(default_answerability().matches(questions), u)
        if not strong:
            return False
        top = strong[0]
        if (top.phrase or top.weight >= 2 * MIN_EVIDENCE) and off_focus(
            questions, default_searcher().policies[top.hit.policy_id]
        ) is None:
            return True
        # "…有个可以出让的工业用地资源库，我想问下这个资源库是哪个部门搞的": the question refers back to the
        # record the story named outright.
        named = ranked(default_answerability().matches(u.text), u)
        return (
            bool(named)
            and named[0].phrase
            and named[0].weight >= 2 * MIN_EVIDENCE
            and named[0].hit.policy_id == top.hit.policy_id
        )

    @staticmethod
    def _letter_names_region(u: Understanding) -> bool:
        """A city that the record the message is about itself names (驻外招商组 北京、上海、深圳) is in scope."""
        if u.scope != "other_region" or not u.region:
            return False
        # The place itself is a subject word of that record; it must match without it.
        strong = ranked(default_answerability().matches(u.text.replace(u.region, " ")), u)
        if not strong:
            return False
        # 外地/外省 of a record on the city's own teams posted elsewhere (驻外招商组): the city's matter.
        elsewhere = u.region.startswith("外") and "驻外" in strong[0].hit.title
        return u.region in strong[0].hit.title or elsewhere

    @staticmethod
    def _short_after_facts(u: Understanding, firm: dict[str, Any], stated_now: set[str]) -> bool:
        """A short question of its own kind ("有冇资助？", "中行嗰个贷款呢") right after the owner told the
        firm's facts: asked for that firm."""
        # "有没有领导挂点服务" asks whether there is one (who), not for a number.
        kind = u.aspect is None or (u.aspect == "who" and not asks_contact(u.text))
        return bool(firm) and not stated_now and u.asks and kind and len(u.content) <= 16

    @staticmethod
    def _facts_bear_on(stated_now: set[str], conditions: dict[str, Any]) -> bool:
        """Whether facts stated in this message are ones the record's conditions read."""
        return bool(stated_now & set(needed_facts(conditions)))
