"""Prunes what is no longer needed (``storage.retention``) once at start-up and then daily,
as ``HUIWU_RETENTION_DAYS`` says, and deletes the kept files nothing refers to any more
(``storage.file_refs.sweep``: what a crash between a commit and its deletion left, and the
files of the drafts pruned)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.core.app import Huiwu
from storage import file_refs, retention

logger = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(days=1)
RETRY_SECONDS = 600.0


async def prune_daily(app: Huiwu, days: int) -> None:
    """Run until cancelled: prune now, then every day of the app's clock."""
    while True:
        now = app.clock.now()
        try:
            pruned = await retention.prune(app.db, now, days)
        except Exception:
            logger.exception("pruning old rows failed; trying again later")
            await asyncio.sleep(RETRY_SECONDS)
            continue
        if any(pruned.values()):
            logger.info("pruned rows older than %d days: %s", days, pruned)
        await sweep_files(app)
        wait = app.clock.real_seconds_until(now + PRUNE_EVERY)
        await asyncio.sleep(min(wait, 86_400.0))


async def sweep_files(app: Huiwu, *, at_start: bool = False) -> int:
    """Delete the kept files nothing refers to; a failure is logged and left for next time."""
    try:
        removed = await file_refs.sweep(app.db, app.files, at_start=at_start)
    except Exception as exc:
        logger.warning("could not sweep the files folder (trying again later): %s", exc)
        return 0
    if removed:
        logger.info("deleted %d kept file(s) nothing refers to any more", removed)
    return removed
