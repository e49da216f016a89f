"""A file error said in the current language (the operating system's text is English)."""

from __future__ import annotations

import errno

from bot.core.i18n import _


def os_error_reason(exc: OSError) -> str:
    """Why a file could not be read or written, as a short localised phrase."""
    reasons = {
        errno.ENOENT: _("no such file or folder"),
        errno.EACCES: _("permission denied"),
        errno.EPERM: _("permission denied"),
        errno.EISDIR: _("this is a folder, not a file"),
        errno.ENOTDIR: _("a part of the path is not a folder"),
        errno.ENOSPC: _("the disk is full"),
        errno.EEXIST: _("it exists already"),
        errno.EROFS: _("the file system is read-only"),
    }
    return reasons.get(exc.errno or -1) or exc.strerror or type(exc).__name__
