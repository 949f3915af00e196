"""Admin command line: ``python -m gateway.admin add-liaison|add-firm|import-firms|import-liaisons|
bind-wecom-chat|bind-wecom-kf|kf-link|load-demo|purge``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx
from stdnum.cn import uscc as uscc_std
from wechatpy.exceptions import WeChatClientException

from gateway.data import retention
from gateway.data.registry import LEVELS, ROLES, Registry, RegistryError
from gateway.data.store import Store
from gateway.data.wecom import KfState
from gateway.wecom.kf_client import KfClient
from huiqitong.settings import get_settings

# Fictional demo data, clearly marked 【演示】; loaded into an empty database by `make run`.
DEMO_LIAISONS = [
    {"username": "gxj_zhang", "password": "demo-gxj-2022", "name": "张伟", "department": "市工业和信息化局"},
    {
        "username": "rsj_li",
        "password": "demo-rsj-2022",
        "name": "李娜",
        "department": "市人力资源和社会保障局",
    },
    {"username": "kjj_wang", "password": "demo-kjj-2022", "name": "王强", "department": "市科技局"},
    {
        "username": "town_chen",
        "password": "demo-town-2022",
        "name": "陈晨",
        "department": "火炬开发区（镇街挂点）",
    },
    {
        "username": "editor_liu",
        "password": "demo-editor-2022",
        "name": "刘洋",
        "department": "市工业和信息化局",
        "role": "editor",
    },
    {
        "username": "admin_zhao",
        "password": "demo-admin-2022",
        "name": "赵敏",
        "department": "市工业和信息化局",
        "role": "admin",
    },
]
DEMO_FIRMS = [
    (
        "91442000MA4W0A1B2",
        "【演示】中山市明辉灯饰有限公司",
        "省级",
        "古镇镇",
        "灯饰",
        "town_chen",
        "gxj_zhang",
    ),
    (
        "91442000MA4W0A1C3",
        "【演示】中山市华锐五金制品有限公司",
        "市级",
        "小榄镇",
        "五金",
        "gxj_zhang",
        "town_chen",
    ),
    (
        "91442000MA4W0A1D4",
        "【演示】中山市智厨电器科技有限公司",
        "国家级小巨人",
        "南头镇",
        "厨卫",
        "gxj_zhang",
        None,
    ),
]


def demo_uscc(base17: str) -> str:
    """A valid 统一社会信用代码 for fictional demo firms (check character computed by stdnum)."""
    return base17 + uscc_std.calc_check_digit(base17)


def load_demo(registry: Registry, env: str = "development") -> bool:
    """Load the demo liaisons and firms when no liaison exists yet, in development only (their
    passwords are public); True when loaded."""
    if env != "development" or not registry.is_empty():
        return False
    for liaison in DEMO_LIAISONS:
        registry.add_liaison({**liaison, "demo": True})
    for base, name, level, town, industry, liaison_name, backup in DEMO_FIRMS:
        registry.add_firm(
            {
                "uscc": demo_uscc(base),
                "name": name,
                "level": level,
                "town": town,
                "industry": industry,
                "liaison": liaison_name,
                "backup_liaison": backup,
                "demo": True,
            }
        )
    return True


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad input, with a one-line message)."""
    parser = argparse.ArgumentParser(prog="python -m gateway.admin", description="惠企通 registry admin")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("add-liaison", help="add or replace a liaison officer")
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--department", required=True, help="department or town, e.g. 市工业和信息化局")
    p.add_argument("--wecom-userid")
    p.add_argument(
        "--role", default="liaison", choices=ROLES, help="admin also reads and exports the audit log"
    )
    p = sub.add_parser("add-firm", help="add or replace a firm")
    p.add_argument("--uscc", required=True, help="统一社会信用代码")
    p.add_argument("--name", required=True)
    p.add_argument("--level", default="无", help="/".join(LEVELS))
    p.add_argument("--liaison", help="username of the assigned (挂点) liaison")
    p.add_argument("--backup", help="username of the backup liaison")
    p.add_argument("--town")
    p.add_argument("--industry")
    for kind in ("firms", "liaisons"):
        p = sub.add_parser(f"import-{kind}", help=f"import {kind} from CSV: all rows or none")
        p.add_argument("file", type=Path)
    p = sub.add_parser("bind-wecom-chat", help="bind a WeCom group chat to a registered firm")
    p.add_argument("--chat-id", required=True)
    p.add_argument("--uscc", required=True)
    p.add_argument("--webhook-key", help="the group robot (消息推送) webhook key, for replies into the group")
    p = sub.add_parser(
        "bind-wecom-kf", help="bind a 微信客服 customer (external_userid) to a registered firm"
    )
    p.add_argument("--external-userid", required=True)
    p.add_argument("--uscc", required=True)
    p = sub.add_parser("kf-link", help="print the 客服链接 of a 微信客服 account (kf/add_contact_way)")
    p.add_argument("--open-kfid", required=True)
    p.add_argument(
        "--scene",
        default="",
        help="reported back when an owner enters through this link ([0-9a-zA-Z_-], ≤32)",
    )
    sub.add_parser("load-demo", help="load the fictional demo data into an empty database")
    p = sub.add_parser(
        "purge", help="delete conversations idle longer than RETENTION_DAYS, pseudonymise their cases"
    )
    p.add_argument("--days", type=int, help="override RETENTION_DAYS for this run")
    args = parser.parse_args(argv)

    settings = get_settings()
    store = Store(settings.db_url)
    store.create()
    registry = Registry(store)
    try:
        if args.cmd == "add-liaison":
            row = registry.add_liaison(
                {
                    "username": args.username,
                    "password": args.password,
                    "name": args.name,
                    "department": args.department,
                    "wecom_userid": args.wecom_userid,
                    "role": args.role,
                }
            )
            print(f"{row['role']} {row['username']} ({row['name']}, {row['department']}) saved")
        elif args.cmd == "add-firm":
            row = registry.add_firm(
                {
                    "uscc": args.uscc,
                    "name": args.name,
                    "level": args.level,
                    "liaison": args.liaison,
                    "backup_liaison": args.backup,
                    "town": args.town,
                    "industry": args.industry,
                }
            )
            print(f"firm {row['uscc']} {row['name']} saved")
        elif args.cmd in ("import-firms", "import-liaisons"):
            count = registry.import_csv(args.file, args.cmd.removeprefix("import-"))
            print(f"imported {count} {args.cmd.removeprefix('import-')}")
        elif args.cmd == "bind-wecom-chat":
            registry.bind_wecom_chat(args.chat_id, args.uscc, args.webhook_key)
            print(f"WeCom chat {args.chat_id} bound to {args.uscc}")
        elif args.cmd == "bind-wecom-kf":
            code = KfState(store).bind(registry, args.external_userid, args.uscc, "gateway.admin")
            print(f"微信客服 customer {args.external_userid.strip()} bound to {code}")
        elif args.cmd == "kf-link":
            return kf_link(args.open_kfid, args.scene)
        elif args.cmd == "purge":
            if args.days is not None and args.days < 1:
                raise RegistryError("--days must be at least 1")
            if args.days is not None:
                settings = settings.copy(update={"retention_days": args.days})
            print(json.dumps(retention.purge(store, settings).as_dict(), ensure_ascii=False))
        elif args.cmd == "load-demo":
            if settings.env != "development":
                print(f"ENV={settings.env}: demo data and demo logins are loaded in development only.")
                return 0
            loaded = load_demo(registry, settings.env)
            present = [d for d in DEMO_LIAISONS if (registry.liaison(d["username"]) or {}).get("demo")]
            print(
                "demo data loaded (fictional firms marked 【演示】)."
                if loaded
                else "liaisons already registered; demo data not loaded again."
            )
            if present:
                print("Demo console logins:")
                for liaison in present:
                    role = {"admin": "，管理员", "editor": "，知识库编辑"}.get(str(liaison.get("role")), "")
                    print(
                        f"  {liaison['username']} / {liaison['password']}  ({liaison['name']}, {liaison['department']}{role})"
                    )
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def kf_link(open_kfid: str, scene: str) -> int:
    """Print the 客服链接 that the bureau puts on its portal and in its WeChat groups."""
    settings = get_settings()
    if not settings.wecom_corp_id or not (settings.wecom_kf_secret or settings.wecom_secret):
        print(
            "error: WeCom is not configured (WECOM_CORP_ID and WECOM_KF_SECRET or WECOM_SECRET)",
            file=sys.stderr,
        )
        return 2
    client = KfClient.from_settings(settings)
    try:
        print(client.contact_link(open_kfid, scene))
    except (WeChatClientException, httpx.HTTPError) as exc:
        print(f"error: kf/add_contact_way failed: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
