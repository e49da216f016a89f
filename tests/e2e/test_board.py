"""The plan board over real HTTP on the emulator worlds: who sees what, reviewing through the
chat's handlers (and the chat hearing of it), the downloads, and each way in refused when
forged, stale or reused. The browser itself is in ``test_board_browser.py``."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest

from bot.board import access
from bot.board.auth import SESSION_TTL
from bot.board.web import CSP, SESSION_COOKIE
from bot.plan import Role
from tests.e2e.board_world import (
    MEASURES,
    TANG_FILE,
    board_world,
    client,
    continue_form,
    init_data,
    link,
    origin,
    signed_in,
)
from tests.e2e.conftest import PLAN_TITLE, World, WorldFactory, contains, zh
from tests.e2e.wecom_world import WeComWorldFactory, wecom_worlds

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await board_world(make_world)


async def page(world: World, name: str) -> tuple[str, dict[str, str]]:
    session = await signed_in(world, name)
    try:
        async with session.get(f"{world.board_url}/{world.instance_id}") as response:
            assert response.status == 200
            return await response.text(), dict(response.headers)
    finally:
        await session.close()


def matrix_names(html: str) -> list[str]:
    body = html.split('<table class="matrix">', 1)[1].split("</table>", 1)[0].split("<tbody>")[1]
    return re.findall(r"<tr><th>([^<]+?)(?: <span|</th>)", body)


async def status_of(world: World, url: str, name: str) -> int:
    session = await signed_in(world, name)
    try:
        async with session.get(url, allow_redirects=False) as response:
            return response.status
    finally:
        await session.close()


# --- who sees what -------------------------------------------------------------------------


async def test_each_role_sees_what_the_board_table_allows(world: World) -> None:
    base = f"{world.board_url}/{world.instance_id}"
    people = {"方磊": {Role.ORGANIZER, Role.MEMBER}, "唐军": {Role.MEMBER}}
    people |= {"党组书记": {Role.CHAIR, Role.LEAD, Role.MEMBER}, "市政府分管领导": {Role.SUPERIOR}}
    for name, roles in people.items():
        html, _headers = await page(world, name)
        rows = matrix_names(html) if '<table class="matrix">' in html else []
        if access.WHOLE.allows(roles):
            assert {"方磊", "唐军", "孟平", "党组书记"} <= set(rows), name
        else:
            assert rows == [name]  # their own tasks only
        allowed_documents = access.DOCUMENTS.allows(roles)
        assert (await status_of(world, f"{base}/documents/ledger", name) == 200) is (
            allowed_documents
        ), name
        assert (await status_of(world, f"{base}/files.zip", name) == 200) is access.ZIP.allows(
            roles
        ), name
        assert ("files.zip" in html) is access.ZIP.allows(roles)


async def test_a_member_cannot_open_another_members_submission(world: World) -> None:
    tang = await world.assignment_id("唐军", "personal-measures")
    meng = await world.assignment_id("孟平", "personal-measures")
    base = f"{world.board_url}/{world.instance_id}/a"
    assert await status_of(world, f"{base}/{meng}", "唐军") == 403
    assert await status_of(world, f"{base}/{tang}", "唐军") == 200
    assert await status_of(world, f"{base}/{meng}", "党组书记") == 200  # its reviewer
    file_id = (await world.rows("SELECT id FROM submission_files"))[0][0]
    assert (
        await status_of(world, f"{world.board_url}/{world.instance_id}/file/{file_id}", "孟平")
        == 403
    )


async def test_a_stranger_sees_nothing(world: World) -> None:
    from bot.board.links import one_time_link

    url = await one_time_link(
        world.app.db, world.board_url, "telegram", "777000", world.instance_id, world.clock.now()
    )
    session = client()
    async with session.get(url) as response:
        assert response.status == 403
        text = unescape(await response.text())
    await session.close()
    assert zh("You are not on any plan's roster, so the board has nothing to show you.") in text
    assert PLAN_TITLE not in text


async def test_the_readme_has_the_board_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- board:start.*?-->\n(.*?)\n<!-- board:end -->", readme, re.S)
    assert block is not None
    assert block.group(1).strip() == access.markdown_table()


# --- reviewing on the board = reviewing in chat ---------------------------------------------


async def review_form(session, world: World) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    async with session.get(f"{world.board_url}/{world.instance_id}") as response:
        html = await response.text()
    csrf = re.search(r'name="csrf" (?:value|content)="([^"]+)"', html)
    actions = re.findall(r'action="(/board/\d+/review/\d+)"', html)
    return (csrf.group(1) if csrf else ""), actions


async def test_approve_and_return_on_the_board_go_through_the_chat(world: World) -> None:
    lead = world.people["党组书记"]
    session = await signed_in(world, "党组书记")
    csrf, actions = await review_form(session, world)
    assert len(actions) == 2 and csrf
    origin = world.board_url.removesuffix("/board")
    tang_sub, meng_sub = actions

    # Without the form's token nothing happens.
    before = await world.rows("SELECT * FROM reviews")
    async with session.post(origin + tang_sub, data={"verdict": "approve"}) as response:
        assert response.status == 403
    assert await world.rows("SELECT * FROM reviews") == before == []

    async with session.post(origin + tang_sub, data={"verdict": "approve", "csrf": csrf}) as r:
        assert r.status == 200 and r.url.path == f"/board/{world.instance_id}"
        assert not r.url.query and "唐军" not in str(r.history[0].headers["Location"])
        assert zh("Approved “{title}” by {name}.", title=MEASURES, name="唐军") in await r.text()
    await world.app.drain()
    await lead.expect(
        contains(zh("Approved “{title}” by {name}.", title=MEASURES, name="唐军")), since=0
    )
    await world.people["唐军"].expect(
        contains(zh("{reviewer} approved your “{title}”.", reviewer="党组书记", title=MEASURES)),
        since=0,
    )

    comment = "请补充完成时限。"
    async with session.post(
        origin + meng_sub, data={"verdict": "return", "csrf": csrf, "comment": ""}
    ) as r:
        assert zh("Please write what should be changed: the comment goes to the member.") in (
            await r.text()
        )
    async with session.post(
        origin + meng_sub, data={"verdict": "return", "csrf": csrf, "comment": comment}
    ) as r:
        assert r.status == 200
    await world.app.drain()
    await world.people["孟平"].expect(contains(comment), since=0)
    reviews = await world.rows("SELECT verdict, comment FROM reviews ORDER BY id")
    assert [tuple(r) for r in reviews] == [("approved", None), ("returned", comment)]
    conversation = await world.rows(
        "SELECT * FROM conversations WHERE user_id = ?", (str(world.user_ids["党组书记"]),)
    )
    assert conversation == []
    # The chat's own question for the comment was never sent: the form held it.
    asked = zh(
        "What should be changed? Your next message goes to {name} as the comment.", name="孟平"
    )
    assert not [e for e in world.emulator.transcript(world.user_ids["党组书记"]) if asked in e.text]
    # The same version cannot be decided twice.
    async with session.post(origin + tang_sub, data={"verdict": "approve", "csrf": csrf}) as r:
        assert zh("This version has been reviewed already or replaced by a newer one.") in (
            await r.text()
        )
    assert len(await world.rows("SELECT * FROM reviews")) == 2
    # The page shows the chat's verdicts on reload.
    async with session.get(f"{world.board_url}/{world.instance_id}") as r:
        html = await r.text()
        assert zh("Approved “{title}” by {name}.", title=MEASURES, name="唐军") not in html
    assert html.count('class="s-approved"><a') == 1 and html.count('class="s-returned"><a') == 1
    await session.close()


async def test_only_the_reviewer_may_decide_on_the_board(world: World) -> None:
    organizer = await signed_in(world, "方磊")  # the organizer, but not the reviewer
    lead = await signed_in(world, "党组书记")
    _csrf, actions = await review_form(lead, world)
    csrf, none = await review_form(organizer, world)
    assert none == []
    origin = world.board_url.removesuffix("/board")
    async with organizer.post(origin + actions[0], data={"verdict": "approve", "csrf": csrf}) as r:
        assert zh("Only the reviewer of “{title}” can do that.", title=MEASURES) in await r.text()
    assert await world.rows("SELECT * FROM reviews") == []
    await organizer.close()
    await lead.close()


# --- downloads -----------------------------------------------------------------------------


async def test_the_zip_holds_every_latest_submission_under_safe_names(world: World) -> None:
    session = await signed_in(world, "方磊")
    async with session.get(f"{world.board_url}/{world.instance_id}/files.zip") as response:
        assert response.status == 200
        assert response.content_type == "application/zip"
        content = await response.read()
    async with session.get(f"{world.board_url}/{world.instance_id}/documents/report") as r:
        assert r.status == 200 and (await r.read())[:2] == b"PK"
    await session.close()
    archive = zipfile.ZipFile(io.BytesIO(content))
    names = sorted(archive.namelist())
    assert names == [
        f"唐军/{MEASURES} - v1 - 唐军_.._个人整改措施.docx",
        f"唐军/{MEASURES} - v1.txt",
        f"孟平/{MEASURES} - v1.txt",
    ]
    assert archive.read(names[0]) == TANG_FILE[1]
    assert all(part not in ("", ".", "..") for name in names for part in name.split("/"))


# --- the ways in, refused ------------------------------------------------------------------


async def test_links_are_one_time_signed_and_short_lived(world: World) -> None:
    url = await link(world, "方磊")
    first, second = client(), client()
    async with first.get(url) as response:
        assert response.status == 200
        cookie = response.history[0].cookies[SESSION_COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/board"
    async with second.get(url) as response:  # used
        assert response.status == 403
        assert zh(
            "This board link is not valid: it has been used, has expired or was altered. Send /board to the bot for a new one."
        ) in unescape(await response.text())
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    async with second.get(forged) as response:
        assert response.status == 403
    stale = await link(world, "方磊")
    await world.clock.set(world.clock.now() + timedelta(minutes=11))
    async with second.get(stale) as response:
        assert response.status == 403
    async with second.get(f"{world.board_url}/{world.instance_id}") as response:
        assert response.status == 403  # never signed in
    # A session ends after its time.
    async with first.get(f"{world.board_url}/{world.instance_id}") as response:
        assert response.status == 200
    await world.clock.set(world.clock.now() + SESSION_TTL)
    async with first.get(f"{world.board_url}/{world.instance_id}") as response:
        assert response.status == 403
    await first.close()
    await second.close()


async def test_every_page_has_the_security_headers(world: World) -> None:
    html, headers = await page(world, "方磊")
    assert headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "default-src 'none'" in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert "<script" not in html and "style=" not in html
    # No name or account in any address on the page.
    for href in re.findall(r'(?:href|action)="([^"]+)"', html):
        assert re.fullmatch(r"[/a-z0-9.#?=_-]*", href), href


async def mini_app(world: World, data: str) -> tuple[int, str]:
    session = client()
    try:
        async with session.get(f"{world.board_url}/tg") as response:
            html = await response.text()
            assert response.status == 200
            assert "telegram-web-app.js" in html
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert csrf is not None
        async with session.post(
            f"{world.board_url}/tg", data={"csrf": csrf.group(1), "init_data": data}
        ) as response:
            if response.status != 200:
                return response.status, await response.text()
            action, token = continue_form(await response.text())
        # The Mini App's page hands its token on (board.js submits the form at once).
        async with session.post(origin(world) + action, data={"session": token}) as response:
            return response.status, await response.text()
    finally:
        await session.close()


async def test_the_mini_app_signs_in_with_fresh_signed_init_data_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, html = await mini_app(world, init_data(world, "唐军"))
    assert status == 200 and matrix_names(html) == ["唐军"]
    refused = zh(
        "Telegram's signature on this page is missing, forged or too old. Please open the board again from the bot's menu."
    )
    forged = init_data(world, "方磊", token="123456:NOT-THE-TOKEN")
    stale = init_data(world, "方磊", at=world.clock.now() - timedelta(hours=2))
    tampered = init_data(world, "唐军").replace(
        str(world.user_ids["唐军"]), str(world.user_ids["方磊"])
    )
    assert tampered != init_data(world, "唐军")
    for data in (forged, stale, tampered, ""):
        status, html = await mini_app(world, data)
        assert (status, refused in unescape(html)) == (403, True)
    # Without the page's own token the sign-in is refused too.
    session = client()
    async with session.post(
        f"{world.board_url}/tg", data={"init_data": init_data(world, "方磊")}
    ) as r:
        assert r.status == 403
    await session.close()
    logged = caplog.text
    for secret in (str(world.user_ids["唐军"]), str(world.user_ids["方磊"]), "唐军", "方磊"):
        assert secret not in logged


async def test_the_menu_button_and_status_open_the_mini_app(world: World) -> None:
    menu = world.emulator.menu_button()
    assert menu["type"] == "web_app" and menu["web_app"]["url"] == f"{world.board_url}/tg"
    assert menu["text"] == zh("Plan board")
    answer = await world.people["方磊"].say("/status")
    assert (zh("Open the plan board"), f"{world.board_url}/tg") in answer.buttons[0]
    board = await world.people["唐军"].say("/board")
    found = re.search(r"(http://\S+/board/link/\S+)", board.text)
    assert found is not None
    session = client()
    async with session.get(found.group(1)) as response:
        assert response.status == 200 and matrix_names(await response.text()) == ["唐军"]
    await session.close()


async def test_wecom_signs_in_by_oauth_and_refuses_a_bad_code(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await make_wecom_world(board=True)
    base = world.runtime.app.board_url
    assert base is not None
    # One server, one port: WeCom's callbacks are answered where the board is served.
    assert world.runtime.wecom_server is not None
    assert world.runtime.wecom_server.port == world.runtime.http_port
    assert base.startswith(f"http://127.0.0.1:{world.runtime.http_port}/")
    answers = await world.people["唐军"].say("/board")
    assert any(f"{base}/link/" in str(message.content) for message in answers), answers
    menu = world.emulator.menu()
    assert menu is not None
    entry = menu["button"][-1]["sub_button"][-1]
    assert entry == {"type": "view", "name": zh("Plan board"), "url": f"{base}/wecom"}
    world.emulator.signed_in = "TangJun"
    session = client()
    async with session.get(f"{base}/wecom") as response:
        assert response.status == 200
        html = await response.text()
        assert PLAN_TITLE in html and response.url.path == f"/board/{world.instance_id}"
        assert "code=" not in str(response.url)  # the code does not stay in the address
    await session.close()
    session = client()
    async with session.get(f"{base}/wecom", allow_redirects=False) as response:
        state = re.search(r"state=([^&#]+)", response.headers["Location"])
        assert state is not None
    code = world.emulator.oauth_code("TangJun")
    for query in (f"code=forged&state={state.group(1)}", f"code={code}&state=forged"):
        async with session.get(f"{base}/wecom/oauth?{query}") as response:
            assert response.status == 403
    async with session.get(f"{base}/wecom/oauth?code={code}&state={state.group(1)}") as response:
        assert response.status == 200  # the unused code still works once
    async with session.get(f"{base}/wecom/oauth?code={code}&state={state.group(1)}") as response:
        assert response.status == 403  # and only once
    await session.close()


async def test_the_telegram_webhook_and_the_board_share_one_port(make_world: WorldFactory) -> None:
    world = await make_world(webhook_secret="webhook-secret", board=True)
    assert world.options.webhook_url == f"http://127.0.0.1:{world.runtime.http_port}/telegram"
    assert world.board_url == f"http://127.0.0.1:{world.runtime.http_port}/board"
    answer = await world.people["方磊"].say("/board")  # by webhook
    found = re.search(r"(http://\S+/board/link/\S+)", answer.text)
    assert found is not None
    session = client()
    async with session.get(found.group(1)) as response:
        assert response.status == 200 and PLAN_TITLE in await response.text()
    await session.close()
    assert world.emulator.stats.requests_by_method["getUpdates"] == 0


async def test_survey_results_show_only_after_close_with_enough_ballots(world: World) -> None:
    from bot.meeting.surveys import close_survey, open_survey
    from storage import surveys as survey_store

    plan = await world.app.plans.get(world.instance_id)
    survey = plan.survey("evaluation")
    voters = [await world.member_id(name) for name in ("方磊", "唐军", "孟平", "党组书记")]
    answers = [survey.scale[0]] * len(survey.items)
    heading = f"<h3>{survey.title}"

    async def round_with(ballots: int) -> str:
        opened = await open_survey(world.app, world.instance_id, survey, None)
        assert opened is not None
        async with world.app.db.transaction() as conn:
            for member_id in voters[:ballots]:
                assert await survey_store.cast(conn, opened.id, member_id, answers)
        open_html, _headers = await page(world, "唐军")
        assert heading not in open_html  # an open round shows nothing
        await close_survey(world.app, opened)
        html, _headers = await page(world, "唐军")
        return html

    assert survey.min_ballots > 2
    assert heading not in await round_with(2)  # closed, but too few ballots to be shown
    html = await round_with(survey.min_ballots)
    assert heading in html
    assert zh("{count} ballots", count=survey.min_ballots) in html
    for name in ("方磊", "孟平", "党组书记"):  # nothing that could link a voter
        assert name not in html.split('id="surveys"', 1)[1]


async def test_the_ledger_shows_marks_evidence_and_the_rate(world: World) -> None:
    from storage import ledger

    now = world.clock.now()
    tang, meng = await world.member_id("唐军"), await world.member_id("孟平")
    async with world.app.db.transaction() as conn:
        done = await ledger.add_item(
            conn,
            world.instance_id,
            ledger.NewItem("改进调研", "meeting", "immediate", tang),
            None,
            now,
        )
        doing = await ledger.add_item(
            conn,
            world.instance_id,
            ledger.NewItem("完善制度", "meeting", "deadline", meng),
            None,
            now,
        )
        assert done is not None and doing is not None
        await ledger.set_status(conn, done, "done", tang, now)
        await ledger.add_evidence(conn, done, tang, now, text="已召开专题调研会。")
        await ledger.set_status(conn, doing, "in_progress", meng, now)
    html, _headers = await page(world, "方磊")
    section = html.split('id="ledger"', 1)[1].split("</section>", 1)[0]
    assert zh("Completion: {rate}% of {total} items", rate=50, total=2) in section
    assert 'class="m-green"' in section and 'class="m-yellow"' in section
    assert "已召开专题调研会。" in section
    mine, _headers = await page(world, "孟平")  # a member: their own items only
    section = mine.split('id="ledger"', 1)[1].split("</section>", 1)[0]
    assert "完善制度" in section and "改进调研" not in section
