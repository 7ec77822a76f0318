"""Compare configurations: ``rag eval --grid top_k=3,5,8 chunk_size=400,800``.

Every combination is evaluated on the same questions. A configuration that changes how the
corpus is cut or embedded gets its own index, built in a temporary folder and deleted after;
the others share the index of the base settings. All use the base abstention threshold
unless the grid sets one, so a difference in scores comes from the setting that changed.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.embed.embedder import Embedder
from rag.errors import RagError
from rag.evaluation.questions import Question
from rag.evaluation.results import EvalReport, metric_info
from rag.evaluation.runner import evaluate
from rag.protocols import Progress
from rag.qa import QA
from rag.settings import Settings

#: Settings a grid may vary, with how to read their values.
GRID_KEYS: dict[str, type] = {
    "top_k": int,
    "candidate_k": int,
    "chunk_size": int,
    "chunk_overlap": int,
    "abstain_threshold": float,
    "embedding_model": str,
    "embedding_dtype": str,
    "embed_tokens": int,
    "embed_words": str,
}
#: Settings that change the index itself.
INDEX_KEYS = frozenset(
    {
        "chunk_size",
        "chunk_overlap",
        "embedding_model",
        "embedding_dtype",
        "embed_tokens",
        "embed_words",
    }
)


class GridError(RagError):
    """A grid specification is malformed or varies a setting that cannot be varied."""


@dataclass(frozen=True)
class GridRow:
    config: dict[str, Any]
    report: EvalReport


@dataclass(frozen=True)
class GridResult:
    """Every setting combination's run, best first by the ``rank_by`` metric."""

    rows: list[GridRow]  # best first
    rank_by: str


def parse_grid(specs: Iterable[str]) -> dict[str, list[Any]]:
    """``["top_k=3,5", "chunk_size=400"]`` or ``["grid.yaml"]`` -> ``{name: [values]}``.

    A YAML file maps each setting to a list of values (or one value).
    """
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        if "=" not in spec:
            grid.update(_read_yaml(Path(spec)))
            continue
        name, _, values = spec.partition("=")
        grid[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    if not grid:
        raise GridError("--grid needs settings to vary, like top_k=3,5,8 or a YAML file")
    return {name: _values(name, values) for name, values in grid.items()}


def split_arguments(arguments: Sequence[str], *, grid: bool) -> tuple[list[str], list[str]]:
    """Separate ``rag eval``'s positional words into question files and grid settings.

    ``rag eval --grid top_k=3,5 chunk_size=400,800`` hands ``chunk_size=400,800`` to the
    positional arguments; with ``--grid``, a ``name=values`` word that is not an existing file
    is a grid setting.
    """
    files: list[str] = []
    specs: list[str] = []
    for word in arguments:
        if grid and "=" in word and not Path(word).exists():
            specs.append(word)
        else:
            files.append(word)
    return files, specs


def _read_yaml(path: Path) -> dict[str, list[Any]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GridError(
            f"--grid {path}: no such file (give name=v1,v2 pairs or a YAML file)"
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise GridError(f"--grid {path} is not readable YAML: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise GridError(f"--grid {path} must map settings to lists of values")
    return {str(k): v if isinstance(v, list) else [v] for k, v in data.items()}


def _values(name: str, values: Sequence[Any]) -> list[Any]:
    if name not in GRID_KEYS:
        raise GridError(f"--grid cannot vary {name!r}; it can vary {', '.join(GRID_KEYS)}")
    if not values:
        raise GridError(f"--grid {name} has no values")
    try:
        return list(dict.fromkeys(GRID_KEYS[name](v) for v in values))
    except (TypeError, ValueError):
        raise GridError(f"--grid {name} values must be {GRID_KEYS[name].__name__}") from None


def configurations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def run_grid(
    questions: Sequence[Question],
    settings: Settings,
    grid: dict[str, list[Any]],
    *,
    rank_by: str = "containment",
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> GridResult:
    """Evaluate every configuration of ``grid`` over ``settings``; best first by ``rank_by``."""
    info = metric_info(rank_by)
    if info is None:
        raise GridError(f"--rank-by: unknown metric {rank_by!r}")
    embedder = embedder or Embedder(
        settings.embedding_model,
        dtype=settings.embedding_dtype,
        batch_size=settings.embedding_batch_size,
    )
    with QA(settings, embedder=embedder) as base:
        threshold = base.threshold
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-grid-") as tmp:
        for n, config in enumerate(configurations(grid)):
            update: dict[str, Any] = {"abstain_threshold": threshold, **config}
            if INDEX_KEYS & config.keys() and any(
                getattr(settings, k) != v for k, v in config.items() if k in INDEX_KEYS
            ):
                update["index_dir"] = Path(tmp) / f"config-{n}"
            try:
                variant = Settings(**{**settings.model_dump(), **update})
            except ValueError as exc:
                raise GridError(f"--grid configuration {config} is not valid: {exc}") from exc
            cfg_embedder = embedder if variant.embedding_model == settings.embedding_model else None
            report = evaluate(list(questions), variant, embedder=cfg_embedder, progress=progress)
            rows.append(GridRow(config, report))

    def key(row: GridRow) -> float:
        value = row.report.metrics.get(rank_by)
        if value is None:
            return float("inf")
        return -value if info.higher_is_better else value

    return GridResult(sorted(rows, key=key), rank_by)
