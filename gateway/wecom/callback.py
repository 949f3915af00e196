"""WeCom callbacks: the self-built app and 微信客服 (encrypted XML), and the 智能机器人 group bot
(encrypted JSON).

All answer within WeCom's 5-second window: verify, decrypt, persist (deduplicated by MsgId, or
FromUserName+CreateTime for events), answer 200 with an empty body, and process in the background.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import xmltodict
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from gateway.services import Services, ServicesDep
from gateway.wecom.channel import ONLY_TEXT, Inbound, WeComChannel
from gateway.wecom.kf import KfChannel

router = APIRouter(prefix="/wecom", tags=["wecom"])
logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _channel(services: Services) -> WeComChannel:
    channel = services.wecom
    if channel is None:
        raise HTTPException(
            404, "WeCom is not configured (WECOM_TOKEN, WECOM_ENCODING_AES_KEY, WECOM_CORP_ID)"
        )
    return channel


def _fresh(services: Services, timestamp: str) -> None:
    """Refuse a callback outside the replay window (wechatpy does not check timestamps)."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise HTTPException(400, "timestamp must be an integer") from exc
    if age > services.settings.wecom_replay_window_s:
        logger.warning(
            "wecom callback refused: timestamp %s is %.0f s old (replay window %d s)",
            timestamp,
            age,
            services.settings.wecom_replay_window_s,
        )
        raise HTTPException(403, "stale timestamp")


def _kf(services: Services) -> KfChannel:
    kf = _channel(services).kf
    if kf is None:
        raise HTTPException(404, "微信客服 is not configured")
    return kf


def _crypto(services: Services, kind: str) -> WeChatCrypto:
    s = services.settings
    if kind == "kf":
        return WeChatCrypto(
            s.wecom_kf_token or s.wecom_token,
            s.wecom_kf_encoding_aes_key or s.wecom_encoding_aes_key,
            s.wecom_corp_id,
        )
    if kind == "bot":
        if not (s.wecom_bot_token and s.wecom_bot_encoding_aes_key):
            raise HTTPException(
                404, "WeCom group bot is not configured (WECOM_BOT_TOKEN, WECOM_BOT_ENCODING_AES_KEY)"
            )
        return WeChatCrypto(
            s.wecom_bot_token, s.wecom_bot_encoding_aes_key, ""
        )  # receiveid is "" for 智能机器人
    return WeChatCrypto(s.wecom_token, s.wecom_encoding_aes_key, s.wecom_corp_id)


def _verify(
    services: Services, kind: str, msg_signature: str, timestamp: str, nonce: str, echostr: str
) -> str:
    _fresh(services, timestamp)
    try:
        plain = _crypto(services, kind).check_signature(msg_signature, timestamp, nonce, echostr)
    except (InvalidSignatureException, InvalidCorpIdException) as exc:
        logger.warning("wecom URL verification refused: %s", type(exc).__name__)
        raise HTTPException(403, "bad signature") from exc
    except (ValueError, TypeError) as exc:
        raise HTTPException(400, "malformed echostr") from exc
    return plain.decode() if isinstance(plain, bytes) else str(plain)


