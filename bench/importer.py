"""How well the importer reads the genre: the share of facts read right over the held documents.

Each document under ``tests/plan/documents/genre/`` (.txt or .docx) has beside it
``<name>.expected.toml``: the facts a person reads in it (people and their roles, phases,
tasks with owners, department and due date, the meeting's date, chair and agenda, surveys and
thresholds, talks). The document is imported without a roster and each fact is compared with
the plan; anything the plan has that the document does not (a second entry for one person, an
office made a person, a task nobody wrote) is a miss too.

Run: ``.venv/bin/python -m bench.importer`` (``-v`` also prints what the importer could not read).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.i18n import use_locale
from bot.plan.importer import import_plan

GENRE = Path(__file__).resolve().parents[1] / "tests/plan/documents/genre"
_IGNORED_ROLES = {"organizer"}  # chosen by the importer (most often responsible), not written


@dataclass
class Score:
    """Facts compared for one document: how many were read right, and each miss."""

    document: str
    right: int = 0
    misses: list[str] = field(default_factory=list)
    could_not_read: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.right + len(self.misses)

    def check(self, fact: str, expected: Any, found: Any) -> None:
        if expected == found:
            self.right += 1
        else:
            self.misses.append(f"{fact}: expected {expected!r}, read {found!r}")


def documents(folder: Path = GENRE) -> list[tuple[Path, Path]]:
    """(document, expected facts) pairs, by name."""
    pairs = []
    for expected in sorted(folder.glob("*.expected.toml")):
        stem = expected.name.removesuffix(".expected.toml")
        found = [folder / f"{stem}{suffix}" for suffix in (".txt", ".docx")]
        document = next((path for path in found if path.exists()), None)
        if document is not None:
            pairs.append((document, expected))
    return pairs


def score(document: Path, expected_path: Path) -> Score:
    expected = tomllib.loads(expected_path.read_text(encoding="utf-8"))
    with use_locale("en"):
        result = import_plan(document)
    plan = tomllib.loads(result.toml_text)
    found = Score(document.name, could_not_read=[str(issue) for issue in result.warnings])
    names = {entry["id"]: entry["name"] for entry in plan.get("roster", [])}
    _people(found, expected, plan)
    _phases(found, expected, plan)
    _tasks(found, expected, plan, names)
    _meeting(found, expected, plan, names)
    _surveys(found, expected, plan)
    return found


def _refs(refs: Any, names: dict[str, str]) -> list[str]:
    listed = [refs] if isinstance(refs, str) else list(refs or [])
    return sorted(names.get(ref, ref) for ref in listed)


def _people(found: Score, expected: dict[str, Any], plan: dict[str, Any]) -> None:
    people: dict[str, list[str]] = expected.get("people", {})
    allowed = set(expected.get("placeholders", []))
    entries = plan.get("roster", [])
    for name, roles in people.items():
        mine = [entry for entry in entries if entry["name"] == name]
        read = sorted(set(mine[0].get("roles", ["member"])) - _IGNORED_ROLES) if mine else None
        found.check(f"person {name} and roles", sorted(roles), read)
    for entry in entries:
        if entry["name"] not in people and entry["name"] not in allowed:
            found.misses.append(f"roster entry {entry['name']!r} is no person of the document")


def _phases(found: Score, expected: dict[str, Any], plan: dict[str, Any]) -> None:
    phases = {phase["title"]: phase for phase in plan.get("phases", [])}
    for phase in expected.get("phases", []):
        mine = phases.get(phase["title"], {})
        found.check(f"phase {phase['title']} start", phase["start"], mine.get("start"))
        found.check(f"phase {phase['title']} end", phase["end"], mine.get("end"))


def _tasks(
    found: Score, expected: dict[str, Any], plan: dict[str, Any], names: dict[str, str]
) -> None:
    tasks = {
        task["title"]: task for phase in plan.get("phases", []) for task in phase.get("tasks", [])
    }
    wanted = {task["title"] for task in expected.get("tasks", [])}
    for task in expected.get("tasks", []):
        title = task["title"]
        mine = tasks.get(title)
        if mine is None:
            found.misses.append(f"task {title!r} not read")
            continue
        found.right += 1
        found.check(
            f"task {title} owners", sorted(task["assignees"]), _refs(mine["assignees"], names)
        )
        found.check(f"task {title} due", task["due"], mine["due"])
        found.check(f"task {title} department", task.get("department"), mine.get("department"))
        found.check(
            f"task {title} reviewer",
            sorted(task.get("reviewers", [])),
            _refs(mine.get("reviewer"), names),
        )
    for title in tasks:
        if title not in wanted:
            found.misses.append(f"task {title!r} is no task of the document")


def _meeting(
    found: Score, expected: dict[str, Any], plan: dict[str, Any], names: dict[str, str]
) -> None:
    meeting = expected.get("meeting")
    mine = plan.get("meeting", {})
    if meeting is None:
        return
    found.check("meeting date", meeting["date"], mine.get("date"))
    found.check("meeting chair", sorted(meeting["chair"]), _refs(mine.get("chair"), names))
    agenda = [item["title"] for item in mine.get("agenda", [])]
    for number, title in enumerate(meeting.get("agenda", []), 1):
        read = agenda[number - 1] if number <= len(agenda) else None
        found.check(f"agenda item {number}", title, read)
    for title in agenda[len(meeting.get("agenda", [])) :]:
        found.misses.append(f"agenda item {title!r} is no item of the document")


def _surveys(found: Score, expected: dict[str, Any], plan: dict[str, Any]) -> None:
    surveys = {survey["kind"]: survey for survey in plan.get("surveys", [])}
    wanted = expected.get("surveys", {})
    found.check("surveys", sorted(wanted), sorted(surveys))
    for kind, facts in wanted.items():
        for key, value in facts.items():
            found.check(f"{kind} survey {key}", value, surveys.get(kind, {}).get(key))
    talks = plan.get("talks", {}).get("required")
    found.check("talks", expected.get("talks", {}).get("required"), talks)


def score_all(folder: Path = GENRE) -> list[Score]:
    return [score(document, expected) for document, expected in documents(folder)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.importer", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="list what was not read")
    args = parser.parse_args(argv)
    scores = score_all()
    right = sum(s.right for s in scores)
    total = sum(s.total for s in scores)
    for s in scores:
        print(f"{s.document}: {s.right}/{s.total} facts read right")
        for miss in s.misses:
            print(f"  miss: {miss}")
        if args.verbose:
            for issue in s.could_not_read:
                print(f"  could not read: {issue}")
    share = right / total if total else 1.0
    print(f"\n{len(scores)} documents, {right}/{total} facts read right: {share:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
