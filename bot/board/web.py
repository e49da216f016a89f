"""The board's HTTP side: aiohttp routes under ``/board`` on the bot's one HTTP server.

Every response carries a strict Content Security Policy (our own stylesheet and script only,
plus Telegram's Mini App script), ``nosniff``, no referrer and no caching. Sessions are an
HttpOnly, SameSite=Lax cookie holding a random token (stored hashed); every form carries the
session's CSRF token. URLs hold only numbers and opaque tokens, never a name or an account;
nothing personal is logged. A forged, stale or reused credential gets a 403 page saying what
to do, in the viewer's language.
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
from storage import assignments, instances
from storage import board as board_store

logger = logging.getLogger(__name__)

PREFIX = "/board"
SESSION_COOKIE = "huiwu_board"
FLASH_COOKIE = "huiwu_board_done"  # what the last change on the board answered, shown once
LOGIN_COOKIE = "huiwu_board_login"  # the Mini App form's and the OAuth state's pair
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "script-src 'self' https://telegram.org; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'self' https://web.telegram.org"
)
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
        response.headers["Content-Security-Policy"] = CSP
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

    def install(self, web_app: web.Application) -> None:
        web_app.middlewares.append(_security_headers)
        add = web_app.router
        add.add_get(f"{PREFIX}/static/{{name}}", self.static)
        add.add_get(f"{PREFIX}/tg", self.telegram_entry)
        add.add_post(f"{PREFIX}/tg", self.telegram_login)
        add.add_get(f"{PREFIX}/wecom", self.wecom_entry)
        add.add_get(f"{PREFIX}/wecom/oauth", self.wecom_login)
        add.add_get(f"{PREFIX}/link/{{token}}", self.link_login)
        add.add_get(f"{PREFIX}/", self.index)
        add.add_get(PREFIX, self.index)
        add.add_get(f"{PREFIX}/{{iid:\\d+}}", self.plan)
        add.add_get(f"{PREFIX}/{{iid:\\d+}}/a/{{aid:\\d+}}", self.assignment)
        add.add_get(f"{PREFIX}/{{iid:\\d+}}/file/{{fid:\\d+}}", self.file)
        add.add_post(f"{PREFIX}/{{iid:\\d+}}/review/{{sid:\\d+}}", self.review)
        add.add_get(f"{PREFIX}/{{iid:\\d+}}/documents/{{kind}}", self.documents)
        add.add_get(f"{PREFIX}/{{iid:\\d+}}/files.zip", self.zip)

    # -- pages -------------------------------------------------------------------------------

    def _render(self, name: str, locale: str, status: int = 200, **context: Any) -> web.Response:
        with use_locale(locale):
            html = _templates.get_template(name).render(
                locale=locale, prefix=PREFIX, telegram_script=TELEGRAM_SCRIPT, **context
            )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _refuse(
        self, locale: str, reason: str, status: int = 403, *, back: bool = False
    ) -> web.Response:
        """A clear page instead of the board: what went wrong and how to get in (``back``: the
        viewer is signed in, and may go back to the board)."""
        return self._render("refused.html", locale, status, reason=reason, back=back)

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
        login = secrets.token_urlsafe(24)
        response = self._render("telegram.html", locale, login=login)
        self._login_cookie(response, login)
        return response

    async def telegram_login(self, request: web.Request) -> web.StreamResponse:
        locale = self._locale()
        form = await request.post()
        if not auth.csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), str(form.get("csrf", ""))):
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
        return await self._open_session("telegram", viewer.user_id, viewer.language, f"{PREFIX}/")

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
            key = await board_store.signing_key(self.app.db)
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

    async def _viewer(self, request: web.Request) -> Viewer | web.Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        session = None
        if token and len(token) < 128:
            session = await board_store.get_session(self.app.db, token, self.app.clock.now())
        if session is None:
            return self._refuse(
                self._locale(),
                _(
                    "You are not signed in, or your session has expired. Open the board from the bot: the menu button in Telegram, the app in WeCom, or a /board link."
                ),
            )
        memberships = await instances.members_for_user(
            self.app.db, session.platform, session.user_id
        )
        locale = self._locale(
            next((m.locale for m in memberships if m.locale), None), session.locale
        )
        viewer = Viewer(session.platform, session.user_id, locale, memberships, session.csrf)
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
            return self._refuse(found.locale, _("You are not on this plan's roster."), back=True)
        return found, instance_id

    async def index(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer(request)
        if isinstance(found, web.Response):
            return found
        plans = sorted({m.instance_id for m in found.memberships})
        if len(plans) == 1:
            raise web.HTTPSeeOther(f"{PREFIX}/{plans[0]}")
        titles = [(iid, (await self.app.plans.get(iid)).title) for iid in plans]
        return self._render("index.html", found.locale, plans=titles)

    async def plan(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        try:
            page = int(request.query.get("p", "1"))
        except ValueError:
            page = 1
        with use_locale(viewer.locale):
            data = await views.board_page(self.app, viewer, instance_id, page)
        response = self._render(
            "board.html",
            viewer.locale,
            board=data,
            csrf=viewer.csrf,
            flash=urllib.parse.unquote(request.cookies.get(FLASH_COOKIE, ""))[:300],
        )
        if FLASH_COOKIE in request.cookies:
            response.del_cookie(FLASH_COOKIE, path=PREFIX)
        return response

    async def assignment(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        assignment_id = int(request.match_info["aid"])
        if not await views.may_see_assignment(self.app, viewer, instance_id, assignment_id):
            return self._refuse(
                viewer.locale, _("You may not see this member's submissions."), back=True
            )
        with use_locale(viewer.locale):
            data = await views.assignment_page(self.app, instance_id, assignment_id)
        return self._render("assignment.html", viewer.locale, page=data)

    async def file(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        stored_file = await assignments.get_file(self.app.db, int(request.match_info["fid"]))
        if stored_file is None or not await views.may_see_assignment(
            self.app, viewer, instance_id, stored_file[1]
        ):
            return self._refuse(
                viewer.locale, _("You may not see this member's submissions."), back=True
            )
        stored = stored_file[0]
        content = await files.file_content(self.app, stored)
        if content is None:
            return self._refuse(
                viewer.locale, _("This file could not be fetched any more."), 410, back=True
            )
        return _attachment(content, files.safe_name(stored.file_name or "file"), stored.mime_type)

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
                back=True,
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
                viewer.locale, _("Only the plan's organizer can download the documents."), back=True
            )
        if kind not in DOCUMENT_KINDS:
            raise web.HTTPNotFound()
        from bot.reports.export import export_documents  # matplotlib: loaded when first used

        rendered = await export_documents(self.app, instance_id)
        chosen = rendered[DOCUMENT_KINDS.index(kind)]
        return _attachment(chosen.content, files.safe_name(chosen.name), chosen.mime_type)

    async def zip(self, request: web.Request) -> web.StreamResponse:
        found = await self._viewer_in(request)
        if isinstance(found, web.Response):
            return found
        viewer, instance_id = found
        if not viewer.may(access.ZIP, instance_id):
            return self._refuse(
                viewer.locale,
                _("Only the plan's organizer can download every submitted file."),
                back=True,
            )
        content = await files.submissions_zip(self.app, instance_id)
        plan = await self.app.plans.get(instance_id)
        return _attachment(content, files.safe_name(f"{plan.title}.zip"), "application/zip")


def _attachment(content: bytes, name: str, mime_type: str | None) -> web.Response:
    quoted = urllib.parse.quote(name)
    return web.Response(
        body=content,
        content_type=mime_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"download\"; filename*=UTF-8''{quoted}"
        },
    )
