"""/export: the organizer gets the meeting report, the tables and the .zip with every file
handed in, as files in private. A .zip too large for a chat is left to ``huiwu export``."""

from __future__ import annotations

import asyncio
import tempfile

from bot.core.i18n import N_, _
from bot.core.messaging import OutgoingFile, OutgoingMessage
from bot.delivery import progress
from bot.plan import Role
from bot.reports.bundle import ZIP, write_bundle
from bot.reports.export import export_documents
from handlers.context import HandlerContext
from handlers.routing import ORGANIZER, PRIVATE, Router

# The smaller of what a bot may send: WeCom takes files up to 20 MB, Telegram 50 MB.
CHAT_FILE_LIMIT = 20 * 1024 * 1024


async def export(ctx: HandlerContext) -> None:
    organizer_of = ctx.memberships_with(Role.ORGANIZER)
    if ctx.event.args and ctx.event.args[0].isdigit():
        organizer_of = [m for m in organizer_of if m.instance_id == int(ctx.event.args[0])]
    if not organizer_of:
        ctx.reply(_("I found no plan of yours with that number."))
        return
    instance_id = organizer_of[0].instance_id
    note = _("Preparing the documents…")
    async with progress.working(ctx.app, ctx.event, progress.UPLOADING_DOCUMENT, note):
        files = await export_documents(ctx.app, instance_id)
        # Spooled: in memory up to the chat's limit, on disk beyond it (then not sent).
        with tempfile.SpooledTemporaryFile(max_size=CHAT_FILE_LIMIT) as buffer:
            summary = await write_bundle(ctx.app, instance_id, files, buffer)
            size = buffer.tell()
            bundle = None
            if size <= CHAT_FILE_LIMIT:
                buffer.seek(0)
                bundle = OutgoingFile(summary.name, await asyncio.to_thread(buffer.read), ZIP)
    sent = [*files, bundle] if bundle else files
    ctx.reply(_("Here are the documents of the plan ({count} files).").format(count=len(sent)))
    for file in sent:
        ctx.reply_message(OutgoingMessage(file.name, file=file))
    if bundle is None:
        ctx.reply(
            _(
                "The .zip with every file handed in is {size} MB, more than a chat carries; "
                "on the server, `huiwu export {id} --out DIR` writes it."
            ).format(size=f"{size / 2**20:.1f}", id=instance_id)
        )


router = Router()
router.command(
    "export",
    N_(
        "the meeting report, the ledger and the progress table, and a .zip with every file handed in (organizer)"
    ),
    PRIVATE,
    ORGANIZER,
    export,
    keywords=("导出",),
    takes_args=True,
)
