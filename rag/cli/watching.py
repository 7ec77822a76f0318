"""``rag watch``: keep the index in line with the corpus folder until interrupted."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import click
from rich.markup import escape

from rag.cli.options import corpus_options, settings_from, user_errors
from rag.cli.terminal import console, errors


@click.command("watch")
@corpus_options
@click.option(
    "--quiet",
    type=click.FloatRange(min=0.1, max=3600),
    help="Seconds the folder must stay unchanged before an ingest [env RAG_WATCH_QUIET; 2].",
)
@click.option("--json", "as_json", is_flag=True, help="Print each ingest's summary as JSON.")
def watch_command(
    corpus_dir: Path | None, index_dir: Path | None, quiet: float | None, as_json: bool
) -> None:
    """Keep the index in line with the corpus folder until interrupted (Ctrl-C).

    Ingests once at start, then again a few seconds after files stop changing: added,
    changed, deleted and renamed files; a burst of files is one ingest, and a file still
    being written waits until it is complete. Questions keep being answered from the
    previous index until the new one is published.
    """
    from rag.ingest.watch import Watcher, WatchReport
    from rag.qa import QA

    def show(report: WatchReport) -> None:
        if as_json:
            data = {"finished": report.finished, "initial": report.initial, "error": report.error}
            data["summary"] = report.summary.to_dict() if report.summary else None
            click.echo(json.dumps(data, ensure_ascii=False))
        elif report.summary is not None and not report.summary.changed:
            console.print(escape(report.describe()), style="dim")
        else:
            console.print(escape(report.describe()), style="bold" if not report.error else "red")

    settings = settings_from(corpus_dir=corpus_dir, index_dir=index_dir, watch_quiet=quiet)
    with user_errors(), QA(settings) as qa:
        watcher = Watcher(
            settings.corpus_dir,
            qa.ingest,
            quiet=settings.watch_quiet,
            on_report=show,
            ignore=[settings.index_dir],
        )
        if not as_json:
            errors.print(f"watching {escape(str(settings.corpus_dir))} (Ctrl-C stops)")

        def stop_gently(signum: int, frame: object) -> None:
            # Ctrl-C (or a TERM) asks the watch loop to stop at its next tick, so an ingest
            # under way finishes and publishes instead of being cut at a random line; a
            # second Ctrl-C interrupts at once.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            watcher.stop(timeout=0)

        previous = {s: signal.signal(s, stop_gently) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            watcher.run()
        except KeyboardInterrupt:
            watcher.stop()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        errors.print("stopped watching")
