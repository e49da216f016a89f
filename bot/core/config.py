"""Settings from the environment and an optional ``.env`` file.

Each setting is read and checked once at start-up; a bad value names the variable and
what is expected, so a misconfigured deployment fails before it talks to anyone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.core.clock import Clock, SimulatedClock, SystemClock
from bot.core.i18n import N_, SUPPORTED_LOCALES, _
from bot.core.policy import MIB, PlanLoaders, Quotas

DEFAULT_GATEWAY_URL = "wss://openws.work.weixin.qq.com"  # the robot's long connection
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: Every setting with one line of help (``huiwu --help``; .env.example says the same).
SETTINGS_HELP: tuple[tuple[str, str], ...] = (
    ("HUIWU_DB", N_("SQLite database file (default ./huiwu.sqlite3)")),
    ("HUIWU_TZ", N_("default timezone, an IANA name (default Asia/Shanghai)")),
    ("HUIWU_LOCALE", N_("default language: zh_CN or en (default zh_CN)")),
    ("HUIWU_LOG_LEVEL", N_("DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)")),
    ("HUIWU_CLOCK_START", N_("simulated time: the start instant, e.g. 2013-12-02T09:00+08:00")),
    ("HUIWU_CLOCK_SPEED", N_("simulated seconds per real second (needs HUIWU_CLOCK_START)")),
    ("TELEGRAM_BOT_TOKEN", N_("the bot's token from @BotFather (enables Telegram)")),
    ("TELEGRAM_API_BASE_URL", N_("another Bot API server, e.g. http://127.0.0.1:8081/bot")),
    ("HUIWU_WEBHOOK_URL", N_("public HTTPS URL ending in /telegram for webhook mode")),
    ("HUIWU_WEBHOOK_SECRET", N_("secret token Telegram sends with each webhook call")),
    ("WECOM_CORP_ID", N_("WeCom CorpID (all five WECOM_* settings enable WeCom)")),
    ("WECOM_AGENT_ID", N_("the WeCom app's AgentId (a number)")),
    ("WECOM_SECRET", N_("the WeCom app's Secret")),
    ("WECOM_TOKEN", N_("the callback Token")),
    ("WECOM_AES_KEY", N_("the callback EncodingAESKey (43 characters)")),
    ("WECOM_API_BASE_URL", N_("WeCom API base URL (default https://qyapi.weixin.qq.com/cgi-bin/)")),
    ("HUIWU_WECOM_PATH", N_("path of the WeCom callback (default /wecom/callback)")),
    (
        "HUIWU_HTTP_HOST",
        N_("where the one HTTP server listens: webhook, callbacks, board (default 127.0.0.1)"),
    ),
    ("HUIWU_HTTP_PORT", N_("its port (default 8080)")),
    ("HUIWU_BOARD_URL", N_("the plan board's public address, ending in /board (unset: no board)")),
    ("WECOM_BOT_ID", N_("the WeCom robot's BotId (long connection, with WECOM_BOT_SECRET)")),
    ("WECOM_BOT_SECRET", N_("the WeCom robot's Secret")),
    ("WECOM_BOT_TOKEN", N_("the robot's callback Token (callback mode, with WECOM_BOT_AES_KEY)")),
    ("WECOM_BOT_AES_KEY", N_("the robot's callback EncodingAESKey (43 characters)")),
    ("WECOM_BOT_PATH", N_("path of the robot's callback (default /wecom/robot)")),
    ("WECOM_BOT_GATEWAY_URL", N_("the robot's long-connection gateway")),
    ("HUIWU_PLAN_LOADERS", N_("who may load a plan in chat (default organizers)")),
    ("HUIWU_MAX_FILE_MB", N_("largest file a member may hand in, in MB (default 20)")),
    ("HUIWU_MAX_HANDIN_FILES", N_("files in one hand-in (default 10)")),
    ("HUIWU_MAX_HANDIN_MB", N_("all files of one hand-in, in MB (default 50)")),
    ("HUIWU_MAX_MEMBER_MB", N_("all files one member hands in to a plan, in MB (default 200)")),
    ("HUIWU_MAX_HANDIN_TEXT", N_("characters of text in one hand-in (default 20000)")),
    (
        "HUIWU_RETENTION_DAYS",
        N_(
            "days after which sent messages, finished plans' reminder log and handled WeCom "
            "callbacks are pruned (default 180)"
        ),
    ),
)


class ConfigError(ValueError):
    """A setting with a value Huiwu cannot use."""


@dataclass(frozen=True)
class Settings:
    db_path: Path
    timezone: ZoneInfo
    locale: str
    log_level: str
    clock_start: datetime | None
    clock_speed: float
    telegram_token: str | None
    telegram_api_base_url: str | None
    webhook_url: str | None
    webhook_secret: str | None
    wecom_corp_id: str | None
    wecom_agent_id: int | None
    wecom_secret: str | None
    wecom_token: str | None
    wecom_aes_key: str | None
    wecom_api_base_url: str
    wecom_path: str
    wecom_bot_id: str | None
    wecom_bot_secret: str | None
    wecom_bot_token: str | None
    wecom_bot_aes_key: str | None
    wecom_bot_path: str
    wecom_bot_gateway_url: str
    http_host: str
    http_port: int
    plan_loaders: PlanLoaders = PlanLoaders.ORGANIZERS
    quotas: Quotas = field(default_factory=Quotas)
    board_url: str | None = None
    retention_days: int = 180

    def make_clock(self) -> Clock:
        """The one clock for the whole application."""
        if self.clock_start is None:
            return SystemClock()
        return SimulatedClock(self.clock_start, self.clock_speed)

    def secrets(self) -> tuple[str, ...]:
        """The values no log line may show."""
        values = (
            self.telegram_token,
            self.webhook_secret,
            self.wecom_secret,
            self.wecom_token,
            self.wecom_aes_key,
            self.wecom_bot_secret,
            self.wecom_bot_token,
            self.wecom_bot_aes_key,
        )
        return tuple(value for value in values if value)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def wecom_enabled(self) -> bool:
        return self.wecom_agent_id is not None and all(
            (self.wecom_corp_id, self.wecom_secret, self.wecom_token, self.wecom_aes_key)
        )

    @property
    def wecom_robot_enabled(self) -> bool:
        """The WeCom robot is configured (long connection or callback mode)."""
        return bool(
            (self.wecom_bot_id and self.wecom_bot_secret)
            or (self.wecom_bot_token and self.wecom_bot_aes_key)
        )


def _bad(name: str, expected: str, value: str) -> ConfigError:
    return ConfigError(
        _("{name}={value!r} is not valid: expected {expected}").format(
            name=name, value=value, expected=expected
        )
    )


def _raw_values(environ: dict[str, str] | None, env_file: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def configured_locale(environ: dict[str, str] | None = None, env_file: str | None = ".env") -> str:
    """HUIWU_LOCALE as given (environment, then ``.env``), to tell settings errors in it."""
    return _raw_values(environ, env_file).get("HUIWU_LOCALE", "").strip()


def load_settings(environ: dict[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Read the settings; the process environment wins over ``.env``."""
    values = _raw_values(environ, env_file)

    def get(name: str, default: str | None = None) -> str | None:
        value = values.get(name, "").strip()
        return value or default

    zone_name = get("HUIWU_TZ", "Asia/Shanghai") or "Asia/Shanghai"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _bad("HUIWU_TZ", _("an IANA timezone name such as Asia/Shanghai"), zone_name) from exc

    locale = get("HUIWU_LOCALE", "zh_CN") or "zh_CN"
    if locale not in SUPPORTED_LOCALES:
        raise _bad("HUIWU_LOCALE", " / ".join(SUPPORTED_LOCALES), locale)

    log_level = (get("HUIWU_LOG_LEVEL", "INFO") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise _bad("HUIWU_LOG_LEVEL", " / ".join(LOG_LEVELS), log_level)

    clock_start = None
    if raw_start := get("HUIWU_CLOCK_START"):
        try:
            clock_start = datetime.fromisoformat(raw_start)
        except ValueError as exc:
            raise _bad(
                "HUIWU_CLOCK_START",
                _("an ISO 8601 time with offset, e.g. 2013-12-02T09:00+08:00"),
                raw_start,
            ) from exc
        if clock_start.tzinfo is None:
            raise _bad(
                "HUIWU_CLOCK_START",
                _("an ISO 8601 time with offset, e.g. 2013-12-02T09:00+08:00"),
                raw_start,
            )

    raw_speed = get("HUIWU_CLOCK_SPEED", "1") or "1"
    try:
        clock_speed = float(raw_speed)
    except ValueError:
        clock_speed = -1.0
    if not (clock_speed > 0 and math.isfinite(clock_speed)):
        raise _bad(
            "HUIWU_CLOCK_SPEED",
            _("a positive number (3600 = one simulated hour per second)"),
            raw_speed,
        )
    if clock_start is None and get("HUIWU_CLOCK_SPEED") is not None and clock_speed != 1:
        raise ConfigError(
            _(
                "HUIWU_CLOCK_SPEED needs HUIWU_CLOCK_START: set the simulated start time too (or remove HUIWU_CLOCK_SPEED for real time)."
            )
        )

    agent_id = None
    if raw_agent := get("WECOM_AGENT_ID"):
        if not (raw_agent.isascii() and raw_agent.isdigit()):
            raise _bad("WECOM_AGENT_ID", _("the numeric AgentId of the WeCom app"), raw_agent)
        agent_id = int(raw_agent)

    aes_key = get("WECOM_AES_KEY")
    if aes_key is not None and len(aes_key) != 43:
        raise _bad(
            "WECOM_AES_KEY",
            _("the 43-character EncodingAESKey from the WeCom admin console"),
            "***",
        )

    raw_port = get("HUIWU_HTTP_PORT", "8080") or "8080"
    if not (raw_port.isascii() and raw_port.isdigit()) or not 0 < int(raw_port) < 65536:
        raise _bad("HUIWU_HTTP_PORT", _("a TCP port number from 1 to 65535"), raw_port)

    wecom_path = get("HUIWU_WECOM_PATH", "/wecom/callback") or "/wecom/callback"
    if not wecom_path.startswith("/"):
        raise _bad("HUIWU_WECOM_PATH", _("a URL path starting with /"), wecom_path)

    wecom_required = (
        "WECOM_CORP_ID",
        "WECOM_AGENT_ID",
        "WECOM_SECRET",
        "WECOM_TOKEN",
        "WECOM_AES_KEY",
    )
    wecom_missing = [name for name in wecom_required if not get(name)]
    if 0 < len(wecom_missing) < len(wecom_required):
        raise ConfigError(
            _(
                "The WeCom settings are incomplete: set {missing} too (or none of the WECOM_* settings)."
            ).format(missing=", ".join(wecom_missing))
        )
    board_url = get("HUIWU_BOARD_URL")
    if board_url is not None:
        board_url = board_url.rstrip("/")
        if not board_url.startswith(("https://", "http://")) or not board_url.endswith("/board"):
            raise _bad(
                "HUIWU_BOARD_URL",
                _(
                    "the board's public address, ending in /board, e.g. https://huiwu.example.org/board"
                ),
                board_url,
            )

    raw_loaders = get("HUIWU_PLAN_LOADERS", "organizers") or "organizers"
    if raw_loaders not in set(PlanLoaders):
        raise _bad("HUIWU_PLAN_LOADERS", " / ".join(PlanLoaders), raw_loaders)

    def count(name: str, default: int, *, per: int = 1) -> int:
        raw = get(name, str(default)) or str(default)
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= 1_000_000:
            raise _bad(name, _("a whole number from 1 to 1000000"), raw)
        return int(raw) * per

    defaults = Quotas()
    quotas = Quotas(
        file_bytes=count("HUIWU_MAX_FILE_MB", defaults.file_bytes // MIB, per=MIB),
        handin_files=count("HUIWU_MAX_HANDIN_FILES", defaults.handin_files),
        handin_bytes=count("HUIWU_MAX_HANDIN_MB", defaults.handin_bytes // MIB, per=MIB),
        member_bytes=count("HUIWU_MAX_MEMBER_MB", defaults.member_bytes // MIB, per=MIB),
        handin_text=count("HUIWU_MAX_HANDIN_TEXT", defaults.handin_text),
    )

    robot = _robot_settings(get, wecom_complete=not wecom_missing)

    return Settings(
        board_url=board_url,
        db_path=Path(get("HUIWU_DB", "./huiwu.sqlite3") or "./huiwu.sqlite3"),
        timezone=zone,
        locale=locale,
        log_level=log_level,
        clock_start=clock_start,
        clock_speed=clock_speed,
        telegram_token=get("TELEGRAM_BOT_TOKEN"),
        telegram_api_base_url=get("TELEGRAM_API_BASE_URL"),
        webhook_url=get("HUIWU_WEBHOOK_URL"),
        webhook_secret=get("HUIWU_WEBHOOK_SECRET"),
        wecom_corp_id=get("WECOM_CORP_ID"),
        wecom_agent_id=agent_id,
        wecom_secret=get("WECOM_SECRET"),
        wecom_token=get("WECOM_TOKEN"),
        wecom_aes_key=aes_key,
        wecom_api_base_url=get("WECOM_API_BASE_URL", "https://qyapi.weixin.qq.com/cgi-bin/")
        or "https://qyapi.weixin.qq.com/cgi-bin/",
        wecom_path=wecom_path,
        **robot,
        http_host=get("HUIWU_HTTP_HOST", "127.0.0.1") or "127.0.0.1",
        http_port=int(raw_port),
        plan_loaders=PlanLoaders(raw_loaders),
        quotas=quotas,
        retention_days=count("HUIWU_RETENTION_DAYS", 180),
    )


def _robot_settings(get: Callable[..., str | None], *, wecom_complete: bool) -> dict[str, Any]:
    """The robot's settings: WECOM_BOT_ID + WECOM_BOT_SECRET (long connection) or
    WECOM_BOT_TOKEN + WECOM_BOT_AES_KEY (callback mode), beside a complete WeCom app."""
    long_names = ("WECOM_BOT_ID", "WECOM_BOT_SECRET")
    callback_names = ("WECOM_BOT_TOKEN", "WECOM_BOT_AES_KEY")
    for names in (long_names, callback_names):
        given = [name for name in names if get(name)]
        if len(given) == 1:
            missing = next(name for name in names if name not in given)
            raise ConfigError(
                _("The WeCom robot settings are incomplete: set {missing} too.").format(
                    missing=missing
                )
            )
    long_connection = all(get(name) for name in long_names)
    callback = all(get(name) for name in callback_names)
    if long_connection and callback:
        raise ConfigError(
            _(
                "Set either WECOM_BOT_ID and WECOM_BOT_SECRET (long connection) or WECOM_BOT_TOKEN and WECOM_BOT_AES_KEY (callback URL) for the WeCom robot, not both."
            )
        )
    if (long_connection or callback) and not wecom_complete:
        raise ConfigError(
            _(
                "The WeCom robot works beside the WeCom app: set the WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN and WECOM_AES_KEY settings too."
            )
        )
    aes_key = get("WECOM_BOT_AES_KEY")
    if aes_key is not None and len(aes_key) != 43:
        raise _bad(
            "WECOM_BOT_AES_KEY",
            _("the 43-character EncodingAESKey from the robot's API settings"),
            "***",
        )
    path = get("WECOM_BOT_PATH", "/wecom/robot") or "/wecom/robot"
    if not path.startswith("/"):
        raise _bad("WECOM_BOT_PATH", _("a URL path starting with /"), path)
    if path == (get("HUIWU_WECOM_PATH", "/wecom/callback") or "/wecom/callback"):
        raise _bad("WECOM_BOT_PATH", _("a path other than HUIWU_WECOM_PATH"), path)
    gateway = get("WECOM_BOT_GATEWAY_URL", DEFAULT_GATEWAY_URL) or DEFAULT_GATEWAY_URL
    if not gateway.startswith(("wss://", "ws://")):
        raise _bad("WECOM_BOT_GATEWAY_URL", _("a WebSocket URL (wss://...)"), gateway)
    return {
        "wecom_bot_id": get("WECOM_BOT_ID"),
        "wecom_bot_secret": get("WECOM_BOT_SECRET"),
        "wecom_bot_token": get("WECOM_BOT_TOKEN"),
        "wecom_bot_aes_key": aes_key,
        "wecom_bot_path": path,
        "wecom_bot_gateway_url": gateway,
    }
