"""Benchmark corpora, written into a work folder from ../shared (which is never written)."""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
PEPS = SHARED / "peps"
SQUAD = SHARED / "squad-v1.1-dev" / "dev-v1.1.json"


@dataclass(frozen=True)
class Question:
    text: str
    source: str  # the file that answers it ("" when unknown)


def pep_files(limit: int) -> list[Path]:
    """``limit`` PEPs spread evenly over the whole series (all of them when ``limit`` <= 0)."""
    files = sorted(p for p in PEPS.iterdir() if p.is_file())
    if limit <= 0 or limit >= len(files):
        return files
    step = len(files) / limit
    return [files[int(i * step)] for i in range(limit)]


def copy_files(files: list[Path], target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy2(path, target / path.name)
    return target


def pep_questions(corpus: Path, n: int, seed: int = 7) -> list[Question]:
    """Questions a reader of the PEPs would ask, built from each PEP's number and title."""
    templates = [
        "What does PEP {num} propose?",
        "What is the motivation for {title}?",
        "Who wrote PEP {num}?",
        "When was the PEP on {title} created?",
        "What is the status of PEP {num}, {title}?",
        "How does {title} change Python?",
        "What alternatives were rejected in {title}?",
    ]
    peps = []
    for path in sorted(corpus.iterdir()):
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        num = re.search(r"^PEP:\s*(\d+)", head, re.M)
        title = re.search(r"^Title:\s*(.+)$", head, re.M)
        if num and title:
            peps.append((path.name, int(num.group(1)), title.group(1).strip()))
    rng = random.Random(seed)
    pairs = [(pep, t) for pep in peps for t in templates]  # every question is distinct
    rng.shuffle(pairs)
    return [Question(t.format(num=num, title=title), name) for (name, num, title), t in pairs[:n]]


def squad(target: Path, limit: int = 0) -> tuple[Path, list[Question]]:
    """One .txt per SQuAD dev paragraph, and every question with its paragraph's file.

    ``limit`` > 0 keeps that many paragraphs, spread over all articles (for quick runs).
    """
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    target.mkdir(parents=True, exist_ok=True)
    questions = []
    every = [(a, p) for a, art in enumerate(data["data"]) for p in range(len(art["paragraphs"]))]
    keep = set(every if limit <= 0 else every[:: max(1, len(every) // limit)][:limit])
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article["paragraphs"]):
            if (a, p) not in keep:
                continue
            name = f"{a:02d}-{p:03d}.txt"
            (target / name).write_text(paragraph["context"], encoding="utf-8")
            questions.extend(Question(qa["question"], name) for qa in paragraph["qas"])
    return target, questions


def sample(questions: list[Question], n: int, seed: int = 11) -> list[Question]:
    rng = random.Random(seed)
    return rng.sample(questions, min(n, len(questions)))


def growth_corpus(files: list[tuple[Path, int]], chunks: int, target: Path) -> int:
    """Copy ``(file, chunk count)`` pairs, repeated under distinct names, up to ``chunks``.

    Copies keep their text, so their chunks have the same embedding text (and reuse the
    vectors) but distinct ids, sources and positions in the keyword index.
    """
    if target.exists():
        shutil.rmtree(target)
    total, repeat = 0, 0
    while total < chunks:
        folder = target / f"r{repeat:02d}"
        folder.mkdir(parents=True)
        for path, n in files:
            shutil.copyfile(path, folder / path.name)
            total += n
            if total >= chunks:
                break
        repeat += 1
    return total
