"""The WeCom outbox and text rendering, against a real SQLite store and the local fake API."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from gateway.data.schema import outbound, utcnow
from gateway.data.store import Store
from gateway.wecom.channel import render
from gateway.wecom.client import TEXT_LIMIT_BYTES, WeComClient, split_text
from gateway.wecom.outbox import Outbox
from huiqitong.settings import Settings
from tests.fakes.wecom_api import AGENT_ID, CORP_ID, CORP_SECRET, FakeWeCom, FakeWeComServer

LONG_ANSWER = "\n".join(
    f"第{i}条：对专精特新企业较上一年增长 30%的，给予 10-100 万元的财政资金补贴。" for i in range(80)
)


def test_split_text_respects_the_byte_limit_and_keeps_everything() -> None:
    pieces = split_text(LONG_ANSWER)
    assert len(pieces) > 1
    assert all(len(p.encode()) <= TEXT_LIMIT_BYTES for p in pieces)
    assert "\n".join(pieces) == LONG_ANSWER
    one_line = "贴" * 3000
    assert "".join(split_text(one_line)) == one_line
    assert split_text("") == []


def test_render_adds_sources_and_numbered_options() -> None:
    reply = {
        "text": "答复函没有写明申请材料。",
        "sources": [{"policy_id": "x", "title": "增长补贴", "section": "三（二）"}],
        "buttons": [
            {"title": "转人工", "payload": "/request_human"},
            {"title": "不用了", "payload": "/deny"},
        ],
    }
    assert (
        render(reply)
        == "答复函没有写明申请材料。\n依据：答复函 三（二） 增长补贴\n回复1：转人工  回复2：不用了"
    )


def test_outbox_sends_in_order_within_rate_limits(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'o.db'}")
    store.create()
    now = [time.time()]
    with FakeWeComServer(FakeWeCom(clock=lambda: now[0])) as server:
        settings = Settings(
            wecom_api_base=server.base,
            wecom_corp_id=CORP_ID,
            wecom_secret=CORP_SECRET,
            wecom_agent_id=AGENT_ID,
        )
        client = WeComClient(server.base, CORP_ID, CORP_SECRET)
        box = Outbox(store, settings, client)
        box.enqueue([{"kind": "user", "target": "u1", "text": f"消息{i}"} for i in range(35)])
        assert asyncio.run(box.send_due()) == 30  # the 31st would be dropped by WeCom: it waits
        assert [t for _, t in server.fake.sent_texts("user")] == [f"消息{i}" for i in range(30)]
        assert box.wait_for("user", "u1") > 0
        with store.tx() as con:  # a minute later, for us and for WeCom
            con.execute(
                outbound.update()
                .where(outbound.c.status == "sent")
                .values(sent_at=utcnow() - timedelta(seconds=61))
            )
        now[0] += 61
        assert asyncio.run(box.send_due()) == 5
        assert not [c for c in server.fake.calls if c.dropped]
        server.fake.fail_next("appchat/send", 500)
        box.enqueue([{"kind": "chat", "target": "c1", "text": "群消息"}])
        assert asyncio.run(box.send_due()) == 0  # failed once: kept, retried later with backoff
        with store.tx() as con:
            con.execute(outbound.update().where(outbound.c.status == "pending").values(not_before=utcnow()))
        assert asyncio.run(box.send_due()) == 1
        assert server.fake.sent_texts("chat") == [("c1", "群消息")]
        client._http.close()
