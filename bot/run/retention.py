"""Prunes what is no longer needed (``storage.retention``) once at start-up and then daily,
as ``HUIWU_RETENTION_DAYS`` says."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.core.app import Huiwu
from storage import retention

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
        wait = app.clock.real_seconds_until(now + PRUNE_EVERY)
        await asyncio.sleep(min(wait, 86_400.0))
