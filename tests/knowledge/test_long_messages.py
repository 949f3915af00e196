"""Long, rambling messages and owners' own wording: what is asked, the firm's facts, what a record covers."""

from __future__ import annotations

import pytest

from knowledge.answerable import focus_nouns, off_focus, states
from knowledge.search import default_searcher
from knowledge.spelling import sounds_in
from knowledge.text import normalize
from knowledge.understand import asking_part, aspect_of, understand

STORY = (
    "你好，我系小榄做五金配件嘅，厂入面五十几个工人，去年疫情断断续续开工，今年订单先慢慢返嚟。"
    "最近镇上开会成日提数字化转型，话市里面有专门机构统筹，我想问下市里统筹推动数字化转型各项工作嘅系咩机构？"
)


def test_a_long_message_is_asked_by_its_questions_not_its_story() -> None:
    u = understand(STORY)
    assert "50几个工人" in u.text
    assert "50几个工人" not in asking_part(u.text)
    assert u.aspect is None  # "几个工人" tells how big the firm is; it asks no amount


def test_a_short_message_is_read_whole() -> None:
    text = "股改资助多少，怎么申请？"
    assert asking_part(text) == text


def test_voice_input_without_punctuation_is_cut_where_a_thought_starts() -> None:
    said = (
        "我想问下那个数字化智能化转型办公室是谁当主任的我们公司在石岐做包装印刷的今年也在搞数码印刷设备"
        "和MES老板说想了解清楚"
    )
    assert "数码" not in asking_part(understand(said).text, lead_in=False)


@pytest.mark.parametrize(
    ("said", "growth"),
    [
        ("去年全年营收3000万，今年做到4200万，主要是新能源车的订单起来了", 40.0),
        ("前年营收做咗四千二百万，旧年做到五千六百万。", 33.3),
        ("我们营收比去年跌了两成", -20.0),
        ("营收比上年升咗三成", 30.0),
        ("我们营收比去年多了一半还多", 50.0),
        ("今年生意好返，营收比上年翻咗一倍", 100.0),
    ],
)
def test_growth_in_owners_words(said: str, growth: float) -> None:
    assert understand(said).facts["growth_pct"] == growth


def test_a_loan_after_last_years_revenue_is_no_growth() -> None:
    said = "我们是南头一家做空调配件的加工厂，去年营收九千多万。今年打算跟银行贷款两千万上两条智能化生产线"
    facts = understand(said).facts
    assert "growth_pct" not in facts
    assert facts["digital_project"] is True  # 上两条智能化生产线: a project under way


def test_a_level_aimed_at_is_not_held_and_a_level_ends_a_clause() -> None:
    assert understand("我们是市级，今年想冲省级专精特新，有什么支持").facts["zjtx_level"] == "市级"
    assert understand("我们是市级。增长35%，能拿多少").facts["zjtx_level"] == "市级"
    assert understand("一直冇去评专精特新").facts["zjtx_level"] == "无"


def test_mainly_and_several_pose_no_hypothetical() -> None:
    u = understand("我们是省级专精特新，去年营收3000万，今年4200万，主要是新能源车的订单起来了")
    assert u.facts["growth_pct"] == 40.0
    assert not u.hypothetical


def test_a_homophone_of_a_records_word_is_that_word() -> None:
    assert sounds_in("人材", "数字技能人才培养")
    assert not sounds_in("租金", "产业扶持资金")  # 金 alone is not the word


def test_words_that_name_no_topic_decide_nothing() -> None:
    assert focus_nouns("我想打电话过去问问政策你们工信局座机号码多少") == ()  # 座|机号码
    assert focus_nouns("市里有冇专门机构统筹企业数字化转型？叫咩名") == ()
    assert "小榄" not in focus_nouns("现在一共认定了多少家省级工业设计中心？我们是小榄做音响的")
    # a word after a modal or 在 is a verb there (jieba tags 交流, 整理 as nouns)
    assert focus_nouns("专精特新有冇专属嘅群可以交流？") == ("专精特新",)
    assert focus_nouns("市里有冇喺度整理可以出让嘅工业地资源？") == ()
    # what the owner wants to avoid is not what they ask about
    assert focus_nouns("注册公司能唔能全程网上办，唔使去大厅排队？") == ()
    assert focus_nouns("不用去大厅排队吗") == ("大厅", "排队")  # unless it is all they ask


