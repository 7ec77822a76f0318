"""Questions that compare a table's rows, answered with one cell of the whole table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag import QA
from rag.convert.office import load_csv
from rag.read import TABLE_ANSWERER
from rag.read.table_ops import answer_cell
from rag.read.table_parse import parse_table
from rag.read.tables import row_lines

RESULTS = (
    '"Place","Rider","Team","Laps","Points","Notes"\n'
    '"1","Ada Varga","Falcon","25","25","pole; fastest lap"\n'
    '"2","Bruno Keel","Orca","25","20",""\n'
    '"3","Chen Mirow","Falcon","25","16",""\n'
    '"4","Dora Lind","Lynx","24","13","penalty"\n'
    '"5","Emil Sorn","Orca","22","11",""\n'
)
SHIPS = (
    '"Ship","Launched","Yard"\n'
    '"Aurora","3 March 1928","Kiel"\n'
    '"Borealis","9 May 1929","Brest"\n'
    '"Cygnus","1 June 1929","Kiel"\n'
    '"Draco","4 April 1930","Brest"\n'
)

#: The medal winners' places are left empty, as results tables often do.
TIMES = (
    '"Rank","Athlete","Country","Time"\n'
    '"","Kulik","Norway","39.17"\n'
    '"","Moran","Sweden","39.25"\n'
    '"3","Ito","Japan","39.54"\n'
    '"4","Sand","Norway","40.02"\n'
)
CHARTS = (
    '"Album","Year","Peak position"\n'
    '"Blue Rooms","1998","14"\n'
    '"Night Market","2001","3"\n'
    '"Salt","2004","27"\n'
)

CHARTS_2004 = CHARTS + '"Harbour","2004","9"\n'


def text_of(csv: str) -> str:
    """The document text ``rag`` makes of a CSV: one line per row, a blank line between."""
    return "\n\n".join(line for line, _ in load_csv(csv).parts)


def table(csv: str):
    parsed = parse_table(text_of(csv))
    assert parsed is not None
    return parsed


def answer(question: str, csv: str = RESULTS) -> str | None:
    t = table(csv)
    cell = answer_cell(question, t)
    return None if cell is None else t.rows[cell.row][cell.header]


def test_a_value_holding_a_semicolon_keeps_its_row_and_its_cell():
    t = table(RESULTS)
    assert len(t.rows) == 5
    assert t.rows[0]["Notes"] == "pole; fastest lap"
    assert t.headers == ("Place", "Rider", "Team", "Laps", "Points", "Notes")
    text = text_of(RESULTS)
    for row, places in zip(t.rows, t.places, strict=True):
        assert {h: text[a:b] for h, (a, b) in places.items()} == row


def test_a_header_inside_a_value_does_not_move_the_cell():
    csv = RESULTS.replace('"pole; fastest lap"', '"pole; Points: 99"')
    t, text = table(csv), text_of(csv)
    a, b = t.places[0]["Points"]
    assert text[a:b] == "25" and t.rows[0]["Points"] == "25"  # the row's own cell, first


@pytest.mark.parametrize(
    "text",
    [
        "Results of the season\n\n" + text_of(RESULTS),  # a heading: not only a table
        text_of(RESULTS) + "\n\n" + text_of(SHIPS),  # two tables (a workbook's two sheets)
    ],
)
def test_a_document_that_is_not_one_table_is_not_read_whole(text):
    assert parse_table(text) is None


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("Which rider has the most points?", "Ada Varga"),
        ("Which rider scored the fewest points?", "Emil Sorn"),
        ("Which rider completed the fewest laps?", "Emil Sorn"),
        ("Who came in last place?", "Emil Sorn"),  # places count up: the last is the largest
        ("Which rider is on top in points?", "Ada Varga"),  # points: the top is the largest
        ("Who is the last rider?", "Emil Sorn"),
        ("Who came after Bruno Keel?", "Chen Mirow"),
        ("Which rider finished before Dora Lind?", "Chen Mirow"),
        ("Which team is listed after Orca's Bruno Keel?", "Falcon"),
    ],
)
def test_questions_that_compare_rows_get_their_cell(question, cell):
    assert answer(question) == cell


def test_rows_the_question_names_are_the_ones_compared():
    assert answer("What was the first ship launched in 1929?", SHIPS) == "Borealis"
    assert answer("Which was the last ship built at Kiel?", SHIPS) == "Cygnus"
    assert answer("When was the first ship launched at Brest?", SHIPS) == "9 May 1929"


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("Which ship was the first launched?", "Aurora"),  # by year, not by day of the month
        ("Which ship was launched earliest?", "Aurora"),
        ("Which ship was launched latest?", "Draco"),
    ],
)
def test_first_and_last_over_dates_go_by_the_year(question, cell):
    assert answer(question, SHIPS) == cell


def test_the_column_asked_for_is_named_after_which_or_what_past_its_verbs():
    # a leading column of names is the first one, but the question asks for a ship
    csv = '"Builder","Ship","Yard"\n"Vulcan","Aurora","Kiel"\n"Penhoet","Borealis","Brest"\n'
    csv += '"Ateliers","Cygnus","Brest"\n'
    assert answer("What was the first ship to be launched at Brest?", csv) == "Borealis"
    assert answer("Which builder was the last one at Brest?", csv) == "Ateliers"


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("Which institution was founded last?", "Quinnipiac"),  # by year, not the table's order
        ("Which institution was founded first?", "Yale"),
    ],
)
def test_first_and_last_go_by_the_dates_the_question_names(question, cell):
    csv = '"Institution","Founded"\n"Yale","1701"\n"Quinnipiac","1929"\n"Trinity","1823"\n'
    assert answer(question, csv) == cell


def test_rows_whose_first_cells_are_empty_are_still_rows_of_the_table():
    t = table(TIMES)
    assert [r["Athlete"] for r in t.rows] == ["Kulik", "Moran", "Ito", "Sand"]
    assert t.headers == ("Rank", "Athlete", "Country", "Time")  # the widest row's order
    assert "Rank" not in t.rows[0]


@pytest.mark.parametrize(
    ("question", "csv", "cell"),
    [
        ("Who had more points, Bruno Keel or Dora Lind?", RESULTS, "Bruno Keel"),
        ("Did Emil or Chen score fewer points?", RESULTS, "Emil Sorn"),  # part of a name
        ("Who was faster, Sand or Moran?", TIMES, "Moran"),  # the lower time
        ("Who was slower: Kulik or Ito?", TIMES, "Ito"),
        ("Which ship was launched first, Cygnus or Borealis?", SHIPS, "Borealis"),  # same year
        ("Which ship is older, Draco or Aurora?", SHIPS, "Aurora"),  # the earlier year
        ("Which was launched later, Aurora or Cygnus?", SHIPS, "Cygnus"),
        ("Which album peaked higher, Salt or Blue Rooms?", CHARTS, "Blue Rooms"),  # position 14
        ("Did Ada Varga or Bruno Keel ride for Falcon?", RESULTS, "Ada Varga"),  # the one that did
        ("Who was faster, Muller or Ito?", TIMES.replace("Moran", "Müller"), "Müller"),  # accents
    ],
)
def test_which_of_two_named_rows_the_comparative_picks(question, csv, cell):
    assert answer(question, csv) == cell


@pytest.mark.parametrize(
    "question",
    [
        "Who completed more laps, Ada Varga or Bruno Keel?",  # a tie: 25 and 25
        "Which rider was not faster, Ada Varga or Bruno Keel?",  # a negation
        "Did Ada Varga or Chen Mirow ride for Falcon?",  # both did: the table does not settle it
        "Who had more points, Ada Varga or Marco Polo?",  # one side names no row
        "Who had more wins, Ada Varga or Bruno Keel?",  # no column counts wins
    ],
)
def test_either_questions_the_table_cannot_settle_are_left_to_the_reader(question):
    assert answer(question) is None


@pytest.mark.parametrize(
    ("question", "csv", "cell"),
    [
        ("Who raced the fastest?", TIMES, "Kulik"),  # the lowest time
        ("Who was the slowest athlete?", TIMES, "Sand"),
        ("Which rider is listed below Chen Mirow?", RESULTS, "Dora Lind"),
        ("Which rider is above Chen Mirow?", RESULTS, "Bruno Keel"),
        ("Which album was released the same year as Salt?", CHARTS_2004, "Harbour"),
        ("Which rider had the same number of laps as Chen Mirow?", RESULTS, "Ada Varga"),
    ],
)
def test_time_place_and_same_value_questions_get_their_cell(question, csv, cell):
    assert answer(question, csv) == cell


@pytest.mark.parametrize(
    ("question", "csv"),
    [
        ("Which rider scored above 12 points?", RESULTS),  # a condition three rows meet
        ("Which rider scored under 11 points?", RESULTS),  # one no row meets
        ("Which rider with more than 12 points was last?", RESULTS),  # two steps
        ("Which rider finished above 20?", RESULTS),  # names no column of numbers
        ("Which album was released the same year as Salt?", CHARTS),  # no other row shares it
        ("Who was as fast as the same rider as Marco Polo?", RESULTS),  # names no row
    ],
)
def test_conditions_and_unmatched_values_are_left_to_the_reader(question, csv):
    assert answer(question, csv) is None


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("Which rider scored above 20 points?", "Ada Varga"),  # a condition, not a neighbour
        ("Who had less than 12 points?", "Emil Sorn"),
        ("Which team's rider completed fewer than 23 laps?", "Orca"),
        ("Name the rider with at least 25 points.", "Ada Varga"),
    ],
)
def test_the_only_row_meeting_a_bound_gives_the_cell(question, cell):
    assert answer(question) == cell


def test_only_names_one_row_and_the_column_it_asks_for():
    assert answer("Which rider was the only one with a penalty?") == "Dora Lind"
    assert answer("Which team had the only rider on pole?") == "Falcon"
    assert answer("Who was the only rider with a penalty?") == "Dora Lind"  # "who ... rider"
    assert answer("Who was the only one with a penalty?") is None  # names no column
    assert answer("Which rider was the only one in Falcon?") is None  # two rows hold it


def test_a_column_is_named_by_a_word_the_stemmer_keeps_apart():
    squad = (
        '"Player","Position","Weight","Licence #"\n'
        '"Abe","QB","223 lb","41"\n'
        '"Bo","WR","195 lb","7"\n'
    )
    assert answer("Which player weighs the least?", squad) == "Bo"  # "weigh" / "weight"
    assert answer("Which player has the highest license number?", squad) == "Abe"
    assert answer("Which player has the highest salary?", squad) is None  # no such column


WINNERS = (
    '"Team","County","Years won"\n'
    '"Greystones","Wicklow","2011"\n'
    '"Ballymore","Kildare","2010"\n'
    '"Maynooth","Kildare","2009"\n'
    '"Crettyard","Laois","2008"\n'
)


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("Which team won after Ballymore?", "Greystones"),  # later: the row above
        ("Which team won before Ballymore?", "Maynooth"),
        ("Which team was the first winner?", "Crettyard"),  # the earliest year
        ("Which team is next on the list after Ballymore?", "Maynooth"),  # the page's order
        ("Which team is listed first?", "Greystones"),
    ],
)
def test_after_and_first_go_by_time_in_a_table_whose_latest_rows_come_first(question, cell):
    assert answer(question, WINNERS) == cell


def test_a_question_of_two_steps_is_left_to_the_reader():
    assert answer("Which rider scored the most points after Bruno Keel?") is None


@pytest.mark.parametrize(
    "question",
    [
        "Which team did Dora Lind ride for?",  # one row says it: the reader's question
        "How many riders finished all 25 laps?",  # a count, not a cell
        "Who was the first person on the moon?",  # names no column of the table
        "Which rider has the most podiums?",  # no column counts podiums
        "Who came after Marco Polo?",  # no row names him
    ],
)
def test_questions_that_compare_no_rows_are_left_to_the_reader(question):
    assert answer(question) is None


def ask_results(make_corpus, embedder, question: str):
    """``question`` asked of a folder of RESULTS and a note; the reply and the table's text."""
    settings = make_corpus({"results.csv": RESULTS, "notes.txt": "The season opened in May.\n"})
    with QA(settings, embedder=embedder) as qa:
        return qa.ask(question), qa.document_text("results.csv")


