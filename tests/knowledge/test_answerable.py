"""Whether a record states the aspect asked: an amount question is answered only by the figure it asks
for, never by a count, a range it cannot place the firm in, or a figure the letter leaves unsplit."""

from __future__ import annotations

import pytest

from knowledge.answerable import (
    default_answerability,
    excluded_kind,
    firm_kind,
    narrower,
    other_matter,
    question_figures,
    states,
    topic_nouns,
)
from knowledge.search import default_searcher
from knowledge.understand import later_year


def record(policy_id: str) -> dict[str, object]:
    rec = default_searcher().get(policy_id)
    assert rec is not None, policy_id
    return rec


@pytest.mark.parametrize(
    ("aspect", "question", "policy_id", "stated"),
    [
        # 奖多少 asks for money: a record of counts (17 家省级 …) does not state it
        ("amount", "评上市级工业设计中心有没有奖励？奖多少", "industrial-design-centers", False),
        ("amount", "专精特新企业增长30%补贴多少", "zjtx-growth-subsidy", True),
        # where within 10–100 万 one firm falls: the letter gives the range only
        ("amount", "增长了百分之五十补贴是不是就能拿满一百万", "zjtx-growth-subsidy", False),
        ("qualify", "增长五成能不能拿到最高那档", "zjtx-growth-subsidy", False),
        ("amount", "股改资助具体给多少，按什么标准定", "zjtx-shareholding-reform", False),
        ("amount", "股改资助最多多少", "zjtx-shareholding-reform", True),
        # 400 万 for two firms: per firm or in all, the letter does not say
        (None, "小巨人那个400万是每家400万还是两家加起来", "little-giant-national-subsidy", False),
        ("amount", "两家小巨人一共拿了多少钱", "little-giant-national-subsidy", True),
        # one project's share of a fund or of a pilot's total: the letter gives sizes and totals only
        ("amount", "产业投资基金投一个项目最多投几多？", "industry-investment-fund", False),
        ("amount", "产业投资基金规模有几多？", "industry-investment-fund", True),
        ("amount", "协同创新每个项目补多少", "cluster-collab-pilot", False),
        ("amount", "协同创新奖补一共拨了多少", "cluster-collab-pilot", True),
        # a count of design centres is not a count of designers
        ("amount", "市级工业设计中心要有多少个设计人员？", "industrial-design-centers", False),
        ("amount", "已经认定了多少家市级工业设计中心", "industrial-design-centers", True),
        # what one firm may borrow, of a record of the bank's totals
        ("amount", "中行普惠贷款一家企业最多能贷多少？", "boc-inclusive-loans", False),
        # 多少股份 of a fund's size: the record speaks of no shares
        ("amount", "市产业投资基金要让多少股份？", "industry-investment-fund", False),
        ("amount", "产业投资基金规模多少？", "industry-investment-fund", True),
        # a telephone number is asked: a department's name does not state it
        ("who", "数字化转型办公室设在哪个单位？办公电话是多少？", "transformation-office", False),
        # a choice between alternatives the quote names neither of
        ("amount", "股改资助那200万是一次性发下来，还是分几期拨？", "zjtx-shareholding-reform", False),
        ("amount", "6220万奖补里面，省里出的多还是市里出的多？", "cluster-collab-pilot", False),
        # 每1家企业配备1个部门 counts no firms
        ("amount", "中山现在有几家省级专精特新企业？", "zjtx-exclusive-service", False),
        # 320 多万 states money
        ("amount", "新型学徒制之前一共发过多少补贴", "new-apprenticeship", True),
    ],
)
def test_an_amount_is_stated_only_as_asked(
    aspect: str | None, question: str, policy_id: str, stated: bool
) -> None:
    assert states(aspect, question, record(policy_id)) is stated


