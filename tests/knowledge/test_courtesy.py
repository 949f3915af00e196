"""Social messages are courtesy, whatever their wording; a question beside them is still a question; what
a question asks and whether it asks for a person."""

from __future__ import annotations

import pytest

from knowledge.understand import is_question, understand


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("你真棒", "thanks"),
        ("哈哈哈，厉害", "thanks"),
        ("辛苦晒", "thanks"),
        ("新年快乐", "greet"),
        ("喂", "greet"),
        ("测试", "greet"),
        ("test 123", "greet"),
        ("你能做什么", "bot"),
        ("你是哪个部门的？", "bot"),
        ("好的没问题了", "ack"),
        ("好嘅，我知道了", "ack"),
        ("我们明白了", "ack"),
        ("打扰晒", "thanks"),
    ],
)
def test_social_messages_are_courtesy(message: str, kind: str) -> None:
    assert kind in understand(message).courtesy


@pytest.mark.parametrize(
    "message",
    [
        "你能帮我查一下专精特新补贴吗",
        "测试一下你，专精特新增长补贴多少",
        "专精特新企业增长补贴厉害吗",
        "我知道了但是还有个问题，贴息怎么申请",
        "打扰了，请问股改资助多少",
    ],
)
def test_a_question_beside_them_is_no_courtesy(message: str) -> None:
    u = understand(message)
    assert "bot" not in u.courtesy
    assert u.asks


@pytest.mark.parametrize(
    ("message", "aspect", "person"),
    [
        ("請幫我聯絡工作人員，我留了電話，謝謝", "who", True),
        ("中山现在有几家省级专精特新企业？", "amount", False),
        ("市里的驻外招商组都设在哪几个城市？", None, False),  # which cities, not how many
    ],
)
def test_the_aspect_and_a_request_for_a_person(message: str, aspect: str | None, person: bool) -> None:
    u = understand(message)
    assert (u.aspect, u.wants_person) == (aspect, person)


def test_a_place_jieba_knows_as_a_city_is_another_region() -> None:
    assert understand("尊敬的汨罗市朱书记：汨罗市领导多出去招商引资").scope == "other_region"
    assert understand("企业上市有什么补贴").scope == "in"  # 上市 is no city


def test_growth_from_last_and_this_year_figures_is_the_firms_own() -> None:
    assert understand("去年营收1000万，今年1400万，增长补贴够格吗？").facts["growth_pct"] == 40.0
    assert "growth_pct" not in understand("去年招了10人，今年15人，有补贴吗").facts


def test_cantonese_classifier_after_a_verb() -> None:
    assert "开公司" in understand("喺中山开间公司要几耐先搞掂？").text


@pytest.mark.parametrize(
    ("message", "person"),
    [
        ("能不能安排工信局的同志跟我对接一下？", True),  # arranging a person, any word for staff
        ("机器人说不明白，换个人来", True),
        ("可唔可以安排个工作人员上门帮我哋睇下申报？", True),
        ("我想跟工信局领导直接反映下情况，麻烦帮我对接一下，谢谢", True),
        ("有个项目落地的事情要详细沟通，帮忙转一下", True),
        ("专精特新企业会安排领导对接吗", False),  # a question about the 挂点 service
        ("有没有安排领导挂点", False),
        ("帮我对接一下银行贷款", False),  # a service asked for, not a person
        # Someone to talk to, call back, meet, add or come, in owners' words.
        ("有冇人可以同我倾下？", True),
        ("留个电话给我，叫人打返畀我", True),
        ("有没有人在线？我想找个人问", True),
        ("我要见你们领导", True),
        ("想约个时间去工信局当面聊聊", True),
        ("麻烦转交给挂点领导处理", True),
        ("可以加个工作人员微信吗", True),
        ("我的问题比较复杂，需要专人跟进", True),
        ("叫你哋负责人出嚟", True),
        ("搵个识嘢嘅人嚟", True),
        ("你答唔到嘅就算啦，叫你哋工信局同事call返我", True),
        ("我问咗你三次你都兜圈，换个负责嘅人嚟同我讲", True),
        ("专精特新企业有没有对接的领导？", False),
        ("挂点领导是谁负责", False),
        ("有没有专人对接专精特新企业", False),
        ("我们厂难找人，有没有招工补贴", False),
        ("市长换人了吗", False),
        ("机器人讲不清楚，我想同人工倾下", True),
        ("我要找个活人说话", True),
        ("你们找个负责的人马上跟进处理！", True),
        ("人工智能有补贴吗", False),
    ],
)
def test_asking_for_someone_to_be_sent_is_a_request_for_a_person(message: str, person: bool) -> None:
    assert understand(message).wants_person is person


