"""The shape of the house: no import cycle (also inside functions), and each layer imports
only the layers below it."""

from __future__ import annotations

from pathlib import Path

from tests.architecture.import_graph import cycles, import_graph

ROOT = Path(__file__).resolve().parents[2]
GRAPH = import_graph(ROOT)


def _imports_of(prefix: str) -> set[tuple[str, str]]:
    return {
        (module, target)
        for module, targets in GRAPH.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in targets
    }


def test_the_graph_is_read() -> None:
    assert "handlers.router" in GRAPH and "bot.core.app" in GRAPH["handlers.router"]


def test_no_import_cycle() -> None:
    assert cycles(GRAPH) == []


def test_cycle_detection_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_storage_imports_only_storage() -> None:
    assert {t for _m, t in _imports_of("storage") if not t.startswith("storage")} == set()


def test_the_domain_never_imports_handlers_runtime_or_sandbox() -> None:
    domain = ("bot.core", "bot.plan", "bot.tasks", "bot.meeting", "bot.ledger", "bot.reminders")
    wrong = {
        (module, target)
        for prefix in domain
        for module, target in _imports_of(prefix)
        if target.startswith(("handlers", "bot.run", "bot.sandbox", "bot.adapters"))
    }
    assert wrong == set()


def test_handlers_never_import_a_platform_or_the_runtime() -> None:
    wrong = {
        (module, target)
        for module, target in _imports_of("handlers")
        if target.startswith(("bot.adapters", "bot.run", "bot.sandbox"))
    }
    assert wrong == set()


def test_the_sandbox_is_not_needed_to_run() -> None:
    """Only the CLI's demo command reaches the emulators and the demo."""
    wrong = {
        (module, target)
        for module, targets in GRAPH.items()
        if not module.startswith("bot.sandbox") and module != "bot.run.cli"
        for target in targets
        if target.startswith("bot.sandbox")
    }
    assert wrong == set()
