"""Charts with Chinese labels render as glyphs with the bundled font: a PNG of the fixed
size, ink where the labels are, and no "missing glyph" warning from matplotlib."""

from __future__ import annotations

import io
import warnings
from datetime import date

import numpy as np
import pytest
from matplotlib import font_manager
from PIL import Image

from bot.reports import charts
from bot.reports.fonts import FAMILY, cjk_font_path, ensure_cjk_font

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TASKS = ["组织学习", "征求意见", "撰写剖析材料"]


def _render_without_glyph_warnings(draw: object, *args: object) -> Image.Image:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw(*args)  # type: ignore[operator]
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    assert image.size == (charts.WIDTH, charts.HEIGHT)
    return image.convert("L")


def _dark(image: Image.Image) -> np.ndarray:
    return np.asarray(image) < 128


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Dark pixels in a region."""
    return int(_dark(image.crop(box)).sum())


def _outside_the_axes(image: Image.Image) -> tuple[int, int]:
    """Dark pixels left of the axes' left spine (the task labels) and above its top spine
    (the title); the spines are the first column and row that are dark for most of their
    length."""
    dark = _dark(image)
    height, width = dark.shape
    left = next(x for x in range(width) if dark[:, x].sum() > height * 0.5)
    top = next(y for y in range(height) if dark[y, :].sum() > width * 0.5)
    return int(dark[:, : left - 8].sum()), int(dark[: top - 8, :].sum())


def test_the_bundled_font_is_found_without_system_fonts() -> None:
    assert ensure_cjk_font() == FAMILY
    path = font_manager.findfont(
        font_manager.FontProperties(family=FAMILY), fallback_to_default=False
    )
    assert path == str(cjk_font_path())
    assert cjk_font_path().stat().st_size > 10_000_000  # the whole collection, not a subset


def test_a_progress_chart_draws_its_chinese_labels() -> None:
    image = _render_without_glyph_warnings(
        charts.stacked_bars,
        "会前准备阶段任务进度",
        TASKS,
        [("已通过", "#2e7d32", [1, 0, 2]), ("已逾期", "#c62828", [0, 1, 1])],
        "人数",
    )
    # The task names stand left of the bars, the title above them.
    labels, title = _outside_the_axes(image)
    assert labels > 300
    assert title > 100


def test_blank_labels_leave_no_ink_where_labels_would_be() -> None:
    """The control for the test above: the label area is only inked by labels."""
    image = _render_without_glyph_warnings(
        charts.stacked_bars, "", [" ", " ", " "], [("", "#2e7d32", [1, 0, 2])], ""
    )
    assert _outside_the_axes(image) == (0, 0)


def test_a_survey_chart_and_the_completion_chart_render() -> None:
    image = _render_without_glyph_warnings(
        charts.survey_chart,
        "民主生活会现场民主测评",
        ["会前准备情况", "会议召开情况"],
        ["好", "较好", "一般", "差"],
        {"会前准备情况": {"好": 2, "较好": 1}, "会议召开情况": {"一般": 1}},
        "票数",
    )
    assert _ink(image, (100, charts.HEIGHT - 40, 900, charts.HEIGHT)) > 100  # item names
    image = _render_without_glyph_warnings(
        charts.completion_chart,
        "整改台账完成情况",
        [(date(2014, 1, 5), 0.0), (date(2014, 1, 20), 0.25), (date(2014, 3, 1), 0.5)],
        "完成率",
    )
    assert _outside_the_axes(image)[1] > 100  # the title


def test_a_missing_glyph_would_be_noticed() -> None:
    """The warning the tests look for is what matplotlib says for a character no font has."""
    with pytest.warns(UserWarning, match="missing from font"):
        charts.stacked_bars("\U000f0000", ["x"], [("a", "#000000", [1])], "")


def test_the_ledger_chart_draws_its_states_with_local_dates() -> None:
    from bot.core.i18n import use_locale
    from bot.reports.plan_charts import ledger_chart

    states = [
        (date(2014, 1, 5), 0, 0, 0, 4),
        (date(2014, 1, 20), 1, 2, 0, 4),
        (date(2014, 3, 1), 1, 2, 1, 4),
    ]
    with use_locale("zh_CN"):
        image = _render_without_glyph_warnings(ledger_chart, "整改台账推进情况", states, None)
    labels, title = _outside_the_axes(image)
    assert title > 100 and labels > 50  # the title, and the counts on the left axis
    # Green (done), amber (in progress) and red (overdue) bands are all drawn.
    colours = np.asarray(Image.open(io.BytesIO(ledger_chart("", states, None))).convert("RGB"))
    for rgb in ((0x2E, 0x7D, 0x32), (0xFF, 0xB3, 0x00), (0xC6, 0x28, 0x28)):
        assert (np.abs(colours.astype(int) - rgb).sum(axis=2) < 30).sum() > 500, rgb
