"""Social messages are courtesy, whatever their wording; a question beside them is still a question; what
a question asks and whether it asks for a person."""

from __future__ import annotations

import pytest

from knowledge.understand import understand


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("你真棒", "thanks"),
        ("哈哈哈，厉害", "thanks"),
        ("辛苦晒", "thanks"),
        ("新年快乐", "greet"),
        ("喂", "greet"),
        ("测试", "greet"),
        ("你能做什么", "bot"),
        ("你是哪个部门的？", "bot"),
        ("好的没问题了", "ack"),
    ],
)
def test_social_messages_are_courtesy(message: str, kind: str) -> None:
    assert kind in understand(message).courtesy


@pytest.mark.parametrize(
    "message",
    ["你能帮我查一下专精特新补贴吗", "测试一下你，专精特新增长补贴多少", "专精特新企业增长补贴厉害吗"],
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
