"""Knowledge operations below the API, on SQLite and PostgreSQL: the seed, checks per field, versions,
publishing into a new index that a running searcher picks up, restore, and the seed's updates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.data.knowledge import SEED_AUTHOR, KnowledgeConflict
from gateway.data.store import Store
from gateway.knowledge import Knowledge, RecordInvalid
from huiqitong.settings import ROOT, Settings
from knowledge import search
from knowledge.build import index_meta
from knowledge.records import load_policies
from knowledge.search import Searcher

NOTICE = (
    "中山市工业和信息化局关于支持工业企业设备更新的通知\n"
    "一、对设备购置额500万元以上的设备更新项目，按设备购置额的10%给予奖补，单个项目最高300万元。\n"
    "二、本通知自2026年1月1日起施行，有效期至2026年12月31日。\n"
)


def record(**overrides: object) -> dict[str, object]:
    """A record of the notice, as the console sends it."""
    base: dict[str, object] = {
        "id": "equipment-renewal-2026",
        "source_id": "",
        "title": "设备更新奖补",
        "section": "第一条",
        "departments": ["市工业和信息化局"],
        "category": "digital_transformation",
        "audience": "工业企业",
        "benefit_text": "设备购置额500万元以上的设备更新项目，按10%奖补，最高300万元。",
        "amounts_wan": [{"min": None, "max": 300, "label": "设备更新奖补"}],
        "conditions": None,
        "aliases": ["设备更新奖补", "设备焕新"],
        "status": "in_force",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
        "quote": "对设备购置额500万元以上的设备更新项目，按设备购置额的10%给予奖补，单个项目最高300万元。",
    }
    return {**base, **overrides}


@pytest.fixture
def knowledge(store: Store, tmp_path: Path) -> Knowledge:
    """The service over a migrated store, seeded, with its own index file."""
    kb = Knowledge(store, Settings(var_dir=tmp_path, kb_path=tmp_path / "knowledge.db"))
    figures = kb.sync()
    assert figures["added"] == len(load_policies(ROOT / "knowledge" / "policies"))
    assert figures["built"] is True
    return kb


@pytest.fixture
def live_index(knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process-wide searcher reads this test's index and looks for a new file on every search."""
    monkeypatch.setenv("KB_PATH", str(knowledge.settings.kb_path))
    monkeypatch.setattr(search, "RELOAD_CHECK_S", 0.0)
    search.get_settings.cache_clear()
    search.reset_searcher()
    yield
    search.get_settings.cache_clear()
    search.reset_searcher()


def add_notice(kb: Knowledge) -> str:
    return kb.data.add_source(
        {
            "title": "关于支持工业企业设备更新的通知",
            "doc_no": "中工信〔2026〕12号",
            "date": "2026-03-01",
            "text": NOTICE,
        },
        "editor_a",
    )


def test_the_seed_loads_once_and_the_index_matches_it(knowledge: Knowledge) -> None:
    meta = index_meta(knowledge.settings.kb_path)
    assert meta["origin"] == "store"
    assert int(meta["record_count"]) == len(knowledge.data.published())
    again = knowledge.sync()  # a restart: nothing new to load, nothing to rebuild
    assert (again["added"], again["updated"], again["built"]) == (0, 0, False)
    assert [s["id"] for s in knowledge.data.sources()] == ["letter-2022-38"]
    versions = knowledge.data.versions("zjtx-growth-subsidy")
    assert [(v["version"], v["author"], v["state"]) for v in versions] == [(1, SEED_AUTHOR, "published")]


