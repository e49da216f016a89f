"""Sealed drafts: what a person is still filling in (a ballot's choices so far, an opinion
being written and to whom) is stored encrypted, under a key the database does not hold.

A draft must survive a restart (nothing a person sent is lost), so it is stored; but it sits
next to its author until the ballot is cast or the opinion sent. Sealed with AES-GCM under a
key derived from the bot's own secrets (its Telegram token, its WeCom keys: in the settings,
never in the database), a copy of the database files shows that a draft exists, not what it
says. A draft sealed under another key (the secrets changed) opens as nothing: the person
answers again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_secrets(cls, *secrets: str) -> Sealer:
        """A key derived from the settings' secrets (the same at every start)."""
        if not any(secrets):
            return cls.ephemeral()
        material = "\0".join(("huiwu-sealed-drafts", *secrets)).encode()
        return cls(hashlib.sha256(material).digest())

    @classmethod
    def ephemeral(cls) -> Sealer:
        """A key for this process only (no secrets to derive one from)."""
        return cls(AESGCM.generate_key(bit_length=256))

    def seal(self, data: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, data, None)).decode("ascii")

    def open(self, sealed: str) -> bytes | None:
        """The sealed bytes, or None if they were sealed under another key (or are damaged)."""
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except (InvalidTag, ValueError, binascii.Error):
            return None
