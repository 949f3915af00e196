"""精准推送 (issue 16): firm profiles, selecting the firms a published record fits, sending pushes.

A record's published version is evaluated (:func:`knowledge.rules.evaluate`) against every registered
firm's profile (``gateway.data.profiles``). The firms it makes 符合, or 信息不足 on exactly one fact
nobody has stated yet, are the candidates, unless they stopped pushes or already got this version.
An editor picks among them; each push is logged once per record version and firm, and leaves through
the channels the firm can be reached on: its bound WeCom groups and 微信客服 conversations (the
rate-limited outbox, queued with the push row) and its web conversations (the widget shows the unseen
push as a notice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.data.knowledge import KnowledgeData
from gateway.data.profiles import FirmProfile, Liaison, Profiles, clean_facts, values
from gateway.data.pushes import PushData, Route
from gateway.knowledge import Knowledge
from gateway.services import Services
from huiqitong.vocabulary import CHANNELS, FACT_LABELS, WEB_CHANNEL
from knowledge.citations import LETTER, citation
from knowledge.records import DEFAULT_SOURCE
from knowledge.rules import MATCH, NO_MATCH, UNDECIDED, evaluate

Deliveries = Callable[[str, str, list[dict[str, Any]]], list[dict[str, str]]]
# Why a firm asked for was not pushed (the API's ``skipped[].reason``) and how editors read it.
SKIP_REASONS = {
    "unknown_firm": "未登记的企业",
    "not_candidate": "按当前画像不符合推送条件",
    "opted_out": "企业已退订推送",
    "already_pushed": "该版本已推送过",
    "no_channel": "没有可送达的渠道（未绑定企业微信群、微信客服或网页对话）",
}


class PushRefused(ValueError):
    """A record that cannot be pushed; ``status`` is the HTTP status that says why (404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Candidate:
    """A firm the record fits (符合) or may fit once one fact is known (信息不足)."""

    uscc: str
    name: str
    verdict: str
    reasons: list[str]
    missing: str | None
    missing_label: str | None
    liaison: Liaison | None
    channels: list[dict[str, str]]  # {channel, label}, one per channel the firm can be reached on


@dataclass
class Selection:
    """The firms a record's published version fits, and how many it does not."""

    record_id: str
    version: int
    title: str
    candidates: list[Candidate] = field(default_factory=list)
    not_matching: int = 0  # 不符合
    undecided: int = 0  # 信息不足 on no fact or on two or more
    opted_out: int = 0
    already_pushed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The API's shape."""
        return asdict(self)


@dataclass
class Published:
    """A record's published version, as a push cites it."""

    record_id: str
    version: int
    data: dict[str, Any]
    cited_as: str  # how reasons name the source (答复函, or a later notice's 文号)
    citation: str  # （依据：答复函 三（二），2022年6月8日；负责部门：…）


def channel_list(routes: list[Route]) -> list[dict[str, str]]:
    """The distinct channels of a firm's routes, labelled from the vocabulary."""
    seen = list(dict.fromkeys(r["channel"] for r in routes))
    return [{"channel": c, "label": CHANNELS.get(c, c)} for c in seen]


def met_reasons(conditions: dict[str, Any], profile: dict[str, Any], source: str) -> list[str]:
    """The reasons of the conditions a firm meets already (an undecided verdict states only the open one)."""
    parts = conditions.get("all") or conditions.get("any") or [conditions]
    out: list[str] = []
    for part in parts:
        verdict = evaluate("", {"all": [part]}, profile, source)
        if verdict.status == MATCH:
            out.extend(verdict.reasons)
    return out


def push_text(record: Published, candidate: Candidate) -> str:
    """The message a firm gets: the record and its citation, why the firm fits, its liaison and how to
    stop pushes."""
    data = record.data
    lines = [f"【惠企通·政策推送】{data.get('title', '')}"]
    benefit = str(data.get("benefit_text") or "").strip()
    if benefit:
        lines.append(benefit)
    lines.append(record.citation)
    why = "；".join(candidate.reasons)
    if candidate.verdict == MATCH:
        lines.append(f"推送原因：按贵企业已登记和告知的情况，{why}，符合该政策所列条件。")
    else:
        met = f"{why}；" if why else ""
        lines.append(
            f"推送原因：按贵企业已登记和告知的情况，{met}尚需确认“{candidate.missing_label}”，确认后即可判断是否符合。"
        )
    if candidate.liaison:
        person = f"{candidate.liaison['name']}（{candidate.liaison['department']}）"
        lines.append(f"如需咨询或申报，可联系贵企业的挂点联络人{person}：直接回复“人工”即可转给{person}。")
    else:
        lines.append("如需咨询或申报，直接回复“人工”即可转给工作人员。")
    lines.append("不想再收到政策推送：在企业微信中回复“退订”，或在网页对话框中关闭“政策推送”开关。")
    return "\n".join(lines)


class Pusher:
    """Selects the firms for a record and sends them its push (blocking: run it in the thread pool)."""

    def __init__(
        self,
        knowledge: Knowledge,
        profiles: Profiles,
        data: PushData,
        deliveries: Deliveries,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.knowledge, self.profiles, self.data = knowledge, profiles, data
        self.deliveries, self.wake = deliveries, wake

    @classmethod
    def of(cls, services: Services) -> Pusher:
        """The pusher of the gateway's services (WeCom deliveries when WeCom is configured)."""
        wecom = services.wecom
        return cls(
            services.knowledge,
            Profiles(services.store),
            PushData(services.store),
            services.deliveries,
            wake=wecom.outbox.wake.set if wecom is not None else None,
        )

    def published(self, record_id: str) -> Published:
        """A record's published version with its citation.

        Raises:
            PushRefused: 404 no such record; 409 not published, expired, or without conditions.
        """
        store: KnowledgeData = self.knowledge.data
        state = store.state(record_id)
        if state is None:
            raise PushRefused(404, "no such record")
        if not state["published_version"]:
            raise PushRefused(409, "该条目尚未发布，不能推送")
        version = store.version(record_id, state["published_version"])
        assert version is not None
        data = version["data"]
        if not data.get("conditions"):
            raise PushRefused(409, "该条目没有适用条件，无法判断哪些企业符合，不能精准推送")
        if data.get("status") == "expired":
            raise PushRefused(409, "该条目已失效，不能推送")
        src = self.knowledge.source(str(data.get("source_id") or DEFAULT_SOURCE))
        return Published(
            record_id=record_id,
            version=int(version["version"]),
            data=data,
            cited_as=src.citation_name if src else LETTER,
            citation=citation(str(data.get("section") or ""), list(data.get("departments") or []), src),
        )

    def select(self, record_id: str) -> Selection:
        """The candidates of a record's published version, with counts of the firms left out."""
        return self._select(self.published(record_id), self.data.routes())[0]

    def _select(
        self, record: Published, routes: dict[str, list[Route]]
    ) -> tuple[Selection, dict[str, Candidate], dict[str, str]]:
        """(selection, candidates by credit code, reason code of every firm left out)."""
        conditions = record.data["conditions"]
        selection = Selection(record.record_id, record.version, str(record.data.get("title") or ""))
        optouts, pushed = self.data.opted_out(), self.data.pushed(record.record_id, record.version)
        by_code: dict[str, Candidate] = {}
        left_out: dict[str, str] = {}
        for profile in self.profiles.all():
            code = profile["uscc"]
            candidate = self._candidate(record, conditions, profile, routes.get(code, []))
            if candidate is None:
                verdict = evaluate(record.record_id, conditions, values(profile), record.cited_as)
                if verdict.status == NO_MATCH:
                    selection.not_matching += 1
                else:
                    selection.undecided += 1
                left_out[code] = "not_candidate"
            elif code in optouts:
                selection.opted_out += 1
                left_out[code] = "opted_out"
            elif code in pushed:
                selection.already_pushed += 1
                left_out[code] = "already_pushed"
            else:
                selection.candidates.append(candidate)
                by_code[code] = candidate
        # 符合 first, then the firms one fact away; by name within each.
        selection.candidates.sort(key=lambda c: (c.verdict != MATCH, c.name))
        return selection, by_code, left_out

    @staticmethod
    def _candidate(
        record: Published, conditions: dict[str, Any], profile: FirmProfile, routes: list[Route]
    ) -> Candidate | None:
        facts = values(profile)
        verdict = evaluate(record.record_id, conditions, facts, record.cited_as)
        if verdict.status == MATCH:
            reasons, missing = verdict.reasons, None
        elif verdict.status == UNDECIDED and len(verdict.missing) == 1:
            reasons, missing = met_reasons(conditions, facts, record.cited_as), verdict.missing[0]
        else:
            return None
        return Candidate(
            uscc=profile["uscc"],
            name=profile["name"],
            verdict=verdict.status,
            reasons=reasons,
            missing=missing,
            missing_label=FACT_LABELS.get(missing, missing) if missing else None,
            liaison=profile["liaison"],
            channels=channel_list(routes),
        )

    def send(self, record_id: str, codes: list[str], editor: str) -> dict[str, Any]:
        """Push the record's published version to the firms asked for that are still candidates: one
        logged push each, never a second for the same version. Returns ``{record_id, version, sent,
        skipped}``; ``skipped`` says why for each firm left out."""
        record = self.published(record_id)
        routes = self.data.routes()
        _, candidates, left_out = self._select(record, routes)
        sent: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []

        def skip(code: str, reason: str) -> None:
            skipped.append({"uscc": code, "reason": reason, "reason_label": SKIP_REASONS[reason]})

        for code in dict.fromkeys(codes):
            candidate = candidates.get(code)
            if candidate is None:
                skip(code, left_out.get(code, "unknown_firm"))
                continue
            text = push_text(record, candidate)
            used, rows = self._deliveries(routes.get(code, []), text)
            if not used:
                skip(code, "no_channel")
                continue
            push_id = self.data.add(
                {
                    "record_id": record.record_id,
                    "version": record.version,
                    "uscc": code,
                    "verdict": candidate.verdict,
                    "text": text,
                    "channels": ",".join(used)[:64],
                    "sent_by": editor,
                },
                rows,
            )
            if push_id is None:
                skip(code, "already_pushed")
                continue
            sent.append(
                {
                    "id": push_id,
                    "uscc": code,
                    "name": candidate.name,
                    "channels": used,
                    "verdict": candidate.verdict,
                }
            )
        if sent and self.wake is not None:
            self.wake()
        return {"record_id": record.record_id, "version": record.version, "sent": sent, "skipped": skipped}

    def _deliveries(self, routes: list[Route], text: str) -> tuple[list[str], list[dict[str, str]]]:
        """(channels used, outbound rows) for a push to a firm's routes: WeCom groups and 微信客服 through
        their channel's builder; the web needs none (the widget reads the push row)."""
        used: list[str] = []
        rows: list[dict[str, str]] = []
        for route in routes:
            if route["channel"] == WEB_CHANNEL:
                out: list[dict[str, str]] = []
            else:
                out = self.deliveries(route["sender_id"], route["channel"], [{"text": text}])
                if not out:
                    continue  # the channel is not configured in this gateway
            rows.extend(r for r in out if r not in rows)
            if route["channel"] not in used:
                used.append(route["channel"])
        return used, rows


def record_turn_facts(services: Services, sender_id: str, customs: list[dict[str, Any]]) -> None:
    """Keep the facts an owner stated in a turn (the replies' ``custom["facts"]``) in the profile of the
    firm the conversation is bound to (blocking: run it with ``services.db``)."""
    facts: dict[str, Any] = {}
    for custom in customs:
        facts.update(clean_facts(custom.get("facts")))
    if not facts:
        return
    profiles = Profiles(services.store)
    code = profiles.bound_firm(sender_id)
    if code is not None:  # only a registered firm's bound conversation speaks for the firm
        profiles.state(code, facts, origin="conversation", sender_id=sender_id)