def test_a_question_about_another_firm_asks_what_no_list_of_recipients_in_the_letter_says() -> None:
    u = understand("我们隔壁的中山市恒达五金有限公司有没有拿到集群组合支持？")
    assert u.other_firm == "隔壁的中山市恒达五金有限公司"
    assert "industry" not in u.facts  # the neighbour's 五金 is not the asker's industry
    assert understand("隔壁厂拿了200万，我们是省级专精特新，能拿多少").other_firm is None
    assert understand("其他企业可以申请吗").other_firm is None  # firms in general


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("评专精特新要满足什么条件？营收要达到多少？", "专精特新"),
        ("已认定为市级专精特新的企业股改有什么条件", None),  # holds the title already
        ("我们是市级专精特新，股改资助要什么条件", None),
        ("申请专精特新需要什么材料", None),  # a procedure
        ("我们想评专精特新，要什么条件", "专精特新"),
        ("专精特新认定标淮是什么", "专精特新"),
        ("我们是家制造企业，数字化做得挺好，能申请标杆示范奖励吗", None),  # the award, not the title
        ("去年评上市级专精特新，今年增长35%，能拿补贴吗", None),  # held since last year
    ],
)
def test_the_criteria_for_a_title_are_asked_apart_from_a_measures_conditions(
    message: str, title: str | None
) -> None:
    assert understand(message).becoming == title


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("市政府那个一号文系几时印发嘅？", "发生时间"),  # the date of something done
        ("1号文印发的时间是什么时候", "发生时间"),
        ("细则什么时候出台", "时间安排"),  # the future: beyond a 2022 letter
    ],
)
def test_when_something_was_done_is_asked_apart_from_when_it_will_be(message: str, topic: str) -> None:
    assert understand(message).procedure_topic == topic


def test_words_inside_other_words_are_not_theirs() -> None:
    assert (
        understand("我们市级专精特新，暂时不打算股改，那个股改资助我们能拿吗").scope == "in"
    )  # 那个股改 ≠ 个股
    assert understand("推荐个股票").scope == "personal"
    assert (
        understand("專精特新企業要比上一年增長幾多，先有得攞財政補貼？").aspect == "conditions"
    )  # 先有得 = 才能


def test_a_firm_named_by_its_brand_is_another_firm() -> None:
    assert understand("TCL德龙那个协同创新项目拿了多少奖补？").other_firm == "TCL德龙"
    assert understand("AI项目拿了多少补贴").other_firm is None  # Latin letters that name no firm


def test_where_a_list_is_published_is_not_where_to_apply() -> None:
    assert understand("免费代办的代办项目清单在哪里公布？网上能查到吗？").procedure_topic == "公布渠道"
    assert understand("专窗在哪里").procedure_topic == "办理地点"


@pytest.mark.parametrize(
    ("message", "kind"),
    [("[微笑][抱拳]", "ack"), ("[表情]", "ack"), ("在忙吗", "greet"), ("?", "greet")],
)
def test_stickers_pings_and_a_bare_question_mark_are_social(message: str, kind: str) -> None:
    assert kind in understand(message).courtesy


@pytest.mark.parametrize(
    ("message", "person"),
    [
        ("你这机器人没用，叫人来", True),
        ("什么破系统，问三次都答不上，给我转你们领导！", True),
        ("找人来评估一下设备要多少钱", False),  # hiring someone, not asking us for a person
    ],
)
def test_impatient_requests_for_a_person(message: str, person: bool) -> None:
    assert understand(message).wants_person is person


def test_districts_of_other_cities_are_other_regions() -> None:
    assert understand("顺德那边专精特新企业有什么补贴？").scope == "other_region"


