"""The ledger and /export on WeCom: items added by keyword, the chart as an image and the
documents as files (uploaded as media, sent to the organizer's inbox)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from docx import Document

from bot.sandbox.wecom.people import card_text
from tests.e2e.wecom_world import WeComWorld, WeComWorldFactory, wecom_worlds

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    factory: WeComWorldFactory
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


async def test_ledger_chart_and_documents_reach_wecom(world: WeComWorld) -> None:
    fang = world.people["方磊"]
    # the keyword with its arguments, as WeCom users type it
    await fang.say("新增整改 精简会议文件，压缩会议数量 | 马上 | 唐军 | 办公室 | 2013-12-10")
    pushed = "\n".join(card_text(m) for m in world.people["唐军"].inbox())
    assert "精简会议文件，压缩会议数量" in pushed

    shown = await fang.say("整改台账")
    assert "共1项：已完成0项（0%）" in "\n".join(card_text(m) for m in shown)
    [image] = [m for m in shown if m.msgtype == "image"]
    assert world.emulator.media[image.content["media_id"]].data.startswith(PNG)

    sent = await fang.say("导出")
    files = {
        world.emulator.media[m.content["media_id"]].filename: world.emulator.media[
            m.content["media_id"]
        ].data
        for m in sent
        if m.msgtype == "file"
    }
    assert sorted(files) == [
        "领导班子专题民主生活会-任务进度表.xlsx",
        "领导班子专题民主生活会-全部材料.zip",
        "领导班子专题民主生活会-情况报告.docx",
        "领导班子专题民主生活会-整改台账.xlsx",
    ]
    report = Document(io.BytesIO(files["领导班子专题民主生活会-情况报告.docx"]))
    assert "精简会议文件，压缩会议数量" in [
        c.text for row in report.tables[0].rows for c in row.cells
    ]
