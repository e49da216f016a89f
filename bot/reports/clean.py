"""Text and file names made safe for the documents we write, without touching what is stored.

Hand-ins carry what people paste: a vertical tab (\\x0b) is Word's manual line break, \\x0c its
page break, and NUL or other C0 controls arrive from broken clients. XML 1.0 (inside .docx and
.xlsx) forbids them, so python-docx refuses the string and openpyxl raises IllegalCharacterError;
the database keeps the original, and only what is written into a document is cleaned, here.
"""

from __future__ import annotations

import re
import unicodedata

# Word's manual line and page breaks, and carriage returns: line ends in the documents.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\u2028\u2029\x85]")
# What XML 1.0 does not allow (tab and newline it does), plus lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# Characters a file name may not carry on Windows, macOS or Linux, or inside a zip.
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in "123456789"
}
MAX_NAME_CHARS = 80  # a path inside the zip stays short enough for Windows' 260-character limit


def xml_text(text: str | None) -> str:
    """``text`` as a document may hold it: breaks become newlines, forbidden characters go."""
    if not text:
        return ""
    return _NOT_XML.sub("", _LINE_BREAKS.sub("\n", text))


def safe_file_name(name: str | None, fallback: str = "file") -> str:
    """One path component that cannot leave its folder: no separators, no "..", no controls,
    no names Windows reserves; the extension is kept when the name has to be shortened."""
    text = unicodedata.normalize("NFC", xml_text(name or "")).replace("\n", " ")
    text = _NOT_IN_NAMES.sub("_", text).strip().strip(".").strip()
    if not text:
        text = fallback
    stem, dot, extension = text.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        stem, dot, extension = text, "", ""
    if stem.split(".")[0].upper() in _RESERVED_NAMES:
        stem = f"_{stem}"
    room = MAX_NAME_CHARS - len(dot) - len(extension)
    return f"{stem[:room].rstrip() or fallback}{dot}{extension}"