@pytest.mark.parametrize("message", ["早上好，今天天气不错", "今天好热啊", "周末愉快！"])
def test_remarks_on_the_weather_or_the_day_are_small_talk(message: str) -> None:
    u = understand(message)
    assert u.courtesy == ("greet",)
    assert u.aspect is None


def test_a_question_about_the_weather_or_a_hot_workshop_is_not_small_talk() -> None:
    assert not understand("天气预报说明天下雨吗").small_talk
    assert not understand("我们厂好热，有没有降温补贴").small_talk


@pytest.mark.parametrize(
    ("clause", "asks"),
    [
        ("结果怎样都好", False),  # whatever: 怎样 before 都
        ("什么都不懂", False),
        ("冇咩特别想问住", False),  # nothing: 冇咩 = 没有什么
        ("没什么问题了", False),
        ("有没有什么补贴", True),
        ("什么都可以申请吗", True),
        ("谁都可以申请吗", True),
    ],
)
def test_a_question_word_for_whatever_or_nothing_asks_nothing(clause: str, asks: bool) -> None:
    assert is_question(understand(clause).text) is asks


def test_a_long_story_without_a_question_asks_for_no_detail() -> None:
    u = understand(
        "忙了一整天终于把申报材料交上去了，盖章盖到手软，结果怎样都好，反正尽力了。我们是火炬区做传感器的，"
        "这段时间问了你们好多问题，真的帮了大忙，谢谢，祝你们中秋快乐。"
    )
    assert (u.asks, u.aspect) == (False, None)
    assert "thanks" in u.courtesy
    assert understand("股改资助的材料").aspect == "procedure"  # a short one names what it asks


def test_a_counted_level_is_other_firms() -> None:
    """ "两家小巨人拿了400万" speaks of the city's firms; "我们是一家省级专精特新企业" of the owner's."""
    assert (
        "zjtx_level"
        not in understand("我看到政策里写两家小巨人拿了400万国家财政补贴，这个400万是每家的吗？").facts
    )
    assert understand("我们是一家省级专精特新企业，增长35%").facts["zjtx_level"] == "省级"


@pytest.mark.parametrize(
    ("message", "aspect"),
    [("那要找边个部门？", "who"), ("技术攻关专项找哪个部门", "who"), ("找哪个部门申请贴息", "procedure")],
)
def test_which_department_to_go_to_is_who_unless_asked_where_to_apply(message: str, aspect: str) -> None:
    assert understand(message).aspect == aspect


@pytest.mark.parametrize(
    ("message", "region"),
    [
        ("长安镇嘅机器换人补贴点样申请？", "长安镇"),  # 东莞's town, named without its city
        ("清溪镇台塑厂冇按规定停工，有冇人管？", "清溪"),
        ("我们是固镇开发区的一家企业，今年能报省级专精特新吗？", "固镇开发区"),
        ("北滘那边家电企业有什么补贴", "北滘"),
        ("我们在古镇镇做灯饰，有什么补贴", None),  # our own town
        ("火炬开发区有什么政策", None),
        ("我们乡镇企业能不能申请", None),
        ("长安汽车是我们的客户，我们能拿增长补贴吗", None),  # a brand, not the town
    ],
)
def test_towns_and_zones_of_other_places(message: str, region: str | None) -> None:
    assert understand(message).region == region


@pytest.mark.parametrize(
    ("message", "own"),
    [
        ("材料交上去三个月了还没有消息", True),
        ("去年申报过了，到现在都没到账", True),
        ("报上去了一分钱都没见到", True),
        # a story of an earlier project's paperwork, then a question about a service
        ("上年报建报咗成半年，同事都跑到冇晒耐性。想问清楚帮办代办服务包啲咩？", False),
    ],
)
def test_an_application_in_progress_is_a_waiting_application_not_a_mood(message: str, own: bool) -> None:
    assert understand(message).own_case is own


@pytest.mark.parametrize(
    ("message", "aspect"),
    [
        ("佢有冇手机或者微信？", "who"),
        ("微信号系几多", "who"),
        ("担保费几多？", "fee"),
        ("中介费要多少", "fee"),
        ("专项经费有多少", "amount"),  # money given, not a charge
        ("专精特新企业有冇专门嘅微信群？", None),  # a group to join, not a way to reach a person
    ],
)
def test_contact_and_fee_questions(message: str, aspect: str | None) -> None:
    assert understand(message).aspect == aspect


