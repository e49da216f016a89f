"""The ``huiwu`` command line: plans, running the bot, the demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.config import SETTINGS_HELP, ConfigError, Settings, configured_locale, load_settings
from bot.core.i18n import _, ngettext, set_default_locale, use_locale
from bot.plan import PlanError, load_plan
from bot.plan.export import plan_to_data
from bot.run import logs
from bot.run.cli_language import argparse_in_current_locale
from bot.run.failures import OperatorError, open_database
from bot.tasks.texts import timeline_text
from storage.private_files import replace_private

if TYPE_CHECKING:
    from bot.adapters.wecom.client import WeComClient
    from bot.run.runtime import BoardOptions, RobotOptions, TelegramOptions, WeComOptions

EXIT_INVALID = 2
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("huiwu")
    except PackageNotFoundError:
        return "unknown"


def _settings_epilog() -> str:
    lines = [_("settings (environment variables, or lines NAME=value in ./.env):")]
    lines += [f"  {name:<22} {_(text)}" for name, text in SETTINGS_HELP]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    """The command line, its help in the current locale (call it inside
    ``argparse_in_current_locale()`` for argparse's own words)."""
    parser = argparse.ArgumentParser(
        prog="huiwu",
        description=_("Huiwu: run a meeting work plan on Telegram and WeCom."),
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"huiwu {_version()}",
        help=_("show the version number and exit"),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar=_("COMMAND"))

    plan = commands.add_parser(
        "plan",
        help=_("check, load or import a plan"),
        description=_("Check, load or import a plan."),
    ).add_subparsers(dest="plan_command", required=True, metavar=_("COMMAND"))
    check = plan.add_parser(
        "check",
        help=_("validate a plan and print its timeline"),
        description=_("Validate a plan and print its timeline."),
    )
    check.add_argument("file", help=_("the plan (.toml)"))
    check.add_argument("--json", action="store_true", help=_("print the normalised plan as JSON"))
    load = plan.add_parser(
        "load",
        help=_("store a plan in the database as a new plan instance"),
        description=_("Store a plan in the database as a new plan instance."),
    )
    load.add_argument("file", help=_("the plan (.toml), checked first"))
    imp = plan.add_parser(
        "import",
        help=_("turn a work-plan document (.txt / .docx) into a plan"),
        description=_("Turn a work-plan document (.txt / .docx) into a plan."),
    )
    imp.add_argument(
        "file",
        help=_("the work-plan document (.txt in UTF-8 or GB18030, or .docx)"),
    )
    imp.add_argument(
        "-o",
        "--output",
        required=True,
        help=_("where to write the plan (.toml)"),
    )
    imp.add_argument(
        "--roster",
        help=_("a TOML file with [[roster]] entries to match names against"),
    )

    commands.add_parser(
        "run",
        help=_("run the bot on every platform whose settings are present"),
        description=_(
            "Run the bot on every platform whose settings are present. Telegram long-polls,"
            " or with HUIWU_WEBHOOK_URL takes its webhook at the path /telegram on"
            " HUIWU_HTTP_HOST:HUIWU_HTTP_PORT (point HUIWU_WEBHOOK_URL at .../telegram);"
            " WeCom's callback is HUIWU_WECOM_PATH on the same address. SIGTERM or Ctrl-C stops it."
        ),
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    wecom = commands.add_parser(
        "wecom", help=_("WeCom set-up"), description=_("WeCom set-up.")
    ).add_subparsers(dest="wecom_command", required=True, metavar=_("COMMAND"))
    chat = wecom.add_parser(
        "create-chat",
        help=_("create the plan's WeCom group chat (or bind one the app created)"),
        description=_("Create the plan's WeCom group chat (or bind one the app created)."),
    )
    chat.add_argument(
        "--plan",
        type=int,
        help=_("plan instance number (default: the newest)"),
    )
    chat.add_argument("--chatid", help=_("bind this existing chat instead of creating one"))
    backup = commands.add_parser(
        "backup",
        help=_("copy the database (safe while the bot runs)"),
        description=_("Copy the database (safe while the bot runs)."),
    )
    backup.add_argument("out", help=_("the backup file to write"))
    export = commands.add_parser(
        "export",
        help=_("a plan instance's documents, or all its data as JSON"),
        description=_("Write a plan instance's documents, or all its data as JSON."),
    )
    export.add_argument("instance", type=int, help=_("the plan instance number"))
    export.add_argument("--out", help=_("the folder for the .docx / .xlsx files (and the JSON)"))
    export.add_argument("--json", action="store_true", help=_("all the instance's data as JSON"))
    restore = commands.add_parser(
        "restore",
        help=_("restore a backup file, or add a plan instance from its JSON export"),
        description=_("Restore a backup file, or add a plan instance from its JSON export."),
    )
    restore.add_argument("file", help=_("a backup file (from huiwu backup) or a JSON export"))
    restore.add_argument("--force", action="store_true", help=_("replace an existing database"))

    link = commands.add_parser(
        "board-link",
        help=_("a one-time link that opens a plan's board in a browser (10 minutes)"),
        description=_(
            "Print a one-time link that opens a plan's board in a browser (valid for 10 minutes)."
        ),
    )
    link.add_argument("instance", type=int, help=_("the plan instance number"))
    link.add_argument(
        "--member",
        help=_("whose board (member id in the plan; default: the organizer)"),
    )

    demo = commands.add_parser(
        "demo",
        help=_("run the seed plan end to end on the built-in emulator"),
        description=_("Run the seed plan end to end on the built-in emulator."),
    )
    demo.add_argument(
        "--platform",
        choices=["telegram", "wecom"],
        default="telegram",
        help=_("which platform's emulator (default: telegram)"),
    )
    demo.add_argument("--quiet", action="store_true", help=_("print only the summary figures"))
    return parser


def main(argv: list[str] | None = None) -> int:
    # The help, argparse's errors and errors in the settings themselves are told in the
    # language HUIWU_LOCALE names (environment, then .env), zh_CN when it names none.
    set_default_locale(configured_locale())
    with argparse_in_current_locale():
        args = _parser().parse_args(argv)
    # Everything huiwu writes (database, backups, exports) is for its owner only.
    os.umask(0o077)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(_("Configuration error: {error}").format(error=exc), file=sys.stderr)
        return EXIT_INVALID
    set_default_locale(settings.locale)
    _configure_logging(settings)
    try:
        return _command(args, settings)
    except OperatorError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130


def _configure_logging(settings: Settings) -> None:
    logs.configure(settings.log_level, settings.secrets())
    # Every request and every rescheduled wake-up would otherwise fill the log at INFO.
    for chatty in ("httpx", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "plan":
        if args.plan_command == "check":
            return _plan_check(args.file, as_json=args.json)
        if args.plan_command == "load":
            return asyncio.run(_plan_load(settings, args.file))
        return _plan_import(args.file, args.output, args.roster)
    if args.command == "run":
        return asyncio.run(_run(settings))
    if args.command == "board-link":
        return asyncio.run(_board_link(settings, args.instance, args.member))
    if args.command in ("backup", "export", "restore"):
        from bot.run import cli_data

        if args.command == "backup":
            return asyncio.run(cli_data.backup(settings, args.out))
        if args.command == "export":
            return asyncio.run(cli_data.export(settings, args.instance, args.out, args.json))
        return asyncio.run(cli_data.restore(settings, args.file, args.force))
    if args.command == "wecom":
        return asyncio.run(_wecom_create_chat(settings, args.plan, args.chatid))
    if args.platform == "wecom":
        from bot.sandbox.demo.wecom import run_wecom_demo

        return asyncio.run(run_wecom_demo(quiet=args.quiet))
    from bot.sandbox.demo.telegram import run_demo

    return asyncio.run(run_demo(quiet=args.quiet))


def _print_plan_error(exc: PlanError) -> None:
    for problem in exc.problems:
        print(
            _("{file}: error: {problem}").format(file=exc.source, problem=problem), file=sys.stderr
        )
    for warning in exc.warnings:
        print(
            _("{file}: warning: {problem}").format(file=exc.source, problem=warning),
            file=sys.stderr,
        )


def _plan_check(file: str, *, as_json: bool) -> int:
    try:
        plan = load_plan(file)
    except PlanError as exc:
        _print_plan_error(exc)
        return EXIT_INVALID
    if as_json:
        print(json.dumps(plan_to_data(plan), ensure_ascii=False, indent=2))
    else:
        with use_locale(plan.locale):  # the timeline in the plan's own language
            print(timeline_text(plan))
    for warning in plan.warnings:
        print(_("{file}: warning: {problem}").format(file=file, problem=warning), file=sys.stderr)
    return 0


def _plan_import(file: str, output: str, roster: str | None) -> int:
    from bot.plan.bounded_import import import_document_file
    from bot.plan.docx_limits import DocumentTooLarge
    from bot.plan.importer import PlanImportError
    from bot.run.failures import os_error_text

    try:  # in a child process with a time and memory limit, as a document sent in chat
        result = import_document_file(file, roster_path=roster)
    except DocumentTooLarge as exc:
        print(
            _("{file}: error: the document is too large or too complex to read: {reason}").format(
                file=file, reason=exc.reason()
            ),
            file=sys.stderr,
        )
        return EXIT_INVALID
    except PlanImportError as exc:
        print(_("error: {problem}").format(problem=exc), file=sys.stderr)
        return EXIT_INVALID
    try:
        replace_private(Path(output), result.toml_text.encode("utf-8"))  # names and accounts
    except OSError as exc:
        print(_("error: {problem}").format(problem=os_error_text(output, exc)), file=sys.stderr)
        return EXIT_INVALID
    for issue in result.warnings:
        print(
            _("{file}:{line}: warning: {problem} — {text}").format(
                file=file, line=issue.line, problem=issue.message, text=issue.text
            ),
            file=sys.stderr,
        )
    for name in result.new_members:
        print(
            _("{file}: new roster entry to complete: {name}").format(file=file, name=name),
            file=sys.stderr,
        )
    print(_("Wrote {output}; check it with: huiwu plan check {output}").format(output=output))
    return 0


async def _plan_load(settings: Settings, file: str) -> int:
    from bot.plan.loading import store_plan
    from storage import instances

    try:
        plan = load_plan(file)
    except PlanError as exc:
        _print_plan_error(exc)
        return EXIT_INVALID
    text = await asyncio.to_thread(Path(file).read_text, encoding="utf-8")
    clock = settings.make_clock()
    db = await open_database(settings.db_path)
    try:
        async with db.transaction() as conn:
            instance_id = await store_plan(conn, plan, text, loaded_by="cli", now=clock.now())
            codes = []
            for member in await instances.members_of(db, instance_id):
                identities = await instances.identities_of(db, member.id)
                if not any(i.platform == "telegram" for i in identities):
                    codes.append(
                        (member.name, await instances.create_invite(conn, member.id, clock.now()))
                    )
    finally:
        await db.close()
    print(
        _("Loaded “{plan}” as plan instance {id} into {db}.").format(
            plan=plan.title, id=instance_id, db=settings.db_path
        )
    )
    if codes:
        print(
            _(
                "Telegram invite codes (each person sends /start CODE to the bot, or opens https://t.me/<bot>?start=CODE):"
            )
        )
        for name, code in codes:
            print(f"  {name}: {code}")
    print(
        _(
            "Then add the bot to the plan's group and send /setup {id} there as the organizer."
        ).format(id=instance_id)
    )
    wecom_members = [m for m in plan.members if m.wecom_userid]
    if settings.wecom_enabled and wecom_members:
        print(
            ngettext(
                "On WeCom the member with a wecom_userid needs no invite; create the plan's group chat with: huiwu wecom create-chat --plan {id}",
                "On WeCom the {count} members with a wecom_userid need no invite; create the plan's group chat with: huiwu wecom create-chat --plan {id}",
                len(wecom_members),
            ).format(count=len(wecom_members), id=instance_id)
        )
    return 0


def _wecom_client(settings: Settings) -> WeComClient:
    from bot.adapters.wecom.client import WeComClient

    return WeComClient(
        corp_id=settings.wecom_corp_id or "",
        corp_secret=settings.wecom_secret or "",
        agent_id=settings.wecom_agent_id or 0,
        api_base_url=settings.wecom_api_base_url,
    )


async def _wecom_create_chat(settings: Settings, plan: int | None, chatid: str | None) -> int:
    from bot.adapters.wecom.client import WeComSendError
    from bot.adapters.wecom.group_chat import ChatSetupError, create_or_bind_chat

    if not settings.wecom_enabled:
        print(
            _("WeCom is not configured: set the WECOM_* settings (see .env.example)."),
            file=sys.stderr,
        )
        return EXIT_INVALID
    db = await open_database(settings.db_path)
    try:
        async with _wecom_client(settings) as client:
            bound = await create_or_bind_chat(
                db, client, settings.make_clock(), instance_id=plan, chatid=chatid
            )
    except (ChatSetupError, WeComSendError) as exc:
        print(_("Error: {error}").format(error=exc), file=sys.stderr)
        return EXIT_INVALID
    finally:
        await db.close()
    message = (
        ngettext(
            "Created the WeCom group chat {chatid} for plan instance {id} with {count} member.",
            "Created the WeCom group chat {chatid} for plan instance {id} with {count} members.",
            len(bound.members),
        )
        if bound.created
        else _("Bound the WeCom group chat {chatid} to plan instance {id}.")
    )
    print(message.format(chatid=bound.chatid, id=bound.instance_id, count=len(bound.members)))
    return 0


async def _board_link(settings: Settings, instance_id: int, member_key: str | None) -> int:
    """Print a one-time board link for a member (the plan's organizer by default)."""
    from bot.board.links import one_time_link
    from bot.plan import Role
    from storage import instances
    from storage.db import Database

    if not settings.board_url:
        print(_("Set HUIWU_BOARD_URL (where the board is reached) first."), file=sys.stderr)
        return EXIT_INVALID
    db = await Database.open(settings.db_path)
    try:
        members = await instances.members_of(db, instance_id)
        chosen = next(
            (
                m
                for m in members
                if (m.member_key == member_key if member_key else Role.ORGANIZER.value in m.roles)
            ),
            None,
        )
        if chosen is None:
            print(
                _("Plan instance {id} has no member {member}.").format(
                    id=instance_id, member=member_key or Role.ORGANIZER.value
                ),
                file=sys.stderr,
            )
            return EXIT_INVALID
        identities = await instances.identities_of(db, chosen.id)
        if not identities:
            print(
                _("{name} has not opened the bot yet, so the board cannot act as them.").format(
                    name=chosen.name
                ),
                file=sys.stderr,
            )
            return EXIT_INVALID
        identity = identities[0]
        link = await one_time_link(
            db,
            settings.board_url,
            identity.platform,
            identity.user_id,
            instance_id,
            settings.make_clock().now(),
        )
    finally:
        await db.close()
    print(link)
    return 0


async def _run(settings: Settings) -> int:
    from bot.run.lock import DatabaseInUse, DatabaseLock
    from bot.run.runtime import BoardOptions, TelegramOptions, WeComOptions

    if not settings.telegram_enabled and not settings.wecom_enabled:
        print(
            _(
                "No platform is configured: set TELEGRAM_BOT_TOKEN and/or the WECOM_* settings (see .env.example)."
            ),
            file=sys.stderr,
        )
        return EXIT_INVALID
    telegram = None
    if settings.telegram_enabled:
        telegram = TelegramOptions(
            token=settings.telegram_token or "",
            base_url=settings.telegram_api_base_url,
            webhook_url=settings.webhook_url,
            webhook_secret=settings.webhook_secret,
            listen_host=settings.http_host,
            listen_port=settings.http_port,
        )
    wecom = None
    if settings.wecom_enabled:
        wecom = WeComOptions(
            corp_id=settings.wecom_corp_id or "",
            agent_id=settings.wecom_agent_id or 0,
            secret=settings.wecom_secret or "",
            token=settings.wecom_token or "",
            aes_key=settings.wecom_aes_key or "",
            api_base_url=settings.wecom_api_base_url,
            listen_host=settings.http_host,
            listen_port=settings.http_port,
            path=settings.wecom_path,
            robot=_robot_options(settings),
        )
    board = None
    if settings.board_url:
        board = BoardOptions(
            settings.board_url, listen_host=settings.http_host, listen_port=settings.http_port
        )
    lock = None
    try:
        lock = DatabaseLock.take(settings.db_path)
    except OSError:
        pass  # no folder, no rights: opening the database tells the operator, as before
    except DatabaseInUse as exc:
        print(
            _(
                "Another Huiwu (process {pid}) is running on {db}: stop it first, or give this one its own HUIWU_DB."
            ).format(pid=exc.holder or "?", db=settings.db_path),
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        return await _run_locked(settings, telegram, wecom, board)
    finally:
        if lock is not None:
            lock.release()


async def _run_locked(
    settings: Settings,
    telegram: TelegramOptions | None,
    wecom: WeComOptions | None,
    board: BoardOptions | None,
) -> int:
    from bot.run.runtime import Runtime

    runtime = Runtime(
        str(settings.db_path),
        settings.make_clock(),
        settings.locale,
        telegram=telegram,
        wecom=wecom,
        plan_loaders=settings.plan_loaders,
        quotas=settings.quotas,
        board=board,
        retention_days=settings.retention_days,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    # A stop while starting (still trying to reach a platform) cancels the start, which
    # closes what it opened.
    starting = asyncio.create_task(runtime.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return 0
    stopping.cancel()
    starting.result()  # an OperatorError is told by main()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


def _robot_options(settings: Settings) -> RobotOptions | None:
    from bot.run.runtime import RobotOptions

    if not settings.wecom_robot_enabled:
        return None
    return RobotOptions(
        bot_id=settings.wecom_bot_id,
        secret=settings.wecom_bot_secret,
        gateway_url=settings.wecom_bot_gateway_url,
        token=settings.wecom_bot_token,
        aes_key=settings.wecom_bot_aes_key,
        path=settings.wecom_bot_path,
    )


if __name__ == "__main__":
    sys.exit(main())
