"""The 数据看板 tab in a real browser on the shared stack: an editor opens it over a seeded past week
(unique owners, so the other tests' traffic of today does not count), sees the charts drawn and the
figures, turns a topic into a draft record and downloads a figure as CSV."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bench.stack import Stack
from gateway.data.schema import conversations, escalations, messages, ratings
from gateway.data.store import Store

NewContext = Callable[..., BrowserContext]
CHINA = ZoneInfo("Asia/Shanghai")
EDITOR = ("dash_editor", "dash-editor-password-1", "看板编辑", "市工业和信息化局")
DEPARTMENT = "看板测试局"  # only this test's case is routed here
QUESTION = "食堂营业执照怎么办理"


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), CHINA)


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> tuple[Stack, date]:
    """An editor, and in a week 40 days ago: two owners (web and WeCom), five messages, a case, a rating."""
    stack.add_liaison(*EDITOR, role="editor")
    monday = datetime.now(CHINA).date() - timedelta(days=40)
    monday -= timedelta(days=monday.weekday())
    tag = uuid.uuid4().hex[:8]
    web, wecom = f"web-dash{tag}", f"wecom-user-dash{tag}"
    store = Store(stack.env["DATABASE_URL"])
    rows = [
        (web, "专精特新增长补贴有多少", "answer", 0, 10),
        (web, QUESTION, "out_of_scope", 0, 11),
        (wecom, "认定后多久能拿到钱", "staff", 1, 9),
        (wecom, "我们符合专精特新吗", "verdict", 1, 10),
        (wecom, "数字化改造贷款贴息怎么申请", "handoff", 2, 15),
    ]
    with store.tx() as con:
        for sender, channel in ((web, "web"), (wecom, "wecom-user")):
            con.execute(
                conversations.insert().values(
                    sender_id=sender, channel=channel, created_at=at(monday, 8), updated_at=at(monday, 16)
                )
            )
        for sender, text, outcome, day, hour in rows:
            con.execute(
                messages.insert().values(
                    sender_id=sender,
                    role="user",
                    text=text,
                    status="processed",
                    outcome=outcome,
                    created_at=at(monday + timedelta(days=day), hour),
                )
            )
        case_id = con.execute(
            escalations.insert().values(
                sender_id=wecom,
                channel="wecom-user",
                status="resolved",
                department=DEPARTMENT,
                liaison=None,
                claimed_by=EDITOR[0],
                packet=json.dumps({"sender_id": wecom}),
                created_at=at(monday + timedelta(days=2), 15),
                due_at=at(monday + timedelta(days=3), 10),
                first_response_at=at(monday + timedelta(days=2), 16),
                resolved_at=at(monday + timedelta(days=3), 11),
            )
        ).inserted_primary_key[0]
        con.execute(
            ratings.insert().values(
                key=f"case:{case_id}",
                kind="case",
                sender_id=wecom,
                channel="wecom-user",
                escalation_id=case_id,
                value=4,
                reason="",
                created_at=at(monday + timedelta(days=3), 12),
                updated_at=at(monday + timedelta(days=3), 12),
            )
        )
    store.engine.dispose()
    return stack, monday


def open_dashboard(context: BrowserContext, stack: Stack, first: date, last: date) -> Page:
    page = context.new_page()
    page.goto(f"{stack.gateway}/console")
    page.locator("#login-username").fill(EDITOR[0])
    page.locator("#login-password").fill(EDITOR[1])
    page.locator("#login-submit").click()
    expect(page.locator("#app")).to_be_visible()
    page.locator("#tab-dashboard").click()
    expect(page.locator("#dash-view")).to_be_visible()
    expect(page.locator("#dash-view")).to_have_attribute("data-loaded", "true")  # the last 30 days
    page.locator("#dash-from").fill(first.isoformat())
    page.locator("#dash-to").fill(last.isoformat())
    page.locator("#dash-refresh").click()
    expect(page.locator("#dash-view")).to_have_attribute("data-loaded", "true")
    return page


CHART_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return { width: canvas.width, height: canvas.height, painted, chart: Boolean(Chart.getChart(canvas)) };
}"""


def test_the_dashboard_draws_a_seeded_week_and_exports_it(
    seeded: tuple[Stack, date], new_context: NewContext, artifacts: Path
) -> None:
    stack, monday = seeded
    page = open_dashboard(new_context(), stack, monday, monday + timedelta(days=6))

    figures = page.locator("#dash-volume-summary .dash-figure")
    expect(figures.nth(0)).to_have_text("2会话")
    expect(figures.nth(1)).to_have_text("5企业消息")
    expect(page.locator("#dash-volume-channels")).to_contain_text("企业微信（单聊）")
    volume = page.evaluate(
        "() => Chart.getChart(document.getElementById('dash-volume-chart')).data.datasets"
        ".map((d) => [d.label, d.data])"
    )
    assert volume[-1] == ["会话", [1, 1, 1]]  # one owner a day, on three days
    assert ["答复函作答", [1, 0, 0]] in volume
    assert ["转人工", [0, 0, 1]] in volume
    for canvas in ("dash-volume-chart", "dash-topics-chart", "dash-service-chart"):
        drawn = page.evaluate(CHART_DRAWN, canvas)
        assert drawn["chart"], canvas
        assert drawn["width"] > 0, canvas
        assert drawn["height"] > 0, canvas
        assert drawn["painted"] > 500, (canvas, drawn)

    topics = page.locator("#dash-topics-table tbody tr")
    expect(topics).to_have_count(2)  # out of scope, handed off
    expect(page.locator("#dash-topics-table")).to_contain_text(QUESTION)
    service = page.locator("#dash-service-departments tbody tr").filter(has_text=DEPARTMENT)
    expect(service).to_have_count(1)
    expect(service.locator("td").nth(1)).to_have_text("1")  # cases
    expect(service.locator("td").nth(4)).to_have_text("1")  # first response in 1 working hour
    expect(service.locator("td").nth(8)).to_have_text("100%")  # within the SLA
    expect(service.locator("td").nth(10)).to_have_text("4")  # satisfaction
    page.screenshot(path=artifacts / "console-dashboard.png", full_page=True)

    with page.expect_download() as download_info:
        page.locator('#dash-view [data-csv="volume"]').click()
    saved = download_info.value.path()
    assert saved is not None
    raw = Path(saved).read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("周期,渠道,会话数,企业消息数,答复函作答")
    assert lines[1:] == [
        f"{monday},web,1,2,1,0,0,0,1,0,0,0",
        f"{monday + timedelta(days=1)},wecom-user,1,2,0,1,1,0,0,0,0,0",
        f"{monday + timedelta(days=2)},wecom-user,1,1,0,0,0,0,0,1,0,0",
    ]

    # 起草知识条目: the knowledge tab is told what to draft, and shown.
    page.evaluate(
        "() => { window.drafts = []; window.addEventListener('hqt:draft-record', (e) => window.drafts.push(e.detail)); }"
    )
    page.locator("#dash-topics-table tbody tr").filter(has_text=QUESTION).get_by_role(
        "button", name="起草知识条目"
    ).click()
    expect(page.locator("#kb-view")).to_be_visible()
    assert page.evaluate("window.drafts") == [{"title": "营业执照", "questions": [QUESTION]}]