@pytest.mark.parametrize(
    ("question", "policy_id", "other"),
    [
        # the record matched the premise (开公司); the question is about closing one, which no record covers
        ("开公司1个工作日就办完，那注销公司要多久？", "business-startup-1day", "注销"),
        # the asking clause refers back to the premise's record
        ("我们是省级专精特新，今年增长了35%，能拿多少？", "zjtx-growth-subsidy", None),
        # it names something of the record (银行): about the record, whatever verb it uses
        ("专精特新融资对接那个活动，是跟哪家银行合作搞的", "zjtx-boc-cloud-matching", None),
        # 符合条件 is what is asked, not a matter of its own
        ("我们做板式家具，打算做智能化转型，想问问符合不符合条件？", "cluster-collab-pilot", None),
        # a verb outside a contrast is the owner's way of asking (够格), not a topic
        ("我们是市级专精特新，想参加中行那个融资云上对接，我们够格吗", "zjtx-boc-cloud-matching", None),
    ],
)
def test_a_question_about_another_matter_than_its_premise(
    question: str, policy_id: str, other: str | None
) -> None:
    rec = record(policy_id)
    evidence = next(
        (m.evidence for m in default_answerability().matches(question) if m.hit.policy_id == policy_id), ()
    )
    assert other_matter(question, rec, evidence) == other


def test_a_figure_the_owner_quotes_points_at_its_record() -> None:
    found = default_answerability().matches(
        "我们是小巨人企业，去年只增长了18%，能拿10-100万那个补贴吗", {"growth_pct": 18}
    )
    assert max(found, key=lambda m: m.weight).hit.policy_id == "zjtx-growth-subsidy"
    assert question_figures("能拿10-100万那个补贴吗") == frozenset({10.0, 100.0})


def test_a_threshold_asked_points_at_the_records_that_decide_on_it() -> None:
    found = default_answerability().matches("专精特新企业要比上1年增长多少,才能拿财政补贴?", {})
    assert max(found, key=lambda m: m.weight).hit.policy_id == "zjtx-growth-subsidy"


def test_a_level_before_the_counted_noun_narrows_what_is_counted() -> None:
    from knowledge.answerable import _counts_that
    from knowledge.search import default_searcher

    policies = default_searcher().policies
    loans = policies["boc-inclusive-loans"]  # 640 家专精特新和战略性新兴产业集群企业 got loans
    assert not _counts_that("中山现在有几家省级专精特新企业？", loans)
    assert _counts_that("中行给几多家专精特新同战新企业放咗贷款", loans)
    assert _counts_that("认定了几家省级工业设计中心", policies["industrial-design-centers"])


@pytest.mark.parametrize(
    ("question", "policy_id", "stated"),
    [
        (
            "风险补偿是补给银行还是补给企业的？",
            "rules-loan-interest-risk",
            False,
        ),  # 补给 frames, 企业 is generic
        ("股改资助是给市级还是省级的", "zjtx-shareholding-reform", True),  # the quote names exactly one
        ("中国银行即是中国银行还是哪家?", "zjtx-boc-cloud-matching", True),  # one alternative, then 哪家
        ("640家里面专精特新有多少家?", "boc-inclusive-loans", False),  # a part of the record's whole
        ("里面省里出多少,市里出多少?", "cluster-collab-pilot", False),  # a sum split between levels
        ("有没有必要申请股改资助?", "zjtx-shareholding-reform", False),  # advice no record gives
        ("那3家机器人骨干企业是哪3家?", "robot-backbone-enterprises", False),  # counted, never named
        ("驻外招商组设在哪几个城市?", "overseas-investment-teams", True),  # a list the quote gives
        ("评上省级工业互联网标杆,市里会配套奖励吗?配多少", "iiot-benchmark-projects", False),
    ],
)
def test_choices_parts_and_advice_the_record_does_not_settle(
    question: str, policy_id: str, stated: bool
) -> None:
    from knowledge.understand import aspect_of

    rec = default_searcher().policies[policy_id]
    assert states(aspect_of(question), question, rec) is stated


