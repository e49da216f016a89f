"""The text audit (issue 16): every message rendered in both languages with representative
values and checked mechanically for what a reader notices (``tests/texts/audit.py``).

Three layers: every catalog entry on its own; the messages a whole plan produces (the
Telegram demo, in Chinese, composed as members receive them); the builders that compose
messages, in English, with 0 / 1 / many, long names, late and unreachable members.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import catalog, use_locale
from bot.core.i18n_tools import extract_messages
from bot.meeting import results, surveys
from bot.plan import load_plan
from bot.tasks import phases
from bot.tasks.progress import MemberProgress, MemberState, TaskProgress
from bot.tasks.texts import status_text, summary_text, timeline_text
from handlers.tasks import received_text
from storage.records import MemberRecord
from storage.surveys import SurveyRound
from tests.texts.audit import FORM_ONLY, problems

SHIPPED = "bot/plans/democratic-life-meeting.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLATFORMS = ("telegram", "wecom")

# Entries that quote Chinese document words or input examples on purpose (en), or show
# numbering as written in documents: each says why it may break a rule.
ALLOWED = {
    "no phase headings such as “（一）会前准备阶段（…）” were found": "quotes a document heading",
    "the meeting phase has no numbered agenda （1）（2）…": "quotes a document's numbering",
    "列席 also names {others}; the roster has one placeholder, {placeholder}, for those attending": "names the document's word",
    "参会对象 “{who}” is no roster role; add them to the roster if they take part": "names the document's word",
    "nobody is named responsible; a placeholder 组织者 is the organizer": "names the placeholder",
    "{body}领导 are invited but have no part in the plan; add them to the roster as superiors if they vote or speak": "names the document's word",
    "Write: /additem description | how (马上 / 限期 / 说明 / 上级) | who | department | deadline — department and deadline may be left empty.": "the words members type",
    "I cannot read the deadline “{text}”. Write e.g. 2014-03-31 or 3月31日.": "an input example",
    "By when? Type a date such as 2014-03-31 or 3月31日.": "an input example",
    "a table without a task column and 责任人 / 完成时限 columns is not read; write its rows as numbered paragraphs": "names a document's columns",
}

NUMBERS = {
    "count", "total", "done", "days", "sent", "round", "number", "id", "minimum", "rows",
    "size", "version", "known", "texts", "files", "limit", "length", "line", "port", "code",
    "held", "position", "hours", "minutes", "pending", "index", "max", "year", "first", "last",
}  # fmt: skip
VALUES = {
    "zh_CN": {"name": "欧阳志远", "names": "方磊、欧阳志远", "date": "2013年12月6日 周五 23:59"},
    "en": {"name": "Ouyang", "names": "Fang Lei, Ouyang", "date": "Friday, 6 December 2013 23:59"},
}
FIELD = re.compile(r"\{([a-z_]+)(![rs])?(:[^{}]*)?\}")


def _fill(template: str, locale: str, *, blank: bool) -> str:
    def value(match: re.Match[str]) -> str:
        name, spec = match[1], match[3] or ""
        if blank:
            return " "
        if spec.endswith("%"):
            return "75%"
        if name in NUMBERS or name.endswith(("_count", "_id")):
            return "12"
        if name in ("names", "others", "missing", "choices"):
            return VALUES[locale]["names"]
        if name in ("due", "when", "start", "end", "date", "day", "meeting", "opens", "closes"):
            return VALUES[locale]["date"]
        return VALUES[locale]["name"]

    return FIELD.sub(value, template.replace("{{", "(").replace("}}", ")"))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_catalog_message_reads_clean(locale: str) -> None:
    entries = catalog(locale)
    found = []
    for msgid in extract_messages():
        if msgid in ALLOWED:
            continue
        template = entries.get(msgid) or msgid
        text = _fill(template, locale, blank=False)
        prose = _fill(template, locale, blank=True)
        for problem in problems(text, locale, prose=prose, scope=FORM_ONLY):
            found.append(f"{problem}: {template!r}")
    assert found == []


# --- composed messages -----------------------------------------------------------------


def bot_messages(transcript: str) -> list[str]:
    """The bot's messages in a printed demo transcript (continuation lines are indented)."""
    messages: list[list[str]] = []
    current: list[str] | None = None
    for line in transcript.splitlines():
        if line.startswith("会务 ← "):
            current = [re.sub(r"^\(编辑 #\d+\) ", "", line.removeprefix("会务 ← "))]
            messages.append(current)
        elif line.startswith("     ") and current is not None:
            if not line.strip().startswith(("[", "🖼", "📎")):  # buttons, pictures, files
                current.append(line[5:])
        else:
            current = None
    return ["\n".join(lines) for lines in messages]


