"""The clock and the settings (issue 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

import bot.core.clock
from bot.core.clock import ManualClock, SimulatedClock, SystemClock
from bot.core.config import ConfigError, load_settings
from bot.core.i18n import use_locale
from bot.core.policy import MIB, PlanLoaders, Quotas

START = datetime(2013, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    with use_locale("en"):
        yield


class FakeMonotonic:
    """Stands in for time.monotonic inside bot.core.clock: real time moves only when told."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    # replace bot.core.clock's reference to the time module, not time.monotonic itself,
    # so the event loop's own clock is left alone
    monkeypatch.setattr(bot.core.clock, "time", SimpleNamespace(monotonic=fake))
    return fake


# --- SimulatedClock -------------------------------------------------------------------------


def test_simulated_clock_runs_an_hour_per_real_second_at_3600(monotonic: FakeMonotonic) -> None:
    clock = SimulatedClock(START, speed=3600)
    assert clock.now() == START
    assert clock.now().tzinfo == UTC
    monotonic.value += 1.0
    assert clock.now() == START + timedelta(hours=1)
    monotonic.value += 1.5
    assert clock.now() == START + timedelta(hours=2, minutes=30)


def test_simulated_real_seconds_until_divides_by_speed(monotonic: FakeMonotonic) -> None:
    clock = SimulatedClock(START, speed=3600)
    assert clock.real_seconds_until(START + timedelta(hours=2)) == pytest.approx(2.0)
    assert clock.real_seconds_until(START + timedelta(days=1)) == pytest.approx(24.0)
    monotonic.value += 1.0
    assert clock.real_seconds_until(START + timedelta(hours=2)) == pytest.approx(1.0)
    assert clock.real_seconds_until(START) == 0.0  # already past


