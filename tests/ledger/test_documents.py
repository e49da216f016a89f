"""The meeting report (.docx) and the tables (.xlsx), opened again with python-docx and
openpyxl: what was handed in is there, in the right section, with the right marks."""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from bot.reports.export import export_documents
from tests.ledger.conftest import (
    EVIDENCE_TEXT,
    ITEMS,
    MEASURES_TANG,
    OPINION_TEXT,
    REVIEW_APPROVED,
    REVIEW_RETURNED,
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
    "七、谈心谈话情况",
    "八、各项任务完成情况",
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
    # Too long for one line of 二号: broken where the meaning allows (GB/T 9704 §7.2.3).
    assert paragraphs[0] == "关于召开领导班子专题民主生活会的\n情况报告"
    # GB/T 9704: the issuing organisation and the date sign the end, not the top.
    assert paragraphs[-2:] == ["市发展和改革委员会党组", "2014年3月1日"]
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
    assert "附件：_.._etc_pass wd.txt" in statements  # the uploaded name, made harmless
    # 方磊 has not handed in (due 20 Dec, now 1 Mar); 党组书记 came on 23 Dec, three days late,
    # the text pasted from Word split at its line break, the NUL gone.
    assert statements[statements.index("方磊：撰写剖析材料") + 1] == "（未提交，已逾期71天）"
    secretary = statements[statements.index("党组书记：撰写剖析材料") + 1 :]
    assert secretary[:3] == [
        "党组书记对照检查材料：",
        "一、宗旨意识有所淡化。",
        "逾期3天，于2013年12月23日提交",
    ]
    assert "已于2013年12月8日提交" in statements
    opinions = section("三、会前征求意见情况")
    assert OPINION_TEXT.split("\n") == opinions[1:3]
    assert opinions[3] == "逾期2天，于2013年12月12日提交"  # 方磊's, due 10 Dec
    # The opinions received through the opinion link, word for word, by addressee.
    assert opinions[4:] == [
        "给领导班子",
        "1. 会议文件过多，希望精简。 —— 匿名",
        "给唐军",
        "1. 下基层调研次数偏少。 —— 县发改局 李明",
    ]
    measures = section("四、整改措施")
    assert MEASURES_TANG in measures
    assert f"审核意见：已通过（党组书记）：{REVIEW_APPROVED}" in measures
    assert f"审核意见：退回修改（党组书记）：{REVIEW_RETURNED}" in measures
    assert "共4项：已完成1项（25%），正在整改2项，未开始1项；其中逾期1项。" in measures
    last_year = section("五、上年度整改措施落实情况")
    assert last_year[0].startswith("已由唐军在会上说明（议程第1项")

    # Every survey round: the evaluation with its counts, the satisfaction round withheld.
    surveys = section("六、民主测评结果")
    assert surveys[:2] == ["民主生活会现场民主测评", "有效票数：3"]
    assert surveys[-3:] == [
        "民主生活会整改落实情况满意度测评",
        "有效票数：1；2014年1月10日结束",
        "有效票数不足3张，结果不予公布。",
    ]
    assert section("七、谈心谈话情况") == ["交流谈心：应谈6对，双方确认1对。"]
    missing = section("八、各项任务完成情况")[0]
    assert missing.startswith("逾期未提交：方磊（组织学习）、唐军（交流谈心）")
    assert "党组书记（撰写剖析材料）" not in missing  # handed in, late

    ledger_table, evaluation, talks, hand_ins = document.tables
    rows = [[cell.text for cell in row.cells] for row in ledger_table.rows]
    assert rows[0] == ["序号", "存在问题及整改措施", "整改方式", "责任人", "完成时限", "整改状态"]
    assert [row[1] for row in rows[1:]] == [item[0] for item in ITEMS]
    assert rows[2][2:4] == ["限期整改", "唐军（政办科）"]
    # Words, not emoji; overdue with its days (15 Feb to 1 Mar), and shaded.
    assert [row[5] for row in rows[1:]] == ["已完成", "正在整改，已逾期14天", "未开始", "正在整改"]
    assert [_fill(row.cells[5]) for row in ledger_table.rows[1:]] == [
        "E2EFDA",
        "F8CBAD",
        None,
        "FFF2CC",
    ]
    assert _fill(ledger_table.rows[0].cells[0]) == "D9D9D9"  # the header, repeated on each page
    assert ledger_table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    # The ledger's chart, the evaluation's, the progress chart.
    assert len(document.inline_shapes) == 3
    counts = [[cell.text for cell in row.cells] for row in evaluation.rows]
    assert counts[0] == ["", "好", "较好", "一般", "差"]
    assert counts[1] == ["会前准备情况", "2", "1", "0", "0"]
    assert counts[2] == ["会议召开情况", "1", "1", "1", "0"]
    matrix = [[cell.text for cell in row.cells] for row in talks.rows]
    assert matrix[0] == ["", "方磊", "党组书记", "唐军", "孟平"]
    assert matrix[1] == ["方磊", "—", "已谈", "未谈", "未谈"]
    assert matrix[2] == ["党组书记", "已谈", "—", "待确认", "未谈"]
    handed = {
        (row[0], row[1]): row[3:] for row in ([c.text for c in r.cells] for r in hand_ins.rows)
    }
    assert handed[("撰写剖析材料", "党组书记")] == ["逾期3天提交（2013年12月23日）", ""]
    assert handed[("撰写剖析材料", "方磊")] == ["未提交，已逾期71天", ""]
    assert handed[("征求意见", "方磊")] == ["逾期2天提交（2013年12月12日）", ""]
    assert handed[("制定个人整改措施", "唐军")] == [
        "按时提交（2013年12月8日）",
        f"已通过（党组书记）：{REVIEW_APPROVED}",
    ]
    assert handed[("组织集中整改", "孟平")] == ["尚未提交", ""]


def _fill(cell: object) -> str | None:
    shading = cell._tc.tcPr.find(qn("w:shd"))  # type: ignore[attr-defined]
    return None if shading is None else shading.get(qn("w:fill"))


async def test_the_ledger_table_lists_every_item_with_its_colour(filled: Filled) -> None:
    files = await _files(filled)
    sheet = load_workbook(io.BytesIO(files["领导班子专题民主生活会-整改台账.xlsx"])).active
    assert sheet.title == "整改台账"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "领导班子专题民主生活会整改台账"
    assert rows[1][0] == "编制日期：2014年3月1日"
    assert rows[2] == [
        "序号",
        "存在问题及整改措施",
        "问题来源",
        "整改方式",
        "责任人",
        "责任科室",
        "完成时限",
        "整改状态",
        "逾期天数",
        "佐证材料",
    ]
    items = rows[3:]
    assert [row[0] for row in items] == filled.item_ids
    assert items[0][1:6] == ["精简会议文件，压缩会议数量", "征求意见", "马上整改", "方磊", "办公室"]
    assert items[2][3] == "报上级协调解决"
    # Deadlines are dates (sortable), shown in the plan's format; none stays empty.
    assert [row[6] for row in items] == [
        datetime(2014, 1, 31),
        datetime(2014, 2, 15),
        datetime(2014, 4, 30),
        None,
    ]
    assert sheet.cell(4, 7).number_format == 'yyyy"年"m"月"d"日"'
    assert [row[8] for row in items] == [None, 14, None, None]  # days overdue
    assert [row[9] or "" for row in items] == ["", f"{EVIDENCE_TEXT}\n[联系点名单.pdf]", "", ""]
    fills = [sheet.cell(row, 8).fill.fgColor.rgb[-6:] for row in range(4, 8)]
    assert fills == ["B7E1CD", "F4C7C3", "F4C7C3", "FCE8B2"]  # green, red (overdue), red, yellow
    _assert_print_ready(sheet, "J", len(rows))


def _assert_print_ready(sheet: object, last_column: str, last_row: int) -> None:
    """A title, a filtered and frozen header, A4 landscape one page wide, header repeated."""
    assert sheet.freeze_panes == "A4"  # type: ignore[attr-defined]
    assert sheet.auto_filter.ref == f"A3:{last_column}{last_row}"  # type: ignore[attr-defined]
    assert sheet.print_title_rows == "$3:$3"  # type: ignore[attr-defined]
    setup = sheet.page_setup  # type: ignore[attr-defined]
    assert (setup.orientation, setup.paperSize) == ("landscape", 9)  # 9: A4
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage  # type: ignore[attr-defined]
    assert f"A1:{last_column}1" in {str(r) for r in sheet.merged_cells.ranges}  # type: ignore[attr-defined]


async def test_the_progress_table_has_a_row_per_person_and_task(filled: Filled) -> None:
    files = await _files(filled)
    sheet = load_workbook(io.BytesIO(files["领导班子专题民主生活会-任务进度表.xlsx"])).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "领导班子专题民主生活会任务进度表"
    assert rows[2] == [
        "阶段",
        "任务",
        "完成时限",
        "人员",
        "状态",
        "提交日期",
        "逾期天数",
        "审核意见",
    ]
    body = rows[3:]
    statements = {row[3]: (row[4], row[5], row[6]) for row in body if row[1] == "撰写剖析材料"}
    assert statements == {
        "方磊": ("已逾期", None, 71),  # missing: late so far
        "唐军": ("已提交", datetime(2013, 12, 8), None),
        "孟平": ("已提交", datetime(2013, 12, 8), None),
        "党组书记": ("已提交", datetime(2013, 12, 23), 3),  # handed in three days late
    }
    measures = {row[3]: (row[4], row[7]) for row in body if row[1] == "制定个人整改措施"}
    assert measures["唐军"] == ("已通过", f"已通过（党组书记）：{REVIEW_APPROVED}")
    assert measures["孟平"][1] == f"退回修改（党组书记）：{REVIEW_RETURNED}"
    assert {row[0] for row in body} == {"会前准备阶段", "会后整改阶段"}
    assert sheet.cell(4, 3).number_format == 'yyyy"年"m"月"d"日"'
    _assert_print_ready(sheet, "H", len(rows))