@pytest.mark.slow
async def test_the_whole_plan_reads_clean_in_chinese(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.sandbox.demo.telegram import run_demo

    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    assert await run_demo() == 0
    transcript = capsys.readouterr().out.split("== Group chat", 1)[1]
    messages = bot_messages(transcript)
    assert len(messages) > 150
    found = {f"{p}: {m[:120]!r}" for m in messages for p in problems(m, "zh_CN")}
    assert sorted(found) == []


def _member(number: int, name: str) -> MemberRecord:
    return MemberRecord(number, 1, f"m{number}", name, frozenset({"member"}), None)


LONG = "欧阳司马上官诸葛慕容长孙宇文"  # a long name


def _progress(task_index: int, *rows: tuple[str, MemberState, bool, bool]) -> TaskProgress:
    plan = load_plan(SHIPPED)
    task = plan.tasks[task_index]
    return TaskProgress(
        task,
        tuple(
            MemberProgress(_member(i, name), None, state, late, reachable)  # type: ignore[arg-type]
            for i, (name, state, late, reachable) in enumerate(rows, 1)
        ),
    )


def _english_texts() -> list[str]:
    plan = load_plan(SHIPPED)
    now = datetime(2013, 12, 20, 18, tzinfo=SHANGHAI)
    many = [
        _progress(0, ("方磊", MemberState.SUBMITTED, True, True)),
        _progress(
            4,
            ("方磊", MemberState.APPROVED, False, True),
            ("唐军", MemberState.SUBMITTED, True, True),
            (LONG, MemberState.PENDING, False, False),
            ("孟平", MemberState.OVERDUE, False, True),
        ),
    ]
    one = [_progress(1, ("方磊", MemberState.SUBMITTED, False, True))]
    texts = [
        timeline_text(plan),
        status_text(plan, many, now, platforms=PLATFORMS),
        status_text(plan, [], now, platforms=PLATFORMS),
        summary_text(plan, plan.phases[0], many, plan.phases[1], now, platforms=PLATFORMS),
        summary_text(plan, plan.phases[0], one, plan.phases[1], now, platforms=PLATFORMS),
        summary_text(plan, plan.phases[1], [], plan.phases[2], now, platforms=PLATFORMS),
        summary_text(plan, plan.phases[2], many, None, now, platforms=PLATFORMS),
        phases._phase_started_text(plan, plan.phases[0], [], PLATFORMS),
        phases._phase_started_text(plan, plan.phases[0], ["孟平", LONG], PLATFORMS),
        phases._phase_started_text(plan, plan.phases[0], ["孟平"], ("wecom",)),
        phases._phase_started_text(plan, plan.phases[0], ["孟平"], ("telegram",)),
        phases._phase_started_text(plan, plan.phases[1], [], PLATFORMS),
    ]
    texts += [received_text(t, f) for t, f in ((0, 0), (1, 0), (0, 1), (3, 12))]
    for survey in plan.surveys:
        closes = now + timedelta(days=5)
        for ballots, counts in ((2, None), (12, "many"), (1, "one")):
            result = None
            if counts is not None:
                split = [[ballots] + [0] * (len(survey.scale) - 1) for _item in survey.items]
                rate = 1.0 if survey.pass_choices else None
                result = {"ballots": ballots, "counts": split, "rate": rate, "passed": True}
                if ballots < survey.min_ballots:
                    result["passed"] = False
            survey_round = SurveyRound(1, 1, survey.id, 1, "closed", now, closes, now, result, None)
            texts.append(results.result_text(survey, survey_round))
        open_round = SurveyRound(2, 1, survey.id, 2, "open", now, closes, None, None, None)
        texts.append(results.result_text(survey, open_round))
        texts.append(surveys._opened_text(plan, survey, open_round, 8, [], list(PLATFORMS)).text)
        texts.append(
            surveys._opened_text(plan, survey, open_round, 8, ["孟平", LONG], list(PLATFORMS)).text
        )
        texts.append(surveys.cast_prompt(survey, open_round).text)
    return texts


def _plan_strings() -> list[str]:
    """Every text the plan itself holds (titles, names, descriptions), longest first."""
    from bot.plan.export import plan_to_data

    found: set[str] = {LONG, "方磊", "唐军", "孟平"}

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(plan_to_data(load_plan(SHIPPED)))
    return sorted(found, key=len, reverse=True)


def test_composed_messages_read_clean_in_english() -> None:
    with use_locale("en"):
        texts = _english_texts()
    strings = _plan_strings()
    found = []
    for text in texts:
        prose = text
        for value in strings:
            prose = prose.replace(value, " ")
        found += [f"{p}: {text[:160]!r}" for p in problems(text, "en", prose=prose)]
    assert found == []


def test_composed_messages_read_clean_in_chinese() -> None:
    with use_locale("zh_CN"):
        texts = _english_texts()
    found = [f"{p}: {t[:160]!r}" for t in texts for p in problems(t, "zh_CN")]
    assert found == []


# --- the audit itself can fail ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale", "problem"),
    [
        ("正在提交“测评”。请发送无需上传材料，完成后确认即可；", "zh_CN", "glued"),
        ("1项均已作答。请按“投出选票”提交。", "zh_CN", "one counted as all"),
        ("组织学习——截止\n  已提交：方磊\n  逾期提交：方磊", "zh_CN", "listed under two states"),
        ("“会议进行阶段”小结\n共0项任务，已完成0项。", "zh_CN", "zero count"),
        ("要求80.0%：未达到。", "zh_CN", ".0"),
        ("总体比率（满意 + 基本满意）：60%", "zh_CN", "ASCII '+'"),
        ("会议（截止2013年12月31日（周二））", "zh_CN", "nested"),
        ("截止时间：2013年12月6日（周五）（还剩3天）", "zh_CN", "adjacent"),
        ("已提交：（）", "zh_CN", "empty slot"),
        ("已提交。。", "zh_CN", "doubled"),
        ("截止日2027年3月29日 周一不是工作日", "zh_CN", "glued"),
        ("请发送 /start 以便接收 tasks", "zh_CN", "English word 'tasks'"),
        ("Due {due}", "en", "unfilled"),
        ("Due 2013年12月6日", "en", "Chinese"),
    ],
)
def test_the_audit_finds_what_a_reader_notices(text: str, locale: str, problem: str) -> None:
    assert any(problem in found for found in problems(text, locale)), problems(text, locale)


def test_the_audit_passes_what_reads_well() -> None:
    good = "组织学习——截止时间：2013年12月6日 周五（还剩3天）\n  已提交：方磊（逾期）、唐军"
    assert problems(good, "zh_CN") == []
    assert problems("Send /start to WeCom or Telegram; see HUIWU_DB.", "en") == []
    assert problems("请发送 /start；设置 HUIWU_DB 和 WECOM_SECRET，文件为 .docx。", "zh_CN") == []