def test_the_answer_is_the_cell_cited_by_its_row(make_corpus, embedder):
    reply, text = ask_results(make_corpus, embedder, "Which rider has the most points?")
    assert reply.text == "Ada Varga [1]" and not reply.abstained
    assert reply.answerer == TABLE_ANSWERER and reply.confidence is None  # not the reader's span
    c = reply.citations[0]
    assert c.source == "results.csv" and c.location == "row 2"
    assert c.quote == text[c.start : c.end]
    assert c.quote.startswith("Place: 1; Rider: Ada Varga;") and "Points: 25" in c.quote


#: A results table as Wikipedia gives one: the winner's time, the others' gaps, retirements.
RACE = (
    '"Pos","Driver","Team","Time/Retired","Grid"\n'
    '"1","Wheldon","Herta","2:56:11.7267","6"\n'
    '"2","Hildebrand","Panther","+2.1086","12"\n'
    '"3","Rahal","Ganassi","+5.5949","29"\n'
    '"4","Kimball","Ganassi","+1 lap","28"\n'
    '"5","Bell","Schmidt","Contact","4"\n'
)
#: Chart runs by station: "—" where a song did not chart, not a value.
CHART_WEEKS = (
    '"Song","Hito Radio Top 10","UFO Radio Top 15"\n'
    '"Super Star","4","—"\n'
    '"Half-Sugarism","—","9"\n'
    '"Rainbow","2","3"\n'
    '"Lonely","—","—"\n'
)
#: Officeholders: the first column of names is the state, but "who" asks for a name.
OFFICES = (
    '"State","Title","Name","Entered office"\n'
    '"Barbados","Governor","Russell","1931"\n'
    '"Jamaica","Governor","Moss","1934"\n'
)
#: A draft: the highest choice is the smallest number; the picks' colleges are names.
DRAFT = (
    '"Round","Choice","Player","College","Flag bearer"\n'
    '"1","20","Pettigrew","Oklahoma State","Lind"\n'
    '"1","1","Stafford","Georgia","Varga"\n'
    '"2","33","Delmas","Alabama","Keel"\n'
)


