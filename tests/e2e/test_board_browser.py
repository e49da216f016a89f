"""The board in a real browser: Debian's Chromium driven by Playwright opens it as the lead
(Telegram Mini App, phone width, in a browser that keeps no cookies, as Telegram Web's frame
gets none), moves between pages, downloads a file, approves and returns on it, as the organizer
(one-time link, desktop width) downloads the zip and a handed-in file, and as a member sees
only their own row. Screenshots of each page are kept in ``tests/artefacts/`` (git-ignored) to
be looked at.

Telegram's Mini App script cannot be fetched here: requests to telegram.org are refused, and
the sign-in must work without it (the init data is read from the address's fragment, where
Telegram puts it too). CI installs ``chromium`` (``.ci/run``); on a developer machine without
it these tests are skipped, saying so — never in CI.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.board.auth import PAGE_TOKEN_TTL
from tests.e2e.board_world import MEASURES, TANG_FILE, board_world, init_data, link
from tests.e2e.conftest import World, WorldFactory, contains, zh
from tests.e2e.wecom_world import WeComWorldFactory, wecom_worlds

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium (.ci/run) for the board's browser tests")
    pytest.skip(
        "Chromium is not installed (apt-get install chromium): the board's browser tests need it",
        allow_module_level=True,
    )

from playwright.async_api import Browser, BrowserContext, Page, async_playwright  # noqa: E402


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def cookieless(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """A phone-sized Chromium whose profile blocks every cookie (Chromium's own setting), as
    Telegram Web's framed Mini App is denied its cookies."""
    profile = tmp_path / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    blocked = {"profile": {"default_content_setting_values": {"cookies": 2}}}
    (profile / "Default" / "Preferences").write_text(json.dumps(blocked))
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox"],
            viewport=PHONE,
            locale="zh-CN",
            accept_downloads=True,
        )
        await context.route("https://telegram.org/**", lambda route: route.abort())
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await board_world(make_world)


async def open_page(browser: Browser, viewport: dict[str, int], problems: list[str]) -> Page:
    context = await browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    await context.route("https://telegram.org/**", lambda route: route.abort())
    page = await context.new_page()
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page


async def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"board-{name}.png"), full_page=True)


def watch(page: Page, problems: list[str]) -> Page:
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page


async def test_the_lead_uses_the_mini_app_without_cookies(
    world: World, cookieless: BrowserContext
) -> None:
    problems: list[str] = []
    page = watch(await cookieless.new_page(), problems)
    fragment = quote(init_data(world, "党组书记"), safe="")
    await page.goto(f"{world.board_url}/tg#tgWebAppData={fragment}&tgWebAppVersion=7.0")
    await page.wait_for_url(f"**/board/{world.instance_id}")
    forms = page.locator("form.review-item")
    assert await forms.count() == 2
    await shot(page, "lead-phone")

    # Moving between pages: a matrix cell, its file, back to the board.
    await page.locator("table.matrix td.s-submitted a").first.click()
    await page.wait_for_url("**/a/*")
    assert await page.locator("section.version").count() == 1
    async with page.expect_download() as waiting:
        await page.locator("ul.files a").first.click()
    download = await waiting.value
    assert download.suggested_filename == "唐军_.._个人整改措施.docx"
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == TANG_FILE[1]
    await page.locator("a.back").click()
    await page.wait_for_url(f"**/board/{world.instance_id}#matrix")

    await forms.nth(0).get_by_role("button", name=zh("Approve")).click()
    await page.wait_for_selector("#flash")
    flash = await page.locator("#flash").inner_text()
    assert flash == zh("Approved “{title}” by {name}.", title=MEASURES, name="唐军")
    assert await forms.count() == 1

    comment = "请补充整改时限。"
    await forms.nth(0).locator("textarea").fill(comment)
    await forms.nth(0).get_by_role("button", name=zh("Return with comment")).click()
    await page.wait_for_selector("#flash")
    assert "孟平" in await page.locator("#flash").inner_text()
    assert await forms.count() == 0
    await shot(page, "lead-phone-reviewed")

    reviews = await world.rows("SELECT verdict, comment FROM reviews ORDER BY id")
    assert [tuple(row) for row in reviews] == [("approved", None), ("returned", comment)]
    await world.app.drain()
    await world.people["孟平"].expect(contains(comment), since=0)
    assert await cookieless.cookies() == []  # it all worked without one
    assert problems == []


