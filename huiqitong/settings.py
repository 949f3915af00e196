"""The one settings object of 惠企通, read once from the environment (and `.env`).

It belongs to no feature package: gateway, actions, the Rasa launcher and the knowledge base all read
it from here. Every setting is listed in `.env.example`. A settings object that would run production
with a development secret, or let any site use owners' credentials, cannot be made (a validator).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseSettings, ValidationError, root_validator

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    """All settings; environment variables of the same name (upper case) override the defaults."""

    env: str = "development"  # development or production
    var_dir: Path = ROOT / "var"
    kb_path: Path = ROOT / "var" / "knowledge.db"
    policies_dir: Path = ROOT / "knowledge" / "policies"
    sources_dir: Path = ROOT / "knowledge" / "sources"
    jieba_dict_dir: Path = ROOT / "nlu_data" / "jieba"
    models_dir: Path = ROOT / "models"
    rasa_model: str = ""

    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    rasa_token: str = "dev-rasa-token"
    rasa_urls: str = ""
    actions_host: str = "127.0.0.1"
    actions_port: int = 5055
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    gateway_workers: int = 1
    public_url: str = ""
    allowed_origins: str = ""  # sites that may embed the widget (comma-separated); empty = same origin only

    handoff_secret: str = "dev-handoff-secret"
    handoff_url: str = ""
    handoff_timeout_s: float = 5.0
    handoff_flush_interval_s: float = 15.0  # the action server resends packets left in its outbox this often
    rasa_timeout_s: float = 15.0

    database_url: str = ""
    db_busy_timeout_s: float = 15.0
    # A live stream (SSE) is woken by new-message notifications; it also rereads the store this often,
    # for writers that cannot notify it (another worker on SQLite, the admin CLI).
    stream_fallback_poll_s: float = 5.0
    rasa_tracker_store_url: str = ""
    redis_url: str = ""
    sla_working_hours: float = 4.0
    workday_start_hour: int = 9
    workday_end_hour: int = 18
    reminder_before_due_min: int = 60  # an unclaimed case reminds its liaison this long before its deadline
    reminder_interval_s: float = 60.0  # how often the gateway looks for reminders to send
    token_ttl_s: int = 8 * 3600
    max_message_chars: int = 2000
    retention_days: int = 180  # conversations idle longer are deleted, their cases pseudonymised
    wecom_token: str = ""
    wecom_encoding_aes_key: str = ""
    wecom_corp_id: str = ""
    wecom_agent_id: int = 0
    wecom_secret: str = ""
    wecom_api_base: str = "https://qyapi.weixin.qq.com/cgi-bin"
    wecom_replay_window_s: int = 300
    wecom_bot_token: str = ""
    wecom_bot_encoding_aes_key: str = ""
    # 微信客服 (WeChat users outside the corp): its callback's token and key, and the secret of the app
    # listed under 「微信客服-可调用接口的应用」; each empty = the self-built app's own.
    wecom_kf_token: str = ""
    wecom_kf_encoding_aes_key: str = ""
    wecom_kf_secret: str = ""
    rate_limit_per_minute: int = 30
    new_conversations_per_minute: int = 60  # per client address: new web conversations cannot dodge the limit
    # `make run` under supervisord (gateway/supervise.py, gateway/watchdog.py)
    hang_timeout_s: int = 30  # a service that answered once and now does not answer this long is restarted
    start_timeout_s: int = 600  # a (re)started service that has not answered after this long is restarted
    log_max_mb: int = 20  # var/log/<service>.log rotates at this size ...
    log_backups: int = 5  # ... keeping this many older files

    class Config:
        env_file = str(ROOT / ".env")
        env_file_encoding = "utf-8"

    @root_validator(skip_on_failure=True)
    def _refuse_unsafe(cls, values: dict[str, Any]) -> dict[str, Any]:
        """No settings object exists with a wildcard origin, or outside development with a
        development or placeholder secret."""
        origins = [o.strip() for o in str(values.get("allowed_origins") or "").split(",")]
        if "*" in origins:
            raise ValueError(
                "ALLOWED_ORIGINS=* would let any site use owners' credentials: list the sites instead"
            )
        if values.get("env") == "development":
            return values
        weak = [
            name
            for name, key in (("RASA_TOKEN", "rasa_token"), ("HANDOFF_SECRET", "handoff_secret"))
            if str(values.get(key) or "").startswith("dev-") or PLACEHOLDER in str(values.get(key) or "")
        ]
        if weak:
            raise ValueError(
                f"ENV={values.get('env')} refuses development/placeholder secrets: {', '.join(weak)}"
            )
        return values

    @property
    def allowed_origins_list(self) -> list[str]:
        """ALLOWED_ORIGINS as origins (``scheme://host[:port]``, no trailing slash)."""
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def wecom_enabled(self) -> bool:
        """The self-built app's callback and API are configured."""
        return bool(self.wecom_token and self.wecom_encoding_aes_key and self.wecom_corp_id)

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def rasa_urls_list(self) -> list[str]:
        """Every Rasa instance the gateway may use: RASA_URLS (comma-separated), else the one server."""
        urls = [u.strip().rstrip("/") for u in self.rasa_urls.split(",") if u.strip()]
        return urls or [self.rasa_url]

    @property
    def actions_url(self) -> str:
        """Webhook URL of the action server, as Rasa's endpoints file needs it."""
        return f"http://{self.actions_host}:{self.actions_port}/webhook"

    @property
    def gateway_url(self) -> str:
        """URL users open; PUBLIC_URL when set (behind a proxy), else the local bind address."""
        return self.public_url.rstrip("/") or f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def handoff_endpoint(self) -> str:
        """Where the action server posts handoff packets."""
        return self.handoff_url or f"http://{self.gateway_host}:{self.gateway_port}/internal/handoff"

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of the gateway store (SQLite under var/ unless DATABASE_URL is set)."""
        return self.database_url or f"sqlite:///{self.var_dir / 'app.db'}"


def service_settings() -> Settings:
    """The settings for a service's start-up: exits with a one-line message when they are refused."""
    try:
        return get_settings()
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]) for e in exc.errors())
        raise SystemExit(f"error: {reasons}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once per process."""
    return Settings()