@pytest.mark.parametrize(
    ("question", "csv", "cell"),
    [
        ("Who raced the fastest?", RACE, "Wheldon"),  # a gap is no time: +2.1 is slower
        ("Which song had the most weeks on the UFO Radio Top 15?", CHART_WEEKS, "Half-Sugarism"),
        ("Who was the highest draft choice?", DRAFT, "Stafford"),  # choice 1, not 33
        ("Who was the lowest draft choice?", DRAFT, "Delmas"),
        ("Who had the top time?", TIMES.replace('"",', '"-",'), "Kulik"),  # the shortest
        ("Who had the best time?", TIMES, "Kulik"),
        ("Which rider had the best points?", RESULTS, "Ada Varga"),
        ("Who was the last flag bearer?", DRAFT, "Keel"),  # "who": the column the words name
        ("Who was the first to enter office?", OFFICES, "Russell"),  # else "who": the "Name"
        ("What is the name of the first college?", DRAFT, "Oklahoma State"),
    ],
)
def test_places_times_and_the_column_asked_for(question, csv, cell):
    assert answer(question, csv) == cell


def test_a_count_of_a_place_is_no_place():
    # "Fourth place" counts fourth places: the most of them is the largest number
    csv = '"Team","Fourth place"\n"Toronto","0"\n"Michigan Tech","3"\n"Denver","1"\n'
    assert answer("Which team had the most fourth place finishes?", csv) == "Michigan Tech"


