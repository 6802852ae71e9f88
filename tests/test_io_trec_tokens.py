"""Fields and lines of the TREC readers as trec_eval splits them, the run writer's refusals, and the qrels notes.

The reference is trec_eval's own C parser (usnistgov/trec_eval ``get_trec_results.c`` ``parse_results_line`` and
``get_qrels.c`` ``parse_qrels_line``): fields end at C ``isspace`` in the C locale (space, ``\\t``, ``\\v``,
``\\f``, ``\\r``), lines at ``\\n``. pytrec_eval's ``parse_run`` and ir_measures' ``read_trec_run`` use Python's
``str.split()``, which also splits at a no-break space and every other Unicode blank, so neither is that reference.
The expected values below are read off those rules by hand; ltrkit also ends a line at a bare CR (old Mac files),
which trec_eval would read as a blank.
"""

import logging
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ltr.exceptions import ScoreFormatError, TrecFormatError
from ltr.io import detect_qrels_format, read_qrels, read_run, read_scores, run_from_scores, run_lines, write_run
from ltr.metrics import evaluate_run_per_query

NBSP = "\u00a0"


def put(tmp_path, name: str, text: str | bytes):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def rows(run: pd.DataFrame) -> list:
    return run[["docno", "rank", "score", "tag"]].values.tolist()


# --- read_run: one answer whichever path reads the file, and it is trec_eval's ------------------------------------

# "# c\r" (a comment and lines ended by CR alone) sends a file to the line-by-line reader; "\v" between two fields too.
@pytest.mark.parametrize("prefix", ["", "# c\r"], ids=["pandas-path", "line-path"])
def test_a_no_break_space_is_part_of_a_docno_on_both_paths(tmp_path, prefix):
    # trec_eval: NBSP (C2 A0) is no C isspace -> docno 'd\xa01', score 2.0 (line-by-line it read docno 'd', score 1.0)
    p = put(tmp_path, "nbsp.run", f"{prefix}1 Q0 d{NBSP}1 1 2.0 t\r1 Q0 d2 2 1.0 t\r")
    assert rows(read_run(p)) == [[f"d{NBSP}1", 1, 2.0, "t"], ["d2", 2, 1.0, "t"]]


@pytest.mark.parametrize("blank", ["\v", "\f"])
def test_vertical_tab_and_form_feed_separate_fields_as_in_trec_eval(tmp_path, blank):
    # trec_eval: qid 1, iter Q0, docno 'd', rank '1', sim '1' (1.0), run tag '2.0', then 't' ignored
    p = put(tmp_path, "vt.run", f"1 Q0 d{blank}1 1 2.0 t\n1 Q0 d2 2 1.0 t\n")
    assert rows(read_run(p)) == [["d", 1, 1.0, "2.0"], ["d2", 2, 1.0, "t"]]


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x1c", "\x1f", "\u3000"])
@pytest.mark.parametrize("sep", [" ", "\v"], ids=["pandas-path", "line-path"])
def test_other_blanks_and_breaks_of_python_stay_inside_an_id(tmp_path, char, sep):
    p = put(tmp_path, "u.run", f"1 Q0 x{char}y 1{sep}2.5 t\n1 Q0 z 2 1.5 t\n")
    assert rows(read_run(p)) == [[f"x{char}y", 1, 2.5, "t"], ["z", 2, 1.5, "t"]]


def test_a_run_with_a_no_break_space_id_is_evaluated_against_qrels_that_hold_it(tmp_path):
    # qrels and run read the docno alike: the relevant document is ranked first -> P@1 = AP = 1 (trec_eval: 1, 1)
    qrels = read_qrels(put(tmp_path, "q.qrels", f"1 0 d{NBSP}1 1\n1 0 d2 0\n"))
    for prefix in ("", "# c\r"):
        run = read_run(put(tmp_path, "r.run", f"{prefix}1 Q0 d{NBSP}1 1 2.0 t\r1 Q0 d2 2 1.0 t\r"))
        got = evaluate_run_per_query(qrels, run, ["p@1", "map", "num_rel_ret"])
        assert got.iloc[0].tolist() == [1.0, 1.0, 1]


def test_run_lines_counts_the_lines_read_run_reads(tmp_path):
    # str.splitlines broke line 1 at U+2028 and \v: the duplicate's lines were reported as 4 and 5
    p = put(tmp_path, "dup.run", "1 Q0 x\u2028y 1 3.0 t\n1 Q0 a\vz 2 2.5 t\n1 Q0 a 3 2.0 t\n1 Q0 a 4 1.0 t\n")
    assert run_lines(p, "1", "a") == [2, 3, 4]  # line 2's docno is 'a' to trec_eval (\v ends the field)
    assert read_run(p).docno.tolist() == ["x\u2028y", "a", "a", "a"]