def test_a_narrower_kind_and_a_year_the_record_does_not_name() -> None:
    boc = default_searcher().policies["zjtx-boc-cloud-matching"]
    assert narrower("除了中国银行,农业银行有没有搞专精特新融资对接?", boc) == "农业银行"
    assert narrower("中国银行中山分行搞的专精特新融资对接是什么?", boc) is None
    # beside what the record names, in owners' short names
    assert narrower("除咗中行，工行建行有冇类似嘅专精特新对接活动？", boc) == "工行"
    growth = default_searcher().policies["zjtx-growth-subsidy"]
    assert narrower("除了增长补贴，还有什么补贴？", growth) is None  # other records answer that
    # others beyond the record's whole list, asked by naming that list; a part of it leaves the rest to say
    pilot = default_searcher().policies["cluster-collab-pilot"]
    assert (
        narrower("除了五金、家电、灯具、板式家具，还有哪些产业集群可以参加？", pilot)
        == "除了五金、家电、灯具、板式家具"
    )
    assert narrower("除了五金，还有哪些产业集群可以参加？", pilot) is None
    assert later_year("2022年度呢?", "2020-2021 年度共立项 13 项") == 2022
    assert later_year("2021年立了几项?", "2020-2021 年度共立项 13 项") is None
    assert later_year("2023年还有吗?") == 2023


@pytest.mark.parametrize(
    ("question", "pid", "kind"),
    [
        ("港资企业评咗专精特新，都可以申请增长补贴吗？", "zjtx-growth-subsidy", "港资企业"),
        ("外资企业可以申请股改资助吗", "zjtx-shareholding-reform", "外资企业"),
        ("民营企业能不能贷", "zjtx-boc-cloud-matching", "民营企业"),
        # Facts of the firm, generic words, legal forms and what the record names are no other kind.
        ("专精特新企业增长30%有多少补贴", "zjtx-growth-subsidy", None),
        ("中小企业能不能参加", "zjtx-growth-subsidy", None),
        ("骨干企业有什么扶持", "industry-support-funds", None),
        ("省级企业能拿多少", "zjtx-growth-subsidy", None),
        ("我们公司能拿多少", "zjtx-growth-subsidy", None),
        ("企业由有限公司改制成股份有限公司，政府有没有资助？", "zjtx-shareholding-reform", None),
    ],
)
def test_a_kind_of_firm_the_record_never_names(question: str, pid: str, kind: str | None) -> None:
    assert firm_kind(question, default_searcher().policies[pid]) == kind


def test_the_kind_of_firm_a_measure_targets_states_its_conditions() -> None:
    """ "招大引强主要是引什么样的企业": the quote names whom it targets (瞄准…企业)."""
    rec = default_searcher().policies["attract-big-investors"]
    assert states("conditions", "商务局招大引强主要是引什么样的企业", rec)


def test_a_story_counts_nothing_it_does_not_ask() -> None:
    # "我们几个股东" tells; the question is the ceiling of the 股改 grant, which the record states
    from knowledge.answerable import states
    from knowledge.understand import understand

    rec = default_searcher().policies["zjtx-shareholding-reform"]
    u = understand(
        "我哋几个股东最近为咗股改嘈咗好多次，有人话股改费用太高唔值。我唔想再嘈落去，想搵个准数："
        "政府对股改嘅资助封顶系几多？边类企业先有？我拎个准数返去开会。"
    )
    assert states("amount", u.text, rec)
    assert not states("amount", understand("股改资助有几个股东拿到？").text, rec)