def test_a_row_whose_cell_holds_a_semicolon_is_still_a_row():
    # every row of this passage has such a cell: the table is still found and read whole
    csv = '"Edition","Poetry Prize","Accessits"\n"1st","Castro","Moreno ; Río"\n'
    csv += '"2nd","Posse","Pérez ; Alonso"\n'
    assert (
        row_lines(text_of(csv))
        and answer("What poetry prize is at the top of the list?", csv) == "Castro"
    )


#: Launchers named by codes: "M-13" is a name, not the number -13, so the names are a column of
#: names; a race whose teams' names hold the verb a question uses ("raced": "Racing").
LAUNCHERS = (
    '"Weapon name","Caliber (mm)","Range (max)"\n'
    '"M-8","82 mm","5,900 m"\n'
    '"M-13DD","132 mm","11,800 m"\n'
    '"M-30","300 mm","2,800 m"\n'
)
RACING = RACE.replace('"Panther"', '"Panther Racing"').replace('"Ganassi"', '"Ganassi Racing"')
#: Golf: a score "to par" with the minus sign Wikipedia prints (U+2212).
#: Single-digit values, which name no row by their words alone.
WINS = '"Rider","Wins","Points"\n"Ada","3","9"\n"Bo","1","4"\n"Cy","1","7"\n'
GOLF = (
    '"Place","Player","To par"\n"1","Nelson","−7"\n"2","Zoeller","−3"\n"T3","Pohl","E"\n'
    '"4","Aoki","+1"\n'
)


