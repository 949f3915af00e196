"""精准推送 on SQLite and PostgreSQL: firm profiles from the registry and from what owners stated, the
firms a published record fits, and pushes sent once per record version, across restarts and double
clicks, with the WeCom deliveries queued in the outbox."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.data.profiles import Profiles
from gateway.data.pushes import PushData
from gateway.data.registry import Registry
from gateway.data.schema import conversations, outbound, push_optouts, pushes, utcnow
from gateway.data.store import Store
from gateway.push import Pusher, PushRefused, record_turn_facts
from gateway.services import Services
from gateway.wecom.channel import WeComChannel
from gateway.wecom.kf import KfChannel
from gateway.wecom.kf_ids import KF_PREFIX
from gateway.wecom.outbox import Outbox
from huiqitong.settings import Settings

LIAISON = {
    "username": "gxj_push",
    "password": "push-password-1",
    "name": "张挂点",
    "department": "市工业和信息化局",
}
# Fictional firms, valid check characters. Growth ≥ 30%, a 市级/省级 level and 股改 make the record fit.
FIT = "91442000MA4W0A1D4K"  # 省级, states growth 35% and 股改 in its WeCom group: 符合
ONE_FACT = "91442000MA4W0B1E5Y"  # 市级, states 股改 on the web; growth unknown: 信息不足 on one fact
TWO_FACTS = "91442000MA4W0C1F6A"  # 省级, nothing stated: two facts unknown
NOT_FIT = "91442000MA4W0D1G7M"  # 无 (not recognised): 不符合
OPTED_OUT = "91442000MA4W0E1H81"  # fits, but stopped pushes
KF_FIT = "91442000MA4W0F1J9C"  # fits, reached through 微信客服
FIRMS = [
    (FIT, "中山市推送厨电有限公司", "省级", "厨电"),
    (ONE_FACT, "中山市推送灯饰有限公司", "市级", "灯饰照明"),
    (TWO_FACTS, "中山市推送五金有限公司", "省级", "五金"),
    (NOT_FIT, "中山市推送家具有限公司", "无", "家具"),
    (OPTED_OUT, "中山市推送家电有限公司", "市级", "家电"),
    (KF_FIT, "中山市推送电子有限公司", "省级", "电子"),
]
RECORD_ID = "push-growth-reform"
RECORD = {
    "id": RECORD_ID,
    "source_id": "letter-2022-38",
    "title": "专精特新增长与股改联合支持",
    "section": "三（二）",
    "departments": ["市工业和信息化局"],
    "category": "eligibility",
    "audience": "专精特新企业",
    "benefit_text": "给予最高不超过 100 万元支持。",
    "amounts_wan": [],
    "conditions": {
        "all": [
            {"fact": "zjtx_level", "op": "in", "value": ["市级", "省级"]},
            {"fact": "growth_pct", "op": ">=", "value": 30},
            {"fact": "shareholding_reform", "op": "==", "value": True},
        ]
    },
    "aliases": [],
    "status": "in_force",
    "valid_from": None,
    "valid_until": None,
    "quote": "",
}
GROUP = "chatpush01"
KF_SENDER = f"{KF_PREFIX}:wkPUSH:wmPUSH"


def services_on(store: Store, tmp_path: Path) -> Services:
    """The gateway's services on this database (a fresh Store: what a restarted gateway opens), with
    the WeCom app and 微信客服 builders wired as start-up wires them (no workers: nothing is sent)."""
    settings = Settings(
        env="development",
        var_dir=tmp_path,
        kb_path=tmp_path / "kb.db",
        database_url=store.engine.url.render_as_string(hide_password=False),
        redis_url="",
        wecom_token="",
        wecom_corp_id="wwpushtest",
        wecom_secret="push-secret",
        wecom_api_base="http://127.0.0.1:9",
    )
    services = Services.build(settings)
    outbox = Outbox(services.store, settings)
    channel = WeComChannel(services, outbox)
    services.outbound["wecom"] = channel.deliveries
    services.outbound[KF_PREFIX] = KfChannel(services, outbox, outbox.kf, channel.wake).deliveries
    return services


def seed(services: Services) -> None:
    """Liaison, firms, bound conversations, stated facts, an opt-out and the published record."""
    registry = Registry(services.store)
    registry.add_liaison(LIAISON)
    for code, name, level, industry in FIRMS:
        registry.add_firm(
            {"uscc": code, "name": name, "level": level, "industry": industry, "liaison": "gxj_push"}
        )
    store = services.store
    store.add_message(
        f"wecom:{GROUP}", "user", "我们是省级专精特新，增长了35%，已经股改", channel="wecom-chat"
    )
    registry.bind_wecom_chat(GROUP, FIT)
    store.add_message("web-onefact", "user", "我们做完股改了", channel="web")
    store.add_message("web-optout", "user", "你好", channel="web")
    store.add_message(KF_SENDER, "user", "我们增长了四成", channel=KF_PREFIX)
    with store.tx() as con:
        for sender, code in (("web-onefact", ONE_FACT), ("web-optout", OPTED_OUT), (KF_SENDER, KF_FIT)):
            con.execute(
                conversations.update().where(conversations.c.sender_id == sender).values(firm_uscc=code)
            )
        con.execute(push_optouts.insert().values(uscc=OPTED_OUT, via="web", at=utcnow()))
    # What the owners said, as action_respond attaches it to the reply (custom["facts"]).
    record_turn_facts(
        services, f"wecom:{GROUP}", [{"facts": {"growth_pct": 35.0, "shareholding_reform": True}}]
    )
    record_turn_facts(services, "web-onefact", [{"facts": {"shareholding_reform": True}}])
    record_turn_facts(services, "web-optout", [{"facts": {"growth_pct": 50.0, "shareholding_reform": True}}])
    record_turn_facts(services, KF_SENDER, [{"facts": {"growth_pct": 40.0, "shareholding_reform": True}}])
    services.knowledge.data.save(RECORD_ID, RECORD, "editor_liu", create=True, publish=True)


def push_rows(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as con:
        return [
            tuple(r)
            for r in con.execute(
                sa.select(
                    pushes.c.record_id, pushes.c.version, pushes.c.uscc, pushes.c.verdict, pushes.c.channels
                ).order_by(pushes.c.version, pushes.c.uscc)
            ).all()
        ]


def outbound_rows(store: Store) -> list[tuple[str, str, str]]:
    with store.engine.connect() as con:
        return [
            (r.kind, r.target, r.text) for r in con.execute(sa.select(outbound).order_by(outbound.c.id)).all()
        ]


def test_a_profile_is_the_registry_overlaid_by_what_the_owner_stated(store: Store, tmp_path: Path) -> None:
    services = services_on(store, tmp_path)
    seed(services)
    profiles = Profiles(services.store)
    fit = profiles.get(FIT)
    assert fit is not None
    assert (fit["name"], fit["level"], fit["liaison"]) == (
        "中山市推送厨电有限公司",
        "省级",
        {"username": "gxj_push", "name": "张挂点", "department": "市工业和信息化局"},
    )
    facts = fit["facts"]
    assert list(facts) == ["zjtx_level", "growth_pct", "shareholding_reform", "industry"]
    assert facts["zjtx_level"] == {
        "value": "省级",
        "origin": "registry",
        "sender_id": None,
        "channel": None,
        "stated_at": None,
    }
    assert facts["industry"]["value"] == "厨卫"  # the registry's 厨电 in the letter's cluster words
    stated = facts["growth_pct"]
    assert (stated["value"], stated["origin"], stated["sender_id"], stated["channel"]) == (
        35.0,
        "conversation",
        f"wecom:{GROUP}",
        "wecom-chat",
    )
    assert stated["stated_at"] is not None
    # Facts the registry does not know of the others; an industry outside the clusters is 其他.
    kf = profiles.get(KF_FIT)
    assert kf is not None
    assert kf["facts"]["industry"]["value"] == "其他"
    assert profiles.get("91442000MA4W0G1K2Y") is None


def test_only_real_facts_of_a_bound_registered_firm_are_kept(store: Store, tmp_path: Path) -> None:
    services = services_on(store, tmp_path)
    seed(services)
    profiles = Profiles(services.store)
    before = profiles.get(ONE_FACT)
    # Unknown keys, "unknown" and None are no facts; a conversation bound to no firm speaks for none.
    record_turn_facts(
        services,
        "web-onefact",
        [{"facts": {"growth_pct": "unknown", "revenue_wan": 900, "digital_project": None}}],
    )
    services.store.add_message("web-unbound", "user", "我们增长了80%", channel="web")
    record_turn_facts(services, "web-unbound", [{"facts": {"growth_pct": 80.0}}])
    assert profiles.get(ONE_FACT) == before
    with services.store.engine.connect() as con:
        assert (
            con.execute(sa.text("SELECT COUNT(*) FROM firm_facts WHERE sender_id = 'web-unbound'")).scalar()
            == 0
        )
    # The latest statement wins; a statement older than the one kept does not replace it.
    earlier = datetime.now(timezone.utc) - timedelta(days=1)
    assert profiles.state(FIT, {"growth_pct": 5.0}, origin="editor", at=earlier) == 0
    record_turn_facts(services, f"wecom:{GROUP}", [{"facts": {"growth_pct": 28.0}}, {"text": "无关"}])
    fit = profiles.get(FIT)
    assert fit is not None
    assert fit["facts"]["growth_pct"]["value"] == 28.0


def test_the_selection_lists_fitting_and_one_fact_firms_and_counts_the_rest(
    store: Store, tmp_path: Path
) -> None:
    services = services_on(store, tmp_path)
    seed(services)
    selection = Pusher.of(services).select(RECORD_ID)
    assert (selection.record_id, selection.version, selection.title) == (
        RECORD_ID,
        1,
        "专精特新增长与股改联合支持",
    )
    found = {c.uscc: c for c in selection.candidates}
    assert list(found) == [FIT, KF_FIT, ONE_FACT]  # 符合 first (by name), then 信息不足
    fit = found[FIT]
    assert (fit.verdict, fit.missing, fit.channels) == (
        "符合",
        None,
        [{"channel": "wecom-chat", "label": "企业微信（群聊）"}],
    )
    assert fit.reasons == [
        "专精特新认定级别：省级",
        "较上一年增长率35%，达到答复函要求的30%",
        "实施股份制改造：是",
    ]
    assert fit.liaison == {"username": "gxj_push", "name": "张挂点", "department": "市工业和信息化局"}
    one = found[ONE_FACT]
    assert (one.verdict, one.missing, one.missing_label) == ("信息不足", "growth_pct", "较上一年增长率")
    assert one.reasons == ["专精特新认定级别：市级", "实施股份制改造：是"]  # what it meets already
    assert one.channels == [{"channel": "web", "label": "网页"}]
    assert found[KF_FIT].channels == [{"channel": "wecomkf", "label": "微信客服"}]
    assert (selection.not_matching, selection.undecided, selection.opted_out, selection.already_pushed) == (
        1,
        1,
        1,
        0,
    )


def test_a_record_that_cannot_be_pushed_is_refused(store: Store, tmp_path: Path) -> None:
    services = services_on(store, tmp_path)
    seed(services)
    pusher = Pusher.of(services)
    data = services.knowledge.data
    data.save(
        "push-no-conditions",
        {**RECORD, "id": "push-no-conditions", "conditions": None},
        "e",
        create=True,
        publish=True,
    )
    data.save("push-draft-only", {**RECORD, "id": "push-draft-only"}, "e", create=True)
    for record_id, status in (("push-missing", 404), ("push-no-conditions", 409), ("push-draft-only", 409)):
        with pytest.raises(PushRefused) as refused:
            pusher.select(record_id)
        assert refused.value.status == status, record_id


def test_each_firm_gets_a_record_version_once_across_restarts_and_double_clicks(
    store: Store, tmp_path: Path
) -> None:
    services = services_on(store, tmp_path)
    seed(services)
    asked = [FIT, ONE_FACT, KF_FIT, TWO_FACTS, NOT_FIT, OPTED_OUT, "91442000MA4W0G1K2Y"]
    result = Pusher.of(services).send(RECORD_ID, asked, "editor_liu")
    assert [(s["uscc"], s["channels"], s["verdict"]) for s in result["sent"]] == [
        (FIT, ["wecom-chat"], "符合"),
        (ONE_FACT, ["web"], "信息不足"),
        (KF_FIT, ["wecomkf"], "符合"),
    ]
    assert [(s["uscc"], s["reason"]) for s in result["skipped"]] == [
        (TWO_FACTS, "not_candidate"),
        (NOT_FIT, "not_candidate"),
        (OPTED_OUT, "opted_out"),
        ("91442000MA4W0G1K2Y", "unknown_firm"),
    ]
    sent = push_rows(services.store)
    assert sent == [
        (RECORD_ID, 1, FIT, "符合", "wecom-chat"),
        (RECORD_ID, 1, ONE_FACT, "信息不足", "web"),
        (RECORD_ID, 1, KF_FIT, "符合", "wecomkf"),
    ]
    queued = outbound_rows(services.store)
    assert [(kind, target) for kind, target, _ in queued] == [("chat", GROUP), ("kf", "wkPUSH:wmPUSH")]
    text = queued[0][2]
    assert text.startswith("【惠企通·政策推送】专精特新增长与股改联合支持\n给予最高不超过 100 万元支持。\n")
    assert "（依据：答复函 三（二），2022年6月8日；负责部门：市工业和信息化局）" in text
    assert "专精特新认定级别：省级；较上一年增长率35%，达到答复函要求的30%；实施股份制改造：是" in text
    assert "张挂点（市工业和信息化局）" in text
    assert "回复“人工”" in text
    assert "回复“退订”" in text
    web_text = PushData(services.store).log(RECORD_ID)[1]["text"]
    assert "尚需确认“较上一年增长率”" in web_text

    # A restarted gateway (a new Store on the same database), twice at once: nothing is sent again.
    again = services_on(store, tmp_path)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda _: Pusher.of(again).send(RECORD_ID, [FIT, ONE_FACT, KF_FIT], "editor_wang"), range(2)
            )
        )
    assert [r["sent"] for r in results] == [[], []]
    assert {(s["uscc"], s["reason"]) for r in results for s in r["skipped"]} == {
        (FIT, "already_pushed"),
        (ONE_FACT, "already_pushed"),
        (KF_FIT, "already_pushed"),
    }
    assert push_rows(again.store) == sent
    assert outbound_rows(again.store) == queued
    selection = Pusher.of(again).select(RECORD_ID)
    assert (selection.candidates, selection.already_pushed) == ([], 3)

    # A new published version is news: the firms it fits may get it.
    again.knowledge.data.save(
        RECORD_ID,
        {**RECORD, "benefit_text": "给予最高不超过 150 万元支持。"},
        "editor_liu",
        create=False,
        publish=True,
    )
    second = Pusher.of(again).send(RECORD_ID, [FIT], "editor_liu")
    assert (second["version"], [s["uscc"] for s in second["sent"]]) == (2, [FIT])
    assert push_rows(again.store)[-1] == (RECORD_ID, 2, FIT, "符合", "wecom-chat")
    assert outbound_rows(again.store)[-1][:2] == ("chat", GROUP)
    assert "150 万元" in outbound_rows(again.store)[-1][2]
    again.store.engine.dispose()


def test_the_log_filters_by_record_and_day(store: Store, tmp_path: Path) -> None:
    services = services_on(store, tmp_path)
    seed(services)
    Pusher.of(services).send(RECORD_ID, [FIT, ONE_FACT], "editor_liu")
    data = PushData(services.store)
    log = data.log(RECORD_ID)
    assert [(r["uscc"], r["firm_name"], r["sent_by"], r["seen_at"]) for r in log] == [
        (ONE_FACT, "中山市推送灯饰有限公司", "editor_liu", None),
        (FIT, "中山市推送厨电有限公司", "editor_liu", None),
    ]
    now = utcnow()
    assert len(data.log(since=now - timedelta(hours=1), until=now + timedelta(hours=1))) == 2
    assert data.log(since=now + timedelta(hours=1)) == []
    assert data.log("zjtx-growth-subsidy") == []