async def _decrypt(
    services: Services, kind: str, request: Request, msg_signature: str, timestamp: str, nonce: str
) -> str:
    _fresh(services, timestamp)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "callback body too large")
    try:
        envelope: Any = {"Encrypt": json.loads(body)["encrypt"]} if kind == "bot" else body
        plain = _crypto(services, kind).decrypt_message(envelope, msg_signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        logger.warning("wecom callback refused: bad signature")
        raise HTTPException(403, "bad signature") from exc
    except InvalidCorpIdException as exc:
        logger.warning("wecom callback refused: wrong corp id")
        raise HTTPException(403, "wrong corp id") from exc
    except (KeyError, ValueError, TypeError, xmltodict.expat.ExpatError) as exc:
        logger.warning("wecom callback refused: malformed body (%s)", type(exc).__name__)
        raise HTTPException(400, "malformed callback body") from exc
    return plain.decode() if isinstance(plain, bytes) else str(plain)


@router.get("/callback", response_class=PlainTextResponse)
async def verify_app(
    services: ServicesDep,
    msg_signature: str = Query(...),
    timestamp: str = Query(...),
    nonce: str = Query(...),
    echostr: str = Query(...),
) -> PlainTextResponse:
    """URL verification of the self-built app: answers the decrypted echostr as plain text."""
    _channel(services)
    return PlainTextResponse(_verify(services, "app", msg_signature, timestamp, nonce, echostr))


@router.post("/callback")
async def app_message(
    request: Request,
    services: ServicesDep,
    msg_signature: str = Query(...),
    timestamp: str = Query(...),
    nonce: str = Query(...),
) -> Response:
    """An encrypted message or event of the self-built app (direct or app group chat): stored once, answered later."""
    channel = _channel(services)
    xml = await _decrypt(services, "app", request, msg_signature, timestamp, nonce)
    data = _parse_xml(xml)
    if data.get("Event") == "kf_msg_or_event":  # the same app may also be the one 微信客服 calls back
        await _kf(services).on_event(str(data.get("OpenKfId") or ""), str(data.get("Token") or ""))
        return Response(status_code=200)
    await services.db(_store_app_message, services, channel, data)
    return Response(status_code=200)


def _store_app_message(services: Services, channel: WeComChannel, data: dict[str, Any]) -> None:
    """Store an app message once for the worker to answer (blocking: run it with ``services.db``)."""
    sender = str(data.get("FromUserName") or "")
    kind = str(data.get("MsgType") or "")
    chat_id = data.get("ChatId") or None
    if not sender:
        raise HTTPException(400, "message without FromUserName")
    if kind == "event":
        # Events carry no MsgId: WeCom documents FromUserName + CreateTime as their identity.
        services.store.first_time(f"wecom:evt:{sender}:{data.get('CreateTime')}")
        return
    key = f"wecom:msg:{data.get('MsgId') or sender + ':' + str(data.get('CreateTime'))}"
    text = str(data.get("Content") or "") if kind == "text" else ""
    if not text.strip():
        if services.store.first_time(key):
            target = {"kind": "chat", "target": chat_id} if chat_id else {"kind": "user", "target": sender}
            channel.outbox.enqueue([{**target, "text": ONLY_TEXT}])
        return
    channel.accept(
        Inbound(
            key=key,
            from_user=sender,
            text=text[: services.settings.max_message_chars],
            chat_id=chat_id,
            channel="wecom-chat" if chat_id else "wecom-user",
        )
    )
    return


@router.get("/bot/callback", response_class=PlainTextResponse)
async def verify_bot(
    services: ServicesDep,
    msg_signature: str = Query(...),
    timestamp: str = Query(...),
    nonce: str = Query(...),
    echostr: str = Query(...),
) -> PlainTextResponse:
    """URL verification of the 智能机器人 (group bot) API mode."""
    _channel(services)
    return PlainTextResponse(_verify(services, "bot", msg_signature, timestamp, nonce, echostr))


@router.post("/bot/callback")
async def bot_message(
    request: Request,
    services: ServicesDep,
    msg_signature: str = Query(...),
    timestamp: str = Query(...),
    nonce: str = Query(...),
) -> Response:
    """An @-mention of the 智能机器人 in a group (or a direct chat with it): stored once, answered
    through its single-use response_url."""
    channel = _channel(services)
    plain = await _decrypt(services, "bot", request, msg_signature, timestamp, nonce)
    try:
        data = json.loads(plain)
        sender = str(data["from"]["userid"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(400, "malformed bot message") from exc
    chat_id = data.get("chatid") if data.get("chattype") == "group" else None
    text = str((data.get("text") or {}).get("content") or "") if data.get("msgtype") == "text" else ""
    text = _strip_mention(text)
    if not text:
        return Response(status_code=200)
    await services.db(
        channel.accept,
        Inbound(
            key=f"wecom-bot:{data.get('msgid')}",
            from_user=sender,
            text=text[:2000],
            chat_id=chat_id,
            channel="wecom-bot",
            response_url=data.get("response_url"),
        ),
    )
    return Response(status_code=200)


def _parse_xml(xml: str) -> dict[str, Any]:
    try:
        data = xmltodict.parse(xml)["xml"]
    except (xmltodict.expat.ExpatError, KeyError, TypeError) as exc:
        raise HTTPException(400, "malformed message XML") from exc
    if not isinstance(data, dict):
        raise HTTPException(400, "malformed message XML")
    return data


@router.get("/kf/callback", response_class=PlainTextResponse)
async def verify_kf(
    services: ServicesDep,
    msg_signature: str = Query(...),
    timestamp: str = Query(...),
    nonce: str = Query(...),
    echostr: str = Query(...),
) -> PlainTextResponse:
    """URL verification of the 微信客服 callback (WECOM_KF_TOKEN and key, or the app's)."""
    _kf(services)
    return PlainTextResponse(_verify(services, "kf", msg_signature, timestamp, nonce, echostr))


@router.post("/kf/callback")
async def kf_event(
    request: Request,
    services: ServicesDep,
    msg_signature: str = Query(...),
    timestamp: str = Query(...),
    nonce: str = Query(...),
) -> Response:
    """A 微信客服 event: ``kf_msg_or_event`` says an account has news; its messages are pulled with
    ``kf/sync_msg`` in the background (a retried callback pulls nothing twice)."""
    kf = _kf(services)
    data = _parse_xml(await _decrypt(services, "kf", request, msg_signature, timestamp, nonce))
    if data.get("Event") == "kf_msg_or_event":
        await kf.on_event(str(data.get("OpenKfId") or ""), str(data.get("Token") or ""))
    else:
        logger.info("wecom kf callback ignored: %s/%s", data.get("MsgType"), data.get("Event"))
    return Response(status_code=200)


def _strip_mention(text: str) -> str:
    """'@惠企通 专精特新有什么补贴' → '专精特新有什么补贴'."""
    words = text.strip().split(maxsplit=1)
    if words and words[0].startswith("@"):
        return words[1].strip() if len(words) > 1 else ""
    return text.strip()
