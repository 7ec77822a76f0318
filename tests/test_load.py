"""A short version of ``bench/load.py`` against the real app: no errors and no crash under
concurrent users, and a queue that overflows answers "busy" instead of falling over.
Timings are reported by the benchmark, never asserted here."""

from __future__ import annotations

import pytest

from bench.load import drive, running_app


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_concurrent_users_and_a_queue_overflow(tmp_path):
    with running_app(tmp_path) as (url, pid):
        report = drive(url, pid, users=6, seconds=8, burst=100, idle=3)
    assert report.errors == []
    assert report.answered > 0 and report.alive_after
    assert report.burst_answered + report.burst_busy == 100
    assert report.burst_busy > 0  # more than the queue holds: the extras were told it is busy
    assert report.rss_after_mb - report.rss_before_mb < 300
