"""Conversation history: real SQLite files in tmp_path, real Answer objects, no mocks."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.history import (
    Conversation,
    ConversationNotFound,
    HistoryStore,
    HistoryUnavailable,
    SafeHistory,
    answer_from_dict,
    conversation_from_json,
    conversation_markdown,
)
from rag.results import ABSTAIN_TEXT, Answer, Citation, Passage

DOC = "Kabul and Islamabad share the Durand Line, a border drawn in 1893. Trade crosses at Torkham."


def passage(start: int = 0, end: int = len(DOC), **extra: object) -> Passage:
    values: dict = dict(chunk_id="c1", source="relations.txt", text=DOC[start:end], start=start)
    values.update(end=end, score=0.75, title="Relations", heading="Border", page=None)
    values.update(location="", dense_score=0.5, bm25_score=3.25, dense_rank=1, bm25_rank=2)
    values.update(extra)
    return Passage(**values)  # type: ignore[arg-type]


def citation(n: int, quote: str, **extra: object) -> Citation:
    start = DOC.index(quote)
    values: dict = dict(n=n, source="relations.txt", quote=quote, start=start)
    values.update(end=start + len(quote), passage=DOC, score=0.9 - n / 10, title="Relations")
    values.update(page=None, chunk_id="c1", passage_start=0, location="")
    values.update(extra)
    return Citation(**values)  # type: ignore[arg-type]


def border_answer() -> Answer:
    return Answer(
        text="The Durand Line [1], drawn in 1893 [2].",
        abstained=False,
        citations=[
            citation(1, "the Durand Line", page=3, location="page 3"),
            citation(2, "a border drawn in 1893", title="", source="notes/b.pdf"),
        ],
        question="What is the border called?",
        query="border called",
        score=0.8125,
        answerer="extractive",
        passages=[passage(), passage(0, 20, page=3, location="page 3 (OCR)")],
        timings={"retrieve": 0.012, "read": 0.3},
    )


def trade_answer() -> Answer:
    return Answer(
        text="At Torkham [1]; see also [7].",
        abstained=False,
        citations=[citation(1, "Trade crosses at Torkham", location="sheet S, row 9")],
        question="And where does trade cross?",
        query="Where does trade cross between Afghanistan and Pakistan?",
        supported=False,
        answerer="ollama:qwen",
        unsupported=["It is busy."],
        passages=[passage(67, len(DOC))],
    )


def abstained() -> Answer:
    return Answer(text=ABSTAIN_TEXT, abstained=True, question="Who won?", passages=[passage()])


@pytest.fixture
def store(tmp_path: Path):
    history = HistoryStore(tmp_path / "history.sqlite3")
    yield history
    history.close()


# -- the store ------------------------------------------------------------------------------
def test_answer_round_trips_through_its_dict() -> None:
    for answer in (border_answer(), trade_answer(), abstained()):
        again = answer_from_dict(json.loads(json.dumps(answer.to_dict())))
        assert again == answer
        assert all(isinstance(c, Citation) for c in again.citations)
        assert all(isinstance(p, Passage) for p in again.passages)
    newer = {**border_answer().to_dict(), "added_in_v9": 1}
    assert answer_from_dict(newer) == border_answer()
    with pytest.raises(ValueError, match="not a stored answer"):
        answer_from_dict({"text": "no abstained field"})


def test_create_add_list_get_rename_delete(store: HistoryStore, tmp_path: Path) -> None:
    first = store.create("")
    second = store.create("", title="  Trade   questions ")
    assert len(first.id) == 32 and first.id != second.id
    assert second.title == "Trade questions" and first.title == ""
    assert [c.id for c in store.list("")] == [second.id, first.id]

    turn = store.add_turn(first.id, "", "What is the border called?", border_answer())
    store.add_turn(first.id, "", "And where does trade cross?", trade_answer())
    listed = store.list("")
    assert [c.id for c in listed] == [first.id, second.id]  # updated moves it to the top
    assert [c.turn_count for c in listed] == [2, 0] and listed[0].turns == ()
    assert listed[0].title == "What is the border called?"  # titled by the first question

    got = store.get(first.id, "")
    assert [t.question for t in got.turns] == [
        "What is the border called?",
        "And where does trade cross?",
    ]
    assert got.turns[0] == turn and got.turns[1].answer == trade_answer()
    assert got.updated == got.turns[1].asked and got.created == first.created

    assert store.rename(first.id, "", "Border").title == "Border"
    assert store.rename(first.id, "", "   ").title == "What is the border called?"
    store.delete(second.id, "")
    assert [c.id for c in store.list("")] == [first.id]
    for action in (
        lambda: store.get(second.id, ""),
        lambda: store.delete(second.id, ""),
        lambda: store.add_turn(second.id, "", "q", border_answer()),
        lambda: store.get("not-an-id'; DROP TABLE turns; --", ""),
    ):
        with pytest.raises(ConversationNotFound):
            action()
    assert (tmp_path / "history.sqlite3").exists()


def test_titles_are_trimmed(store: HistoryStore) -> None:
    conversation = store.create("")
    store.add_turn(conversation.id, "", "why " * 40 + "\n?", border_answer())
    title = store.get(conversation.id, "").title
    assert len(title) == 80 and title.endswith("…") and "\n" not in title


def test_history_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.sqlite3"  # the folder is created on first use
    before = HistoryStore(path)
    conversation = before.create("ann")
    before.add_turn(conversation.id, "ann", "What is the border called?", border_answer())
    before.rename(conversation.id, "ann", "Border")
    kept = before.get(conversation.id, "ann")
    before.close()
    after = HistoryStore(path)
    try:
        assert after.get(conversation.id, "ann") == kept
        assert after.list("ann")[0].title == "Border"
    finally:
        after.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(1,)]


def test_threads_share_one_store(store: HistoryStore) -> None:
    conversation = store.create("")

    def ask(k: int) -> None:
        for i in range(10):
            store.add_turn(conversation.id, "", f"q{k}-{i}", border_answer())

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.get(conversation.id, "").turns) == 40


# -- exports ----------------------------------------------------------------------------------
def test_json_export_round_trips_every_citation(store: HistoryStore) -> None:
    conversation = store.create("ann")
    answers = [border_answer(), trade_answer(), abstained()]
    for answer in answers:
        store.add_turn(conversation.id, "ann", answer.question, answer)
    exported = store.export_json(conversation.id, "ann")

    back = conversation_from_json(exported)
    assert back == store.get(conversation.id, "ann")
    assert [t.answer for t in back.turns] == answers
    assert [c for t in back.turns for c in t.answer.citations] == [
        c for a in answers for c in a.citations
    ]
    data = json.loads(exported)
    assert data["format"] == "rag-conversation" and data["owner"] == "ann"
    assert [t["answer"] for t in data["turns"]] == [a.to_dict() for a in answers]


def test_markdown_export(store: HistoryStore) -> None:
    conversation = store.create("")
    store.add_turn(conversation.id, "", "What is the border *called*?", border_answer())
    store.add_turn(conversation.id, "", "And where does trade cross?", trade_answer())
    store.add_turn(conversation.id, "", "Who won?", abstained())
    assert store.export_markdown(conversation.id, "") == (
        "# What is the border \\*called\\*?\n"
        "\n"
        "## What is the border \\*called\\*?\n"
        "\n"
        "The Durand Line [^1-1], drawn in 1893 [^1-2].\n"
        "\n"
        "_Searched for: border called_\n"
        "\n"
        '[^1-1]: Relations (relations.txt), page 3, characters 26–41: "the Durand Line"\n'
        '[^1-2]: notes/b.pdf, characters 43–65: "a border drawn in 1893"\n'
        "\n"
        "## And where does trade cross?\n"
        "\n"
        "At Torkham [^2-1]; see also [7].\n"
        "\n"
        '_Not supported by the documents: "It is busy."_\n'
        "\n"
        "_Searched for: Where does trade cross between Afghanistan and Pakistan?_\n"
        "\n"
        "[^2-1]: Relations (relations.txt), sheet S, row 9, characters 67–91: "
        '"Trade crosses at Torkham"\n'
        "\n"
        "## Who won?\n"
        "\n"
        f"{ABSTAIN_TEXT}\n"
    )


def test_markdown_export_escapes_document_markup() -> None:
    hostile = Answer(
        text="See ![x](http://evil/p.png) <script>x</script> [1]",
        abstained=False,
        citations=[Citation(1, "x.txt", "[link](javascript:alert(1))\nnext", 0, 32, "p", 0.5)],
    )
    store_less = SafeHistory(None)
    conversation = store_less.create("")
    store_less.add_turn(conversation.id, "", "q", hostile)
    text = conversation_markdown(store_less.get(conversation.id, ""))
    assert "![x](" not in text and "<script>" not in text and "[link](" not in text
    assert "[^1-1]: " in text and '"\\[link\\](javascript:alert(1)) next"' in text


# -- owners -----------------------------------------------------------------------------------
def test_owners_do_not_see_each_others_conversations(store: HistoryStore) -> None:
    ann = store.create("ann")
    store.add_turn(ann.id, "ann", "What is the border called?", border_answer())
    bob = store.create("bob", title="Bob's")
    before = store.get(ann.id, "ann")

    assert [c.id for c in store.list("bob")] == [bob.id]
    assert store.list("") == [] and store.list("ANN") == []
    for action in (
        lambda: store.get(ann.id, "bob"),
        lambda: store.rename(ann.id, "bob", "mine now"),
        lambda: store.delete(ann.id, "bob"),
        lambda: store.export_json(ann.id, "bob"),
        lambda: store.export_markdown(ann.id, "bob"),
        lambda: store.add_turn(ann.id, "bob", "q", border_answer()),
    ):
        with pytest.raises(ConversationNotFound) as caught:
            action()
        assert str(caught.value) == f"no conversation {ann.id}"  # same as a missing id
    assert store.get(ann.id, "ann") == before

    safe = SafeHistory(store)
    assert [c.id for c in safe.list("bob")] == [bob.id]
    with pytest.raises(ConversationNotFound):
        safe.get(ann.id, "bob")
    with pytest.raises(ConversationNotFound):
        safe.add_turn(ann.id, "bob", "q", border_answer())
    assert safe.notice is None and store.get(ann.id, "ann") == before


# -- degradation ------------------------------------------------------------------------------
def assert_keeps_answering(safe: SafeHistory, reason: str) -> None:
    """The chat goes on in memory, and the user is told it is not being saved."""
    conversation = safe.create("ann")
    safe.add_turn(conversation.id, "ann", "What is the border called?", border_answer())
    safe.add_turn(conversation.id, "ann", "And where does trade cross?", trade_answer())
    assert safe.notice is not None
    assert safe.notice.startswith(f"History is not being saved: the history database is {reason}")
    assert safe.notice.endswith("Answers still work.")
    assert not safe.saved(conversation.id, "ann")
    got = safe.get(conversation.id, "ann")
    assert [t.answer for t in got.turns] == [border_answer(), trade_answer()]
    assert got.title == "What is the border called?"
    assert conversation.id in {c.id for c in safe.list("ann")}
    assert conversation_from_json(safe.export_json(conversation.id, "ann")) == got
    assert "[^2-1]" in safe.export_markdown(conversation.id, "ann")
    with pytest.raises(ConversationNotFound):
        safe.get(conversation.id, "bob")
    assert safe.rename(conversation.id, "ann", "Kept").title == "Kept"
    safe.delete(conversation.id, "ann")
    assert conversation.id not in {c.id for c in safe.list("ann")}


def test_damaged_database_still_answers(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not sqlite\x00\xff" * 512)
    store = HistoryStore(path)
    with pytest.raises(HistoryUnavailable) as caught:
        store.list("ann")
    assert caught.value.reason == "damaged" and isinstance(caught.value, RagError)
    assert "is damaged (file is not a database)" in str(caught.value)

    safe = SafeHistory(store)
    assert_keeps_answering(safe, "damaged (file is not a database)")
    assert path.read_bytes() == b"this is not sqlite\x00\xff" * 512  # never "repaired" away
    safe.close()


def test_malformed_database_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    for _ in range(30):
        store.add_turn(store.create("ann").id, "ann", "q", border_answer())
    store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)  # keep the header and schema page, smash the rest
    path.write_bytes(bytes(data))
    with pytest.raises(HistoryUnavailable) as caught:
        HistoryStore(path).list("ann")
    assert caught.value.reason == "damaged"


def saved_conversation(path: Path, store: HistoryStore | None = None) -> Conversation:
    """Ann's one-turn conversation, written to ``path`` (by ``store``, left open, if given)."""
    writer = store or HistoryStore(path)
    conversation = writer.create("ann")
    writer.add_turn(conversation.id, "ann", "What is the border called?", border_answer())
    if store is None:
        writer.close()
    return conversation