def test_a_record_is_refused_field_by_field(knowledge: Knowledge) -> None:
    sid = add_notice(knowledge)
    with pytest.raises(RecordInvalid) as refused:
        knowledge.save(
            record(
                source_id=sid,
                quote="对设备购置额500万元以上的项目一律奖励500万元。",
                conditions={"all": [{"fact": "headcount", "op": ">=", "value": 100}]},
            ),
            "editor_a",
            create=True,
        )
    assert set(refused.value.errors) == {"quote", "conditions"}
    assert "找不到" in refused.value.errors["quote"]
    assert "headcount" in refused.value.errors["conditions"]
    with pytest.raises(RecordInvalid) as refused:
        knowledge.save(
            record(source_id=sid, amounts_wan=[{"max": 800, "label": "x"}]), "editor_a", create=True
        )
    assert set(refused.value.errors) == {"amounts_wan"}
    assert "800万" in refused.value.errors["amounts_wan"]
    with pytest.raises(RecordInvalid) as refused:
        knowledge.save(record(source_id="no-such-source", id="Bad Id"), "editor_a", create=True)
    assert set(refused.value.errors) == {"id", "source_id"}
    assert knowledge.data.state("equipment-renewal-2026") is None  # nothing was stored


@pytest.mark.usefixtures("live_index")
def test_publish_reaches_a_running_searcher_and_restore_brings_a_version_back(
    knowledge: Knowledge,
) -> None:
    before = search.default_searcher()
    assert "equipment-renewal-2026" not in before.policies
    sid = add_notice(knowledge)
    assert knowledge.save(record(source_id=sid), "editor_a", create=True) == 1
    assert search.default_searcher() is before  # a draft is not live
    version, figures = knowledge.publish("equipment-renewal-2026", "editor_a")
    assert version == 1
    assert figures["records"] == len(before.policies) + 1
    after = search.default_searcher()
    assert after is not before
    assert after.search("设备更新奖补最高多少", top=1)[0].policy_id == "equipment-renewal-2026"
    assert after.sources[sid].doc_no == "中工信〔2026〕12号"
    # The old searcher still answers from the file it opened (a search in flight finishes on it).
    assert before.search("设备更新奖补", top=3)[0].policy_id != "equipment-renewal-2026"

    changed = record(
        source_id=sid, title="设备更新施行日期", quote="本通知自2026年1月1日起施行", amounts_wan=[]
    )
    assert knowledge.save(changed, "editor_b", create=False) == 2
    knowledge.publish("equipment-renewal-2026", "editor_b")
    assert (search.default_searcher().get("equipment-renewal-2026") or {})["title"] == "设备更新施行日期"
    assert knowledge.restore("equipment-renewal-2026", 1, "editor_a") == 3
    states = {v["version"]: v["state"] for v in knowledge.data.versions("equipment-renewal-2026")}
    assert states == {3: "draft", 2: "published", 1: "superseded"}
    knowledge.publish("equipment-renewal-2026", "editor_a")
    live = search.default_searcher().get("equipment-renewal-2026")
    assert live is not None
    assert (live["title"], live["quote"]) == ("设备更新奖补", record()["quote"])
    with pytest.raises(KnowledgeConflict):
        knowledge.publish("equipment-renewal-2026", "editor_a")  # nothing left to publish
    expired = record(source_id=sid, status="expired")
    knowledge.save(expired, "editor_a", create=False)
    knowledge.publish("equipment-renewal-2026", "editor_a")
    assert search.default_searcher().get("equipment-renewal-2026") is None  # never offered as current


