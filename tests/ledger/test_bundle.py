"""The .zip with everything: the documents, every file and text handed in (latest at the top,
earlier versions in a sub-folder), the ledger's evidence, under names of member and task in
the plan's language that no uploaded name can turn into a path out of the archive."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from bot.reports.bundle import write_bundle
from bot.reports.export import export_documents
from tests.ledger.conftest import STATEMENT_TANG, Filled

ROOT = "领导班子专题民主生活会"
FILES = f"{ROOT}/提交材料"


async def _bundle(filled: Filled) -> zipfile.ZipFile:
    documents = await export_documents(filled.app, filled.instance_id)
    buffer = io.BytesIO()
    summary = await write_bundle(filled.app, filled.instance_id, documents, buffer)
    assert summary.name == "领导班子专题民主生活会-全部材料.zip"
    assert (summary.documents, summary.evidence, summary.without_content) == (3, 1, 0)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


async def test_the_bundle_holds_the_documents_and_every_version_of_every_file(
    filled: Filled,
) -> None:
    bundle = await _bundle(filled)
    assert bundle.testzip() is None
    names = bundle.namelist()
    assert f"{ROOT}/领导班子专题民主生活会-情况报告.docx" in names
    assert f"{ROOT}/领导班子专题民主生活会-整改台账.xlsx" in names
    assert f"{ROOT}/领导班子专题民主生活会-任务进度表.xlsx" in names
    # 孟平's second version at the top, the first among the earlier versions.
    assert bundle.read(f"{FILES}/孟平-撰写剖析材料-孟平发言材料.docx") == b"PK\x03\x04"
    assert bundle.read(f"{FILES}/历史版本/孟平-撰写剖析材料-第1版-孟平发言材料.docx") == b"DRAFT"
    # A text hand-in is a .txt (with a BOM and CRLF, so Notepad shows it right).
    text = bundle.read(f"{FILES}/唐军-撰写剖析材料.txt").decode("utf-8-sig")
    assert text == STATEMENT_TANG
    secretary = bundle.read(f"{FILES}/党组书记-撰写剖析材料.txt").decode("utf-8-sig")
    assert secretary == "党组书记对照检查材料：\r\n一、宗旨意识有所淡化。"
    assert bundle.read(f"{ROOT}/整改佐证材料/2-唐军-联系点名单.pdf") == b"%PDF"
    # The uploaded "../../etc/pass\x0bwd.txt" stays inside its folder.
    assert f"{FILES}/孟平-撰写剖析材料-_.._etc_pass wd.txt" in names
    for name in names:
        path = PurePosixPath(name)
        assert not path.is_absolute() and ".." not in path.parts
        assert path.parts[0] == ROOT
        assert not any(ord(ch) < 0x20 for ch in name)
    # Each entry is dated when it was handed in, in the plan's zone.
    info = bundle.getinfo(f"{FILES}/党组书记-撰写剖析材料.txt")
    assert info.date_time == (2013, 12, 23, 9, 0, 0)


async def test_the_file_index_leaves_the_contents_in_the_database(filled: Filled) -> None:
    """The bundle lists files without their contents and reads each on its own (memory:
    bench/bundle_memory.py)."""
    from storage import assignments

    index = await assignments.file_index(filled.app.db, filled.instance_id)
    assert len(index) == 3 and "content" not in index[0].keys()  # noqa: SIM118 (a Row: `in` looks at values)
    assert await assignments.file_content(filled.app.db, index[0]["id"]) == b"DRAFT"


async def test_files_kept_in_the_files_folder_are_copied_and_a_lost_one_is_counted(
    filled: Filled,
) -> None:
    from storage import assignments
    from storage.files import FileSink
    from storage.records import FileCopy

    app = filled.app
    big = bytes(range(256)) * 4096  # 1 MB, in pieces

    async def fetch(sink: FileSink) -> None:
        for start in range(0, len(big), 65536):
            sink.write(big[start : start + 65536])

    stored = await app.files.store(fetch, limit=len(big))
    [record] = [
        a
        for a in await assignments.assignments_of_instance(app.db, filled.instance_id)
        if a.task_id == "team-plan" and a.member_id == (await _member(filled, "tangjun"))
    ]
    async with app.db.transaction() as conn:
        await assignments.add_submission(
            conn,
            record.id,
            text=None,
            files=[
                FileCopy(
                    "telegram", "f7", "班子整改方案.pdf", "application/pdf", len(big), stored.sha256
                ),
                FileCopy("telegram", "f8", "lost.pdf", "application/pdf", 3, "0" * 64),
            ],
            now=record.due_at,
            late=False,
        )
    documents = await export_documents(app, filled.instance_id)
    buffer = io.BytesIO()
    summary = await write_bundle(app, filled.instance_id, documents, buffer)
    assert summary.without_content == 1  # "lost.pdf": its copy is gone from the folder
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as bundle:
        assert bundle.read(f"{FILES}/唐军-制定班子整改方案-班子整改方案.pdf") == big
        assert not any("lost" in name for name in bundle.namelist())


async def _member(filled: Filled, key: str) -> int:
    from storage import instances

    members = await instances.members_of(filled.app.db, filled.instance_id)
    return next(m.id for m in members if m.member_key == key)