@pytest.mark.parametrize(
    ("question", "csv", "cell"),
    [
        ("Which katyusha launcher has the best range?", LAUNCHERS, "M-13DD"),
        ("Who raced the fastest?", RACING, "Wheldon"),  # the rows "Racing" names have no time
        ("Who had the lowest score to par?", GOLF, "Nelson"),  # −7, not 7
        ("Who was the only rider to score 9 points?", WINS, "Ada"),  # a value given
        ("Which rider had one win and 4 points?", WINS, "Bo"),
        ("Which rider did 25 laps and had 16 points?", RESULTS, "Chen Mirow"),
        ("Which team's rider only completed 22 laps?", RESULTS, "Orca"),
    ],
)
def test_codes_signs_and_the_values_a_question_gives(question, csv, cell):
    assert answer(question, csv) == cell


@pytest.mark.parametrize(
    "question",
    [
        "Which rider did 25 laps?",  # three rows hold it: many answers
        "Which rider had one win?",
        "Which rider scored 12 points?",  # no row holds it
        "Which rider won in 2005 with Falcon?",  # a year is no value of a column
    ],
)
def test_a_value_held_by_no_row_or_many_is_left_to_the_reader(question):
    assert answer(question) is None


#: Parts of a standard: "what is the only part ...?" asks for the "Part" column, not "only".
PARTS = (
    '"Part","Title","First released"\n'
    '"Part 1","Systems","2002"\n'
    '"Part 2","Description language","2002"\n'
    '"Part 12","Query format","2008"\n'
)
GOLF_PLACES = '"Place","Player"\n"1","Nelson"\n"T2","Zoeller"\n"T2","Pohl"\n"6","Aoki"\n'


@pytest.mark.parametrize(
    ("question", "csv", "cell"),
    [
        ("What is the only part to be first released in 2008?", PARTS, "Part 12"),
        ("Who was the only player to place 6th?", GOLF_PLACES, "Aoki"),  # the value after "place"
    ],
)
def test_the_only_row_and_the_value_after_its_column(question, csv, cell):
    assert answer(question, csv) == cell


def test_an_ordinal_said_twice_is_read_in_the_questions_order_whatever_the_hash_seed():
    # "last" and "top" both order rows: the first said wins, not whichever a set yields first
    script = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "from test_table_ops import answer, SHIPS;"
        "print(answer('Which ship was launched last of the top ships?', SHIPS))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in range(4)
    }
    assert seen == {"Draco"}


#: Locomotives: names that hold numbers ("Class 461"), dates, and notes that mention the kind.
LOCOMOTIVES = (
    '"name","dates","power","notes"\n'
    '"Re 465","1994","9,520 horsepower","most powerful locomotive with four axles, in use"\n'
    '"Class 461","1965","7,638 horsepower","operational in Romania, Serbia and Montenegro today"\n'
    '"WAG-9","October 6, 1998","6,350 horsepower","most powerful locomotive in India then"\n'
)


def test_a_name_holding_a_number_is_a_name_and_notes_name_no_kind():
    t = table(LOCOMOTIVES)
    assert "name" not in t.numeric and "dates" in t.numeric  # "Class 461"; a date is a value
    assert answer("Which locomotive had the least amount of power?", LOCOMOTIVES) == "WAG-9"
