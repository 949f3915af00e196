"""Security and bad input against the real stack: authentication, isolation between liaisons,
secrets, refusal of development secrets in production, every class of bad input, and schemathesis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.stack import ROOT, Stack
from tests.webchat import WebChat

LIAISONS = [
    ("s_gxj", "s-gxj-password", "安工信", "市工业和信息化局"),
    ("s_rsj", "s-rsj-password", "全人社", "市人力资源和社会保障局"),
]
BAD_TEXTS = [
    ("control characters", "专精特新\x00\x07\x1b[31m有什么补贴\u200b"),
    ("emoji", "🙏🙏 专精特新企业有什么补贴呀 😊"),
    ("mixed scripts", "zjtx 企業 subsidy 增长30% ok?"),
    ("sql", "'; DROP TABLE messages; -- 专精特新补贴"),
    ("html and script", "<script>alert(1)</script><img src=x onerror=alert(2)>"),
    ("only punctuation", "？？？！！！。。。"),
    ("wrong credit code", "我们的统一社会信用代码是91442000MA4W0A1B2A"),
]


@pytest.fixture(scope="module")
def liaisons(stack: Stack) -> dict[str, dict[str, str]]:
    headers = {}
    for username, password, name, department in LIAISONS:
        stack.add_liaison(username, password, name, department)
        token = httpx.post(
            f"{stack.gateway}/api/liaison/login", json={"username": username, "password": password}
        ).json()["token"]
        headers[username] = {"Authorization": f"Bearer {token}"}
    return headers


def user_messages(owner: WebChat) -> list[str]:
    return [m["text"] for m in owner.messages() if m["role"] == "user"]


@pytest.mark.parametrize(("kind", "text"), BAD_TEXTS, ids=[k for k, _ in BAD_TEXTS])
def test_bad_text_gets_a_polite_reply_and_is_stored_verbatim(stack: Stack, kind: str, text: str) -> None:
    owner = WebChat(stack.gateway)
    resp = owner.post(text)
    assert resp.status_code == 200, kind
    assert resp.json()["replies"]
    assert resp.json()["replies"][0]["text"]
    assert user_messages(owner) == [text]
    assert httpx.get(f"{stack.gateway}/healthz", timeout=15).status_code == 200  # the SQL did nothing


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 422),
        (b"{", 422),
        (b"[]", 422),
        (b'{"text": null}', 422),
        (b'{"text": {"a": 1}}', 422),
        (b'{"text": "' + b"x" * 100_000 + b'"}', 413),
        (b'{"text": "\\u0000"}', 200),
    ],
)
def test_malformed_bodies(stack: Stack, body: bytes, status: int) -> None:
    resp = httpx.post(
        f"{stack.gateway}/api/chat", content=body, headers={"content-type": "application/json"}, timeout=60
    )
    assert resp.status_code == status
    assert resp.json()["detail"] if status >= 400 else resp.json()["replies"]


def test_per_sender_rate_limit(stack: Stack) -> None:
    owner = WebChat(stack.gateway)
    limit = int(stack.env.get("RATE_LIMIT_PER_MINUTE", "30"))
    codes = [owner.post("你好").status_code for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit
    assert codes[limit] == 429
    other = httpx.post(f"{stack.gateway}/api/chat", json={"text": "你好"}, timeout=60)
    assert other.status_code == 200  # other owners are unaffected
    assert len(user_messages(owner)) == limit  # the refused message changed nothing


@pytest.mark.usefixtures("liaisons")
def test_login_attempts_are_rate_limited(stack: Stack) -> None:
    url = f"{stack.gateway}/api/liaison/login"
    codes = [
        httpx.post(url, json={"username": "s_rsj", "password": f"guess-{i}"}).status_code for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    assert httpx.post(url, json={"username": "s_rsj", "password": "s-rsj-password"}).status_code == 429


def test_a_liaison_cannot_touch_another_departments_case(
    stack: Stack, liaisons: dict[str, dict[str, str]]
) -> None:
    owner = WebChat(stack.gateway)
    owner.send("数字化改造贷款贴息怎么申请")
    esc = owner.send("转人工")["handoff"]
    sender = owner.sender_id
    assert sender is not None
    outsider = liaisons["s_rsj"]
    base = f"{stack.gateway}/api/escalations/{esc['escalation_id']}"
    assert httpx.get(base, headers=outsider).status_code == 404
    for verb, body in (
        ("claim", None),
        ("reply", {"text": "越权"}),
        ("resolve", None),
        ("return", None),
        ("notes", {"text": "越权"}),
    ):
        assert httpx.post(f"{base}/{verb}", json=body, headers=outsider).status_code == 404, verb
    export = httpx.get(f"{stack.gateway}/api/escalations.csv", headers=outsider).text
    assert sender not in export
    assert "数字化改造贷款贴息怎么申请" not in export
    assert esc["escalation_id"] not in [
        e["id"] for e in httpx.get(f"{stack.gateway}/api/escalations", headers=outsider).json()["items"]
    ]
    owner_view = httpx.get(base, headers=liaisons["s_gxj"]).json()
    assert owner_view["status"] == "open"
    assert owner_view["events"][-1]["kind"] == "created"
    assert all(m["role"] != "liaison" for m in owner_view["transcript"])
    logout = httpx.post(f"{stack.gateway}/api/liaison/logout", headers=liaisons["s_rsj"])
    assert logout.status_code == 200
    assert httpx.get(f"{stack.gateway}/api/escalations", headers=liaisons["s_rsj"]).status_code == 401


def test_rasa_api_needs_its_token_and_listens_on_loopback(stack: Stack) -> None:
    tracker = f"{stack.rasa}/conversations/anyone/tracker"
    assert httpx.get(tracker).status_code == 401
    assert httpx.get(tracker, params={"token": "wrong"}).status_code == 401
    assert httpx.get(tracker, params={"token": stack.env["RASA_TOKEN"]}).status_code == 200
    port = f"{int(stack.env['RASA_PORT']):04X}"
    listening = {
        line.split()[1].split(":")[0]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for line in Path(table).read_text().splitlines()[1:]
        if line.split()[1].endswith(f":{port}") and line.split()[3] == "0A"
    }
    assert listening == {"0100007F"}  # 127.0.0.1 only, not 0.0.0.0 or ::


def test_secrets_are_not_logged(stack: Stack) -> None:
    secrets = [
        stack.env[k] for k in ("RASA_TOKEN", "HANDOFF_SECRET", "WECOM_SECRET", "WECOM_ENCODING_AES_KEY")
    ]
    for log in stack.logs.glob("*.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"{log.name} contains a secret"


@pytest.mark.parametrize("module", ["gateway", "actions", "bot.serve"])
def test_production_refuses_development_secrets(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RASA_", "HANDOFF_"))}
    env.update(ENV="production", VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "refuses development/placeholder secrets" in done.stderr


def test_api_keeps_its_contract(stack: Stack, liaisons: dict[str, dict[str, str]], artifacts: Any) -> None:
    """schemathesis against /openapi.json with a liaison's token: no 5xx, and every status, content type
    and body as documented, through its examples, coverage (edge and negative values) and fuzzing
    phases. Only the SSE stream, logout (it would end the token) and the WeCom callbacks (signed
    bodies; tests/wecom) are left out."""
    args = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{stack.gateway}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "-n",
        "40",
        "--seed",
        "7",
        "--request-timeout",
        "60",
        "--exclude-path-regex",
        "(/stream$|^/wecom/|/logout$)",
        "-H",
        f"Authorization: {liaisons['s_gxj']['Authorization']}",
        "--report",
        "junit",
        "--report-junit-path",
        str(artifacts / "schemathesis.xml"),
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