def test_what_a_story_tells_is_not_what_it_asks() -> None:
    from knowledge.answerable import focus_nouns, unnamed_benefit
    from knowledge.understand import understand

    # the one who told the owner (人事说) is no topic of the question
    assert "人事" not in focus_nouns("我们厂里面人事说有个新型学徒制,主要内容是什么?")
    assert "人事部门" in focus_nouns("人事部门有没有补贴?")
    # "还是市长做主任" in the story is no choice between alternatives
    office = record("transformation-office")
    u = understand("最近听讲市里成立咗个数字化智能化转型办公室，仲系市长做主任，呢个办公室平时到底系管咩嘅？")
    assert states(u.aspect, u.text, office)
    # a benefit is the record's when its words stand just before the record's money, not in its slogan
    apprenticeship = record("new-apprenticeship")
    assert unnamed_benefit("招工补贴有没有", apprenticeship) == "招工补贴"
    assert unnamed_benefit("学徒制补贴有没有", apprenticeship) is None
    assert unnamed_benefit("技能人才补贴有没有", record("high-skill-talent-policy")) is None


def test_a_count_per_person_is_not_the_citys_total() -> None:
    rec = record("new-apprenticeship")
    assert not states("amount", "新型学徒制每带1个学徒,企业有多少补贴?", rec)
    assert states("amount", "新型学徒制培训补贴一共发了多少?", rec)


def test_hearsay_speakers_and_towns_of_ours_are_no_evidence() -> None:
    from knowledge.answerable import focus_nouns, hearsay_speakers

    assert hearsay_speakers("听设备供应商说有个数字化标杆示范认定") == {"供应商"}
    assert hearsay_speakers("供应商说有个认定,供应商有没有补贴") == set()  # asked about too
    assert "开发区" not in focus_nouns("我们在火炬开发区,平台叫什么名?")


def test_a_share_of_a_citys_total_is_not_stated() -> None:
    assert not states("amount", "6220万奖补资金我们公司可以分多少?", record("cluster-collab-pilot"))


def test_a_fee_choice_is_settled_by_the_benefit_another_choice_by_the_quote_only() -> None:
    agency = record("key-project-agency-service")
    assert states("fee", "这个代办是免费的还是要收费的?", agency)
    assert not states("amount", "那400万是每家各拿还是两家加起来?", record("zjtx-exclusive-service"))


def test_a_purpose_before_de_names_the_benefit() -> None:
    from knowledge.answerable import unnamed_benefit

    assert unnamed_benefit("中山有没有给企业出国参展的补贴?", record("cluster-iiot-pilot")) == "参展补贴"
    assert unnamed_benefit("能不能申请的补贴", record("zjtx-growth-subsidy")) is None


@pytest.mark.parametrize(
    ("question", "pid", "kind"),
    [
        (
            "我司扩建厂房，并非市里的重点项目。请问这类一般项目是否也能享受免费代办？",
            "free-agency-window",
            "并非市里的重点项目",
        ),
        ("普通项目也可以免费代办吗", "free-agency-window", "普通项目"),
        ("重点项目可以免费代办吗", "free-agency-window", None),
        # 是不是 asks; the firm's own title is for the verdicts to weigh
        ("重点项目是不是也可以免费代办", "free-agency-window", None),
        ("我们不是专精特新，也能拿增长补贴吗", "zjtx-growth-subsidy", None),
    ],
)
def test_a_kind_the_record_leaves_out(question: str, pid: str, kind: str | None) -> None:
    assert excluded_kind(question, default_searcher().policies[pid]) == kind


def test_words_of_the_bot_and_of_the_aspect_are_no_topic() -> None:
    from knowledge.answerable import focus_nouns

    assert focus_nouns("请问你们这个智能客服回答的内容是依据哪份文件？") == ()
    assert "门槛" not in focus_nouns("补贴门槛和金额范围大概是多少？")
    assert "数量" not in focus_nouns("省级工业互联网标杆企业项目 中山 数量")


def test_how_a_letter_addresses_the_bureau_is_no_topic() -> None:
    assert topic_nouns("烦请告知,贵局该答复函是针对哪1件政协提案?") == ["政协提案"]


def test_a_per_firm_quantifier_is_no_evidence_of_a_record() -> None:
    # "每家400万？" after the 小巨人 answer: 每家 is not the 挂点 record's ("每一家企业配备…")
    assert all("每家" not in m.evidence for m in default_answerability().matches("每家400万?"))