def test_a_records_homophone_does_not_make_the_question_off_focus() -> None:
    rec = default_searcher().policies["digital-skill-training"]
    assert off_focus("2021年人社那边培养了多少数字技能方面的人材？", rec) is None


def test_which_one_is_not_which_of_a_count() -> None:
    rec = default_searcher().policies["letter-proposal"]
    assert states("amount", "呢封函系回复政协哪1个提案?提案号几多", rec)


def test_other_banks_are_beyond_the_bank_record() -> None:
    from knowledge.answerable import narrower

    rec = default_searcher().policies["zjtx-boc-cloud-matching"]
    assert narrower("其他银行有没有类似活动", rec) == "其他银行"
    assert narrower("具体是什么级别的领导", default_searcher().policies["zjtx-exclusive-service"]) is None


def test_a_yes_no_question_ending_in_a_negation_asks() -> None:
    from knowledge.understand import is_question

    assert is_question("市里有挂牌奖励没")
    assert is_question("增长补贴还能拿不")
    assert is_question("政策出台咗未")
    assert not is_question("我们今年还没")
    assert not is_question("我们去年也不")


def test_the_one_who_asks_is_not_the_firm() -> None:
    from knowledge.understand import split_facts

    stated, _, named = split_facts("老板叫我问一下，省级专精特新企业做股份制改造，有冇资助？")
    assert stated == {}
    assert named["zjtx_level"] == "省级"
    assert split_facts("我想问一下，省级专精特新企业有什么补贴？")[0] == {}
    assert split_facts("我想问一下，我们是省级专精特新，有什么补贴？")[0]["zjtx_level"] == "省级"
    # after the owner's story, a sentence that asks of such firms in general is not about the owner's
    story = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。"
    assert split_facts(story + "省级专精特新企业做股份制改造，有冇资助？")[0] == {"industry": "五金"}
    assert split_facts(story + "小巨人嗰400万，系每间400万定两间加埋400万？")[0] == {"industry": "五金"}
    # the owner's own kind, said so in the sentence that asks
    assert (
        split_facts("单项冠军培育企业 我们就是 准备做股份制改造 资助最多几多")[0]["zjtx_level"]
        == "单项冠军培育"
    )
    assert split_facts("我们是省级专精特新。今年增长了40%，能拿多少？")[0] == {
        "zjtx_level": "省级",
        "growth_pct": 40.0,
    }


def test_a_place_only_the_story_names_is_not_asked_about() -> None:
    from knowledge.understand import asked_region

    story = "我们厂今年从广州招了几个本科生做数据和自动化，有两个已经说想回广州，老板很着急。"
    assert asked_region(story + "想问下市里对企业引进这类人才有没有住房补贴") is None
    assert asked_region(story + "想问下佛山对企业引进这类人才有没有住房补贴") == "佛山"
    assert asked_region("广州对企业引进人才有没有住房补贴") == "广州"


def test_a_request_for_a_person_ends_before_the_thanks() -> None:
    assert understand("您好，打扰一下，麻烦转一下人工 谢谢！").wants_person


def test_stuck_on_a_technology_is_no_case_of_ones_own() -> None:
    from knowledge.understand import tells_own_case

    assert not tells_own_case("我哋卡在一个核心技术上面成年，想同大学合作攻关")
    assert tells_own_case("上个月我们报建一个仓库，卡在镇里两个多月没动静")
    assert tells_own_case("申请材料交上去审批一直卡住了")


def test_a_generic_part_of_a_word_does_not_cover_it() -> None:
    rec = default_searcher().policies["high-skill-talent-policy"]
    assert off_focus("市里对企业引进人才有没有人才公寓或者住房补贴", rec) == "公寓"


def test_question_words_owners_type_without_a_question_mark() -> None:
    from knowledge.understand import is_question

    for asked in (
        "母基金多大",
        "收不收钱",
        "专精特新申报截止日期系几时",
        "要比上年增长百分之几先有",
        "直通车能帮企业干嘛",
    ):
        assert is_question(asked), asked
    for told in ("差不多了", "我们大多是外贸单", "不得不说"):
        assert not is_question(told), told


