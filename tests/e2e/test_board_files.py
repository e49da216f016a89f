"""Files on the board over real HTTP: a submission's files and a ledger item's evidence open to
the roles the board's table names and to no one else, stream from the files folder as
attachments under safe names, and the Mini App's page token stands in for the cookie."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html import unescape
from urllib.parse import unquote

import aiohttp
import pytest

from bot.board.auth import PAGE_TOKEN_TTL
from bot.board.web import FILE_CSP, PAGE_HEADER, SESSION_COOKIE
from tests.e2e.board_world import (
    MEASURES,
    TANG_FILE,
    board_world,
    client,
    continue_form,
    init_data,
    origin,
    page_token,
    signed_in,
)
from tests.e2e.conftest import World, WorldFactory, contains, zh

EVIDENCE = ("联系点名单.xlsx", b"PK\x03\x04 evidence list")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_YOURS = "You may not see this member's submissions."
NOT_YOUR_ITEM = "You may not see this ledger item's evidence."


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await board_world(make_world)


async def add_evidence(world: World, name: str, file: tuple[str, bytes], mime: str) -> int:
    """The organizer adds an item for ``name`` in chat; they hand in ``file`` as its evidence.
    Returns the evidence row's id."""
    fang, person = world.people["方磊"], world.people[name]
    count = len(await world.rows("SELECT id FROM rectification_items"))
    await fang.say(
        f"/additem 改进调查研究 | 马上 | {name} | 办公室 | 2014-03-01",
        expect=contains(zh("Saved as item #{id}.", id=count + 1)),
    )
    [item] = await world.rows("SELECT id FROM rectification_items ORDER BY id DESC LIMIT 1")
    await person.press(f"item:evidence:{item[0]}")
    await person.send_file(file[0], file[1], mime_type=mime)
    await person.press("item:finish")
    [row] = await world.rows("SELECT id FROM rectification_evidence ORDER BY id DESC LIMIT 1")
    return int(row[0])


