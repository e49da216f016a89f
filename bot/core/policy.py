"""What a deployment allows users to do to it: who may load plans in chat, and how much a
member may hand in (files per hand-in, bytes per file, per hand-in and per member, text).

The values come from the settings (``bot.core.config``) and reach handlers on ``Huiwu``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MIB = 1024 * 1024


class PlanLoaders(StrEnum):
    """Who may load a plan by sending it in chat (the operator's ``huiwu plan load`` always may)."""

    ORGANIZERS = "organizers"  # people already organizer of a plan
    ANYONE = "anyone"  # anyone, strangers too (a plan still binds nobody until accepted)
    NOBODY = "nobody"  # only the operator, from the command line


@dataclass(frozen=True)
class Quotas:
    """Limits on what a member hands in; a hand-in over one is refused with the reason."""

    file_bytes: int = 20 * MIB  # one file (Telegram's bots cannot fetch more than 20 MiB)
    handin_files: int = 10  # files in one hand-in
    handin_bytes: int = 50 * MIB  # all files of one hand-in
    member_bytes: int = 200 * MIB  # all files a member has handed in, in one plan
    handin_text: int = 20_000  # characters of text in one hand-in