def test_requests_for_a_person_inside_politeness() -> None:
    for asked in (
        "您好，打扰一下，你都答唔到，搵个同事帮我睇下 谢谢！",
        "您好，我想同负责这块的工作人员直接讲，帮我转过去 谢谢！",
        "可否請工作人員致電本公司 谢谢！",
        "麻烦帮我接个工作人员，我这个情况比较复杂",
    ):
        assert understand(asked).wants_person, asked
    assert not understand("工作人员会不会讲解").wants_person


def test_voice_input_is_read_around_its_question_words() -> None:
    from knowledge.answerable import around_questions

    said = "朋友圈有人转发说专精特新企业业绩涨三成以上政府会给补贴真的假的给多少钱啊"
    assert "朋友圈" not in around_questions(said)
    assert focus_nouns(said) == ()
    # a stretch starts at a word's edge
    assert "挂点" in focus_nouns("专精特新嘅挂点领导係点安排嘅 每间企业都有吗")


def test_voice_input_states_the_firms_facts_before_its_question() -> None:
    from knowledge.understand import split_facts, spoken_clauses

    assert spoken_clauses("打算年底前完成股份制改造有钱补吗") == ["打算年底前完成股份制改造", "有钱补吗"]
    assert split_facts("打算年底前完成股份制改造有钱补吗", speaking=True)[0] == {"shareholding_reform": True}
    said = "我们是市级专精特新今年增长了百分之四十能不能申请增长补贴"
    assert spoken_clauses(said)[1] == "能不能申请增长补贴"
    # a measure that a question names is read on the whole clause: no level of the firm's
    assert split_facts("那个小巨人400万国家补贴我们可以拿吗", speaking=True)[0] == {}


def test_a_space_after_a_figure_ends_a_clause() -> None:
    said = understand("我哋系市级专精特新 今年刚好增长咗30% 够唔够格攞增长补贴")
    assert said.facts == {"zjtx_level": "市级", "growth_pct": 30.0}


def test_the_fee_of_a_service_that_runs_procedures_is_asked() -> None:
    from knowledge.understand import aspect_of

    assert aspect_of("政府帮企业代办手续收不收钱?") == "fee"
    assert aspect_of("代办手续怎么办") == "procedure"


def test_whether_the_firm_falls_within_a_measure_asks_if_it_qualifies() -> None:
    from knowledge.understand import aspect_of

    for asked in (
        "上云上平台那个集群试点有没有我们份",
        "工业互联网转型试点有我们的份吗",
        "省里那个产业集群上云上平台试点我们在范围内吗？",
        "上云上平台试点我们在不在范围？",
        "省里那个工业互联网上云试点我们算在里面吗？",
        "产业链协同创新那个组合支持我们能报吗",
    ):
        assert aspect_of(asked) == "qualify", asked
    assert aspect_of("政府会同供应商、担保公司一齐帮中小企做智能化，是不是有这个模式？") is None


def test_an_approximate_number_asks_nothing() -> None:
    from knowledge.answerable import states
    from knowledge.understand import is_question

    assert not is_question("五十几个工人")
    assert not is_question("十几家企业")
    assert is_question("一共几家")
    rec = default_searcher().policies["government-quality-award"]
    story = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。质量奖到现在有几家企业拿到了"
    assert states("amount", story, rec)
    assert focus_nouns(story) == ("质量奖",)


def test_the_trade_a_story_gives_is_no_evidence_of_what_is_asked() -> None:
    from knowledge.answerable import default_answerability

    story = "我们厂在小榄做五金二十多年了，五十几个工人，这两年订单一般。质量奖到现在有几家企业拿到了"
    evidence = {w for m in default_answerability().matches(story) for w in m.evidence}
    assert "五金" not in evidence
    asked = "我们五金行业有什么协同创新试点？"
    assert "五金" in {w for m in default_answerability().matches(asked) for w in m.evidence}


