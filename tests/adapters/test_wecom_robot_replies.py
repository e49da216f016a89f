"""The callback-mode answers to a robot chat: files to the asker through the app, one line in
the chat saying so, and consecutive texts joined into one answer (one response_url)."""

from __future__ import annotations

from bot.adapters.wecom.robot.replies import MAX_JOINED_BYTES, callback_replies, join_texts
from bot.core.i18n import use_locale
from bot.core.messaging import Button, ChatType, Event, OutgoingFile, OutgoingMessage

CHART = OutgoingFile("ledger.png", b"\x89PNG....", "image/png", is_photo=True)


def _event(chat_id: str, chat_type: ChatType = ChatType.GROUP) -> Event:
    return Event(platform="wecom", chat_id=chat_id, chat_type=chat_type, user_id="FangLei")


def test_consecutive_texts_are_joined_but_not_across_buttons_or_the_limit() -> None:
    card = OutgoingMessage("choose", ((Button("A", "a"),),))
    long = OutgoingMessage("x" * (MAX_JOINED_BYTES - 3))  # "three" and it: over the limit
    joined = join_texts(
        [OutgoingMessage("one"), OutgoingMessage("two"), card, OutgoingMessage("three"), long]
    )
    assert [m.text for m in joined] == ["one\n\ntwo", "choose", "three", long.text]


def test_a_file_goes_to_the_asker_and_the_group_is_told() -> None:
    with use_locale("en"):
        rows = callback_replies(
            _event("robot:wrkG"),
            [OutgoingMessage("The ledger: 3 items"), OutgoingMessage("ledger", file=CHART)],
        )
    assert [(chat, m.file is not None) for chat, m in rows] == [
        ("FangLei", True),
        ("robot:wrkG", False),
    ]
    assert rows[1][1].text == (
        "The ledger: 3 items\n\nledger\n\nI sent ledger.png to you privately through the app: "
        "the robot cannot send files or pictures in this group."
    )


def test_other_chats_are_left_alone() -> None:
    messages = [OutgoingMessage("a", file=CHART), OutgoingMessage("b")]
    rows = callback_replies(_event("wrkAppChat"), messages)
    assert rows == [("wrkAppChat", messages[0]), ("wrkAppChat", messages[1])]
