"""The evaluation harness end to end: question files, rag.evaluate, calibration, grids, the
``rag eval`` command and its reports (the HTML one opened in a real headless Chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import EvalReport, Settings, evaluate
from rag.evaluation import (
    GateError,
    GridError,
    Question,
    QuestionFileError,
    check_gates,
    compare,
    load_questions,
    parse_gates,
    parse_grid,
    run_grid,
    split_arguments,
)
from rag.evaluation.metrics import strip_citations
from rag.evaluation.results import QuestionResult
from rag.evaluation.runner import calibration_scores
from rag.qa import QA
from rag.read import NAME_ABSTAINER, RELATION_ABSTAINER, TABLE_ANSWERER, YEAR_ABSTAINER
from rag.store.generations import IndexDir
from tests.conftest import CHROMIUM_ARGS, DATA, SEED

QUESTIONS = DATA / "questions.jsonl"


def rows() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text().splitlines()]


def some(*ids: str) -> list[Question]:
    return [Question.from_mapping(r) for r in rows() if r["id"] in ids]


# -- question files -------------------------------------------------------------------------------
def test_shipped_questions_load_with_both_kinds():
    questions = load_questions(QUESTIONS)
    assert len(questions) == 54
    assert sum(q.answerable for q in questions) == 42
    first = questions[0]
    assert first.sources == (SEED,) and first.supports and first.references[0] == first.answer


def test_csv_with_list_cells(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        "id,question,answer,aliases,source,support,tags\n"
        'x1,When?,1996,"[""September 1996""]",a.txt|b.txt,,when\n'
        "x2,Who won?,,,,,unanswerable\n",
        encoding="utf-8",
    )
    one, two = load_questions(path)
    assert one.aliases == ("September 1996",) and one.sources == ("a.txt", "b.txt")
    assert not two.answerable and two.references == [] and two.tags == ("unanswerable",)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.jsonl", '{"question": "ok?"}\nnot json\n', "line 2: not a JSON object"),
        ("q.jsonl", '{"question": ""}\n', "line 1: 'question' is missing"),
        ("q.jsonl", '{"id": "d", "question": "a?"}\n{"id": "d", "question": "b?"}\n', "twice"),
        ("q.jsonl", "\n\n", "holds no questions"),
        ("q.jsonl", '{"question": "a?", "aliases": {"x": 1}}\n', "'aliases' must be text"),
        ("q.csv", "query,answer\nx,y\n", "'question' column"),
        ("q.txt", "question?", "must end in .jsonl or .csv"),
    ],
)
def test_bad_question_files_say_what_is_wrong(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QuestionFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_questions(path)


def test_extra_columns_are_kept_and_named_once(tmp_path, caplog):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"question": "a?", "answer": "x", "type": "when", "level": 2}\n'
        '{"question": "b?", "type": "who"}\n',
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        one, two = load_questions(path)
    assert one.extra == {"type": "when", "level": 2} and two.extra == {"type": "who"}
    assert one.answer == "x" and two.answer is None
    warnings = [r.getMessage() for r in caplog.records if "not scored" in r.getMessage()]
    assert len(warnings) == 1 and "level, type" in warnings[0]


def test_missing_question_file(tmp_path):
    with pytest.raises(QuestionFileError, match="does not exist"):
        load_questions(tmp_path / "nope.jsonl")


# -- rag.evaluate on the shipped index ----------------------------------------------------------
@pytest.fixture(scope="module")
def small_report(shipped, embedder) -> EvalReport:
    questions = some("a01", "a03", "a06", "u12")
    return evaluate(questions, shipped, embedder=embedder, ks=[1, 3, 7])


def test_evaluate_scores_each_question_with_the_metric_functions(small_report, qa):
    r = small_report
    assert r.counts == {
        "questions": 4,
        "answerable": 3,
        "unanswerable": 1,
        "with_expected_passages": 3,
        "answered": sum(not q.abstained for q in r.questions),
        "errors": 0,
    }
    assert r.threshold == qa.threshold and r.ks == [1, 3, 7]
    for q in r.questions:
        expected_refs = [q.expected, *q.aliases] if q.answerable else []
        if q.answerable:
            assert expected_refs  # the metrics themselves are checked against golden values
            assert q.passed["f1"] == (q.metrics["f1"] >= 0.5)  # in tests/evaluation/test_metrics.py
            # read deeper than top_k (5) for hit@7, as far as the one-document index goes
            assert len(q.retrieved) == min(7, qa.snapshot().manifest.chunk_count)
            assert q.retrieved[0]["rank"] == 1 and q.retrieved[0]["source"] == SEED
        for c in q.citations:
            assert qa.document_text(c["source"])[c["start"] : c["end"]] == c["quote"]
            assert c["verified"]
    kabul = next(q for q in r.questions if q.id == "a01")
    # by hand: "September, 1996" normalises to "september 1996", the alias exactly
    assert strip_citations(kabul.answer) == "September, 1996"
    assert kabul.metrics["exact_match"] == kabul.metrics["f1"] == 1.0
    assert kabul.metrics["containment"] == 1.0 and kabul.passed["hit@7"]
    fifa = next(q for q in r.questions if q.id == "u12")
    assert fifa.abstained and fifa.passed["abstained"] and "exact_match" not in fifa.metrics
    assert r.metrics["abstention_rate"] == 1.0
    assert r.metrics["false_refusal_rate"] == pytest.approx(
        sum(q.abstained for q in r.questions if q.answerable) / 3
    )
    assert r.metrics["citations_verified"] == 1.0
    assert 0 < r.metrics["latency_p50"] <= r.metrics["latency_p95"]
    assert r.metrics["hit@1"] <= r.metrics["hit@3"] <= r.metrics["hit@7"]


def test_report_round_trips_through_json(small_report):
    data = json.loads(json.dumps(small_report.to_dict()))
    again = EvalReport.from_dict(data)
    assert again == small_report


def test_compare_and_fail_under(small_report):
    worse_q = [
        q.__class__(**{**q.to_dict(), "passed": {**q.passed, "containment": False}})
        if "containment" in q.passed
        else q
        for q in small_report.questions
    ]
    baseline = EvalReport.from_dict(
        {
            **small_report.to_dict(),
            "metrics": {**small_report.metrics, "containment": 0.0, "latency_p50": 9.0},
            "questions": [q.to_dict() for q in worse_q],
        }
    )
    diff = compare(small_report, baseline)
    by_name = {d.name: d for d in diff.deltas}
    assert by_name["containment"].delta == small_report.metrics["containment"]
    assert by_name["containment"].better is (small_report.metrics["containment"] > 0)
    assert by_name["latency_p50"].better is True  # lower latency is better
    flipped = {c.id for c in diff.changed}
    assert flipped == {q.id for q in small_report.questions if q.passed.get("containment")}
    gates = parse_gates(["abstention_rate=1", "hit@7=0.5"])
    assert check_gates(small_report, gates) == []
    failures = check_gates(small_report, parse_gates(["f1=1.01", "recall@9=0.1"]))
    assert failures[0].startswith("f1 = ") and "not measured" in failures[1]


@pytest.mark.parametrize(
    ("spec", "message"), [("f1", "metric=value"), ("f1=x", "metric=value"), ("speed=1", "unknown")]
)
def test_bad_gates(spec, message):
    with pytest.raises(GateError, match=message):
        parse_gates([spec])


def test_retrieval_only_with_another_fusion(shipped, embedder):
    from rag.retrieve.hybrid import Fusion

    questions = some("a01", "a02")
    report = evaluate(
        questions, shipped, embedder=embedder, answers=False, fusion=Fusion(method="bm25")
    )
    assert report.settings["fusion"]["method"] == "bm25"
    assert set(report.metrics) == {
        "hit@1",
        "hit@5",
        "recall@1",
        "recall@5",
        "mrr@5",
        "ingest_seconds",
    }
    assert all(q.answer == "" and q.latency == 0 for q in report.questions)


# -- calibration and grids ----------------------------------------------------------------------
@pytest.fixture
def private_index(shipped, tmp_path) -> Settings:
    """A copy of the shipped index, so storing a threshold leaves the shared one alone."""
    shutil.copytree(shipped.index_dir, tmp_path / "index")
    return Settings(corpus_dir=shipped.corpus_dir, index_dir=tmp_path / "index")


@pytest.mark.slow
def test_calibrate_stores_a_threshold_the_qa_then_uses(private_index, embedder):
    questions = some("a01", "a02", "a03", "a06", "a08", "u01", "u02", "u11", "u12")
    report = evaluate(questions, private_index, embedder=embedder, calibrate_threshold=True)
    cal = report.calibration
    assert cal is not None and cal.stored
    stored = IndexDir(private_index.index_dir).stored_settings()["abstain_threshold"]
    assert stored == cal.threshold == report.threshold
    with QA(private_index, embedder=embedder) as qa:
        assert qa.threshold == cal.threshold
    # the evaluation that follows uses it: scores below it abstain, at or above answer
    for q in report.questions:
        assert q.abstained == (q.score < cal.threshold)
    assert cal.abstained == report.metrics["abstention_rate"]


def test_calibration_leaves_out_answers_the_threshold_does_not_decide():
    def result(n: int, answerable: bool, answerer: str) -> QuestionResult:
        return QuestionResult(
            id=str(n), question="q", answerable=answerable, expected="a" if answerable else None,
            aliases=[], sources=[], supports=[], tags=[], answer="a", abstained=False,
            score=float(n), latency=0.0, metrics={"containment": 1.0}, answerer=answerer,
        )  # fmt: skip

    results = [
        result(1, True, "extractive"),
        result(2, True, TABLE_ANSWERER),  # a cell of a whole table: given whatever its score
        result(3, False, "extractive"),
        result(4, False, TABLE_ANSWERER),
        result(5, True, YEAR_ABSTAINER),  # refused unread: no passage mentions its year
        result(6, False, YEAR_ABSTAINER),
        result(7, True, NAME_ABSTAINER),  # refused unread: no passage mentions its name
        result(8, False, NAME_ABSTAINER),
        result(9, True, RELATION_ABSTAINER),  # read, then refused: its sentence lacks the relation
        result(10, False, RELATION_ABSTAINER),
    ]
    assert calibration_scores(results) == ([(1.0, True)], [3.0])


def test_grid_arguments():
    assert split_arguments(["q.jsonl", "chunk_size=400,800"], grid=True) == (
        ["q.jsonl"],
        ["chunk_size=400,800"],
    )
    assert split_arguments(["top_k=3"], grid=False) == (["top_k=3"], [])
    assert parse_grid(["top_k=3,5,5", "chunk_size=400"]) == {"top_k": [3, 5], "chunk_size": [400]}
    with pytest.raises(GridError, match="cannot vary 'llm'"):
        parse_grid(["llm=a,b"])
    with pytest.raises(GridError, match="must be int"):
        parse_grid(["top_k=three"])


def test_grid_yaml(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("top_k: [1, 3]\ncandidate_k: 20\n")
    assert parse_grid([str(path)]) == {"top_k": [1, 3], "candidate_k": [20]}
    path.write_text("- just\n- a list\n")
    with pytest.raises(GridError, match="must map settings"):
        parse_grid([str(path)])


@pytest.mark.slow
def test_grid_runs_each_configuration_best_first(private_index, embedder):
    questions = some("a01", "a05", "u12")
    before = sorted(p.name for p in private_index.index_dir.iterdir())
    result = run_grid(
        questions,
        private_index,
        {"top_k": [1, 3], "chunk_size": [private_index.chunk_size, 120]},
        rank_by="hit@1",
        embedder=embedder,
    )
    assert len(result.rows) == 4
    hits = [row.report.metrics["hit@1"] for row in result.rows]
    assert hits == sorted(hits, reverse=True)
    small = [r for r in result.rows if r.config["chunk_size"] == 120]
    assert all(r.report.settings["index_dir"] != str(private_index.index_dir) for r in small)
    assert sorted(p.name for p in private_index.index_dir.iterdir()) == before
    thresholds = {row.report.threshold for row in result.rows}
    assert len(thresholds) == 1  # all compared at the base threshold


# -- the command and its reports ------------------------------------------------------------------
def rag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.fixture(scope="module")
def cli_run(shipped, tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """``rag eval`` with no questions argument, from a folder without tests/data."""
    root = tmp_path_factory.mktemp("cli-eval")
    shutil.copytree(shipped.corpus_dir, root / "corpus")
    out = root / "eval-report"
    done = rag("eval", "--out", str(out), cwd=root)
    return done, root, out


@pytest.mark.slow
def test_rag_eval_writes_all_three_reports(cli_run):
    done, _, out = cli_run
    assert done.returncode == 0, done.stderr
    for name in ("report.json", "report.md", "report.html"):
        assert (out / name).is_file()
    data = json.loads((out / "report.json").read_text())
    assert len(data["questions"]) == 54 and data["questions_file"].endswith("questions.jsonl")
    q = data["questions"][0]
    for key in ("answer", "citations", "retrieved", "metrics", "passed", "score", "latency"):
        assert key in q
    for name in ("containment", "support_in_citations", "abstention_rate", "false_refusal_rate"):
        assert name in done.stdout and data["metrics"][name] is not None
    assert "| a01 |" in (out / "report.md").read_text()
    assert data["metrics"]["ingest_seconds"] > 0  # the index was built by this run


@pytest.mark.slow
def test_rag_eval_baseline_and_fail_under(cli_run, tmp_path):
    _, root, out = cli_run
    subset = tmp_path / "few.jsonl"
    subset.write_text("\n".join(json.dumps(r) for r in rows() if r["id"] in ("a01", "u12")))
    done = rag(
        "eval",
        str(subset),
        "--baseline",
        str(out / "report.json"),
        "--fail-under",
        "containment=1.01",
        "--out",
        str(tmp_path / "again"),
        cwd=root,
    )
    assert done.returncode == 3, done.stderr
    assert "vs baseline" in done.stdout and "fail-under" in done.stderr
    assert "containment = 1.0000 is under 1.01" in done.stderr
    data = json.loads((tmp_path / "again" / "report.json").read_text())
    assert len(data["comparison"]["removed"]) == 52


def test_rag_eval_user_errors(tmp_path):
    missing = rag("eval", "missing.jsonl", cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad_gate = rag("eval", str(QUESTIONS), "--fail-under", "nonsense", cwd=tmp_path)
    assert bad_gate.returncode == 1 and "metric=value" in bad_gate.stderr
    assert "Traceback" not in missing.stderr + bad_gate.stderr


@pytest.mark.slow
def test_html_report_opens_in_chromium_without_errors(cli_run, chromium_path):
    from playwright.sync_api import sync_playwright

    _, _, out = cli_run
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto((out / "report.html").as_uri())
            page.wait_for_load_state("load")
            assert page.title().startswith("rag eval")
            rows_shown = page.locator("table").last.locator("tr").count() - 1
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
            external = page.eval_on_selector_all(
                "[src],[href]",
                "els => els.map(e => e.getAttribute('src') || e.getAttribute('href'))"
                ".filter(u => !u.startsWith('data:'))",
            )
        finally:
            browser.close()
    assert problems == []
    assert rows_shown == 54
    assert len(widths) == 2 and all(w > 0 for w in widths)  # both plots decoded
    assert external == []  # self-contained