async def test_a_stale_or_altered_mini_app_page_is_refused(
    world: World, cookieless: BrowserContext
) -> None:
    problems: list[str] = []
    page = watch(await cookieless.new_page(), problems)
    refused = zh(
        "You are not signed in, or your session has expired. Open the board from the bot: the menu button in Telegram, the app in WeCom, or a /board link."
    )
    fragment = quote(init_data(world, "方磊"), safe="")
    await page.goto(f"{world.board_url}/tg#tgWebAppData={fragment}")
    await page.wait_for_url(f"**/board/{world.instance_id}")
    await page.evaluate(
        "document.querySelector('meta[name=board-session]').content += 'x'"
    )  # altered in the page
    await page.locator("table.matrix td a").first.click()
    await page.wait_for_selector("#reason")
    assert await page.locator("#reason").inner_text() == refused
    await shot(page, "mini-app-refused-phone")

    await page.goto(f"{world.board_url}/tg#tgWebAppData={fragment}")
    await page.wait_for_url(f"**/board/{world.instance_id}")
    await world.clock.set(world.clock.now() + PAGE_TOKEN_TTL + timedelta(minutes=1))
    await page.locator("table.matrix td a").first.click()  # a page left open too long
    await page.wait_for_selector("#reason")
    assert await page.locator("#reason").inner_text() == refused
    assert problems == []


async def test_the_organizer_downloads_the_zip_on_a_desktop(world: World, browser: Browser) -> None:
    problems: list[str] = []
    page = await open_page(browser, DESKTOP, problems)
    await page.goto(await link(world, "方磊"))
    await page.wait_for_url(f"**/board/{world.instance_id}")
    names = await page.locator("table.matrix").first.locator("tbody th").all_inner_texts()
    assert [name.strip() for name in names] == ["方磊", "唐军", "孟平", "党组书记"]
    await shot(page, "organizer-desktop")

    async with page.expect_download() as waiting:
        await page.locator("#zip").click()
    download = await waiting.value
    path = await download.path()
    archive = zipfile.ZipFile(io.BytesIO(await asyncio.to_thread(Path(path).read_bytes)))
    assert f"孟平/{MEASURES} - v1.txt" in archive.namelist()

    await page.locator("table.matrix td.s-submitted a").first.click()
    await page.wait_for_url("**/a/*")
    assert await page.locator("section.version").count() == 1
    await shot(page, "organizer-submission")
    async with page.expect_download() as waiting:
        await page.locator("ul.files a").first.click()
    download = await waiting.value
    assert download.suggested_filename == "唐军_.._个人整改措施.docx"
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == TANG_FILE[1]
    assert problems == []


async def test_a_member_sees_only_their_own_tasks(world: World, browser: Browser) -> None:
    problems: list[str] = []
    page = await open_page(browser, PHONE, problems)
    await page.goto(await link(world, "唐军"))
    await page.wait_for_url(f"**/board/{world.instance_id}")
    names = await page.locator("table.matrix").first.locator("tbody th").all_inner_texts()
    assert [name.strip() for name in names] == ["唐军"]
    assert await page.locator("#downloads").count() == 0
    assert await page.locator("form.review-item").count() == 0
    await shot(page, "member-phone")
    # The organizer's downloads are refused with a page saying why.
    response = await page.goto(f"{world.board_url}/{world.instance_id}/files.zip")
    assert response is not None and response.status == 403
    assert zh("Only the plan's organizer can download every submitted file.") in (
        await page.locator("#reason").inner_text()
    )
    await shot(page, "refused-phone")
    assert problems == []


async def test_a_forged_mini_app_sign_in_gets_the_refusal_page(
    world: World, browser: Browser
) -> None:
    problems: list[str] = []
    page = await open_page(browser, PHONE, problems)
    forged = quote(init_data(world, "方磊", token="1:FORGED"), safe="")
    await page.goto(f"{world.board_url}/tg#tgWebAppData={forged}")
    await page.wait_for_selector("#reason")
    assert "Telegram" in await page.locator("#reason").inner_text()
    assert await page.locator("table.matrix").count() == 0
    assert problems == []


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


async def test_the_wecom_homepage_signs_in_through_oauth(
    make_wecom_world: WeComWorldFactory, browser: Browser
) -> None:
    world = await make_wecom_world(board=True)
    base = world.runtime.app.board_url
    assert base is not None
    world.emulator.signed_in = "FangLei"  # who WeCom's in-app browser is signed in as
    problems: list[str] = []
    page = await open_page(browser, PHONE, problems)
    await page.goto(f"{base}/wecom")  # the app's homepage
    await page.wait_for_url(f"**/board/{world.instance_id}*")
    assert "code=" not in page.url and "FangLei" not in page.url
    assert await page.locator("#downloads").count() == 1  # the organizer's page
    await shot(page, "wecom-organizer-phone")
    assert problems == []