def test_the_bots_own_answers_name_no_topic() -> None:
    assert "答案" not in focus_nouns("你哋呢度啲答案系根据边份文件嘅？有冇文号？")


def test_a_cost_that_rose_is_not_the_firms_growth() -> None:
    rent = "我们租的厂房一年租金涨了两成，订单又少，听说中山有厂房租金补贴，能补多少？"
    assert "growth_pct" not in understand(rent).mentioned
    both = "我们原材料涨了30%，但营收增长了35%，能拿增长补贴吗？"
    assert understand(both).facts["growth_pct"] == 35.0


def test_what_is_said_of_another_firm_is_not_the_owners_until_the_owner_speaks_again() -> None:
    friend = (
        "朋友公司是市级专精特新，今年增长了40%，说已经拿了增长补贴。"
        "我们公司还没评上专精特新，但今年营收也涨了四成多，这个增长补贴我们能拿吗？"
    )
    assert understand(friend).facts == {"zjtx_level": "无", "growth_pct": 40.0}
    # another firm's sentence ends its run: the shareholders' decision is the owner's
    customers = "我们公司是单项冠军培育企业，客户主要是家电大厂。今年股东决定做股份制改造，股改资助能拿吗？"
    assert understand(customers).facts["shareholding_reform"] is True


def test_a_story_about_another_firm_is_no_question_about_it() -> None:
    copied = (
        "我们做灯具的新款刚上市一个月就被隔壁镇的厂抄了外观一模一样价钱还便宜两成客户都跑过去了"
        "想问下中山有没有地方可以帮企业快速维权的"
    )
    assert understand(copied).other_firm is None
    asked = understand("我们隔壁的中山市恒达五金有限公司有没有拿到集群组合支持？")
    assert asked.other_firm == "隔壁的中山市恒达五金有限公司"


def test_interest_named_before_the_subsidy_of_it_is_no_second_matter() -> None:
    u = understand("搞数字化借银航嘅钱，啲利息政府有冇帮手贴习？")
    assert "利息" not in u.text
    assert "贴息" in u.text
    assert "利息" in understand("贷款利息多少，有没有贴息？").text  # its own clause: asked


def test_three_clauses_tell_a_story_however_short() -> None:
    said = normalize("我们做五金二十年了，五十几个工人，订单一般。高企认定有奖励吗")
    assert asking_part(said, lead_in=False) == "高企认定有奖励吗"
    assert asking_part("股改资助多少，怎么申请？") == "股改资助多少，怎么申请？"


def test_another_place_is_asked_about_whatever_the_story_names_of_ours() -> None:
    said = "我们厂在小榄做五金二十多年了。湛江市坡头区乾塘镇全体事业单位职工一直没有收到乡镇工作补贴，希望领导核实处理。"
    assert understand(said).scope == "other_region"
    # the question names our city: a story's other place is not asked about
    assert (
        understand("我们去年从广州搬到小榄，工人都跟过来了。想问下中山对搬过来的企业有冇补贴？").scope == "in"
    )


def test_must_is_no_question_of_combining_measures() -> None:
    assert aspect_of("每件产品都要有追溯码") is None
    assert aspect_of("两个都要可以吗") == "combine"
    assert aspect_of("股改资助和增长补贴能不能一起拿") == "combine"


def test_voice_input_keeps_the_firms_level_and_asks_no_criteria_of_a_title_it_holds() -> None:
    said = (
        "您好本公司为三乡镇一家包装材料企业2021年认定为市级专精特新企业目前正在推进股份制改造"
        "请问我司是否符合市里专精特新股改资助的条件"
    )
    u = understand(said)
    assert u.becoming is None
    assert u.facts["zjtx_level"] == "市级"
    # a bare 专精特新 before the benefit names the measure; the firm's 市级 stays its own
    figures = "去年产值4500万今年6000万我们是市级专精特新主要做水泵配件专精特新那个增长补贴够不够条件"
    assert understand(figures).facts["zjtx_level"] == "市级"
    assert understand("市级专精特新股改资助能拿多少").facts == {}  # the level names the measure
    assert understand("我们想明年申报市级专精特新，评上要满足什么条件").becoming == "市级专精特新"
