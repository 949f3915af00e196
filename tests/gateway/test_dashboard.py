"""The dashboard's figures on real SQLite and PostgreSQL, from a seeded week of conversations, cases and
ratings, each figure checked exactly; and its routes (JSON and CSV, who may see what, bad ranges)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.data.dashboard import Dashboard, Period, period_label, topics
from gateway.data.registry import Registry
from gateway.data.schema import conversations, escalations, messages, purged_counts, ratings
from gateway.data.store import Store
from gateway.main import create_app
from gateway.routes.dashboard import keywords
from gateway.services import Services
from gateway.sla import LOCAL
from huiqitong.settings import Settings

UTC = timezone.utc
GXJ, RSJ = "市工业和信息化局", "市人力资源和社会保障局"
WEEK = Period(date(2026, 3, 2), date(2026, 3, 8))  # Monday to Sunday; the week before is the previous period
NOW = datetime(2026, 3, 9, 10, 0, tzinfo=LOCAL)  # Monday of the next week, 10:00


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


CONVERSATIONS = [("web-a", "web"), ("wecom-b", "wecom"), ("web-c", "web"), ("web-d", "web")]
# (key, sender, role, text, outcome, subject, created_at UTC)
MESSAGES: list[tuple[str, str, str, str, str | None, str | None, datetime]] = [
    ("a1", "web-a", "user", "专精特新增长30%有什么补贴", "answer", "zjtx-growth-subsidy", utc(2, 2)),
    ("a1r", "web-a", "bot", "根据答复函……", None, None, utc(2, 2, 1)),
    ("a2", "web-a", "user", "专精特新增长补贴能叠加吗", "not_in_letter", "zjtx-growth-subsidy", utc(2, 3)),
    # 23:30 UTC is 07:30 the next local day
    ("a3", "web-a", "user", "数字化改造贷款贴息多久到账", "handoff", None, utc(2, 23, 30)),
    ("b1", "wecom-b", "user", "认定后多久能拿到钱", "staff", None, utc(2, 15, 59)),  # 23:59 local
    ("b2", "wecom-b", "user", "食堂营业执照怎么办理", "out_of_scope", None, utc(2, 16, 0)),  # 00:00 on 3rd
    ("b3", "wecom-b", "user", "我们符合专精特新吗", "verdict", None, utc(9, 1)),  # the next week
    ("c1", "web-c", "user", "你好", "smalltalk", None, utc(3, 1)),
    ("c1r", "web-c", "bot", "您好！我是惠企通", None, None, utc(3, 1, 1)),
    ("c2", "web-c", "user", "嗯", None, None, utc(3, 2)),
    ("c3", "web-c", "user", "数字化改造贷款贴息需要什么材料", "not_in_letter", None, utc(3, 3)),
    # the previous period (23 Feb – 1 Mar local)
    ("d1", "web-d", "user", "数字化改造贷款贴息什么时候发", "handoff", None, utc(25, 2, month=2)),
    (
        "d2",
        "web-d",
        "user",
        "增长补贴还有别的要求吗",
        "not_in_letter",
        "zjtx-growth-subsidy",
        utc(26, 2, month=2),
    ),
    ("d3", "web-d", "user", "专精特新有哪些奖励", "answer", None, utc(1, 15, 59)),  # 23:59 on 1 Mar local
]
# (id, channel, department, liaison, claimed_by, status, created, first response, resolved) — local times
CASES: list[tuple[int, str, str, str | None, str | None, str, datetime, datetime | None, datetime | None]] = [
    (1, "web", GXJ, "li_a", "li_a", "resolved", local(2, 10), local(2, 11), local(3, 10)),
    (2, "wecom", GXJ, None, "li_b", "resolved", local(2, 16), local(3, 12), local(3, 17)),
    (3, "web", RSJ, "li_a", None, "open", local(4, 9), None, None),
    (4, "web", RSJ, None, None, "open", local(6, 17), None, None),
    (5, "web", GXJ, "li_a", "li_a", "claimed", local(1, 10), local(1, 10, 30), None),  # before the range
]
DUE = {1: local(2, 14), 2: local(3, 11), 3: local(4, 13), 4: local(9, 12), 5: local(2, 13)}  # 4 working hours


def seed(store: Store) -> dict[str, int]:
    """Write the fixture rows; returns the message ids by key."""
    ids: dict[str, int] = {}
    with store.tx() as con:
        for sender, channel in CONVERSATIONS:
            con.execute(
                conversations.insert().values(
                    sender_id=sender, channel=channel, created_at=utc(1, 0), updated_at=utc(9, 0)
                )
            )
        for key, sender, role, text, outcome, subject, at in MESSAGES:
            ids[key] = con.execute(
                messages.insert().values(
                    sender_id=sender,
                    role=role,
                    text=text,
                    status="processed",
                    outcome=outcome,
                    subject=subject,
                    created_at=at,
                )
            ).inserted_primary_key[0]
        for n, channel, dept, liaison, claimed, status, created, first, resolved in CASES:
            con.execute(
                escalations.insert().values(
                    id=n,
                    sender_id=f"case-{n}",
                    channel=channel,
                    status=status,
                    open_key=None if status == "resolved" else f"case-{n}",
                    department=dept,
                    liaison=liaison,
                    claimed_by=claimed,
                    packet=json.dumps({"sender_id": f"case-{n}"}),
                    created_at=created,
                    due_at=DUE[n],
                    first_response_at=first,
                    resolved_at=resolved,
                )
            )
        con.execute(
            purged_counts.insert().values(
                day="2026-03-04", channel="web", conversations=2, user_messages=5, bot_messages=6
            )
        )
        rated = [
            ("answer", "web-a", "web", ids["a1"], None, 1, utc(2, 4)),
            ("answer", "wecom-b", "wecom", ids["b1"], None, 0, utc(3, 4)),
            ("answer", "web-c", "web", ids["c1"], None, 1, utc(5, 4)),
            ("answer", "web-a", "web", ids["a3"], None, 0, utc(9, 4)),  # after the range
            ("case", "case-1", "web", None, 1, 5, utc(3, 4)),
            ("case", "case-2", "wecom", None, 2, 3, utc(4, 4)),
        ]
        for kind, sender, channel, message_id, case_id, value, at in rated:
            con.execute(
                ratings.insert().values(
                    key=f"{kind}:{message_id or case_id}",
                    kind=kind,
                    sender_id=sender,
                    channel=channel,
                    message_id=message_id,
                    escalation_id=case_id,
                    value=value,
                    reason="",
                    created_at=at,
                    updated_at=at,
                )
            )
    return ids


def volume_row(
    period: str, label: str, channel: str, conversations: int, messages: int, **outcomes: int
) -> dict[str, Any]:
    counts = dict.fromkeys(
        ("answer", "staff", "verdict", "not_in_letter", "out_of_scope", "handoff", "others", "purged"), 0
    )
    counts.update(outcomes)
    return {
        "period": period,
        "label": label,
        "channel": channel,
        "conversations": conversations,
        "messages": messages,
        **counts,
    }


BY_DAY = [
    volume_row("2026-03-02", "2026-03-02", "web", 1, 2, answer=1, not_in_letter=1),
    volume_row("2026-03-02", "2026-03-02", "wecom", 1, 1, staff=1),
    volume_row("2026-03-03", "2026-03-03", "web", 2, 4, handoff=1, not_in_letter=1, others=2),
    volume_row("2026-03-03", "2026-03-03", "wecom", 1, 1, out_of_scope=1),
    volume_row("2026-03-04", "2026-03-04", "web", 2, 5, purged=5),
]
BY_WEEK = [
    volume_row(
        "2026-03-02", "2026-W10", "web", 4, 11, answer=1, not_in_letter=2, handoff=1, others=2, purged=5
    ),
    volume_row("2026-03-02", "2026-W10", "wecom", 1, 2, staff=1, out_of_scope=1),
    volume_row("2026-03-09", "2026-W11", "wecom", 1, 1, verdict=1),
]
SERVICE = [
    {
        "level": "department", "name": RSJ, "cases": 2, "responded": 0, "resolved": 0,
        "first_response_median_h": None, "first_response_p90_h": None,
        "resolution_median_h": None, "resolution_p90_h": None,
        "within_sla": 0, "sla_decided": 1, "within_sla_share": 0.0, "past_sla": 1,
        "satisfaction_mean": None, "satisfaction_count": 0,
    },
    {
        "level": "department", "name": GXJ, "cases": 2, "responded": 2, "resolved": 2,
        "first_response_median_h": 3.0, "first_response_p90_h": 5.0,
        "resolution_median_h": 9.5, "resolution_p90_h": 10.0,
        "within_sla": 1, "sla_decided": 2, "within_sla_share": 0.5, "past_sla": 1,
        "satisfaction_mean": 4.0, "satisfaction_count": 2,
    },
    {
        "level": "liaison", "name": "li_a", "cases": 2, "responded": 1, "resolved": 1,
        "first_response_median_h": 1.0, "first_response_p90_h": 1.0,
        "resolution_median_h": 9.0, "resolution_p90_h": 9.0,
        "within_sla": 1, "sla_decided": 2, "within_sla_share": 0.5, "past_sla": 1,
        "satisfaction_mean": 5.0, "satisfaction_count": 1,
    },
    {
        "level": "liaison", "name": "", "cases": 1, "responded": 0, "resolved": 0,
        "first_response_median_h": None, "first_response_p90_h": None,
        "resolution_median_h": None, "resolution_p90_h": None,
        "within_sla": 0, "sla_decided": 0, "within_sla_share": None, "past_sla": 0,
        "satisfaction_mean": None, "satisfaction_count": 0,
    },
    {
        "level": "liaison", "name": "li_b", "cases": 1, "responded": 1, "resolved": 1,
        "first_response_median_h": 5.0, "first_response_p90_h": 5.0,
        "resolution_median_h": 10.0, "resolution_p90_h": 10.0,
        "within_sla": 0, "sla_decided": 1, "within_sla_share": 0.0, "past_sla": 1,
        "satisfaction_mean": 3.0, "satisfaction_count": 1,
    },
]  # fmt: skip
TITLES = {"zjtx-growth-subsidy": "专精特新企业增长补贴"}
TOPICS = [
    {
        "topic": "keyword:数字化改造",
        "title": "数字化改造",
        "record_ids": [],
        "keywords": ["数字化改造", "贷款贴息"],
        "count": 2,
        "previous": 1,
        "change": 1,
        "examples": ["数字化改造贷款贴息需要什么材料", "数字化改造贷款贴息多久到账"],
    },
    {
        "topic": "record:zjtx-growth-subsidy",
        "title": "专精特新企业增长补贴",
        "record_ids": ["zjtx-growth-subsidy"],
        "keywords": ["专精特新", "增长补贴", "叠加"],
        "count": 1,
        "previous": 1,
        "change": 0,
        "examples": ["专精特新增长补贴能叠加吗"],
    },
    {
        "topic": "keyword:营业执照",
        "title": "营业执照",
        "record_ids": [],
        "keywords": ["营业执照", "食堂"],
        "count": 1,
        "previous": 0,
        "change": 1,
        "examples": ["食堂营业执照怎么办理"],
    },
]


@pytest.fixture
def dash(store: Store) -> Dashboard:
    seed(store)
    return Dashboard(store)


def test_periods_are_local_days_and_iso_weeks() -> None:
    start, end = WEEK.bounds()
    assert (start, end) == (utc(1, 16), utc(8, 16))
    assert WEEK.previous() == Period(date(2026, 2, 23), date(2026, 3, 1))
    assert period_label(date(2026, 3, 2), "week") == "2026-W10"
    assert period_label(date(2026, 12, 28), "week") == "2026-W53"


def test_volume_by_local_day_and_channel(dash: Dashboard) -> None:
    assert dash.volume(WEEK, "day") == BY_DAY
    assert dash.volume(WEEK, "day", "wecom") == [r for r in BY_DAY if r["channel"] == "wecom"]
    assert dash.volume(Period(date(2026, 3, 3), date(2026, 3, 3)), "day") == BY_DAY[2:4]


def test_volume_by_iso_week_counts_each_owner_once(dash: Dashboard) -> None:
    assert dash.volume(Period(date(2026, 3, 2), date(2026, 3, 9)), "week") == BY_WEEK
    assert dash.volume(Period(date(2026, 3, 2), date(2026, 3, 9)), "week", "web") == BY_WEEK[:1]


def test_volume_totals_count_each_owner_once_over_the_range(dash: Dashboard) -> None:
    assert dash.volume_totals(WEEK) == [
        {"channel": "web", "conversations": 4, "messages": 11},  # web-a, web-c and 2 purged
        {"channel": "wecom", "conversations": 1, "messages": 2},
    ]
    assert dash.volume_totals(WEEK, "wecom") == [{"channel": "wecom", "conversations": 1, "messages": 2}]


def test_unanswered_demand_in_topics_with_trend(dash: Dashboard) -> None:
    rows = dash.unanswered(WEEK)
    assert [(r["text"], r["current"]) for r in rows] == [
        ("数字化改造贷款贴息需要什么材料", True),
        ("数字化改造贷款贴息多久到账", True),
        ("食堂营业执照怎么办理", True),
        ("专精特新增长补贴能叠加吗", True),
        ("增长补贴还有别的要求吗", False),
        ("数字化改造贷款贴息什么时候发", False),
    ]
    assert topics(rows, TITLES, keywords) == TOPICS
    assert [t["topic"] for t in topics(dash.unanswered(WEEK, "wecom"), TITLES, keywords)] == [
        "keyword:营业执照"
    ]


def test_topics_without_keywords_are_other() -> None:
    rows = [
        {"text": "？？", "subject": None, "current": True},
        {"text": "嗯", "subject": None, "current": False},
    ]
    assert topics(rows, {}, keywords) == [
        {
            "topic": "keyword:",
            "title": "其他",
            "record_ids": [],
            "keywords": [],
            "count": 1,
            "previous": 1,
            "change": 0,
            "examples": ["？？"],
        }
    ]


def test_service_per_department_and_liaison(dash: Dashboard) -> None:
    assert dash.service(WEEK, now=NOW) == SERVICE
    mine = dash.service(WEEK, "li_a", now=NOW)
    assert [(r["level"], r["name"], r["cases"]) for r in mine] == [
        ("department", RSJ, 1),
        ("department", GXJ, 1),
        ("liaison", "li_a", 2),
    ]
    assert mine[2] == SERVICE[2]


def test_cases_past_sla(dash: Dashboard) -> None:
    late = dash.past_sla(WEEK, now=NOW)
    assert [(c["id"], c["liaison"], c["late_h"], c["first_response_at"] is None) for c in late] == [
        (3, "li_a", 24.0, True),  # 13:00–18:00 on the 4th, the 5th and 6th, 9:00–10:00 on the 9th
        (2, "li_b", 1.0, False),
    ]
    assert late[1]["due_at"] == local(3, 11).astimezone(UTC).isoformat()
    assert [c["id"] for c in dash.past_sla(WEEK, "li_b", now=NOW)] == [2]


def test_ratings_per_kind_and_channel(dash: Dashboard) -> None:
    assert dash.ratings(WEEK) == [
        {"kind": "answer", "channel": "web", "count": 2, "helpful": 2, "helpful_share": 1.0, "mean": None},
        {"kind": "answer", "channel": "wecom", "count": 1, "helpful": 0, "helpful_share": 0.0, "mean": None},
        {"kind": "case", "channel": "web", "count": 1, "helpful": None, "helpful_share": None, "mean": 5.0},
        {"kind": "case", "channel": "wecom", "count": 1, "helpful": None, "helpful_share": None, "mean": 3.0},
    ]


# -- routes --------------------------------------------------------------------------------------------
STAFF = [
    ("ed_liu", "editor", GXJ),
    ("li_a", "liaison", GXJ),
    ("li_b", "liaison", GXJ),
]
RANGE = "from=2026-03-02&to=2026-03-08"


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    settings = Settings(
        env="development",
        var_dir=tmp_path,
        database_url=store.engine.url.render_as_string(hide_password=False),
        redis_url="",
        handoff_secret="test-handoff-secret",
        wecom_token="",
        retention_days=3650,  # the start-up purge would take the seeded March away
    )
    services = Services.build(settings)
    registry = Registry(services.store)
    for username, role, department in STAFF:
        registry.add_liaison(
            {
                "username": username,
                "password": f"{username}-password",
                "name": username,
                "department": department,
                "role": role,
            }
        )
    seed(services.store)
    with TestClient(create_app(settings, services)) as test_client:
        auth = {}
        for username, _, _ in STAFF:
            token = test_client.post(
                "/api/liaison/login", json={"username": username, "password": f"{username}-password"}
            ).json()["token"]
            auth[username] = {"Authorization": f"Bearer {token}"}
        yield test_client, auth
    services.store.engine.dispose()


def read_csv(resp: Any) -> list[list[str]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert resp.content.startswith("\ufeff".encode())
    assert resp.headers["content-disposition"].startswith('attachment; filename="')
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))


def test_routes_serve_every_figure_as_json_and_csv(
    client: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    http, auth = client
    editor = auth["ed_liu"]
    week = http.get("/api/dashboard/volume?from=2026-03-02&to=2026-03-09&by=week", headers=editor)
    assert week.status_code == 200
    assert week.json() == {
        "start": "2026-03-02",
        "end": "2026-03-09",
        "by": "week",
        "rows": BY_WEEK,
        "totals": [
            {"channel": "web", "conversations": 4, "messages": 11},
            {"channel": "wecom", "conversations": 1, "messages": 3},
        ],
    }
    rows = read_csv(http.get(f"/api/dashboard/volume.csv?{RANGE}&channel=wecom", headers=editor))
    assert rows == [
        ["周期", "渠道", "会话数", "企业消息数", "答复函作答", "工作人员答复", "资格判断", "如实说明未涉及", "超出范围", "转人工", "其他", "已清理"],
        ["2026-03-02", "wecom", "1", "1", "0", "1", "0", "0", "0", "0", "0", "0"],
        ["2026-03-03", "wecom", "1", "1", "0", "0", "0", "0", "1", "0", "0", "0"],
    ]  # fmt: skip

    found = http.get(f"/api/dashboard/topics?{RANGE}", headers=editor).json()
    assert (found["previous_start"], found["previous_end"]) == ("2026-02-23", "2026-03-01")
    assert found["topics"] == TOPICS
    topic_rows = read_csv(http.get(f"/api/dashboard/topics.csv?{RANGE}", headers=editor))
    assert topic_rows[2][:6] == [
        "专精特新企业增长补贴",
        "zjtx-growth-subsidy",
        "专精特新 增长补贴 叠加",
        "1",
        "1",
        "0",
    ]

    service = http.get(f"/api/dashboard/service?{RANGE}", headers=editor).json()
    assert service["liaison"] is None
    assert [(r["level"], r["name"], r["cases"]) for r in service["rows"]] == [
        (r["level"], r["name"], r["cases"]) for r in SERVICE
    ]
    assert service["rows"][1] == SERVICE[1]  # all answered and resolved: nothing depends on today
    service_rows = read_csv(http.get(f"/api/dashboard/service.csv?{RANGE}", headers=editor))
    assert service_rows[2][:11] == ["部门", GXJ, "2", "2", "2", "3.0", "5.0", "9.5", "10.0", "1", "2"]
    assert service_rows[4][:3] == ["联络员", "（未认领）", "1"]

    late = http.get(f"/api/dashboard/late?{RANGE}", headers=editor).json()
    assert [c["id"] for c in late] == [3, 4, 2]  # today, 3 and 4 still wait, later every working day
    assert read_csv(http.get(f"/api/dashboard/late.csv?{RANGE}", headers=editor))[3][:6] == [
        "2", "resolved", "wecom", "", GXJ, "li_b",
    ]  # fmt: skip

    rated = http.get(f"/api/dashboard/ratings?{RANGE}&channel=web", headers=editor).json()
    assert [(r["kind"], r["count"]) for r in rated] == [("answer", 2), ("case", 1)]
    assert read_csv(http.get(f"/api/dashboard/ratings.csv?{RANGE}", headers=editor))[1] == [
        "答复评价", "web", "2", "2", "1.0", "",
    ]  # fmt: skip


def test_a_liaison_sees_only_their_own_service(client: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    http, auth = client
    own = http.get(f"/api/dashboard/service?{RANGE}", headers=auth["li_b"]).json()
    assert own["liaison"] == "li_b"
    assert [(r["level"], r["name"], r["cases"]) for r in own["rows"]] == [
        ("department", GXJ, 1),
        ("liaison", "li_b", 1),
    ]
    assert http.get(f"/api/dashboard/service?{RANGE}&liaison=li_b", headers=auth["li_b"]).status_code == 200
    assert [c["id"] for c in http.get(f"/api/dashboard/late?{RANGE}", headers=auth["li_b"]).json()] == [2]
    for path in ("service", "service.csv", "late", "late.csv"):
        refused = http.get(f"/api/dashboard/{path}?{RANGE}&liaison=li_a", headers=auth["li_b"])
        assert refused.status_code == 403, path
        assert refused.json() == {"detail": "只能查看本人的服务数据"}
    for path in ("volume", "volume.csv", "topics", "topics.csv", "ratings", "ratings.csv"):
        assert http.get(f"/api/dashboard/{path}?{RANGE}", headers=auth["li_b"]).status_code == 403, path
    assert http.get(f"/api/dashboard/volume?{RANGE}").status_code == 401
    editor_view = http.get(f"/api/dashboard/service?{RANGE}&liaison=li_a", headers=auth["ed_liu"]).json()
    assert [(r["name"], r["cases"]) for r in editor_view["rows"]] == [(RSJ, 1), (GXJ, 1), ("li_a", 2)]


BAD_RANGES = [
    ("from=2026-02-30&to=2026-03-08", "from"),
    ("from=2026-13-01", "from"),
    ("from=2026-3-1", "from"),
    ("to=tomorrow", "to"),
    ("from=2026-03-09&to=2026-03-08", "from"),
    ("from=2024-01-01&to=2026-03-08", "from"),
    ("from=1999-12-31&to=2020-01-01", "from"),
    ("to=2100-01-01", "to"),
    (f"{RANGE}&by=month", "by"),
    (f"{RANGE}&channel=" + "x" * 40, "channel"),
]


def test_bad_ranges_are_refused(client: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    http, auth = client
    for query, field in BAD_RANGES:
        for path in ("volume", "service.csv") if field in ("from", "to") else ("volume", "volume.csv"):
            resp = http.get(f"/api/dashboard/{path}?{query}", headers=auth["ed_liu"])
            assert resp.status_code == 422, (path, query)
            assert resp.json()["detail"][0]["loc"] == ["query", field], (path, query)


def test_a_topic_becomes_a_pending_staff_answer(client: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    http, auth = client
    body = {
        "questions": ["数字化改造贷款贴息多久到账", "数字化改造贷款贴息需要什么材料"],
        "record_ids": ["zjtx-growth-subsidy"],
    }
    made = http.post("/api/dashboard/topics/propose", json=body, headers=auth["ed_liu"])
    assert made.status_code == 201, made.text
    assert made.json() == {"id": made.json()["id"], "status": "pending", "answer": "", **body}
    pending = http.get("/api/knowledge/proposals?status=pending", headers=auth["ed_liu"]).json()
    assert [(p["id"], p["questions"], p["record_ids"], p["department"]) for p in pending] == [
        (made.json()["id"], body["questions"], body["record_ids"], GXJ)
    ]
    unfinished = http.post(f"/api/knowledge/proposals/{made.json()['id']}/publish", headers=auth["ed_liu"])
    assert unfinished.status_code == 422  # the editor must write the answer first
    assert (
        http.post("/api/dashboard/topics/propose", json={"questions": []}, headers=auth["ed_liu"]).status_code
        == 422
    )
    assert http.post("/api/dashboard/topics/propose", json=body, headers=auth["li_a"]).status_code == 403
