"""Cutting texts for WeCom (2,048 UTF-8 bytes a message) and Telegram (4,096 characters)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.wecom.messenger import MAX_TEXT_BYTES, text_parts, utf8_size
from bot.core.formatting import split_text

texts = st.text(
    alphabet=st.sampled_from(["会", "务", "a", " ", "\n", "😀", "，"]), min_size=0, max_size=3000
)


@given(texts, st.integers(min_value=4, max_value=300))
def test_parts_fit_and_nothing_is_lost(text: str, limit: int) -> None:
    parts = split_text(text, limit, utf8_size)
    assert "".join(parts) == text
    assert all(utf8_size(part) <= limit for part in parts)


def test_a_long_chinese_summary_goes_in_parts_cut_at_line_ends() -> None:
    lines = [f"第{i}项任务——已提交：方磊、唐军、孟平、党组书记" for i in range(100)]
    text = "\n".join(lines)
    parts = text_parts(text)
    assert len(parts) > 1
    assert all(utf8_size(part) <= MAX_TEXT_BYTES for part in parts)
    assert all(part.endswith("\n") for part in parts[:-1])  # whole lines
    assert "".join(parts) == text
