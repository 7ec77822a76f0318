"""Timestamps as the index, the evaluation reports and the history store write them.

One format everywhere: ISO 8601 in UTC to the microsecond (``2026-01-31T09:15:02.123456+00:00``),
which :meth:`datetime.datetime.fromisoformat` reads back and which sorts as text in time order
(the history's "newest first" relies on it).
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """``moment`` (timezone-aware) in the stored format."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utc_now() -> str:
    """The current time in the stored format."""
    return iso(datetime.now(UTC))
