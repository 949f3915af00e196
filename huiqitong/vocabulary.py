"""One home for the words of the domain: 专精特新 levels, firm facts, handoff reasons, channels,
message roles and kinds, case events. The server owns them; the console and the widget read them
from ``GET /api/vocabulary`` instead of keeping copies."""

from __future__ import annotations

from huiqitong import outcome

# 专精特新 levels a firm may state, strongest last but one; "无" = not recognised.
ZJTX_LEVELS = ("市级", "省级", "国家级小巨人", "单项冠军培育", "无")

# The firm facts the eligibility rules read (slot and condition names) and how a person reads them.
FACT_LABELS = {
    "zjtx_level": "专精特新认定级别",
    "growth_pct": "较上一年增长率",
    "shareholding_reform": "实施股份制改造",
    "industry": "所属产业",
    "digital_project": "实施数字化智能化转型项目",
    "manufacturing": "制造业企业",
    "apprenticeship": "开展企业新型学徒制培训",
    "skill_certification": "开展职业技能等级认定",
}

# What identifies the firm in a conversation (slots beside the facts).
IDENTITY_LABELS = {"firm_name": "企业名称", "uscc": "统一社会信用代码", "revenue_wan": "营业收入（万元）"}

CASE_STATUSES = {"open": "待认领", "claimed": "处理中", "resolved": "已办结"}
# A case's first response against its working-hours deadline (gateway.sla.sla_state).
SLA_STATES = {"ok": "未超时", "due_soon": "即将超时", "overdue": "已超时", "met": "已按时响应"}

# Why a conversation went to a person (the handoff packet's ``reason``).
HANDOFF_REASONS = {
    "user_request": "企业主动要求转人工",
    "offer_accepted": "企业接受了转人工建议",
    "specific_case": "具体个案，需工作人员答复",
    "repeated_fallback": "机器人多次未能理解",
    "bot_unavailable": "机器人暂时无法服务，企业要求转人工",
}

WEB_CHANNEL = "web"
# Every channel a conversation can come from (the stored ``channel``).
CHANNELS = {
    WEB_CHANNEL: "网页",
    "rest": "接口",
    "wecom-user": "企业微信（单聊）",
    "wecom-chat": "企业微信（群聊）",
    "wecom-bot": "企业微信群机器人",
    "wecomkf": "微信客服",
}

MESSAGE_ROLES = {"user": "企业", "bot": "惠企通", "liaison": "工作人员", "system": "系统"}

# What a stored message is, beyond its role: ``resumed`` ends a liaison's case (the bot is back).
MESSAGE_KINDS = {
    "text": "消息",
    "resumed": "工作人员已结束服务，机器人恢复",
    "busy": "系统繁忙",
    "feedback": "评价或订阅回复",
    "reason_prompt": "询问没帮助的原因",
    "csat_prompt": "请企业为人工服务打分",
}

CASE_EVENTS = {
    "created": "转人工",
    "claimed": "认领",
    "replied": "回复企业",
    "returned": "退回队列",
    "resolved": "办结",
    "note": "备注",
    "delivery_failed": "送达失败",
    "firm_bound": "绑定企业",
}


# What an owner message got (huiqitong.outcome): the dashboard's categories.
OUTCOMES = outcome.OUTCOMES


def as_json() -> dict[str, object]:
    """Everything above, for ``GET /api/vocabulary``."""
    return {
        "zjtx_levels": list(ZJTX_LEVELS),
        "facts": FACT_LABELS,
        "identity": IDENTITY_LABELS,
        "case_statuses": CASE_STATUSES,
        "sla_states": SLA_STATES,
        "handoff_reasons": HANDOFF_REASONS,
        "channels": CHANNELS,
        "message_roles": MESSAGE_ROLES,
        "message_kinds": MESSAGE_KINDS,
        "case_events": CASE_EVENTS,
        "outcomes": OUTCOMES,
    }
