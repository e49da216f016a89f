"""Import an uploaded work-plan document in a child process, under a time and memory limit.

Reading a .docx and running the importer over its text is CPU- and memory-heavy, and the
document comes from a user: it runs in a fresh ``python -m bot.plan.bounded_import`` that
first caps its own address space (``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``), and is killed
if it outlives the wall-clock limit. The bot's process and event loop only wait for a JSON
answer. ``docx_limits`` refuses a zip bomb inside the child before it unpacks anything; the
limits here catch whatever else would take too long or too much (a huge text, a deep or wide
XML tree). At most ``MAX_AT_ONCE`` documents are read at a time.

Used by a plan sent in chat (``handlers/organizer.py``, from a worker thread) and by
``huiwu plan import``.
"""

from __future__ import annotations

import json
import logging
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from bot.core.i18n import current_locale, use_locale
from bot.plan.document import PlanImportError, document_text, read_document_bytes
from bot.plan.docx_limits import DocumentTooLarge, size_text
from bot.plan.importer import ImportIssue, ImportResult, import_plan_text, load_roster

logger = logging.getLogger(__name__)

SECONDS = 30.0  # wall clock; the seed plan takes well under a second
MEMORY_BYTES = 768 * 1024 * 1024  # address space; the interpreter and its imports take ~100 MiB
MAX_AT_ONCE = 2  # documents read at the same time (each may take MEMORY_BYTES)

_slots = threading.BoundedSemaphore(MAX_AT_ONCE)


class UnreadableDocument(PlanImportError):
    """Not a .docx python-docx can open, nor UTF-8 / GB18030 text."""


def import_document(
    data: bytes,
    file_name: str,
    *,
    roster: list[dict[str, Any]] | None = None,
    source: str | None = None,
    seconds: float = SECONDS,
    memory: int = MEMORY_BYTES,
) -> ImportResult:
    """The importer's result for a document's bytes, read in a bounded child process.
    Raises ``DocumentTooLarge`` (limits) or ``PlanImportError`` (unreadable, no plan)."""
    header = {
        "file_name": file_name,
        "source": source or file_name,  # how errors name the document
        "locale": current_locale(),
        "roster": roster,
    }
    request = json.dumps(header, ensure_ascii=False).encode() + b"\n" + data
    command = [sys.executable, "-m", "bot.plan.bounded_import", str(int(seconds)), str(memory)]
    with _slots:
        try:
            done = subprocess.run(command, input=request, capture_output=True, timeout=seconds)
        except subprocess.TimeoutExpired:  # run() has killed it
            raise DocumentTooLarge("time", {"seconds": int(seconds)}) from None
    answer = _answer(done.stdout)
    if answer is None:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        logger.warning("reading %r stopped (exit %d): %s", file_name, done.returncode, last)
        if done.returncode < 0 and -done.returncode == signal.SIGXCPU:
            raise DocumentTooLarge("time", {"seconds": int(seconds)})
        raise DocumentTooLarge("memory", {"size": size_text(memory)})
    if "too_large" in answer:
        raise DocumentTooLarge(answer["too_large"]["code"], answer["too_large"]["values"])
    if "unreadable" in answer:
        raise UnreadableDocument(answer["unreadable"])
    if "not_a_plan" in answer:
        raise PlanImportError(answer["not_a_plan"])
    result = answer["result"]
    return ImportResult(
        result["toml_text"],
        tuple(ImportIssue(*issue) for issue in result["warnings"]),
        tuple(result["new_members"]),
    )


def import_document_file(
    path: str | Path, *, roster_path: str | Path | None = None
) -> ImportResult:
    """``huiwu plan import``: a document on disk, read like one sent in chat."""
    roster = load_roster(roster_path) if roster_path is not None else None
    data = read_document_bytes(path)
    return import_document(data, Path(path).name, roster=roster, source=str(path))


def _answer(stdout: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _child(seconds: int, memory: int) -> None:
    """In the child: cap ourselves, read the request from stdin, answer JSON on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    header_line, data = sys.stdin.buffer.read().split(b"\n", 1)
    header = json.loads(header_line)
    answer: dict[str, Any]
    with use_locale(header["locale"]):
        try:
            text = document_text(data, header["file_name"], source=header["source"])
        except DocumentTooLarge as exc:
            answer = {"too_large": {"code": exc.code, "values": exc.values}}
        except PlanImportError as exc:
            answer = {"unreadable": str(exc)}
        except MemoryError:
            answer = {"too_large": {"code": "memory", "values": {"size": size_text(memory)}}}
        else:
            answer = _import(text, header, memory)
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode())


def _import(text: str, header: dict[str, Any], memory: int) -> dict[str, Any]:
    try:
        result = import_plan_text(text, roster=header["roster"], source=header["source"])
    except PlanImportError as exc:
        return {"not_a_plan": str(exc)}
    except MemoryError:
        return {"too_large": {"code": "memory", "values": {"size": size_text(memory)}}}
    return {
        "result": {
            "toml_text": result.toml_text,
            "warnings": [[i.line, i.text, i.message] for i in result.warnings],
            "new_members": list(result.new_members),
        }
    }


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
