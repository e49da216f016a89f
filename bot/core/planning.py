"""How many plans one clock step may plan afresh in one tick.

A province runs thousands of plans in one process. At start-up no plan has been planned yet
(nothing is remembered across a restart), and planning all 2,300 of them took 3.7 s of one
tick (``bench/province.py``) while the process answered nobody promptly and the next tick
waited. A step given a slice plans at most that many plans it has not planned since the start and
says so; the scheduler ticks again at once for the rest, with the process free for commands
between two slices. Plans skipped in one slice are neither marked planned nor counted as
having nothing due, so nothing due is missed, only taken a slice later. A plan planned once
is planned again whenever it is due or changed, without bound: at 09:00 every plan due
queues its reminders in the same tick, and the senders take them in turns (slicing them made
the last slice's plans wait seconds for their first reminder: ``bench/province.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

_LONG_AGO = datetime.min.replace(tzinfo=UTC)
# A step's memo entry for a plan planned since the start that must be planned again at its
# next tick (it acted, or has something due): known, so not bounded by a slice.
PLAN_AGAIN = ((-1, -1), None, _LONG_AGO, _LONG_AGO)  # no version is (-1, -1)


class PlanningSlice:
    """A count of plans a step may still plan afresh in this tick (None: no bound)."""

    def __init__(self, plans: int | None = None) -> None:
        self.left = plans
        self.left_over = False  # a plan was skipped: tick again for it

    def take(self) -> bool:
        """May the step plan one more plan now? Records that one was left over if not."""
        if self.left is None:
            return True
        if self.left <= 0:
            self.left_over = True
            return False
        self.left -= 1
        return True