async def test_simulated_sleep_until_sleeps_the_real_seconds(
    monotonic: FakeMonotonic, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(bot.core.clock, "asyncio", SimpleNamespace(sleep=fake_sleep))
    clock = SimulatedClock(START, speed=60)
    await clock.sleep_until(START + timedelta(minutes=30))
    assert slept == [pytest.approx(30.0)]


def test_simulated_clock_refuses_naive_start_and_bad_speed() -> None:
    with pytest.raises(ValueError, match="offset"):
        SimulatedClock(datetime(2013, 12, 2, 9, 0), speed=3600)
    for speed in (0, -1.0):
        with pytest.raises(ValueError, match="positive"):
            SimulatedClock(START, speed=speed)


def test_system_clock_is_aware_utc() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo == UTC
    assert clock.real_seconds_until(now - timedelta(seconds=1)) == 0.0
    assert 3500 < clock.real_seconds_until(now + timedelta(hours=1)) <= 3600


# --- ManualClock ----------------------------------------------------------------------------


async def settle() -> None:
    """Let every ready task run (no real time passes)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_manual_sleep_until_wakes_when_set_passes_the_time_and_not_before() -> None:
    clock = ManualClock(START)
    target = START + timedelta(hours=1)
    sleeper = asyncio.create_task(clock.sleep_until(target))
    await settle()
    assert not sleeper.done()

    await clock.advance(timedelta(minutes=59))
    await settle()
    assert not sleeper.done()
    assert clock.real_seconds_until(target) == float("inf")

    await clock.set(target + timedelta(seconds=1))
    await asyncio.wait_for(sleeper, timeout=5)
    assert clock.now() == target + timedelta(seconds=1)
    assert clock.real_seconds_until(target) == 0.0


async def test_manual_sleep_until_the_past_returns_at_once() -> None:
    clock = ManualClock(START)
    await asyncio.wait_for(clock.sleep_until(START - timedelta(days=1)), timeout=5)
    await asyncio.wait_for(clock.sleep_until(START), timeout=5)


async def test_manual_clock_wakes_several_sleepers_in_turn() -> None:
    clock = ManualClock(START)
    woke: list[int] = []

    async def sleeper(hours: int) -> None:
        await clock.sleep_until(START + timedelta(hours=hours))
        woke.append(hours)

    tasks = [asyncio.create_task(sleeper(h)) for h in (3, 1, 2)]
    await settle()
    await clock.advance(timedelta(hours=1))
    await settle()
    assert woke == [1]
    await clock.advance(timedelta(hours=2))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert sorted(woke) == [1, 2, 3]


def test_manual_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="offset"):
        ManualClock(datetime(2013, 12, 2, 9, 0))
    assert ManualClock(START).now() == START
    assert ManualClock(START).now().tzinfo == UTC


async def test_manual_clock_set_refuses_a_naive_time() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError):
        await clock.set(datetime(2013, 12, 3, 9, 0))


# --- settings -------------------------------------------------------------------------------


def test_default_settings() -> None:
    settings = load_settings(environ={}, env_file=None)
    assert settings.db_path == Path("./huiwu.sqlite3")
    assert settings.timezone == ZoneInfo("Asia/Shanghai")
    assert settings.locale == "zh_CN"
    assert settings.log_level == "INFO"
    assert settings.clock_start is None
    assert settings.clock_speed == 1.0
    assert settings.telegram_token is None
    assert settings.wecom_agent_id is None
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.wecom_path == "/wecom/callback"
    assert settings.wecom_api_base_url == "https://qyapi.weixin.qq.com/cgi-bin/"
    assert not settings.telegram_enabled
    assert not settings.wecom_enabled
    assert isinstance(settings.make_clock(), SystemClock)


def test_good_values_are_read() -> None:
    settings = load_settings(
        environ={
            "HUIWU_TZ": "Europe/Berlin",
            "HUIWU_LOCALE": "en",
            "HUIWU_LOG_LEVEL": "debug",
            "HUIWU_HTTP_PORT": "8443",
            "TELEGRAM_BOT_TOKEN": " 123:abc ",
            "WECOM_CORP_ID": "corp",
            "WECOM_AGENT_ID": "1000002",
            "WECOM_SECRET": "s",
            "WECOM_TOKEN": "t",
            "WECOM_AES_KEY": "a" * 43,
        },
        env_file=None,
    )
    assert settings.timezone == ZoneInfo("Europe/Berlin")
    assert settings.locale == "en"
    assert settings.log_level == "DEBUG"
    assert settings.http_port == 8443
    assert settings.telegram_token == "123:abc"
    assert settings.telegram_enabled
    assert settings.wecom_agent_id == 1000002
    assert settings.wecom_enabled


BAD_VALUES = [
    ("HUIWU_TZ", "Mars/Base"),
    ("HUIWU_LOCALE", "fr"),
    ("HUIWU_LOG_LEVEL", "LOUD"),
    ("HUIWU_CLOCK_START", "2013-12-02T09:00"),  # no offset
    ("HUIWU_CLOCK_START", "next monday"),
    ("HUIWU_CLOCK_SPEED", "0"),
    ("HUIWU_CLOCK_SPEED", "-3600"),
    ("HUIWU_CLOCK_SPEED", "abc"),
    ("HUIWU_CLOCK_SPEED", "nan"),
    ("WECOM_AGENT_ID", "abc"),
    ("WECOM_AGENT_ID", "-1"),
    ("WECOM_AES_KEY", "k" * 42),
    ("WECOM_AES_KEY", "k" * 44),
    ("HUIWU_HTTP_PORT", "70000"),
    ("HUIWU_HTTP_PORT", "0"),
    ("HUIWU_HTTP_PORT", "http"),
    ("HUIWU_WECOM_PATH", "wecom/callback"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES, ids=[f"{v}={x}" for v, x in BAD_VALUES])
def test_a_bad_value_raises_config_error_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value}, env_file=None)
    message = str(caught.value)
    assert message.startswith(f"{variable}=")
    assert "is not valid: expected" in message


def test_the_aes_key_is_not_echoed_in_the_error() -> None:
    secret = "S3cr3t" * 7  # 42 characters
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"WECOM_AES_KEY": secret}, env_file=None)
    assert "WECOM_AES_KEY" in str(caught.value)
    assert secret not in str(caught.value)


def test_an_infinite_clock_speed_is_refused() -> None:
    with pytest.raises(ConfigError, match="HUIWU_CLOCK_SPEED"):
        load_settings(
            environ={"HUIWU_CLOCK_START": "2013-12-02T09:00+08:00", "HUIWU_CLOCK_SPEED": "inf"},
            env_file=None,
        )


@pytest.mark.parametrize("variable", ["WECOM_AGENT_ID", "HUIWU_HTTP_PORT"])
def test_a_non_decimal_digit_raises_config_error(variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ={variable: "²"}, env_file=None)


def test_env_file_values_are_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# deployment settings\n"
        "HUIWU_TZ=Europe/Berlin\n"
        "HUIWU_DB=/from/file.sqlite3\n"
        "HUIWU_LOG_LEVEL=warning\n"
        'TELEGRAM_BOT_TOKEN="123:file"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        environ={"HUIWU_DB": "/from/env.sqlite3", "HUIWU_LOG_LEVEL": "ERROR"},
        env_file=str(env_file),
    )
    assert settings.timezone == ZoneInfo("Europe/Berlin")  # only in the file
    assert settings.telegram_token == "123:file"
    assert settings.db_path == Path("/from/env.sqlite3")  # the environment wins
    assert settings.log_level == "ERROR"


def test_a_bad_value_in_the_env_file_is_reported(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("HUIWU_HTTP_PORT=99999\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="HUIWU_HTTP_PORT"):
        load_settings(environ={}, env_file=str(env_file))
    # a good value in the environment overrides it
    assert (
        load_settings(environ={"HUIWU_HTTP_PORT": "9000"}, env_file=str(env_file)).http_port == 9000
    )


def test_a_missing_env_file_is_ignored(tmp_path: Path) -> None:
    settings = load_settings(environ={"HUIWU_LOCALE": "en"}, env_file=str(tmp_path / "none"))
    assert settings.locale == "en"


def test_make_clock_is_simulated_when_a_start_is_set(monotonic: FakeMonotonic) -> None:
    settings = load_settings(
        environ={"HUIWU_CLOCK_START": "2013-12-02T09:00+08:00", "HUIWU_CLOCK_SPEED": "3600"},
        env_file=None,
    )
    assert settings.clock_start == START
    assert settings.clock_speed == 3600.0
    clock = settings.make_clock()
    assert isinstance(clock, SimulatedClock)
    assert clock.now() == START
    monotonic.value += 2.0
    assert clock.now() == START + timedelta(hours=2)


WECOM_COMPLETE = {
    "WECOM_CORP_ID": "corp",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_SECRET": "s",
    "WECOM_TOKEN": "t",
    "WECOM_AES_KEY": "a" * 43,
}


@pytest.mark.parametrize("left_out", sorted(WECOM_COMPLETE))
def test_incomplete_wecom_settings_name_what_is_missing(left_out: str) -> None:
    environ = {k: v for k, v in WECOM_COMPLETE.items() if k != left_out}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, env_file=None)
    assert left_out in str(caught.value)
    assert "a" * 43 not in str(caught.value)


def test_wecom_a_telegram_webhook_and_the_board_share_the_one_http_server() -> None:
    both = {**WECOM_COMPLETE, "TELEGRAM_BOT_TOKEN": "1:a"}
    settings = load_settings(environ=both, env_file=None)
    assert settings.telegram_enabled and settings.wecom_enabled and settings.board_url is None
    every = {
        **both,
        "HUIWU_WEBHOOK_URL": "https://bot.example/telegram",
        "HUIWU_BOARD_URL": "https://bot.example/board/",
    }
    settings = load_settings(environ=every, env_file=None)
    assert settings.webhook_url and settings.board_url == "https://bot.example/board"
    for bad in ("bot.example/board", "https://bot.example/", "ftp://bot.example/board"):
        with pytest.raises(ConfigError, match="HUIWU_BOARD_URL"):
            load_settings(environ={**every, "HUIWU_BOARD_URL": bad}, env_file=None)


def test_who_loads_plans_and_the_quotas_are_settings() -> None:
    defaults = load_settings(environ={}, env_file=None)
    assert defaults.plan_loaders is PlanLoaders.ORGANIZERS
    assert defaults.quotas == Quotas()
    assert (defaults.quotas.file_bytes, defaults.quotas.handin_files) == (20 * MIB, 10)
    chosen = load_settings(
        environ={
            "HUIWU_PLAN_LOADERS": "nobody",
            "HUIWU_MAX_FILE_MB": "5",
            "HUIWU_MAX_HANDIN_FILES": "3",
            "HUIWU_MAX_HANDIN_MB": "8",
            "HUIWU_MAX_MEMBER_MB": "30",
            "HUIWU_MAX_HANDIN_TEXT": "9000",
        },
        env_file=None,
    )
    assert chosen.plan_loaders is PlanLoaders.NOBODY
    assert chosen.quotas == Quotas(5 * MIB, 3, 8 * MIB, 30 * MIB, 9000)
    for name, value in (
        ("HUIWU_PLAN_LOADERS", "everyone"),
        ("HUIWU_MAX_FILE_MB", "0"),
        ("HUIWU_MAX_HANDIN_FILES", "-1"),
        ("HUIWU_MAX_MEMBER_MB", "lots"),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings(environ={name: value}, env_file=None)
