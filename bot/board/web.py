"""The board's HTTP side: aiohttp routes under ``/board`` on the bot's one HTTP server.

Every response carries a strict Content Security Policy (our own stylesheet and script only,
plus Telegram's Mini App script), ``nosniff``, no referrer and no caching. Sessions are an
HttpOnly, SameSite=Lax cookie holding a random token (stored hashed); the Mini App, which
Telegram Web frames on another site where cookies are withheld, carries a signed page token
instead (``auth.page_token``): each page holds it, its forms send it, and ``board.js`` turns
the page's links into forms that send it. Every form carries the session's CSRF token. URLs
hold only numbers and opaque tokens, never a name, an account or a session; nothing personal
is logged. A forged, stale or reused credential gets a 403 page saying what to do, in the
viewer's language. Handed-in files are streamed from the files folder as attachments.
"""

from __future__ import annotations

import logging
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import jinja2
from aiohttp import web

from bot.board import access, actions, auth, files, views
from bot.board.views import Viewer
from bot.core.app import Huiwu
from bot.core.i18n import _, normalise_locale, use_locale
from bot.reports.clean import safe_file_name
from storage import assignments, instances, ledger
from storage import board as board_store
from storage.board import BoardSession

logger = logging.getLogger(__name__)

PREFIX = "/board"
SESSION_COOKIE = "huiwu_board"
FLASH_COOKIE = "huiwu_board_done"  # what the last change on the board answered, shown once
LOGIN_COOKIE = "huiwu_board_login"  # the Mini App form's and the OAuth state's pair
PAGE_FIELD = "session"  # the form field, and
PAGE_HEADER = "X-Huiwu-Board"  # the header, that carry a page token
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "script-src 'self' https://telegram.org; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'self' https://web.telegram.org"
)
FILE_CSP = "default-src 'none'; sandbox"  # a download, were it ever shown, runs nothing
FILE_CACHE = "private, no-store"
WECOM_AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
DOCUMENT_KINDS = ("report", "ledger", "progress")  # the order export_documents renders


class OAuthUsers(Protocol):
    async def oauth_userid(self, code: str) -> str | None:
        """The member's userid for a WeCom OAuth2 ``code``, or None for a bad code."""


@dataclass
class BoardSettings:
    public_url: str  # e.g. https://huiwu.example.org/board (HUIWU_BOARD_URL)
    telegram_token: str | None = None
    wecom_users: OAuthUsers | None = None
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_authorize_url: str = WECOM_AUTHORIZE_URL

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")


_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.board", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
_templates.globals["_"] = lambda msgid, **values: _(msgid).format(**values) if values else _(msgid)


def _static(name: str) -> bytes:
    return resources.files("bot.board").joinpath("static", name).read_bytes()