# --- read_qrels and read_scores: the same fields, and lines that are the file's --------------------------------

def test_qrels_keep_a_no_break_space_inside_a_docno(tmp_path):
    # it was "cannot tell the relevance format: line 1 has 5 columns and this line 4"
    p = put(tmp_path, "q1.qrels", f"1 0 d{NBSP}1 2\n1 0 d2 1\n")
    assert read_qrels(p).values.tolist() == [["1", f"d{NBSP}1", 2], ["1", "d2", 1]]
    assert read_qrels(p, "trec").values.tolist() == [["1", f"d{NBSP}1", 2], ["1", "d2", 1]]


@pytest.mark.parametrize("char", ["\x1c", "\u2028"], ids=["ascii-pandas-path", "non-ascii-line-path"])
def test_qrels_ids_hold_what_trec_eval_does_not_split_at(tmp_path, char):
    p = put(tmp_path, "q.qrels", f"1 0 d{char}1 2\n1 0 d2 1\n")
    assert read_qrels(p, "trec").values.tolist() == [["1", f"d{char}1", 2], ["1", "d2", 1]]


def test_a_qrels_error_names_the_files_own_line(tmp_path):
    # U+2028 on line 1 is no line break: the bad relevance is on line 2 (it was reported as line 3)
    p = put(tmp_path, "q.qrels", "1 0 x\u2028y 1\n1 0 d2 2.5\n")
    with pytest.raises(TrecFormatError) as e:
        read_qrels(p)
    assert (e.value.line, e.value.token) == (2, "2.5")
    # \v separates fields, as in trec_eval ("Malformed line 1"): 5 fields on line 1, not a line 2 made of '1 2'
    p = put(tmp_path, "vt.qrels", "1 0 d\v1 2\n1 0 d2 1\n")
    with pytest.raises(TrecFormatError) as e:
        read_qrels(p, "trec")
    assert (e.value.line, e.value.token) == (1, "1 0 d 1 2")
    with pytest.raises(TrecFormatError) as e:
        read_qrels(p)
    assert (e.value.line, e.value.token) == (2, "1 0 d2 1")


def test_a_jsonl_judgment_may_hold_a_line_separator_inside_a_string(tmp_path):
    p = put(tmp_path, "q.jsonl", '{"query_id": "1", "doc_id": "a\u2028b", "relevance": 1}\n'
                                 '{"query_id": "1", "doc_id": "c", "relevance": 0}\n')
    assert read_qrels(p).values.tolist() == [["1", "a\u2028b", 1], ["1", "c", 0]]


@pytest.mark.parametrize("char", ["\v", "\u2028", "\x1e"])
def test_a_score_line_with_a_python_line_break_is_one_line_refused(tmp_path, char):
    # str.splitlines made '2<char>3' two scores: four scores for three lines, every later row shifted
    p = put(tmp_path, "s.txt", f"1\n2{char}3\n4\n")
    with pytest.raises(ScoreFormatError) as e:
        read_scores(p)
    assert (e.value.line, e.value.token) == (2, f"2{char}3")
    assert read_scores(put(tmp_path, "cr.txt", "1\r\n2\r3\n")).tolist() == [1.0, 2.0, 3.0]


# --- write_run / run_from_scores: nothing written that read_run refuses -------------------------------------------

@pytest.mark.parametrize("bad, what", [(np.nan, "score nan"), (np.inf, "score inf"), (-np.inf, "score -inf")])
def test_write_run_refuses_a_non_finite_score_naming_row_query_and_document(tmp_path, bad, what):
    p = put(tmp_path, "r.run", "keep me\n")
    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "rank": [1, 2], "score": [2.0, bad]})
    with pytest.raises(ValueError) as e:
        write_run(p, run)
    assert str(e.value) == f"run row 1 (query '1', document 'b'): {what} is not a finite number, which a run file " \
                           "cannot hold"
    assert p.read_text() == "keep me\n"
    assert [f.name for f in tmp_path.iterdir()] == ["r.run"]


@pytest.mark.parametrize("bad, shown", [(1.7, "1.7"), (np.nan, "nan"), ("x", "'x'")])
def test_write_run_refuses_a_rank_that_is_not_an_integer(tmp_path, bad, shown):
    p = put(tmp_path, "r.run", "keep me\n")
    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "rank": [1, bad], "score": [2.0, 1.0]})
    with pytest.raises(ValueError, match=rf"^run row 1 \(query '1', document 'b'\): rank {shown} is not "):
        write_run(p, run)
    assert p.read_text() == "keep me\n"


