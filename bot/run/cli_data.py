"""``huiwu backup``, ``huiwu export`` and ``huiwu restore``: the data's safety from the
command line (``bot.run.cli`` parses the arguments and calls these)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.core.app import Huiwu
from bot.core.config import Settings
from bot.core.i18n import _, ngettext, use_locale
from bot.core.messaging import OutgoingFile
from bot.reports.bundle import bundle_name, write_bundle
from bot.reports.export import export_documents
from bot.run.backup import BackupError, backup_database, is_sqlite_file, restore_database
from bot.run.failures import open_database, os_error_text
from bot.run.lock import DatabaseInUse, DatabaseLock
from bot.run.snapshot import SnapshotError, export_instance, restore_instance
from bot.run.snapshot_files import (
    MANIFEST,
    files_folder,
    read_manifest,
    relying_on,
    take_files,
    wanted_files,
    write_files,
)
from storage import instances
from storage.db import Database
from storage.files import FileStore
from storage.private_files import make_private_folder, open_private, write_private

EXIT_INVALID = 2


def _write(folder: str, name: str, content: bytes) -> Path:
    target = Path(folder) / name
    make_private_folder(target.parent)
    write_private(target, content)
    return target


def _error(message: str) -> int:
    print(_("error: {problem}").format(problem=message), file=sys.stderr)
    return EXIT_INVALID


async def backup(settings: Settings, out: str) -> int:
    try:
        info = await asyncio.to_thread(backup_database, Path(settings.db_path), Path(out))
    except BackupError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(os_error_text(out, exc))
    print(
        _("Backed up {db} to {out} ({size} bytes, schema version {version}, {rows} rows).").format(
            db=settings.db_path,
            out=out,
            size=info.size,
            version=info.schema_version,
            rows=sum(info.tables.values()),
        )
    )
    _warn_missing(info.missing_files, settings.db_path)
    return 0


def _warn_missing(count: int, db_path: str | Path) -> None:
    if count:
        print(
            ngettext(
                "warning: {count} file the database refers to was not in {folder}; it could not be carried along",
                "warning: {count} files the database refers to were not in {folder}; they could not be carried along",
                count,
            ).format(count=count, folder=FileStore.beside(db_path).root),
            file=sys.stderr,
        )


async def export(settings: Settings, instance_id: int, out: str | None, as_json: bool) -> int:
    if out is None and not as_json:
        return _error(_("give --out DIR for the documents, or --json"))
    db = await open_database(settings.db_path)
    try:
        return await _export(db, settings, instance_id, out, as_json)
    except SnapshotError as exc:  # a kept file whose bytes do not match its name
        return _error(str(exc))
    except OSError as exc:
        return _error(os_error_text(out or "", exc))
    finally:
        await db.close()


async def _export(
    db: Database, settings: Settings, instance_id: int, out: str | None, as_json: bool
) -> int:
    if await instances.get_instance(db, instance_id) is None:
        return _error(_("there is no plan instance {id}").format(id=instance_id))
    if as_json:
        live = FileStore.beside(settings.db_path)
        async with relying_on(live, create=False):  # the bot deletes none of them meanwhile
            snapshot = await export_instance(db, instance_id)
            wanted = wanted_files(snapshot)
            if out is None:
                sizes = {sha256: await _size(live, sha256) for sha256 in wanted}
                snapshot[MANIFEST] = {k: size for k, size in sizes.items() if size is not None}
                print(json.dumps(snapshot, ensure_ascii=False, indent=1))
                if wanted:
                    print(
                        ngettext(
                            "The plan has {count} file handed in, which standard output cannot carry: give --out DIR to export it with the JSON.",
                            "The plan has {count} files handed in, which standard output cannot carry: give --out DIR to export them with the JSON.",
                            len(wanted),
                        ).format(count=len(wanted)),
                        file=sys.stderr,
                    )
                return 0
            target = Path(out) / f"instance-{instance_id}.json"
            await asyncio.to_thread(make_private_folder, target.parent)
            if wanted:
                folder = files_folder(target)
                manifest, missing = await asyncio.to_thread(write_files, live, folder, wanted)
                print(_("Wrote {file}").format(file=folder))
                if missing:
                    print(
                        ngettext(
                            "warning: {count} file the plan refers to was not in {folder}; the export lists only the files found",
                            "warning: {count} files the plan refers to were not in {folder}; the export lists only the files found",
                            missing,
                        ).format(count=missing, folder=live.root),
                        file=sys.stderr,
                    )
            else:
                manifest = {}
        snapshot[MANIFEST] = manifest
        text = json.dumps(snapshot, ensure_ascii=False, indent=1)
        await asyncio.to_thread(_write, out, target.name, text.encode("utf-8"))
        print(_("Wrote {file}").format(file=target))
    if out is not None:
        app = Huiwu(db, settings.make_clock(), settings.locale)
        documents = await export_documents(app, instance_id)
        for file in documents:
            target = await asyncio.to_thread(_write, out, file.name, file.content)
            print(_("Wrote {file}").format(file=target))
        target = await _write_bundle(app, instance_id, documents, Path(out))
        print(_("Wrote {file}").format(file=target))
    return 0


async def _size(store: FileStore, sha256: str) -> int | None:
    try:
        return (await asyncio.to_thread(store.path_of(sha256).stat)).st_size
    except FileNotFoundError:
        return None


async def _write_bundle(
    app: Huiwu, instance_id: int, documents: list[OutgoingFile], folder: Path
) -> Path:
    """The .zip with everything, streamed to a temporary name and renamed when complete."""
    plan = await app.plans.get(instance_id)
    with use_locale(plan.locale):
        target = folder / bundle_name(plan.title)
    partial = target.with_name(target.name + ".part")
    await asyncio.to_thread(make_private_folder, folder)
    fd = await asyncio.to_thread(open_private, partial, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as stream:
        await write_bundle(app, instance_id, documents, stream)
    await asyncio.to_thread(partial.replace, target)
    return target


async def restore(settings: Settings, source: str, force: bool) -> int:
    path = Path(source)
    try:
        is_backup = await asyncio.to_thread(is_sqlite_file, path)
    except OSError as exc:
        return _error(os_error_text(source, exc))
    if is_backup:
        try:
            lock = DatabaseLock.take(settings.db_path)
        except DatabaseInUse as exc:
            return _error(
                _("Huiwu (process {pid}) is running on {db}: stop it before restoring.").format(
                    pid=exc.holder or "?", db=settings.db_path
                )
            )
        except OSError as exc:
            return _error(os_error_text(settings.db_path, exc))
        try:
            info = await asyncio.to_thread(
                restore_database, path, Path(settings.db_path), force=force
            )
        except BackupError as exc:
            return _error(str(exc))
        except OSError as exc:
            return _error(os_error_text(settings.db_path, exc))
        finally:
            lock.release()
        print(
            _("Restored {db} from {file} ({rows} rows).").format(
                db=settings.db_path, file=source, rows=sum(info.tables.values())
            )
        )
        _warn_missing(info.missing_files, source)
        return 0
    try:
        snapshot = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    except OSError as exc:
        return _error(os_error_text(source, exc))
    except ValueError:  # not JSON, or not UTF-8
        snapshot = None
    if not isinstance(snapshot, dict):
        return _error(
            _("{file}: neither a Huiwu backup nor a plan instance export").format(file=source)
        )
    db = await open_database(settings.db_path)
    live = FileStore.beside(settings.db_path)
    copied: set[str] = set()
    try:
        manifest = read_manifest(snapshot)
        # Held from the first file copied until the rows that refer to them are committed.
        async with relying_on(live, create=bool(manifest)):
            await asyncio.to_thread(take_files, live, path, manifest, copied)
            result = await restore_instance(db, snapshot)
    except SnapshotError as exc:  # files copied and not referred to: the bot's sweep takes them
        return _error(str(exc))
    except OSError as exc:
        return _error(os_error_text(source, exc))
    finally:
        await db.close()
    print(
        _("Restored the plan instance from {file} as instance {id} ({rows} rows).").format(
            file=source, id=result.instance_id, rows=sum(result.rows.values())
        )
    )
    if manifest:
        print(
            ngettext(
                "{count} file of the export is kept beside the database ({copied} new).",
                "{count} files of the export are kept beside the database ({copied} new).",
                len(manifest),
            ).format(count=len(manifest), copied=len(copied))
        )
    for table, count in result.skipped.items():
        print(
            ngettext(
                "{table}: {count} row was already there and was kept.",
                "{table}: {count} rows were already there and were kept.",
                count,
            ).format(table=table, count=count),
            file=sys.stderr,
        )
    return 0
