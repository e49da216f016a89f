"""The board's ways in, each checked before a session is opened.

* Telegram Mini App: the ``initData`` the app hands the page is verified as Telegram's docs
  say (the key is HMAC-SHA256 of the bot token keyed with "WebAppData"; the hash is the
  HMAC-SHA256 of the sorted ``key=value`` lines) and must be fresh.
* One-time links (``/board``, ``huiwu board-link``): a random nonce and its HMAC under the
  board's key; the nonce is stored hashed, used once, and expires.
* WeCom OAuth2: the ``state`` must equal the one the browser was given in a cookie; the
  ``code`` is turned into a userid by WeCom's API (``WeComClient.oauth_userid``).

Once in, a session is carried by an HttpOnly cookie, or, where the browser withholds cookies
(Telegram Web frames the Mini App on another site), by a page token: the session's digest, an
expiry and their HMAC under the board's key, put in each page and sent back in each request's
form or header by the page's own script. The same stored session answers either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

INIT_DATA_MAX_AGE = timedelta(hours=1)
INIT_DATA_MAX_LENGTH = 4096
LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
PAGE_TOKEN_TTL = timedelta(minutes=30)  # renewed by every page: an idle page goes stale
LOGIN_FORM_TTL = timedelta(minutes=10)


class AuthRefused(Exception):
    """A forged, stale or malformed credential (the reason is for the log, never personal)."""


@dataclass(frozen=True)
class TelegramViewer:
    user_id: str
    language: str | None


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """``fields`` as Telegram signs them, with ``hash`` (the emulator and tests use this)."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    signature = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": signature})


def verify_init_data(init_data: str, bot_token: str, now: datetime) -> TelegramViewer:
    """The Telegram user the Mini App's ``initData`` names, or ``AuthRefused``."""
    if not init_data or len(init_data) > INIT_DATA_MAX_LENGTH:
        raise AuthRefused("init data missing or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise AuthRefused("init data malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise AuthRefused("init data repeats a field")
    received = fields.pop("hash", "")
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received):
        raise AuthRefused("init data signature")
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "")), tz=now.tzinfo)
        user = json.loads(fields.get("user", ""))
        user_id = str(int(user["id"]))
    except (ValueError, TypeError, KeyError):
        raise AuthRefused("init data without auth_date or user") from None
    if not timedelta(minutes=-5) < now - signed_at < INIT_DATA_MAX_AGE:
        raise AuthRefused("init data stale")
    language = user.get("language_code")
    return TelegramViewer(user_id, language if isinstance(language, str) else None)


def link_token(nonce: str, key: bytes) -> str:
    signature = hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{nonce}.{signature}"


def new_link_token(key: bytes) -> tuple[str, str]:
    """(nonce to store, token for the link)."""
    nonce = secrets.token_urlsafe(18)
    return nonce, link_token(nonce, key)


def link_nonce(token: str, key: bytes) -> str:
    """The nonce of a link token whose signature holds, or ``AuthRefused``."""
    nonce, _dot, _signature = token.partition(".")
    if len(token) > 128 or not nonce or not hmac.compare_digest(link_token(nonce, key), token):
        raise AuthRefused("link signature")
    return nonce


def csrf_matches(expected: str, received: str | None) -> bool:
    return bool(received) and hmac.compare_digest(expected, received or "")


def _mac(key: bytes, purpose: str, body: str) -> str:
    message = f"{purpose}\x00{body}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _signed(key: bytes, purpose: str, body: str, expires: datetime) -> str:
    body = f"{body}.{int(expires.timestamp())}"
    return f"{body}.{_mac(key, purpose, body)}"


def _verified(key: bytes, purpose: str, token: str, now: datetime) -> str:
    """The body of a signed token that holds and has not expired, or ``AuthRefused``."""
    signed, _dot, signature = token.rpartition(".")
    body, _dot, stamp = signed.rpartition(".")
    if (
        len(token) > 256
        or not body
        or not hmac.compare_digest(_mac(key, purpose, signed), signature)
    ):
        raise AuthRefused(f"{purpose} token signature")
    if not stamp.isdigit() or int(stamp) <= now.timestamp():
        raise AuthRefused(f"{purpose} token expired")
    return body


def page_token(session_digest: str, key: bytes, now: datetime) -> str:
    """What a page carries instead of the session cookie, valid ``PAGE_TOKEN_TTL``."""
    return _signed(key, "page", session_digest, now + PAGE_TOKEN_TTL)


def page_session(token: str, key: bytes, now: datetime) -> str:
    """The session digest a page token names, or ``AuthRefused`` (altered or stale)."""
    return _verified(key, "page", token, now)


def login_form_token(key: bytes, now: datetime) -> str:
    """The Mini App sign-in form's token: signed, so it needs no cookie to be checked."""
    return _signed(key, "login", secrets.token_urlsafe(12), now + LOGIN_FORM_TTL)


def login_form_holds(token: str, key: bytes, now: datetime) -> bool:
    try:
        _verified(key, "login", token, now)
    except AuthRefused:
        return False
    return True