STATIC = {"board.css": "text/css", "board.js": "text/javascript"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.path.startswith(PREFIX):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class Board:
    """The board's routes for one running Huiwu."""

    def __init__(self, app: Huiwu, settings: BoardSettings) -> None:
        self.app = app
        self.settings = settings
        self.base = settings.public_url.rstrip("/")
        self._signing_key: bytes | None = None

    async def _key(self) -> bytes:
        """The board's HMAC key (made once per database; read once per process)."""
        if self._signing_key is None:
            self._signing_key = await board_store.signing_key(self.app.db)
        return self._signing_key

    def install(self, web_app: web.Application) -> None:
        web_app.middlewares.append(_security_headers)
        add = web_app.router
        add.add_get(f"{PREFIX}/static/{{name}}", self.static)
        add.add_get(f"{PREFIX}/tg", self.telegram_entry)
        add.add_post(f"{PREFIX}/tg", self.telegram_login)
        add.add_get(f"{PREFIX}/wecom", self.wecom_entry)
        add.add_get(f"{PREFIX}/wecom/oauth", self.wecom_login)
        add.add_get(f"{PREFIX}/link/{{token}}", self.link_login)
        add.add_get(PREFIX, self.index)
        # Reading pages answer GET (with the cookie) and POST (a page token in the form).
        for path, handler in (
            ("/", self.index),
            ("/{iid:\\d+}", self.plan),
            ("/{iid:\\d+}/a/{aid:\\d+}", self.assignment),
            ("/{iid:\\d+}/file/{fid:\\d+}", self.file),
            ("/{iid:\\d+}/evidence/{eid:\\d+}", self.evidence),
            ("/{iid:\\d+}/documents/{kind}", self.documents),
            ("/{iid:\\d+}/files.zip", self.zip),
        ):
            add.add_get(PREFIX + path, handler)
            add.add_post(PREFIX + path, handler)
        add.add_post(f"{PREFIX}/{{iid:\\d+}}/review/{{sid:\\d+}}", self.review)

    # -- pages -------------------------------------------------------------------------------

    def _render(self, name: str, locale: str, status: int = 200, **context: Any) -> web.Response:
        context.setdefault("page_token", "")
        with use_locale(locale):
            html = _templates.get_template(name).render(
                locale=locale, prefix=PREFIX, telegram_script=TELEGRAM_SCRIPT, **context
            )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _refuse(
        self, locale: str, reason: str, status: int = 403, *, back: Viewer | None = None
    ) -> web.Response:
        """A clear page instead of the board: what went wrong and how to get in (``back``: the
        viewer, signed in, who may go back to the board)."""
        return self._render(
            "refused.html",
            locale,
            status,
            reason=reason,
            back=back is not None,
            page_token=back.page_token if back else "",
        )

    def _locale(self, *candidates: str | None) -> str:
        found = next((c for c in candidates if c), None)
        return normalise_locale(found or self.app.default_locale, self.app.default_locale)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(
            body=_static(name),
            content_type=STATIC[name],
            headers={"Cache-Control": "public, max-age=3600"},
        )

    # -- signing in --------------------------------------------------------------------------

    async def _open_session(
        self, platform: str, user_id: str, locale: str | None, to: str
    ) -> web.StreamResponse:
        now = self.app.clock.now()
        await board_store.prune(self.app.db, now)
        token = await board_store.open_session(
            self.app.db, platform, user_id, locale, now + auth.SESSION_TTL
        )
        response = web.Response(status=303, headers={"Location": to})
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(auth.SESSION_TTL.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="Lax",
            secure=self.settings.secure,
        )
        response.del_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    async def _open_page_session(
        self, user_id: str, locale: str | None, key: bytes
    ) -> web.StreamResponse:
        """The Mini App's session: no cookie (a framed page would not get it back), but a page
        that hands its token on to the board (``board.js`` submits the form at once)."""
        now = self.app.clock.now()
        await board_store.prune(self.app.db, now)
        token = await board_store.open_session(
            self.app.db, "telegram", user_id, locale, now + auth.SESSION_TTL
        )
        memberships = await instances.members_for_user(self.app.db, "telegram", user_id)
        plans = {m.instance_id for m in memberships}
        response = self._render(
            "signed_in.html",
            self._locale(next((m.locale for m in memberships if m.locale), None), locale),
            to=f"{PREFIX}/{plans.pop()}" if len(plans) == 1 else f"{PREFIX}/",
            page_token=auth.page_token(board_store.digest(token), key, now),
        )
        response.del_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    def _login_cookie(self, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(
            LOGIN_COOKIE,
            value,
            max_age=600,
            path=PREFIX,
            httponly=True,
            samesite="Lax",
            secure=self.settings.secure,
        )

    async def telegram_entry(self, request: web.Request) -> web.StreamResponse:
        """The Mini App's page: its script posts the signed initData back (our own script reads
        it from Telegram's object, or from the address's fragment when that script is absent)."""
        locale = self._locale()
        if not self.settings.telegram_token:
            return self._refuse(locale, _("The board is not open to Telegram on this bot."), 404)
        key = await self._key()
        login = auth.login_form_token(key, self.app.clock.now())
        response = self._render("telegram.html", locale, login=login)
        self._login_cookie(response, login)
        return response

    async def telegram_login(self, request: web.Request) -> web.StreamResponse:
        locale = self._locale()
        form = await request.post()
        login = str(form.get("csrf", ""))
        key = await self._key()
        # The form's token is signed, so it is checked where the framed Mini App gets no
        # cookie; where the browser kept the cookie, the two must also be the pair.
        paired = LOGIN_COOKIE not in request.cookies or auth.csrf_matches(
            request.cookies[LOGIN_COOKIE], login
        )
        if not (paired and auth.login_form_holds(login, key, self.app.clock.now())):
            return self._refuse(locale, _("This page has expired. Please open the board again."))
        token = self.settings.telegram_token
        if not token:
            return self._refuse(locale, _("The board is not open to Telegram on this bot."), 404)
        try:
            viewer = auth.verify_init_data(
                str(form.get("init_data", "")), token, self.app.clock.now()
            )
        except auth.AuthRefused as exc:
            logger.warning("board: Telegram sign-in refused (%s)", exc)
            return self._refuse(
                locale,
                _(
                    "Telegram's signature on this page is missing, forged or too old. Please open the board again from the bot's menu."
                ),
            )
        return await self._open_page_session(viewer.user_id, viewer.language, key)

    async def wecom_entry(self, request: web.Request) -> web.StreamResponse:
        """The WeCom app homepage: off to WeCom's OAuth2 web login, which comes back with a code."""
        settings = self.settings
        if settings.wecom_users is None or not settings.wecom_corp_id:
            return self._refuse(
                self._locale(), _("The board is not open to WeCom on this bot."), 404
            )
        state = secrets.token_urlsafe(24)
        query = urllib.parse.urlencode(
            {
                "appid": settings.wecom_corp_id,
                "redirect_uri": f"{self.base}/wecom/oauth",
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
                "agentid": str(settings.wecom_agent_id or ""),
            }
        )
        response = web.Response(
            status=302,
            headers={"Location": f"{settings.wecom_authorize_url}?{query}#wechat_redirect"},
        )
        self._login_cookie(response, state)
        return response

    async def wecom_login(self, request: web.Request) -> web.StreamResponse:
        locale = self._locale()
        users = self.settings.wecom_users
        if users is None:
            return self._refuse(locale, _("The board is not open to WeCom on this bot."), 404)
        code = request.query.get("code", "")
        state = request.query.get("state", "")
        refused = _(
            "WeCom's sign-in for this page is missing, used or expired. Please open the board again from the app."
        )
        if (
            not code
            or len(code) > 512
            or not auth.csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), state)
        ):
            logger.warning("board: WeCom sign-in refused (state)")
            return self._refuse(locale, refused)
        userid = await users.oauth_userid(code)
        if userid is None:
            logger.warning("board: WeCom sign-in refused (code)")
            return self._refuse(locale, refused)
        return await self._open_session("wecom", userid, None, f"{PREFIX}/")

    async def link_login(self, request: web.Request) -> web.StreamResponse:
        locale = self._locale()
        refused = _(
            "This board link is not valid: it has been used, has expired or was altered. Send /board to the bot for a new one."
        )
        try:
            key = await self._key()
            nonce = auth.link_nonce(request.match_info["token"], key)
        except auth.AuthRefused:
            logger.warning("board: link refused (signature)")
            return self._refuse(locale, refused)
        found = await board_store.use_link(self.app.db, nonce, self.app.clock.now())
        if found is None:
            logger.warning("board: link refused (used or expired)")
            return self._refuse(locale, refused)
        platform, user_id, instance_id = found
        return await self._open_session(platform, user_id, None, f"{PREFIX}/{instance_id}")

    # -- the viewer --------------------------------------------------------------------------

    async def _session(self, request: web.Request) -> tuple[BoardSession, str] | None:
        """The request's live session, and the page token to carry on ("" when the cookie
        carries it). A page token, when sent, decides: a stale or altered one is refused even
        beside a good cookie."""
        now = self.app.clock.now()
        carried = request.headers.get(PAGE_HEADER, "")
        if not carried and request.method == "POST":
            carried = str((await request.post()).get(PAGE_FIELD, ""))
        if carried:
            key = await self._key()
            try:
                digest = auth.page_session(carried, key, now)
            except auth.AuthRefused as exc:
                logger.warning("board: page token refused (%s)", exc)
                return None
            session = await board_store.session_by_digest(self.app.db, digest, now)
            return (session, auth.page_token(digest, key, now)) if session else None
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token or len(token) >= 128:
            return None
        session = await board_store.get_session(self.app.db, token, now)
        return (session, "") if session else None

    async def _viewer(self, request: web.Request) -> Viewer | web.Response:
        found = await self._session(request)
        if found is None:
            return self._refuse(
                self._locale(),
                _(
                    "You are not signed in, or your session has expired. Open the board from the bot: the menu button in Telegram, the app in WeCom, or a /board link."
                ),
            )
        session, page_token = found
        memberships = await instances.members_for_user(
            self.app.db, session.platform, session.user_id
        )
        locale = self._locale(
            next((m.locale for m in memberships if m.locale), None), session.locale
        )
        viewer = Viewer(
            session.platform, session.user_id, locale, memberships, session.csrf, page_token
        )
        if not memberships:
            return self._refuse(
                locale,
                _("You are not on any plan's roster, so the board has nothing to show you."),
            )
        return viewer

    async def _viewer_in(self, request: web.Request) -> tuple[Viewer, int] | web.Response:
        found = await self._viewer(request)
        if isinstance(found, web.Response):
            return found
        instance_id = int(request.match_info["iid"])
        if found.member(instance_id) is None:
            return self._refuse(found.locale, _("You are not on this plan's roster."), back=found)
        return found, instance_id

    async def index(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer(request)
        if isinstance(found, web.Response):
            return found
        plans = sorted({m.instance_id for m in found.memberships})
        if len(plans) == 1:
            if found.page_token:  # a redirect would arrive without the token
                return await self._plan_page(found, plans[0])
            raise web.HTTPSeeOther(f"{PREFIX}/{plans[0]}")
        titles = [(iid, (await self.app.plans.get(iid)).title) for iid in plans]
        return self._render("index.html", found.locale, plans=titles, page_token=found.page_token)

    async def plan(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        try:
            page = int(request.query.get("p", "1"))
        except ValueError:
            page = 1
        flash = urllib.parse.unquote(request.cookies.get(FLASH_COOKIE, ""))[:300]
        response = await self._plan_page(viewer, instance_id, page, flash)
        if FLASH_COOKIE in request.cookies:
            response.del_cookie(FLASH_COOKIE, path=PREFIX)
        return response

    async def _plan_page(
        self, viewer: Viewer, instance_id: int, page: int = 1, flash: str = ""
    ) -> web.Response:
        with use_locale(viewer.locale):
            data = await views.board_page(self.app, viewer, instance_id, page)
        return self._render(
            "board.html",
            viewer.locale,
            board=data,
            csrf=viewer.csrf,
            flash=flash,
            page_token=viewer.page_token,
        )

    async def assignment(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        assignment_id = int(request.match_info["aid"])
        if not await views.may_see_assignment(self.app, viewer, instance_id, assignment_id):
            return self._refuse(
                viewer.locale, _("You may not see this member's submissions."), back=viewer
            )
        with use_locale(viewer.locale):
            data = await views.assignment_page(self.app, instance_id, assignment_id)
        return self._render(
            "assignment.html", viewer.locale, page=data, page_token=viewer.page_token
        )

    async def file(self, request: web.Request) -> web.StreamResponse:
        """A submission's file: to whoever may open the submission (``may_see_assignment``)."""
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        stored_file = await assignments.get_file(self.app.db, int(request.match_info["fid"]))
        if stored_file is None or not await views.may_see_assignment(
            self.app, viewer, instance_id, stored_file[1]
        ):
            return self._refuse(
                viewer.locale, _("You may not see this member's submissions."), back=viewer
            )
        return await self._send_file(viewer, files.Stored.of(stored_file[0]))

    async def evidence(self, request: web.Request) -> web.StreamResponse:
        """A piece of ledger evidence: to whoever the page shows its item (``may_see_item``)."""
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        record = await ledger.get_evidence_file(self.app.db, int(request.match_info["eid"]))
        if record is None or not views.may_see_item(
            viewer, instance_id, record.instance_id, record.owner_id
        ):
            return self._refuse(
                viewer.locale, _("You may not see this ledger item's evidence."), back=viewer
            )
        return await self._send_file(viewer, files.Stored.of(record))

    async def _send_file(self, viewer: Viewer, stored: files.Stored) -> web.StreamResponse:
        name = files.download_name(stored)
        headers = _download_headers(name, files.download_type(stored.mime_type, name))
        if stored.content is not None and not stored.sha256:  # a row from before the folder
            return web.Response(body=stored.content, headers=headers)
        path = await files.local_copy(self.app, stored)
        if path is None:
            return self._refuse(
                viewer.locale, _("This file could not be fetched any more."), 410, back=viewer
            )
        # Streamed from disk a piece at a time (sendfile where it can); HEAD and Range are
        # aiohttp's own.
        return web.FileResponse(path, chunk_size=files.CHUNK, headers=headers)

    async def review(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        form = await request.post()
        if not auth.csrf_matches(viewer.csrf, str(form.get("csrf", ""))):
            logger.warning("board: a form without its CSRF token was refused")
            return self._refuse(
                viewer.locale,
                _("This form has expired. Please reload the board and try again."),
                back=viewer,
            )
        verdict = str(form.get("verdict", ""))
        comment = str(form.get("comment", "")).strip()
        with use_locale(viewer.locale):
            if verdict not in ("approve", "return"):
                answer = _("Choose approve or return.")
            elif verdict == "return" and not comment:
                answer = _("Please write what should be changed: the comment goes to the member.")
            elif len(comment) > actions.MAX_COMMENT:
                answer = _(
                    "That comment is too long ({length} characters; at most {limit})."
                ).format(length=len(comment), limit=actions.MAX_COMMENT)
            else:
                answer = await actions.review_submission(
                    self.app,
                    viewer,
                    int(request.match_info["sid"]),
                    approve=verdict == "approve",
                    comment=comment,
                )
        self.app.wake_senders()
        if viewer.page_token:  # no cookie to carry the answer over a redirect: shown here
            return await self._plan_page(viewer, instance_id, flash=answer[:300])
        # The answer names people: it travels in a short-lived cookie, not in the address.
        response = web.Response(status=303, headers={"Location": f"{PREFIX}/{instance_id}#review"})
        response.set_cookie(
            FLASH_COOKIE,
            urllib.parse.quote(answer[:300]),
            max_age=60,
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=self.settings.secure,
        )
        return response

    async def documents(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        kind = request.match_info["kind"]
        if not viewer.may(access.DOCUMENTS, instance_id):
            return self._refuse(
                viewer.locale,
                _("Only the plan's organizer can download the documents."),
                back=viewer,
            )
        if kind not in DOCUMENT_KINDS:
            raise web.HTTPNotFound()
        from bot.reports.export import export_documents  # matplotlib: loaded when first used

        rendered = await export_documents(self.app, instance_id)
        chosen = rendered[DOCUMENT_KINDS.index(kind)]
        name = safe_file_name(chosen.name)
        return _attachment(chosen.content, name, files.download_type(chosen.mime_type, name))

    async def zip(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        if not viewer.may(access.ZIP, instance_id):
            return self._refuse(
                viewer.locale,
                _("Only the plan's organizer can download every submitted file."),
                back=viewer,
            )
        content = await files.submissions_zip(self.app, instance_id)
        plan = await self.app.plans.get(instance_id)
        return _attachment(content, safe_file_name(f"{plan.title}.zip"), "application/zip")


def _download_headers(name: str, content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Disposition": files.content_disposition(name),
        "Cache-Control": FILE_CACHE,
        "Content-Security-Policy": FILE_CSP,
    }


def _attachment(content: bytes, name: str, content_type: str) -> web.Response:
    return web.Response(body=content, headers=_download_headers(name, content_type))
