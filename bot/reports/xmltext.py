"""Text as the XML inside .docx and .xlsx files can hold it.

XML 1.0 has no place for most control characters: lxml refuses a ``\\x0b`` pasted from Word
(Word's manual line break) or a NUL in a file name, and one such character would stop a whole
document from being written. The writers pass every text through ``xml_text``; the database
keeps what was handed in as it was.
"""

from __future__ import annotations

import re

# Word writes a manual line break as \x0b and a page break as \x0c: both read as a new line.
_LINE_BREAKS = re.compile("[\x0b\x0c]")
# What else XML 1.0 cannot hold: C0 controls but tab, newline and carriage return; lone
# surrogates (not characters at all); U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with what XML cannot hold removed (Word's breaks become new lines)."""
    return _NOT_XML.sub("", _LINE_BREAKS.sub("\n", text))
