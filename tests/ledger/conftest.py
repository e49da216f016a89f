"""A real SQLite file holding the shipped seed plan part-way through: statements, opinions
and measures handed in, ledger items in every state, an evaluation with ballots."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.sandbox.demo.telegram import seed_plan_text
from storage import assignments, instances, ledger, opinions, talks
from storage.db import Database
from storage.ledger import NewItem

NOW = "2014-03-01T10:00+08:00"
STATEMENT_TANG = "唐军对照检查材料：一、理论学习不够深入；二、调查研究不够扎实。"
OPINION_TEXT = "意见一：文山会海问题依然存在。\n意见二：深入基层调研偏少。"
MEASURES_TANG = "一、每月深入基层调研不少于两次。"
ITEMS = (
    # description, source, category, member key, department, due (local date), status
    (
        "精简会议文件，压缩会议数量",
        "opinion",
        "immediate",
        "fanglei",
        "办公室",
        "2014-01-31",
        "done",
    ),
    (
        "建立领导干部基层联系点制度",
        "meeting",
        "deadline",
        "tangjun",
        "政办科",
        "2014-02-15",
        "in_progress",
    ),
    ("解决县区项目审批周期长的问题", "opinion", "escalate", "mengping", None, "2014-04-30", "todo"),
    ("完善公务接待管理办法", "self-review", "explain", "secretary", "办公室", None, "in_progress"),
)
COLLECTED_OPINIONS = (
    (None, "会议文件过多，希望精简。", None),
    ("tangjun", "下基层调研次数偏少。", "县发改局 李明"),
)
EVIDENCE_TEXT = "已在3个县区建立联系点"
EVALUATION_BALLOTS = (("好", "好", "较好"), ("好", "较好", "较好"), ("较好", "一般", "好"))
# Pasted from Word: a manual line break (\x0b) and a stray NUL, kept as typed in the database.
STATEMENT_SECRETARY = "党组书记对照检查材料：\x0b一、宗旨意识有所淡化。\x00"
REVIEW_APPROVED = "措施具体，同意。"
REVIEW_RETURNED = "请补充完成时限。"
UPLOAD_NAME = "../../etc/pass\x0bwd.txt"  # an uploaded name that tries to leave its folder


@dataclass
class Filled:
    app: Huiwu
    instance_id: int
    item_ids: list[int]
    db_path: Path


async def fill(db: Database, clock: ManualClock) -> tuple[int, list[int]]:
    text = seed_plan_text()
    plan = load_plan_text(text)
    start = datetime.fromisoformat("2013-12-03T09:00+08:00")
    async with db.transaction() as conn:
        instance_id = await store_plan(conn, plan, text, loaded_by="test", now=start)
        await instances.set_status(conn, instance_id, "active")
    members = {m.member_key: m for m in await instances.members_of(db, instance_id)}
    item_ids = []
    async with db.transaction() as conn:
        for phase in plan.phases:
            await assignments.start_phase(conn, instance_id, phase.id, start)
            for task in phase.tasks:
                for key in task.assignee_ids:
                    await assignments.assign(
                        conn, instance_id, task.id, members[key].id, task.due, start
                    )
        found = await assignments.assignments_of_instance(db, instance_id)
        by = {(plan.task(a.task_id).id, a.member_id): a for a in found}

        async def hand_in(
            task_id: str, key: str, text: str | None, files=(), status="submitted", when=None
        ):
            record = by[(task_id, members[key].id)]
            when = when or start + timedelta(days=5)
            submission = await assignments.add_submission(
                conn, record.id, text=text, files=files, now=when, late=when > record.due_at
            )
            await assignments.set_assignment_status(conn, record, status)
            return submission

        await hand_in("statements", "tangjun", STATEMENT_TANG)
        draft = ("telegram", "f0", "孟平发言材料.docx", "application/msword", 5, b"DRAFT")
        await hand_in("statements", "mengping", None, files=[draft])
        await hand_in(
            "statements",
            "mengping",
            None,
            files=[
                ("telegram", "f1", "孟平发言材料.docx", "application/msword", 4, b"PK\x03\x04"),
                ("telegram", "f2", UPLOAD_NAME, "text/plain", 3, b"odd"),
            ],
        )
        # 党组书记's statement came three days after the deadline (20 Dec), 方磊's opinions two.
        await hand_in(
            "statements",
            "secretary",
            STATEMENT_SECRETARY,
            when=datetime.fromisoformat("2013-12-23T09:00+08:00"),
        )
        await hand_in(
            "opinions",
            "fanglei",
            OPINION_TEXT,
            when=datetime.fromisoformat("2013-12-12T09:00+08:00"),
        )
        approved = await hand_in("personal-measures", "tangjun", MEASURES_TANG, status="approved")
        returned = await hand_in(
            "personal-measures", "mengping", "个人整改措施初稿", status="returned"
        )
        secretary = members["secretary"].id
        reviewed_at = datetime.fromisoformat("2014-01-10T10:00+08:00")
        await assignments.add_review(
            conn, approved.id, secretary, "approved", REVIEW_APPROVED, reviewed_at
        )
        await assignments.add_review(
            conn, returned.id, secretary, "returned", REVIEW_RETURNED, reviewed_at
        )
        talk = await talks.record(conn, instance_id, members["fanglei"].id, secretary, start)
        await talks.answer(conn, talk.id, "confirmed", start)
        await talks.record(conn, instance_id, members["tangjun"].id, secretary, start)

        for description, source, category, key, department, due, status in ITEMS:
            due_at = datetime.fromisoformat(f"{due}T23:59+08:00") if due else None
            item_id = await ledger.add_item(
                conn,
                instance_id,
                NewItem(description, source, category, members[key].id, department, due_at),
                members["fanglei"].id,
                datetime.fromisoformat("2014-01-05T10:00+08:00"),
            )
            assert item_id is not None
            item_ids.append(item_id)
            if key == "tangjun":
                at = datetime.fromisoformat("2014-01-21T10:00+08:00")
                await ledger.add_evidence(conn, item_id, members[key].id, at, text=EVIDENCE_TEXT)
                file = ("telegram", "f9", "联系点名单.pdf", "application/pdf", 4, b"%PDF")
                await ledger.add_evidence(conn, item_id, members[key].id, at, file=file)
            if status != "todo":
                await ledger.set_status(
                    conn,
                    item_id,
                    status,
                    members[key].id,
                    datetime.fromisoformat("2014-01-20T10:00+08:00"),
                )
        window = await opinions.open_window(conn, instance_id, start + timedelta(days=7), start)
        for addressee, text, sender in COLLECTED_OPINIONS:
            addressee_id = members[addressee].id if addressee else None
            await opinions.add_opinion(conn, window.id, addressee_id, text, sender)
        cursor = await conn.execute(
            "INSERT INTO surveys (instance_id, survey_key, status, opened_at) VALUES (?, 'evaluation', 'closed', ?)",
            (instance_id, start.isoformat()),
        )
        for answers in EVALUATION_BALLOTS:
            await conn.execute(
                "INSERT INTO ballots (ballot_key, survey_id, answers) VALUES (?, ?, ?)",
                (
                    secrets.token_bytes(16),
                    cursor.lastrowid,
                    json.dumps(answers, ensure_ascii=False),
                ),
            )
        # The satisfaction survey's first round closed with too few ballots to be shown.
        cursor = await conn.execute(
            "INSERT INTO surveys (instance_id, survey_key, status, opened_at, closed_at) VALUES (?, 'satisfaction', 'closed', ?, ?)",
            (instance_id, start.isoformat(), reviewed_at.isoformat()),
        )
        await conn.execute(
            "INSERT INTO ballots (ballot_key, survey_id, answers) VALUES (?, ?, ?)",
            (secrets.token_bytes(16), cursor.lastrowid, json.dumps(["满意"] * 6)),
        )
    return instance_id, item_ids


@pytest.fixture
async def filled(tmp_path: Path) -> AsyncIterator[Filled]:
    clock = ManualClock(datetime.fromisoformat(NOW))
    path = tmp_path / "huiwu.sqlite3"
    db = await Database.open(path)
    instance_id, item_ids = await fill(db, clock)
    try:
        yield Filled(Huiwu(db, clock), instance_id, item_ids, path)
    finally:
        await db.close()