def test_read_only_database_reads_but_saves_in_memory(tmp_path: Path) -> None:
    """Simulated with SQLite's ``mode=ro``: tests run as root, where chmod stops nothing."""
    path = tmp_path / "history.sqlite3"
    old = saved_conversation(path)

    store = HistoryStore(path, read_only=True)
    assert store.get(old.id, "ann").turns[0].answer == border_answer()
    with pytest.raises(HistoryUnavailable) as caught:
        store.create("ann")
    assert caught.value.reason == "read-only"

    safe = SafeHistory(store)
    assert_keeps_answering(safe, "read-only")
    safe.add_turn(old.id, "ann", "And where does trade cross?", trade_answer())
    assert [t.answer for t in safe.get(old.id, "ann").turns] == [border_answer(), trade_answer()]
    safe.close()
    assert len(HistoryStore(path).get(old.id, "ann").turns) == 1  # nothing written


def test_locked_database_still_answers(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    old = saved_conversation(path)

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process in the middle of writing
    store = HistoryStore(path, timeout=0.05)
    try:
        with pytest.raises(HistoryUnavailable) as caught:
            store.create("ann")
        assert caught.value.reason == "locked"
        safe = SafeHistory(store)
        assert_keeps_answering(safe, "locked")
        # WAL lets the earlier turns be read, so the in-memory copy continues them
        safe.add_turn(old.id, "ann", "And where does trade cross?", trade_answer())
        assert len(safe.get(old.id, "ann").turns) == 2 and not safe.saved(old.id, "ann")
    finally:
        other.execute("ROLLBACK")
        other.close()
    fresh = safe.create("ann")
    assert safe.saved(fresh.id, "ann") and safe.notice is not None  # old.id is still unsaved
    safe.delete(old.id, "ann")
    safe.create("ann")
    assert safe.notice is None  # nothing unsaved is left
    assert len(store.get(old.id, "ann").turns) == 1
    store.close()


def test_newer_schema_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path).close()
    HistoryStore(path).list("")
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryUnavailable, match="newer version"):
        HistoryStore(path).list("")