@pytest.mark.parametrize(
    ("message", "scope"),
    [
        # the firm is the story; the question a personal matter
        (
            "我哋两公婆喺黄圃开腊味厂，做咗廿年，储咗啲钱，而家想喺石岐买套三房畀个女结婚用，首期都准备好咗。公积金贷款最多可以贷几多？",
            "personal",
        ),
        ("我们厂做五金的，员工社保有没有补贴？", "in"),
        ("帮我写一篇公司年会的老板致辞，三百字左右", "other"),  # a chore, not a matter of policy
        ("帮我写一份股改资助的申请报告", "in"),
        ("天门那个塑料厂每天排毒烟，附近的人呼吸都困难，请环保局派人过来调查", "city_service"),
    ],
)
def test_what_a_message_asks_decides_its_scope(message: str, scope: str) -> None:
    assert understand(message).scope == scope


@pytest.mark.parametrize(
    ("message", "aspect"),
    [
        ("申请要准备啲咩文件？", "procedure"),
        ("企业想直接向书记市长反映诉求，有冇咩渠道？", None),  # whether a channel exists
        ("有没有什么渠道申请", "procedure"),
    ],
)
def test_materials_and_channels(message: str, aspect: str | None) -> None:
    assert understand(message).aspect == aspect


def test_a_decimal_point_ends_no_clause() -> None:
    u = understand("我们是国家级小巨人，营收由8000万做到1.1亿，增长补贴能拿吗")
    assert u.facts["growth_pct"] == 37.5


def test_a_service_question_leaves_the_other_clauses_their_aspect() -> None:
    # whether someone helps asks no detail; "收唔收钱" beside it asks the fee
    assert understand("大项目落地有冇人帮手跑审批？收唔收钱？").aspect == "fee"
    assert understand("一亩大概几钱？").aspect == "amount"  # 几钱: how much money


@pytest.mark.parametrize(
    ("message", "aspect", "topic"),
    [
        ("专精特新增长补贴而家仲有冇得申请？", "procedure", "现行安排"),  # whether it is still open
        ("咁我哋达唔达标？", "qualify", None),
        ("点注册？", "procedure", "使用方法"),  # 点 + a verb asks how
    ],
)
def test_still_open_meeting_the_bar_and_how(message: str, aspect: str, topic: str | None) -> None:
    u = understand(message)
    assert (u.aspect, u.procedure_topic) == (aspect, topic)


def test_a_request_to_be_told_is_a_question() -> None:
    u = understand("他提到市政府今年一月份出了一个一号文。麻烦告诉我这个文件的全称和文号，谢谢。")
    assert u.asks


def test_what_the_owner_did_not_know_asks_nothing() -> None:
    from knowledge.understand import asking_part

    text = understand(
        "我哋係火炬开发区做电子元件嘅旧年啱啱搬咗新厂房成日都唔知政府出咗咩政策我想知道嗰个平台叫乜嘢名"
    ).text
    assert asking_part(text, lead_in=False).startswith("我想知道")


def test_wanting_to_know_asks_and_names_the_place_asked_about() -> None:
    u = understand(
        "我们在东莞长安也有工厂，做五金冲压件的，中山这边只是总部和研发。听说东莞有机器换人专项资金，"
        "想了解东莞那边的申报条件和补助比例。"
    )
    assert u.asks
    assert (u.scope, u.region) == ("other_region", "东莞")


def test_courtesies_around_what_is_said_are_left_out_and_keywords_are_a_search() -> None:
    from knowledge.understand import keyword_query, without_courtesies

    assert without_courtesies("您好，打扰一下，贴息 银行 谢谢！") == "贴息 银行"
    assert without_courtesies("你好，请问股改资助多少？谢谢！") == "请问股改资助多少？"
    assert without_courtesies("谢谢") == "谢谢"  # nothing else: the courtesy is what is said
    assert keyword_query("您好，打扰一下，贴息 银行 谢谢！")
    assert keyword_query("省级工业互联网标杆企业项目 中山 数量")
    assert not keyword_query("收到，明白，谢谢")  # remarks apart by commas
    assert not keyword_query("谢谢你介绍的股改资助，很清楚")
