"""The meeting report (.docx) and the tables (.xlsx), opened again with python-docx and
openpyxl: what was handed in is there, in the right section, with the right marks."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook

from bot.reports.export import export_documents
from tests.ledger.conftest import (
    EVIDENCE_TEXT,
    ITEMS,
    MEASURES_TANG,
    OPINION_TEXT,
    STATEMENT_TANG,
    Filled,
)

HEADINGS = [
    "一、会议召开情况",
    "二、领导班子成员发言材料",
    "三、会前征求意见情况",
    "四、整改措施",
    "整改台账",
    "五、上年度整改措施落实情况",
    "六、民主测评结果",
]


async def _files(filled: Filled) -> dict[str, bytes]:
    return {
        file.name: file.content for file in await export_documents(filled.app, filled.instance_id)
    }


async def test_the_report_holds_each_part_in_its_section(filled: Filled) -> None:
    files = await _files(filled)
    assert sorted(files) == [
        "领导班子专题民主生活会-任务进度表.xlsx",
        "领导班子专题民主生活会-情况报告.docx",
        "领导班子专题民主生活会-整改台账.xlsx",
    ]
    document = Document(io.BytesIO(files["领导班子专题民主生活会-情况报告.docx"]))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "关于召开领导班子专题民主生活会的情况报告"
    assert paragraphs[1] == "市发展和改革委员会党组"
    headings = [p.text for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    assert [h for h in headings if h in HEADINGS] == HEADINGS

    def section(title: str) -> list[str]:
        start = paragraphs.index(title)
        rest = [
            i
            for i, p in enumerate(document.paragraphs)
            if i > start and p.style.name == "Heading 1"
        ]
        return paragraphs[start + 1 : rest[0] if rest else len(paragraphs)]

    meeting = section("一、会议召开情况")
    assert "主持人：党组书记" in meeting
    assert any(line.startswith("时间：2013年12月31日") for line in meeting)
    assert "1. 上一年度民主生活会整改落实情况说明（唐军）" in meeting
    statements = section("二、领导班子成员发言材料")
    assert "唐军：撰写剖析材料" in statements and STATEMENT_TANG in statements
    assert "附件：孟平发言材料.docx" in statements
    assert statements.count("（未提交）") == 2  # 方磊 and 党组书记 have not handed theirs in
    opinions = section("三、会前征求意见情况")
    assert OPINION_TEXT.split("\n") == opinions[1:3]
    # The opinions received through the opinion link, word for word, by addressee.
    assert opinions[3:] == [
        "给领导班子",
        "1. 会议文件过多，希望精简。 —— 匿名",
        "给唐军",
        "1. 下基层调研次数偏少。 —— 县发改局 李明",
    ]
    assert MEASURES_TANG in section("四、整改措施")
    last_year = section("五、上年度整改措施落实情况")
    assert last_year[0].startswith("已由唐军在会上说明（议程第1项")

    ledger_table, evaluation = document.tables
    rows = [[cell.text for cell in row.cells] for row in ledger_table.rows]
    assert rows[0] == ["序号", "存在问题及整改措施", "整改方式", "责任人", "完成时限", "整改状态"]
    assert [row[1] for row in rows[1:]] == [item[0] for item in ITEMS]
    assert rows[2][2:4] == ["限期整改", "唐军（政办科）"]
    assert rows[1][5] == "🟢 已完成"
    assert rows[2][5] == "🔴 正在整改"  # in progress, but past its deadline (15 Feb)
    assert rows[3][5] == "🔴 未开始"
    assert rows[4][5] == "🟡 正在整改"
    assert len(document.inline_shapes) == 2  # the ledger's completion chart, the evaluation's
    counts = [[cell.text for cell in row.cells] for row in evaluation.rows]
    assert counts[0] == ["", "好", "较好", "一般", "差"]
    assert counts[1] == ["会前准备情况", "2", "1", "0", "0"]
    assert counts[2] == ["会议召开情况", "1", "1", "1", "0"]


async def test_the_ledger_table_lists_every_item_with_its_colour(filled: Filled) -> None:
    files = await _files(filled)
    sheet = load_workbook(io.BytesIO(files["领导班子专题民主生活会-整改台账.xlsx"])).active
    assert sheet.title == "整改台账"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "序号",
        "存在问题及整改措施",
        "问题来源",
        "整改方式",
        "责任人",
        "责任科室",
        "完成时限",
        "整改状态",
        "是否逾期",
        "佐证材料",
    ]
    assert [row[0] for row in rows[1:]] == filled.item_ids
    assert rows[1][1:6] == ["精简会议文件，压缩会议数量", "征求意见", "马上整改", "方磊", "办公室"]
    assert rows[3][3] == "报上级协调解决"
    assert rows[4][6] in ("", None)  # no deadline
    assert [row[8] or "" for row in rows[1:]] == ["", "是", "", ""]
    assert [row[9] or "" for row in rows[1:]] == ["", f"{EVIDENCE_TEXT}\n[联系点名单.pdf]", "", ""]
    fills = [sheet.cell(row, 8).fill.fgColor.rgb[-6:] for row in range(2, 6)]
    assert fills == ["B7E1CD", "F4C7C3", "F4C7C3", "FCE8B2"]  # green, red (overdue), red, yellow


async def test_the_progress_table_has_a_row_per_person_and_task(filled: Filled) -> None:
    files = await _files(filled)
    sheet = load_workbook(io.BytesIO(files["领导班子专题民主生活会-任务进度表.xlsx"])).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["阶段", "任务", "完成时限", "人员", "状态", "逾期提交"]
    statements = {row[3]: row[4] for row in rows[1:] if row[1] == "撰写剖析材料"}
    assert statements == {
        "方磊": "已逾期",
        "唐军": "已提交",
        "孟平": "已提交",
        "党组书记": "已逾期",
    }
    measures = {row[3]: row[4] for row in rows[1:] if row[1] == "制定个人整改措施"}
    assert measures["唐军"] == "已通过"
    assert {row[0] for row in rows[1:]} == {"会前准备阶段", "会后整改阶段"}