def test_write_run_writes_integral_float_ranks_as_integers_and_reads_back(tmp_path):
    p = tmp_path / "r.run"
    write_run(p, pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "rank": [1.0, 2.0], "score": [2.0, 1.0]}))
    assert p.read_text() == "1 Q0 a 1 2.0 ltrkit\n1 Q0 b 2 1.0 ltrkit\n"
    assert rows(read_run(p)) == [["a", 1, 2.0, "ltrkit"], ["b", 2, 1.0, "ltrkit"]]


def test_run_from_scores_refuses_nan_and_ranks_infinities_first_and_last():
    with pytest.raises(ValueError, match=r"^score is NaN at row 1 \(query '1', document 'b'\)"):
        run_from_scores(["1", "1", "1"], ["a", "b", "c"], [1.0, np.nan, 2.0])
    run = run_from_scores(["1", "1", "1"], ["a", "b", "c"], [1.0, -np.inf, np.inf])
    assert run[["docno", "rank"]].values.tolist() == [["c", 1], ["a", 2], ["b", 3]]


# --- read_qrels: a layout chosen by the file name is said; a header line is named --------------------------------

GRADED = "1\ta\t1\n1\tb\t4\n1\tc\t-1\n"


def test_a_cran_named_three_column_file_is_read_with_cranfield_gains_and_a_warning(tmp_path, caplog):
    cran = put(tmp_path, "cran_graded.qrels", GRADED)
    with caplog.at_level(logging.WARNING, logger="ltr.io.qrels"):
        assert read_qrels(cran).rel.tolist() == [5 - 1, 5 - 4, 0]  # gain = 5 - code, code -1 -> 0
    [record] = [r for r in caplog.records if r.name == "ltr.io.qrels"]
    assert record.levelno == logging.WARNING
    said = record.getMessage()
    assert said.startswith(f"{cran}: read as Cranfield's cranqrel")
    assert "1 = complete answer" in said and "format='qdr'" in said and "--qrels-format qdr" in said
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ltr.io.qrels"):
        assert detect_qrels_format(cran) == "cranfield"
    assert len(caplog.records) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ltr.io.qrels"):  # the way out the warning names; another name
        assert read_qrels(cran, "qdr").rel.tolist() == [1, 4, -1]
        assert read_qrels(put(tmp_path, "graded.qrels", GRADED)).rel.tolist() == [1, 4, -1]
    assert caplog.records == []


def test_the_command_line_shows_the_cranfield_note_as_its_own_warning(tmp_path):
    # in a child process: pytest's handlers on the root logger would take the line the command prints
    cran = put(tmp_path, "cran_graded.qrels", GRADED)
    run = put(tmp_path, "r.run", "1 Q0 a 1 2.0 t\n1 Q0 b 2 1.0 t\n")
    code = f"import sys; from ltr.cli import main; sys.exit(main(['evaluate', '--qrels', {str(cran)!r}, " \
           f"'--run', {str(run)!r}, '--metrics', 'map']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"ltr evaluate: warning: {cran}: read as Cranfield's cranqrel"), done.stderr


def test_a_header_line_other_than_beirs_is_named_as_one(tmp_path):
    p = put(tmp_path, "hq.tsv", "query_id\tdoc_id\trelevance\n1\ta\t1\n")
    with pytest.raises(TrecFormatError) as e:
        read_qrels(p)
    assert (e.value.line, e.value.token) == (1, "relevance")
    assert str(e.value) == (f"{p}:1: relevance must be an integer (token 'relevance'); line 1 looks like a header "
                            "line ('query_id doc_id relevance'), and the only header recognised is BEIR's (query-id "
                            "corpus-id score, format 'beir'): delete the line or write that header")
    # a data line with a word for a relevance is no header
    with pytest.raises(TrecFormatError, match=r"\(token 'high'\)$"):
        read_qrels(put(tmp_path, "w.tsv", "1\ta\thigh\n"))


def test_run_from_scores_refuses_a_missing_query_id_before_it_becomes_the_text_nan():
    # qid [7, 7, nan] made a query named 'nan' (the ids are turned into text before they are grouped)
    for missing in (float("nan"), None):
        with pytest.raises(ValueError, match=r"^qid holds a missing id \((nan|None)\) at row 2: "):
            run_from_scores([7, 7, missing], ["a", "b", "c"], [1.0, 2.0, 3.0])
    assert run_from_scores(["7", "nan"], ["a", "b"], [1.0, 2.0]).qid.tolist() == ["7", "nan"]  # a query named so