def test_the_seed_updates_only_what_no_editor_changed(knowledge: Knowledge, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    for path in (ROOT / "knowledge" / "policies").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        # A developer rewords two seed records; an editor has meanwhile changed one of them.
        text = text.replace("title: 专精特新企业增长补贴", "title: 专精特新企业增长奖补")
        text = text.replace("title: 国家级专精特新小巨人国家财政补贴", "title: 小巨人国家财政补贴")
        (policies / path.name).write_text(text, encoding="utf-8")
    edited = knowledge.data.version("little-giant-national-subsidy", 1)
    assert edited is not None
    knowledge.save({**edited["data"], "title": "小巨人补贴（编辑改）"}, "editor_a", create=False)
    later = Knowledge(
        knowledge.data.store,
        Settings(var_dir=tmp_path, kb_path=knowledge.settings.kb_path, policies_dir=policies),
    )
    assert later.seed() == {"added": 0, "updated": 1}
    growth = later.data.versions("zjtx-growth-subsidy")
    assert [(v["version"], v["state"], v["title"]) for v in growth][0] == (
        2,
        "published",
        "专精特新企业增长奖补",
    )
    giant = later.data.versions("little-giant-national-subsidy")
    assert [(v["version"], v["author"]) for v in giant][0] == (2, "editor_a")


def test_an_index_from_the_store_answers_like_the_seed(knowledge: Knowledge, tmp_path: Path) -> None:
    """The store's index and `make kb`'s index hold the same records and rank the same way."""
    from knowledge.build import build

    seed = Settings(var_dir=tmp_path, kb_path=tmp_path / "seed.db")
    assert build(seed) is True
    ours, theirs = Searcher(knowledge.settings.kb_path), Searcher(seed.kb_path)
    assert ours.policies == theirs.policies
    for question in ("专精特新增长三成补贴多少", "股改资助最高多少", "中行普惠贷款"):
        assert [h.policy_id for h in ours.search(question)] == [h.policy_id for h in theirs.search(question)]


@pytest.mark.usefixtures("live_index")
def test_a_proposal_is_reviewed_published_into_the_index_and_withdrawn(
    knowledge: Knowledge,
) -> None:
    staff = knowledge.staff
    pid = staff.propose(
        7, "股改资助的申报材料要交哪些？", "以当年申报通知为准。", "市工业和信息化局", "liaison_a"
    )
    assert staff.get(pid)["status"] == "pending"  # type: ignore[index]
    with pytest.raises(RecordInvalid) as refused:
        knowledge.publish_staff_answer(pid, "editor_a")  # no review date yet
    assert set(refused.value.errors) == {"review_by"}
    bad = {
        "questions": [" "],
        "answer": "x",
        "department": "市工业和信息化局",
        "record_ids": ["nope"],
        "review_by": "2020-01-01",
    }
    with pytest.raises(RecordInvalid) as refused:
        knowledge.check_proposal(bad)
    assert set(refused.value.errors) == {"questions", "record_ids", "review_by"}
    good = {
        "questions": ["股改资助的申报材料要交哪些？", " 股份制改造资助需要准备什么材料 "],
        "answer": "股改资助申报需提交股改方案等，具体以当年申报通知为准。",
        "department": "市工业和信息化局",
        "record_ids": ["zjtx-shareholding-reform"],
        "review_by": "2099-12-31",
    }
    knowledge.check_proposal(good)
    edited = staff.edit(pid, good, "editor_a")
    assert edited["questions"] == ["股改资助的申报材料要交哪些？", "股份制改造资助需要准备什么材料"]
    published, figures = knowledge.publish_staff_answer(pid, "editor_a")
    assert published["status"] == "published"
    assert figures["built"] is True
    live = search.default_searcher().staff
    assert [(a.id, a.review_by) for a in live] == [(pid, "2099-12-31")]
    with pytest.raises(KnowledgeConflict):
        staff.reject(pid, "too late", "editor_b")  # only a pending proposal can be rejected
    other = staff.propose(None, "问题", "答复", "市工业和信息化局", "liaison_a")
    assert staff.reject(other, "与答复函重复", "editor_b")["reason"] == "与答复函重复"
    assert [a["id"] for a in staff.find("pending")] == []
    withdrawn, _ = knowledge.withdraw_staff_answer(pid, "editor_a")
    assert withdrawn["status"] == "withdrawn"
    assert search.default_searcher().staff == []
    snippets = knowledge.snippets("股改资助")
    assert snippets[0]["kind"] == "record"
    assert "（依据：答复函 三（二），2022年6月8日" in snippets[0]["text"]
