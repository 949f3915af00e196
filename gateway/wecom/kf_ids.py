"""The ids of 微信客服 conversations: ``wecomkf:<open_kfid>:<external_userid>``."""

from __future__ import annotations

KF_PREFIX = "wecomkf"  # conversations are wecomkf:<open_kfid>:<external_userid>


def sender_id(open_kfid: str, external_userid: str) -> str:
    """The conversation of one customer with one service account."""
    return f"{KF_PREFIX}:{open_kfid}:{external_userid}"


def parse_sender(sender: str) -> tuple[str, str] | None:
    """(open_kfid, external_userid) of a 微信客服 conversation, None for other channels' ids."""
    parts = sender.split(":")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == KF_PREFIX else None