def test_in_memory_history_without_a_database() -> None:
    safe = SafeHistory(None)
    conversation = safe.create("")
    safe.add_turn(conversation.id, "", "What is the border called?", border_answer())
    assert safe.notice is None and [c.turn_count for c in safe.list("")] == [1]
    with pytest.raises(ConversationNotFound):
        safe.add_turn("0" * 32, "", "q", border_answer())
    with pytest.raises(ConversationNotFound):
        safe.rename("0" * 32, "", "t")


@pytest.mark.parametrize("read_only", [True, False], ids=["read_only", "writable-store"])
def test_wal_history_on_a_read_only_disk_still_lists_and_opens(
    tmp_path: Path, read_only: bool
) -> None:
    """A WAL database whose -shm file can be neither created nor opened, as on a read-only disk.

    Readers of a WAL database need the -shm index; ``mode=ro`` alone cannot open the file when
    it is missing and cannot be created. Tests run as root, where a read-only directory stops
    nothing, so the -shm name is a dangling symlink: creating and opening it fail just as they
    do on a read-only mount (SQLITE_CANTOPEN, checked below with plain ``sqlite3``).
    """
    path = tmp_path / "history.sqlite3"
    writable = HistoryStore(path)
    old = saved_conversation(path, writable)
    writable.add_turn(old.id, "ann", "And where does trade cross?", trade_answer())
    newer = writable.create("ann", "Nothing found")
    writable.add_turn(newer.id, "ann", "Who won?", abstained())
    writable.add_turn(writable.create("bob").id, "bob", "q", border_answer())
    writable.close()
    assert path.read_bytes()[18:20] == b"\x02\x02"  # the file is in WAL mode
    assert not path.with_name("history.sqlite3-shm").exists()  # removed at the last close
    path.with_name("history.sqlite3-shm").symlink_to(tmp_path / "missing" / "shm")
    raw = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
            raw.execute("SELECT COUNT(*) FROM conversations")  # what every reader met before
    finally:
        raw.close()
    before = path.read_bytes()

    store = HistoryStore(path, read_only=read_only)
    listed = store.list("ann")
    assert [(c.id, c.turn_count) for c in listed] == [(newer.id, 1), (old.id, 2)]
    assert [c.title for c in listed] == ["Nothing found", "What is the border called?"]
    got = store.get(old.id, "ann")
    assert [t.answer for t in got.turns] == [border_answer(), trade_answer()]
    assert store.get(newer.id, "ann").turns[0].answer == abstained()
    with pytest.raises(ConversationNotFound):
        store.get(old.id, "bob")
    for write in (
        lambda: store.add_turn(old.id, "ann", "Another?", trade_answer()),
        lambda: store.create("ann"),
        lambda: store.rename(old.id, "ann", "New title"),
    ):
        with pytest.raises(HistoryUnavailable) as caught:
            write()
        assert caught.value.reason == "read-only"
    assert [c.id for c in store.list("ann")] == [newer.id, old.id]  # reads again after a refusal

    safe = SafeHistory(store)
    assert [c.id for c in safe.list("ann")] == [newer.id, old.id]
    # a store meant to write says, on listing, that nothing new will be saved
    assert (safe.notice is None) == read_only
    safe.add_turn(old.id, "ann", "Who won?", abstained())
    assert safe.notice is not None
    assert safe.notice.startswith("History is not being saved: the history database is read-only")
    assert not safe.saved(old.id, "ann") and safe.saved(newer.id, "ann")
    assert [t.answer for t in safe.get(old.id, "ann").turns] == [
        border_answer(),
        trade_answer(),
        abstained(),
    ]
    assert [(c.id, c.turn_count) for c in safe.list("ann")] == [(old.id, 3), (newer.id, 1)]
    assert safe.notice is not None  # still shown: the continued conversation is only in memory
    assert safe.get(newer.id, "ann").turns[0].answer == abstained()
    safe.close()
    assert path.read_bytes() == before  # nothing was written
