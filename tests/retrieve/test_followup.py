"""Follow-up questions are rewritten with the previous question's key terms (rule-based)."""

from __future__ import annotations

import pytest

from rag.retrieve.followup import is_follow_up, rewrite, user_turns


@pytest.mark.parametrize(
    ("previous", "follow_up", "must_carry"),
    [
        (
            "Who did Ghani choose as the next interior minister?",
            "And who was defense minister?",
            ["Ghani"],
        ),
        (
            "When did the Taliban seize Kabul?",
            "What about Pakistan's recognition of them?",
            ["Taliban"],
        ),
        ("What is the Haqqani Network?", "Where is it based?", ["Haqqani", "Network"]),
        ("When did Zardari become president?", "Who attended that ceremony?", ["Zardari"]),
        (
            "How many border posts were planned?",
            "And when did the first one open?",
            ["border", "posts"],
        ),
    ],
)
def test_two_turn_conversations(previous, follow_up, must_carry):
    query = rewrite(follow_up, [(previous, "some answer")])
    assert query.startswith(follow_up.rstrip())
    for word in must_carry:
        assert word in query


def test_a_standalone_question_is_left_alone():
    q = "When did Ghani announce the new ministers?"
    assert not is_follow_up(q)
    assert rewrite(q, [("What is APAPPS?", "a plan")]) == q


def test_no_history_means_no_rewrite():
    assert rewrite("And who was defense minister?", []) == "And who was defense minister?"


def test_history_shapes_are_understood():
    from langchain_core.messages import AIMessage, HumanMessage

    shapes = [
        [("first?", "a"), ("second?", "b")],
        [
            {"role": "user", "content": "first?"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": "second?"},
        ],
        [HumanMessage("first?"), AIMessage("a"), HumanMessage("second?")],
    ]
    for history in shapes:
        assert user_turns(history) == ["first?", "second?"]


def test_follow_up_through_qa_reports_the_query(qa):
    history = [("Who did Ghani choose as the next interior minister?", "Amrullah Saleh [1]")]
    answer = qa.ask("And who was defense minister?", history=history)
    assert "Ghani" in answer.query and answer.query != answer.question
    assert "Asadullah Khaleed" in answer.text


def test_the_reader_reads_the_users_words_when_the_rewrite_only_appends_terms():
    from rag.retrieve import reading_query

    question = "And who was defense minister?"
    searched = rewrite(question, [("Who did Ghani choose as the next interior minister?", "x")])
    assert searched != question and reading_query(question, searched) == question
    resolved = "Who sponsors the Tripartite Commission?"  # a resolved question is read as is
    assert reading_query("Who sponsors it?", resolved) == resolved
    assert reading_query(question, question) == question
