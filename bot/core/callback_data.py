"""Typed button data: one class per kind of button, packed into the string a platform carries
(Telegram's ``callback_data``, a WeCom card button's key) and parsed back in one place.

Modelled on aiogram's ``CallbackData``: a frozen dataclass with a ``prefix``; ``pack()`` writes
``prefix:field:field``, ``unpack()`` returns an instance or None for anything else. Fields are
``int`` (decimal digits, below ``MAX_NUMBER``: a forged 40-digit id is refused, not overflowed),
``str`` (no ":"), or a ``Literal`` of allowed words. Trailing fields left at their default are
not written, so ``review:ok:7`` and ``review:ok:7:list`` are one kind.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, ClassVar, Literal, Self, get_args, get_origin

SEPARATOR = ":"
MAX_BYTES = 64  # Telegram's limit for callback_data
MAX_NUMBER = 2**53  # beyond any row id; SQLite integers end at 2**63


class CallbackData:
    """Base of every button's data; subclasses are frozen dataclasses with a ``prefix``."""

    prefix: ClassVar[str]
    _converters: ClassVar[tuple[tuple[str, Any, Any], ...]]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.prefix = prefix

    @classmethod
    def _fields(cls) -> tuple[tuple[str, Any, Any], ...]:
        """(name, type, default) per field, resolved once per class."""
        cached = cls.__dict__.get("_converters")
        if cached is None:
            hints = typing.get_type_hints(cls)
            cached = tuple(
                (f.name, hints[f.name], f.default)
                for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            )
            cls._converters = cached
        return cached

    def pack(self) -> str:
        """The string the button carries."""
        values = [(getattr(self, name), default) for name, _type, default in self._fields()]
        while values and values[-1][0] == values[-1][1]:
            values.pop()
        parts = [self.prefix, *(str(value) for value, _default in values)]
        data = SEPARATOR.join(parts)
        if any(SEPARATOR in str(value) for value, _default in values):
            raise ValueError(f"a field of {data!r} holds the separator")
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: str) -> Self | None:
        """The button data as this kind, or None when it is not of this kind or malformed."""
        if data == cls.prefix:
            parts: list[str] = []
        elif data.startswith(cls.prefix + SEPARATOR):
            parts = data[len(cls.prefix) + 1 :].split(SEPARATOR)
        else:
            return None
        fields = cls._fields()
        required = sum(1 for _n, _t, default in fields if default is dataclasses.MISSING)
        if not required <= len(parts) <= len(fields):
            return None
        values: dict[str, Any] = {}
        for (name, kind, _default), part in zip(fields, parts, strict=False):
            value = _convert(kind, part)
            if value is None:
                return None
            values[name] = value
        return cls(**values)


def _convert(kind: Any, part: str) -> Any:
    if kind is int:
        if not part.isascii() or not part.isdigit() or len(part) > 16:
            return None
        number = int(part)
        return number if number < MAX_NUMBER else None
    if get_origin(kind) is Literal:
        return part if part in get_args(kind) else None
    if kind is str:
        return part
    raise TypeError(f"button data fields are int, str or Literal, not {kind!r}")
