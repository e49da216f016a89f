"""A CJK font for charts, so Chinese renders as glyphs, not boxes, on any machine.

The font comes from the ``noto-cjk-sans-otc`` package (Noto Sans CJK, SIL OFL 1.1; a
15.5 MB wheel holding the 19.5 MB NotoSansCJK-Regular.ttc), a dependency of Huiwu, so a
plain ``pip install`` brings it; no system font is needed. matplotlib reads every face of
the collection; the Simplified Chinese one is used, DejaVu Sans (shipped with matplotlib)
after it for Latin text.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

from matplotlib import font_manager

FAMILY = "Noto Sans CJK SC"
FALLBACK = "DejaVu Sans"
_PACKAGE = "noto_cjk_sans_otc"
_FILE = "NotoSansCJK-Regular.ttc"

_lock = threading.Lock()
_registered = False


def cjk_font_path() -> Path:
    return Path(str(resources.files(_PACKAGE).joinpath(_FILE)))


def ensure_cjk_font() -> str:
    """Register the bundled font with matplotlib (once); returns its family name."""
    global _registered
    with _lock:
        if not _registered:
            if FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
                font_manager.fontManager.addfont(str(cjk_font_path()))
            _registered = True
    return FAMILY


def chart_rc() -> dict[str, Any]:
    """The matplotlib settings every chart is drawn with."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [ensure_cjk_font(), FALLBACK],
        "axes.unicode_minus": False,
    }
