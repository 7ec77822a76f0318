"""``rag eval``: score the system on test questions, compare with a baseline, or run a grid."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape

from rag.cli.options import corpus_options, settings_from, user_errors
from rag.cli.terminal import console, errors, progress_bars


@click.command("eval")
@click.argument("arguments", nargs=-1, metavar="[QUESTIONS]")
@corpus_options
@click.option("--top-k", type=click.IntRange(1, 100), help="Passages to retrieve [env RAG_TOP_K].")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-report"),
    show_default=True,
    help="Folder for report.json, report.md and report.html.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An earlier report.json: print per-metric deltas and the questions that changed.",
)
@click.option(
    "--fail-under",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Exit 3 when METRIC is below VALUE (repeatable), e.g. --fail-under f1=0.3.",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Choose the abstention threshold from these questions and store it with the index.",
)
@click.option(
    "--grid",
    "grid_specs",
    multiple=True,
    metavar="NAME=V1,V2 | FILE.yaml",
    help="Compare configurations, e.g. --grid top_k=3,5,8 chunk_size=400,800.",
)
@click.option(
    "--rank-by", default="containment", show_default=True, help="Metric that orders --grid rows."
)
def eval_command(
    arguments: tuple[str, ...],
    corpus_dir: Path | None,
    index_dir: Path | None,
    top_k: int | None,
    out: Path,
    baseline: Path | None,
    fail_under: tuple[str, ...],
    calibrate: bool,
    grid_specs: tuple[str, ...],
    rank_by: str,
) -> None:
    """Score answers to QUESTIONS (JSONL or CSV; default: the shipped example questions).

    Writes report.json, report.md and report.html into --out and prints the metrics.
    """
    from rag import evaluation as ev
    from rag.evaluation import console as tables
    from rag.evaluation import report as rp

    questions, extra = ev.split_arguments(arguments, grid=bool(grid_specs))
    if len(questions) > 1:
        raise click.UsageError(f"give at most one QUESTIONS file, not {' '.join(questions)}")
    settings = settings_from(corpus_dir=corpus_dir, index_dir=index_dir, top_k=top_k)
    with user_errors():
        gates = ev.parse_gates(fail_under)
        source = Path(questions[0]) if questions else ev.default_questions_file()
        if grid_specs:
            grid = ev.parse_grid([*grid_specs, *extra])
            loaded = ev.load_questions(source)
            with progress_bars(enabled=True) as progress:
                result = ev.run_grid(loaded, settings, grid, rank_by=rank_by, progress=progress)
            console.print(tables.grid_table(result))
            out.mkdir(parents=True, exist_ok=True)
            (out / "grid.json").write_text(json.dumps(tables.grid_rows(result), indent=2))
            console.print(f"Wrote {out / 'grid.json'}")
            return
        previous = ev.load_report(baseline) if baseline else None
        with progress_bars(enabled=True) as progress:
            report = ev.evaluate(source, settings, calibrate_threshold=calibrate, progress=progress)
        comparison = ev.compare(report, previous, baseline_file=str(baseline)) if previous else None
        paths = rp.write_reports(report, out, comparison)
    for renderable in tables.console_tables(report, comparison):
        console.print(renderable)
    console.print("Reports: " + ", ".join(escape(str(p)) for p in paths.values()))
    failures = ev.check_gates(report, gates)
    for failure in failures:
        errors.print(f"[bold red]fail-under:[/] {escape(failure)}")
    if failures:
        sys.exit(3)
