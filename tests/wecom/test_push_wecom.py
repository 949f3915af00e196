"""精准推送 end to end: an owner states a fact in the firm's bound WeCom group (through the encrypted
callback, the real bot and action server), the firm becomes a candidate for a seed record with
conditions, an editor sends the push, and the local fake WeCom API receives it in the group once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from bench.stack import Stack
from tests.browser.conftest import browser, new_context
from tests.fakes.wecom_api import FakeWeComServer
from tests.polling import wait_for
from tests.wecom.test_wecom_e2e import answered, before_first, post_message, texts_to

FIRM_USCC = "91442000MA4W0H1L3A"  # fictional, valid check character
FIRM_NAME = "中山市推送测试小家电有限公司"
RECORD = "zjtx-growth-subsidy"  # 专精特新 level and growth ≥ 30%
HEADLINE = "【惠企通·政策推送】专精特新企业增长补贴"
BROWSER_USCC = "91442000MA4W0J1M4M"  # 市级 in the registry: the 云上对接 activity fits it as registered
BROWSER_FIRM = "中山市推送测试灯饰有限公司"
__all__ = ["browser", "new_context"]  # the browser fixtures (tests/browser/conftest.py), used here


@pytest.fixture(scope="module")
def editor(stack: Stack) -> dict[str, str]:
    stack.add_liaison("push_editor", "push-editor-1", "推送编辑", "市工业和信息化局", role="editor")
    stack.add_liaison("push_liaison", "push-liaison-1", "钱挂点", "市工业和信息化局")
    resp = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": "push_editor", "password": "push-editor-1"}
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


@pytest.fixture(scope="module")
def group(stack: Stack, editor: dict[str, str]) -> str:
    """A 省级 firm (registry) with its WeCom group bound."""
    del editor  # the liaison is registered with the editor
    stack.admin(
        "add-firm",
        "--uscc",
        FIRM_USCC,
        "--name",
        FIRM_NAME,
        "--level",
        "省级",
        "--industry",
        "小家电",
        "--liaison",
        "push_liaison",
    )
    chat_id = f"chat{uuid.uuid4().hex[:8]}"
    stack.admin("bind-wecom-chat", "--chat-id", chat_id, "--uscc", FIRM_USCC)
    return chat_id


def test_a_fact_stated_in_the_group_makes_the_firm_a_candidate_and_the_push_arrives_once(
    stack: Stack, wecom_server: FakeWeComServer, editor: dict[str, str], group: str
) -> None:
    api = f"{stack.gateway}/api/pushes"
    before = httpx.get(f"{api}/candidates", params={"record_id": RECORD}, headers=editor).json()
    ours = [c for c in before["candidates"] if c["uscc"] == FIRM_USCC]
    assert [(c["verdict"], c["missing"]) for c in ours] == [("信息不足", "growth_pct")]

    base = int(time.time() * 1000)
    post_message(stack, f"boss{uuid.uuid4().hex[:6]}", "我们去年增长了35%", base, chat_id=group)
    wait_for(lambda: texts_to(wecom_server, "chat", group), what="the bot's answer in the group")

    def stated() -> dict[str, object] | None:
        profile = httpx.get(f"{api}/profiles/{FIRM_USCC}", headers=editor).json()
        return profile if "growth_pct" in profile["facts"] else None

    profile = wait_for(stated, what="the stated growth in the firm's profile")
    growth = profile["facts"]["growth_pct"]
    assert (growth["value"], growth["origin"], growth["sender_id"], growth["channel"]) == (
        35.0,
        "conversation",
        f"wecom:{group}",
        "wecom-chat",
    )
    assert profile["facts"]["zjtx_level"]["origin"] == "registry"
    assert profile["liaison"] == {
        "username": "push_liaison",
        "name": "钱挂点",
        "department": "市工业和信息化局",
    }

    selection = httpx.get(f"{api}/candidates", params={"record_id": RECORD}, headers=editor).json()
    ours = [c for c in selection["candidates"] if c["uscc"] == FIRM_USCC]
    assert len(ours) == 1
    assert (ours[0]["verdict"], ours[0]["channels"]) == (
        "符合",
        [{"channel": "wecom-chat", "label": "企业微信（群聊）"}],
    )
    assert "较上一年增长率35%，达到答复函要求的30%" in ours[0]["reasons"]

    sent = httpx.post(api, json={"record_id": RECORD, "uscc": [FIRM_USCC]}, headers=editor)
    assert sent.status_code == 200, sent.text
    assert [(s["uscc"], s["channels"]) for s in sent.json()["sent"]] == [(FIRM_USCC, ["wecom-chat"])]
    again = httpx.post(api, json={"record_id": RECORD, "uscc": [FIRM_USCC]}, headers=editor).json()
    assert (again["sent"], [s["reason"] for s in again["skipped"]]) == ([], ["already_pushed"])

    # A marker after the second click: once it is answered in the group, a second push would be there.
    post_message(stack, f"boss{uuid.uuid4().hex[:6]}", "股改资助最多多少", base + 1, chat_id=group)
    texts = answered(wecom_server, "chat", group, "200 万元")
    pushed = [t for t in before_first(texts, "200 万元") if t.startswith(HEADLINE)]
    assert len(pushed) == 1
    assert "（依据：答复函 三（二），2022年6月8日；负责部门：市工业和信息化局）" in pushed[0]
    assert "钱挂点（市工业和信息化局）" in pushed[0]
    assert "回复“退订”" in pushed[0]

    # The shared stack's log holds other tests' pushes too (the widget test seeds one): ours is one row.
    log = [
        p
        for p in httpx.get(api, params={"record_id": RECORD}, headers=editor).json()
        if p["uscc"] == FIRM_USCC
    ]
    assert [(p["uscc"], p["verdict"], p["channels"], p["sent_by"]) for p in log] == [
        (FIRM_USCC, "符合", "wecom-chat", "push_editor")
    ]
    csv = httpx.get(f"{api}.csv", params={"record_id": RECORD}, headers=editor)
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text.startswith("\ufeff序号,推送时间,条目,版本,统一社会信用代码,企业名称")
    assert FIRM_NAME in csv.text
    assert "企业微信（群聊）" in csv.text


def test_refusals_are_clear(stack: Stack, editor: dict[str, str]) -> None:
    api = f"{stack.gateway}/api/pushes"
    unknown = httpx.get(f"{api}/candidates", params={"record_id": "no-such-record"}, headers=editor)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "no such record"})
    without = httpx.get(f"{api}/candidates", params={"record_id": "letter-contact"}, headers=editor)
    assert without.status_code == 409
    assert "没有适用条件" in without.json()["detail"]
    assert (
        httpx.post(api, json={"record_id": "letter-contact", "uscc": [FIRM_USCC]}, headers=editor).status_code
        == 409
    )
    assert httpx.post(api, json={"record_id": RECORD, "uscc": []}, headers=editor).status_code == 422
    assert httpx.get(api, params={"from": "2026-13-01"}, headers=editor).status_code == 422
    assert httpx.get(f"{api}/profiles/91442000MA4W0G1K2Y", headers=editor).status_code == 404
    liaison = httpx.post(
        f"{stack.gateway}/api/liaison/login", json={"username": "push_liaison", "password": "push-liaison-1"}
    ).json()["token"]
    refused = httpx.get(api, headers={"Authorization": f"Bearer {liaison}"})
    assert (refused.status_code, refused.json()) == (403, {"detail": "editors only"})


def test_an_editor_sends_a_push_from_the_record_view(
    stack: Stack,
    wecom_server: FakeWeComServer,
    editor: dict[str, str],
    new_context: Callable[..., BrowserContext],
    artifacts: Path,
) -> None:
    del editor  # registers the editor
    stack.admin(
        "add-firm",
        "--uscc",
        BROWSER_USCC,
        "--name",
        BROWSER_FIRM,
        "--level",
        "市级",
        "--liaison",
        "push_liaison",
    )
    chat_id = f"chat{uuid.uuid4().hex[:8]}"
    stack.admin("bind-wecom-chat", "--chat-id", chat_id, "--uscc", BROWSER_USCC)
    page = new_context().new_page()
    page.goto(f"{stack.gateway}/console")
    page.locator("#login-username").fill("push_editor")
    page.locator("#login-password").fill("push-editor-1")
    page.locator("#login-submit").click()
    page.locator("#tab-knowledge").click()
    page.locator("#kb-record-filter").fill("zjtx-boc-cloud-matching")
    page.locator('#kb-records button[data-id="zjtx-boc-cloud-matching"]').click()

    row = page.locator(f'#kb-push-candidates tr[data-uscc="{BROWSER_USCC}"]')
    expect(row).to_contain_text(BROWSER_FIRM)
    expect(row).to_contain_text("符合")
    expect(row).to_contain_text("专精特新认定级别：市级")
    expect(row).to_contain_text("钱挂点（市工业和信息化局）")
    expect(row).to_contain_text("企业微信（群聊）")
    expect(row.locator(".kb-push-pick")).to_be_checked()  # 符合 is preselected
    page.locator("#kb-push").screenshot(path=artifacts / "console-push-panel.png")
    # Only this test's firm: the shared stack's other firms stay unsent.
    others = page.locator(".kb-push-pick:checked").evaluate_all("picks => picks.map(p => p.value)")
    for code in others:
        if code != BROWSER_USCC:
            page.locator(f'.kb-push-pick[value="{code}"]').uncheck()
    expect(page.locator("#kb-push-send")).to_have_text("发送推送（1 家）")
    page.locator("#kb-push-send").click()
    expect(page.locator("#kb-push-result")).to_contain_text("已推送 1 家")
    expect(page.locator("#kb-push-log")).to_contain_text(BROWSER_FIRM)
    expect(row).to_have_count(0)  # pushed: no longer a candidate of this version
    sent = wait_for(lambda: texts_to(wecom_server, "chat", chat_id), what="the push in the group")
    assert sent[0].startswith("【惠企通·政策推送】中国银行专精特新融资服务云上对接")

    # The dashboard's 一键起草 opens a new record's form with the topic.
    page.evaluate(
        "window.dispatchEvent(new CustomEvent('hqt:draft-record',"
        " {detail: {title: '展会展位费补贴', questions: ['参展有补贴吗', '展位费能报销吗']}}))"
    )
    expect(page.locator("#kb-record-heading")).to_have_text("新建政策条目")
    expect(page.locator("#kb-field-title")).to_have_value("展会展位费补贴")
    expect(page.locator("#kb-field-aliases")).to_have_value("参展有补贴吗、展位费能报销吗")
    expect(page.locator("#kb-push")).to_be_hidden()