async def fetch(
    world: World, name: str, path: str, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    session = await signed_in(world, name)
    try:
        async with session.request(method, f"{world.board_url}/{path}") as response:
            return response.status, dict(response.headers), await response.read()
    finally:
        await session.close()


async def submission_file_id(world: World) -> int:
    [row] = await world.rows("SELECT id FROM submission_files")
    return int(row[0])


def assert_attachment(headers: dict[str, str], name: str, content_type: str) -> None:
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Content-Security-Policy"] == FILE_CSP
    disposition = headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "\r" not in disposition and "\n" not in disposition
    encoded = re.search(r"filename\*=UTF-8''([^;]+)$", disposition)
    assert encoded is not None and unquote(encoded.group(1)) == name


# --- who may open which file ---------------------------------------------------------------


async def test_a_submissions_file_opens_by_the_role_table(world: World) -> None:
    path = f"{world.instance_id}/file/{await submission_file_id(world)}"
    allowed = {
        "唐军": True,  # their own
        "党组书记": True,  # its reviewer (and the chair)
        "方磊": True,  # the organizer
        "市政府分管领导": True,  # a superior: the whole plan
        "孟平": False,  # another member
    }
    for name, may in allowed.items():
        status, headers, body = await fetch(world, name, path)
        if may:
            assert status == 200, name
            assert body == TANG_FILE[1]
            assert_attachment(
                headers,
                "唐军_.._个人整改措施.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
        else:
            assert status == 403, name
            assert zh(NOT_YOURS) in unescape(body.decode())
            assert TANG_FILE[1] not in body


async def test_a_reviewer_who_is_a_plain_member_opens_what_waits_for_them_only(
    world: World,
) -> None:
    # 党组书记 reviews the personal measures; as a plain member (not chair or lead on the
    # roster), only what the plan sends them to review opens, not others' ledger evidence.
    evidence = await add_evidence(world, "唐军", EVIDENCE, XLSX)
    await world.app.db.write(
        "UPDATE members SET roles = 'member' WHERE name = '党组书记' AND instance_id = ?",
        (world.instance_id,),
    )
    file_path = f"{world.instance_id}/file/{await submission_file_id(world)}"
    status, _headers, body = await fetch(world, "党组书记", file_path)
    assert (status, body) == (200, TANG_FILE[1])
    status, _headers, body = await fetch(
        world, "党组书记", f"{world.instance_id}/evidence/{evidence}"
    )
    assert status == 403 and zh(NOT_YOUR_ITEM) in unescape(body.decode())


async def test_ledger_evidence_opens_to_its_owner_and_the_whole_plan(world: World) -> None:
    evidence = await add_evidence(world, "唐军", EVIDENCE, XLSX)
    session = await signed_in(world, "唐军")
    async with session.get(f"{world.board_url}/{world.instance_id}") as response:
        html = await response.text()
    await session.close()
    link = f'href="/board/{world.instance_id}/evidence/{evidence}" download>{EVIDENCE[0]}</a>'
    assert link in html  # the page lists it as a link
    path = f"{world.instance_id}/evidence/{evidence}"
    for name, may in {"唐军": True, "方磊": True, "党组书记": True, "孟平": False}.items():
        status, headers, body = await fetch(world, name, path)
        if may:
            assert (status, body) == (200, EVIDENCE[1]), name
            assert_attachment(headers, EVIDENCE[0], XLSX)
        else:
            assert status == 403, name
            assert zh(NOT_YOUR_ITEM) in unescape(body.decode())
    _status, _headers, mine = await fetch(world, "孟平", f"{world.instance_id}")
    assert f"/evidence/{evidence}".encode() not in mine


async def test_a_stranger_or_a_forged_id_opens_nothing(world: World) -> None:
    from bot.board.links import one_time_link

    evidence = await add_evidence(world, "唐军", EVIDENCE, XLSX)
    file_id = await submission_file_id(world)
    # A stranger's session (a link for an account on no roster) opens no file.
    url = await one_time_link(
        world.app.db, world.board_url, "telegram", "777000", world.instance_id, world.clock.now()
    )
    stranger = client()
    async with stranger.get(url) as response:
        assert response.status == 403
    for path in (f"file/{file_id}", f"evidence/{evidence}"):
        async with stranger.get(f"{world.board_url}/{world.instance_id}/{path}") as response:
            assert response.status == 403
            assert TANG_FILE[1] not in await response.read()
    await stranger.close()
    # Numbers guessed or swapped: another plan's number, an id that is not a file, the
    # evidence's id as a submission file's and back. Each is refused, never a file.
    for path in (
        f"{world.instance_id + 1}/file/{file_id}",
        f"{world.instance_id + 1}/evidence/{evidence}",
        f"{world.instance_id}/file/{file_id + 100}",
        f"{world.instance_id}/evidence/{evidence + 100}",
        f"{world.instance_id}/evidence/{file_id}" if file_id != evidence else "0/file/1",
    ):
        status, _headers, body = await fetch(world, "孟平", path)
        assert status == 403, path
        assert TANG_FILE[1] not in body and EVIDENCE[1] not in body
    # Text-only evidence has no file to open.
    text_only = await world.app.db.write(
        "INSERT INTO rectification_evidence (item_id, member_id, text, added_at) "
        "SELECT item_id, member_id, '已整改', added_at FROM rectification_evidence LIMIT 1 "
        "RETURNING id"
    )
    status, _headers, _body = await fetch(
        world, "方磊", f"{world.instance_id}/evidence/{text_only[0][0]}"
    )
    assert status == 403


# --- how a file is sent ----------------------------------------------------------------------


async def test_a_hostile_name_and_type_arrive_as_a_harmless_attachment(world: World) -> None:
    hostile = 'a"b\r\nSet-Cookie: x=1;/../..\\evil.html'
    body = b"<script>alert(1)</script>" * 10
    evidence = await add_evidence(world, "唐军", (hostile, body), "text/html")
    status, headers, received = await fetch(
        world, "方磊", f"{world.instance_id}/evidence/{evidence}"
    )
    assert (status, received) == (200, body)
    assert_attachment(headers, "a_b Set-Cookie_ x=1;_.._.._evil.html", "application/octet-stream")
    assert "Set-Cookie" not in {key for key in headers if key.lower() == "set-cookie"}
    plain = re.search(r'filename="([^"]*)"', headers["Content-Disposition"])
    assert plain is not None and "/" not in plain.group(1) and "\\" not in plain.group(1)
    # An SVG declared as such is not sent as one either.
    svg = await add_evidence(world, "唐军", ("图.svg", b"<svg onload=alert(1)/>"), "image/svg+xml")
    _status, headers, _body = await fetch(world, "方磊", f"{world.instance_id}/evidence/{svg}")
    assert headers["Content-Type"] == "application/octet-stream"


async def test_a_large_file_streams_whole_and_head_and_range_do_not_break(world: World) -> None:
    big = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32)  # 3 MB
    evidence = await add_evidence(world, "唐军", ("材料.pdf", big), "application/pdf")
    path = f"{world.instance_id}/evidence/{evidence}"
    session = await signed_in(world, "方磊")
    try:
        async with session.get(f"{world.board_url}/{path}") as response:
            assert response.status == 200 and response.content_type == "application/pdf"
            chunks = [chunk async for chunk in response.content.iter_chunked(64 * 1024)]
            assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(big).digest()
            assert response.headers["Content-Length"] == str(len(big))
        async with session.head(f"{world.board_url}/{path}") as response:
            assert response.status == 200 and await response.read() == b""
        headers = {"Range": "bytes=0-9"}
        async with session.get(f"{world.board_url}/{path}", headers=headers) as response:
            assert response.status in (200, 206)
            assert (await response.read()) == (big[:10] if response.status == 206 else big)
    finally:
        await session.close()


async def test_a_file_we_hold_no_copy_of_is_fetched_from_the_platform_once(world: World) -> None:
    file_id = await submission_file_id(world)
    [row] = await world.rows("SELECT sha256 FROM submission_files WHERE id = ?", (file_id,))
    world.app.files.path_of(row[0]).unlink()  # lost from the files folder
    status, _headers, body = await fetch(world, "方磊", f"{world.instance_id}/file/{file_id}")
    assert (status, body) == (200, TANG_FILE[1])  # fetched again from Telegram
    assert world.app.files.path_of(row[0]).read_bytes() == TANG_FILE[1]
    # Gone from both: a page saying so, not a broken download.
    world.app.files.path_of(row[0]).unlink()
    await world.app.db.write(
        "UPDATE submission_files SET file_ref = 'expired-ref' WHERE id = ?", (file_id,)
    )
    status, _headers, body = await fetch(world, "方磊", f"{world.instance_id}/file/{file_id}")
    assert status == 410
    assert zh("This file could not be fetched any more.") in unescape(body.decode())


# --- the Mini App without a cookie ----------------------------------------------------------


async def mini_app_session(world: World, name: str) -> tuple[aiohttp.ClientSession, str, str]:
    """Sign in through the Mini App with no cookies kept: (session, where to, page token)."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    async with session.get(f"{world.board_url}/tg") as response:
        login = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert login is not None
    async with session.post(
        f"{world.board_url}/tg", data={"csrf": login.group(1), "init_data": init_data(world, name)}
    ) as response:
        assert response.status == 200
        assert SESSION_COOKIE not in response.cookies  # no session cookie is even offered
        action, token = continue_form(await response.text())
    return session, action, token


async def test_the_mini_app_works_without_cookies(world: World) -> None:
    session, action, token = await mini_app_session(world, "党组书记")
    base = origin(world)
    try:
        assert action == f"/board/{world.instance_id}"
        async with session.post(base + action, data={"session": token}) as response:
            assert response.status == 200
            html = await response.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        reviews = re.findall(r'action="(/board/\d+/review/\d+)"', html)
        assert csrf is not None and len(reviews) == 2
        assert f'name="session" value="{page_token(html)}"' in html  # the forms carry it
        # A page further on, the file, the header instead of the form: all by the token.
        async with session.post(
            f"{base}/board/{world.instance_id}/file/{await submission_file_id(world)}",
            data={"session": page_token(html)},
        ) as response:
            assert (response.status, await response.read()) == (200, TANG_FILE[1])
        async with session.get(
            f"{base}/board/{world.instance_id}", headers={PAGE_HEADER: page_token(html)}
        ) as response:
            assert response.status == 200 and 'id="matrix"' in await response.text()
        # Approve: the token and the form's CSRF token; without the CSRF token nothing.
        async with session.post(
            base + reviews[0], data={"session": page_token(html), "verdict": "approve"}
        ) as response:
            assert response.status == 403
        assert await world.rows("SELECT * FROM reviews") == []
        async with session.post(
            base + reviews[0],
            data={"session": page_token(html), "csrf": csrf.group(1), "verdict": "approve"},
        ) as response:
            assert response.status == 200
            after = await response.text()
        approved = zh("Approved “{title}” by {name}.", title=MEASURES, name="唐军")
        assert approved in after and len(re.findall(r"/review/\d+", after)) == 1
        assert [tuple(r) for r in await world.rows("SELECT verdict FROM reviews")] == [
            ("approved",)
        ]
        await world.app.drain()
        await world.people["唐军"].expect(
            contains(
                zh("{reviewer} approved your “{title}”.", reviewer="党组书记", title=MEASURES)
            ),
            since=0,
        )
    finally:
        await session.close()


async def test_a_stale_or_altered_page_token_gets_the_refusal(world: World) -> None:
    session, action, token = await mini_app_session(world, "方磊")
    url = origin(world) + action
    refused = zh(
        "You are not signed in, or your session has expired. Open the board from the bot: the menu button in Telegram, the app in WeCom, or a /board link."
    )
    digest, stamp, signature = token.rsplit(".", 2)
    altered = [
        f"{digest}.{int(stamp) + 3600}.{signature}",  # a later expiry
        f"{'0' * len(digest)}.{stamp}.{signature}",  # another session
        f"{digest}.{stamp}.{'0' * len(signature)}",  # another signature
        token[:-1],
        "",
    ]
    try:
        for forged in altered:
            async with session.post(url, data={"session": forged}) as response:
                assert response.status == 403, forged
                text = unescape(await response.text())
                assert refused in text and 'id="matrix"' not in text
        async with session.post(url, data={"session": token}) as response:
            assert response.status == 200
        await world.clock.set(world.clock.now() + PAGE_TOKEN_TTL + timedelta(seconds=1))
        async with session.post(url, data={"session": token}) as response:
            assert response.status == 403 and refused in unescape(await response.text())
        # A stale token is refused even beside a good cookie: the token, when sent, decides.
        cookied = await signed_in(world, "方磊")
        async with cookied.post(url, data={"session": token}) as response:
            assert response.status == 403
        await cookied.close()
    finally:
        await session.close()


async def test_the_login_form_is_refused_when_forged(world: World) -> None:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    expired = zh("This page has expired. Please open the board again.")
    try:
        async with session.get(f"{world.board_url}/tg") as response:
            login = re.search(r'name="csrf" value="([^"]+)"', await response.text())
        assert login is not None
        for csrf in ("", "made-up", login.group(1)[:-2] + "00"):
            async with session.post(
                f"{world.board_url}/tg",
                data={"csrf": csrf, "init_data": init_data(world, "方磊")},
            ) as response:
                assert response.status == 403
                assert expired in unescape(await response.text())
        await world.clock.set(world.clock.now() + timedelta(minutes=11))
        async with session.post(
            f"{world.board_url}/tg",
            data={"csrf": login.group(1), "init_data": init_data(world, "方磊")},
        ) as response:
            assert response.status == 403
    finally:
        await session.close()
