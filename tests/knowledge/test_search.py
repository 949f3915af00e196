"""Build the knowledge base under tmp_path, search it, evaluate it, and drive the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from huiqitong.settings import Settings
from knowledge.build import build
from knowledge.evaluate import bm25_ranker, load_eval, misses, score
from knowledge.records import load_policies
from knowledge.search import Hit, Searcher

ROOT = Path(__file__).resolve().parents[2]
EVAL_PATH = ROOT / "tests" / "data" / "retrieval_eval.jsonl"

# (question as owners type it, the record that must be in the top 3)
EXPECTED = [
    ("專精特新企業增長補貼", "zjtx-growth-subsidy"),
    ("专精特新增长３０％有补贴吗", "zjtx-growth-subsidy"),
    ("专精特新增长百分之三十补多少", "zjtx-growth-subsidy"),
    ("zjtx补贴", "zjtx-growth-subsidy"),
    ("中行贷款", "boc-inclusive-loans"),
    ("中行", "boc-inclusive-loans"),
    ("股改资助多少钱", "zjtx-shareholding-reform"),
    ("股改", "zjtx-shareholding-reform"),
    ("小巨人補貼", "little-giant-national-subsidy"),
    ("上市培育库", "zjtx-listing-pool"),
    ("学徒制培训补贴", "new-apprenticeship"),
    ("技能等级认定", "skill-level-certification"),
    ("產業投資基金", "industry-investment-fund"),
    ("政府质量奖", "government-quality-award"),
    ("企业开办要几天", "business-startup-1day"),
    ("工信局联系电话", "letter-contact"),
    ("工业互联网标识解析", "identifier-resolution-node"),
    ("揭榜制", "jiebang-projects"),
    ("贷款贴息", "rules-loan-interest-risk"),
    ("灯饰产业集群", "cluster-iiot-pilot"),
]
OFF_TOPIC = ["公积金怎么提取", "今天天气", "今天天气怎么样", "你好"]
# Below this score a hit is noise: the answer action's MIN_SCORE.
NOISE = 6.0
MIN_RECALL_AT_3 = 0.90
HIT_KEYS = {"policy_id", "title", "section", "quote", "departments", "score"}
KNOWN_ID = "zjtx-growth-subsidy"
KNOWN_RECORD = {
    "id": "zjtx-growth-subsidy",
    "title": "专精特新企业增长补贴",
    "section": "三（二）",
    "departments": ["市工业和信息化局"],
    "category": "eligibility",
    "status": "in_force",
    "quote": "我市对专精特新企业较上一年增长 30%的，给予 10-100 万元的财政资金补贴。",
    "amounts_wan": [{"min": 10, "max": 100, "label": "财政资金补贴"}],
}


def settings_in(directory: Path) -> Settings:
    return Settings(var_dir=directory, kb_path=directory / "kb.db")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("kb")
    assert build(settings_in(directory)) is True
    return directory / "kb.db"


@pytest.fixture(scope="module")
def searcher(kb: Path) -> Searcher:
    return Searcher(kb)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KB_PATH": str(tmp_path / "kb.db"),
        "VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore",
    }
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def test_build_only_when_inputs_change(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    assert build(settings) is True
    assert build(settings) is False
    assert build(settings, force=True) is True
    assert build(settings) is False
    assert not (tmp_path / "kb.tmp").exists()


def test_build_writes_every_record_and_its_metadata(kb: Path) -> None:
    db = sqlite_utils.Database(kb)
    policies = load_policies(ROOT / "knowledge" / "policies")
    meta = {row["key"]: row["value"] for row in db["meta"].rows}
    row = db.table("policies").get(KNOWN_ID)
    assert db["policies"].count == len(policies)
    assert db["passages"].count == len(policies)
    assert meta["record_count"] == str(len(policies))
    assert {k: row[k] for k in ("id", "title", "section", "category", "status", "quote")} == {
        k: KNOWN_RECORD[k] for k in ("id", "title", "section", "category", "status", "quote")
    }
    assert json.loads(row["departments"]) == KNOWN_RECORD["departments"]
    assert json.loads(row["amounts_wan"]) == KNOWN_RECORD["amounts_wan"]
    db.close()


def test_a_changed_record_rebuilds(tmp_path: Path) -> None:
    policies_dir = tmp_path / "policies"
    policies_dir.mkdir()
    for path in (ROOT / "knowledge" / "policies").glob("*.yml"):
        (policies_dir / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(var_dir=tmp_path, kb_path=tmp_path / "kb.db", policies_dir=policies_dir)
    assert build(settings) is True
    assert build(settings) is False
    target = policies_dir / "s3_zjtx.yml"
    target.write_text(
        target.read_text(encoding="utf-8") + "\n# a comment changes no record\n", encoding="utf-8"
    )
    assert build(settings) is False
    text = target.read_text(encoding="utf-8").replace(
        "title: 专精特新企业增长补贴", "title: 专精特新企业增长奖补"
    )
    target.write_text(text, encoding="utf-8")
    assert build(settings) is True


@pytest.mark.parametrize(("question", "policy_id"), EXPECTED)
def test_search_finds_the_record(searcher: Searcher, question: str, policy_id: str) -> None:
    top3 = [h.policy_id for h in searcher.search(question, top=3)]
    assert policy_id in top3


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_find_nothing_that_counts(searcher: Searcher, question: str) -> None:
    hits = searcher.search(question, top=5)
    assert [h for h in hits if h.score >= NOISE] == []


def test_hits_are_positive_ordered_and_limited(searcher: Searcher) -> None:
    hits = searcher.search("专精特新", top=4)
    scores = [h.score for h in hits]
    assert 1 <= len(hits) <= 4
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)
    assert all(isinstance(h, Hit) for h in hits)


def test_a_hit_carries_the_record(searcher: Searcher) -> None:
    hit = searcher.search("专精特新增长补贴", top=1)[0]
    assert {k: v for k, v in hit.as_dict().items() if k != "score" and k != "benefit"} == {
        "policy_id": KNOWN_RECORD["id"],
        "title": KNOWN_RECORD["title"],
        "section": KNOWN_RECORD["section"],
        "quote": KNOWN_RECORD["quote"],
        "departments": KNOWN_RECORD["departments"],
        "category": KNOWN_RECORD["category"],
        "status": KNOWN_RECORD["status"],
    }


def test_empty_and_punctuation_queries_find_nothing(searcher: Searcher) -> None:
    assert (searcher.search("", top=3), searcher.search("？！。", top=3)) == ([], [])


def test_missing_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="knowledge base not built"):
        Searcher(tmp_path / "absent.db")


def test_recall_at_3_meets_the_bar_and_beats_rank_bm25(searcher: Searcher) -> None:
    cases = load_eval(EVAL_PATH)

    def ours(question: str) -> list[str]:
        return [h.policy_id for h in searcher.search(question, top=5)]

    mine = score(ours, cases)
    baseline = score(bm25_ranker(searcher), cases)
    missed = misses(ours, cases)
    assert mine["recall@3"] >= MIN_RECALL_AT_3, missed
    assert mine["recall@3"] >= baseline["recall@3"], (mine, baseline)


def test_cli_search_json(tmp_path: Path) -> None:
    result = cli(tmp_path, "search", "专精特新增长补贴", "--top", "3", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert 1 <= len(hits) <= 3
    assert all(HIT_KEYS <= set(h) for h in hits)
    assert hits[0]["policy_id"] == KNOWN_ID
    assert (tmp_path / "kb.db").exists()


def test_cli_show_known_unknown_and_empty_query(tmp_path: Path) -> None:
    shown = cli(tmp_path, "show", KNOWN_ID)
    unknown = cli(tmp_path, "show", "no-such-record")
    empty = cli(tmp_path, "search", "   ")
    record = json.loads(shown.stdout)
    assert shown.returncode == 0, shown.stderr
    assert {k: record[k] for k in KNOWN_RECORD} == KNOWN_RECORD
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert "no-such-record" in unknown.stderr
    assert (empty.returncode, empty.stdout) == (2, "")
    assert "empty query" in empty.stderr
