"""Where an ingest stands within its phases: reported to the caller, and a place to pause.

The pause is a test seam (``RAG_PAUSE_AT``): a test kills, or overlaps, an ingest at an exact
point on a machine of any speed, instead of guessing from the clock when a phase is under way.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from rag.protocols import Progress

log = logging.getLogger(__name__)


class Steps:
    """Where the ingest stands within its phases: reported, and a place to stop on request.

    Progress goes on to the caller's callback. When ``settings.pause_at`` names a point (a
    test seam, see :class:`~rag.settings.Settings`), reaching it logs "paused at phase ..."
    and waits, holding the index lock, until the file ``RESUME`` appears in the index folder
    (it is then removed and the ingest goes on) or the process is killed. A test so kills,
    or overlaps, the ingest at that exact point on a machine of any speed, instead of
    guessing from the clock when a phase is under way.
    """

    def __init__(
        self, point: tuple[str, int] | None, resume: Path, progress: Progress | None
    ) -> None:
        self.point = point
        self._resume = resume
        self._progress = progress

    def begin(self, phase: str) -> None:
        """The phase starts (no unit of its work done yet)."""
        self.reached(phase, 0)

    def report(self, phase: str, done: int, total: int) -> None:
        """``done`` of ``total`` units of the phase's work are done; tell the caller."""
        if self._progress:
            self._progress(phase, done, total)
        self.reached(phase, done)

    def reached(self, phase: str, done: int) -> None:
        """Pause here if the pause point is this phase with at most ``done`` units (once)."""
        if self.point is None or self.point[0] != phase or done < self.point[1]:
            return
        log.warning(
            "paused at phase %s after %d units of work (RAG_PAUSE_AT=%s:%d, a test seam): "
            "waiting for %s to appear, or to be killed",
            phase,
            done,
            *self.point,
            self._resume,
        )
        self.point = None  # one pause per ingest: later units of the phase go straight on
        while not self._resume.exists():
            time.sleep(0.1)
        self._resume.unlink(missing_ok=True)
        log.warning("resumed at phase %s", phase)
