"""/export: the organizer gets the meeting report and the tables as files in private."""

from __future__ import annotations

from bot.core.i18n import N_, _
from bot.core.messaging import OutgoingMessage
from bot.delivery import progress
from bot.plan import Role
from bot.reports.export import export_documents
from handlers.context import HandlerContext
from handlers.routing import ORGANIZER, PRIVATE, Router


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
    ctx.reply(_("Here are the documents of the plan ({count} files).").format(count=len(files)))
    for file in files:
        ctx.reply_message(OutgoingMessage(file.name, file=file))


router = Router()
router.command(
    "export",
    N_("the meeting report, the ledger and the progress table as files (organizer)"),
    PRIVATE,
    ORGANIZER,
    export,
    keywords=("导出",),
    takes_args=True,
)
