import gzip

import numpy as np
import pandas as pd
import pytest

from ltr._shared import import_reference
from ltr.exceptions import ScoreFormatError, TrecFormatError
from ltr.io import read_letor, read_scores
from ltr.io.trec import read_qrels, read_run, run_from_scores, write_qrels, write_run


def test_run_reads_ids_as_strings_and_numbers_as_numbers(tmp_path):
    p = tmp_path / "a.run"
    p.write_text("01 Q0 d1 1 3.5 sys\n01 Q0 d2 2 -1e-3 sys\n\n2 Q0 d3 1 7 sys\n")
    run = read_run(p)
    assert run.qid.tolist() == ["01", "01", "2"]
    assert run.docno.tolist() == ["d1", "d2", "d3"]
    assert run["rank"].tolist() == [1, 2, 1]
    assert run.score.tolist() == [3.5, -0.001, 7.0]


def test_run_round_trips_exactly(tmp_path):
    run = run_from_scores(["q1"] * 3 + ["q2"] * 2, ["a", "b", "c", "d", "e"], [0.1, 1 / 3, 0.2, 5.0, 5.0])
    p = tmp_path / "r.run.gz"
    write_run(p, run, tag="t")
    back = read_run(p)
    assert back[["qid", "docno", "rank"]].values.tolist() == run[["qid", "docno", "rank"]].values.tolist()
    np.testing.assert_array_equal(back.score.to_numpy(), run.score.to_numpy())
    assert set(back.tag) == {"t"}
    assert gzip.open(p, "rt").readline().startswith("q1 Q0 b 1 0.333")


def test_write_run_takes_pyterrier_and_ir_measures_frames_and_says_when_the_arguments_are_swapped(tmp_path):
    """A PyTerrier frame before add_ranks has no rank, ir_measures' names are query_id/doc_id: write_run refused
    both (evaluate_run reads them), and write_run(frame, path), PyTerrier's write_results order, was an
    AttributeError. Reference: ranks as pandas' rank(method="first") of the scores, which is PyTerrier's add_ranks
    (0-based there, 1-based in a TREC file); trec_eval (ir_measures) reads the file as the frame."""
    ir_measures = import_reference("ir_measures")
    frame = pd.DataFrame({"qid": ["q2", "q1", "q1", "q1", "q2"], "docno": ["a", "b", "c", "d", "e"],
                          "score": [0.5, 1.0, 3.0, 1.0, 0.5]})
    write_run(tmp_path / "pt.run", frame)
    back = read_run(tmp_path / "pt.run")
    assert back["docno"].tolist() == frame["docno"].tolist()  # row order kept
    want = frame.groupby("qid")["score"].rank(method="first", ascending=False).astype(int).tolist()
    assert back["rank"].tolist() == want == [1, 2, 1, 3, 2]  # ties (b, d and a, e): row order
    renamed = frame.rename(columns={"qid": "query_id", "docno": "doc_id"})
    write_run(tmp_path / "irm.run", renamed)
    assert (tmp_path / "irm.run").read_text() == (tmp_path / "pt.run").read_text()
    read = sorted((r.query_id, r.doc_id, r.score) for r in ir_measures.read_trec_run(str(tmp_path / "irm.run")))
    assert read == sorted(zip(frame["qid"], frame["docno"], frame["score"]))
    (tmp_path / "keep.run").write_text("x Q0 y 1 1.0 t\n")
    with pytest.raises(TypeError, match=r"write_run\(path, run\): the path comes first"):
        write_run(frame, tmp_path / "keep.run")
    with pytest.raises(TypeError, match="run must be a pandas DataFrame .*got list"):
        write_run(tmp_path / "keep.run", [("q1", "a", 1.0)])
    with pytest.raises(ValueError, match=r"run row 0 \(query 'q1', document 'a'\): score 'x' is not a number"):
        write_run(tmp_path / "keep.run", pd.DataFrame({"qid": ["q1"], "docno": ["a"], "score": ["x"]}))
    assert (tmp_path / "keep.run").read_text() == "x Q0 y 1 1.0 t\n"


def test_run_from_scores_ranks_within_query_and_keeps_input_order_for_ties():
    run = run_from_scores([1, 1, 1, 2], ["a", "b", "c", "d"], [0.5, 0.9, 0.5, 0.0], k=2)
    assert run[["qid", "docno", "rank"]].values.tolist() == [["1", "b", 1], ["1", "a", 2], ["2", "d", 1]]


@pytest.mark.parametrize(
    "text, line, token, what",
    [
        ("1 Q0 d1 1 3.5 x\n1 Q0 d2 2 high x\n", 2, "1 Q0 d2 2 high x",
         r"column 5 \(score\) must be a number, got 'high' \(token '1 Q0 d2 2 high x'\)"),
        ("1 Q0 d1 1 inf x\n", 1, "1 Q0 d1 1 inf x", r"column 5 \(score\) must be a finite number, got 'inf'"),
        ("1 Q0 d1 1 1_0 x\n", 1, "1 Q0 d1 1 1_0 x", r"column 5 \(score\) must be a number, got '1_0'"),
        # float() reads other scripts' digits, and pandas' reader (the fast path) did too: '１２' was 12
        ("1 Q0 d1 1 3.5 x\n1 Q0 d2 2 １２ x\n", 2, "1 Q0 d2 2 １２ x",
         r"column 5 \(score\) must be a number, got '１２'"),
        ("1 Q0 d1 1 ١٢ x\n", 1, "1 Q0 d1 1 ١٢ x", r"column 5 \(score\) must be a number, got '١٢'"),
        ("1 Q0 d1 1 3.5\n", 1, "1 Q0 d1 1 3.5", r"expected 6 .* \(qid q0 docno rank score tag\), got 5"),
        # comment and blank lines count as lines in the line number
        ("# bm25\n\n1 Q0 d1 - 3.5 x extra\n1 Q0 d2 -\n", 4, "1 Q0 d2 -", "expected 6"),
    ],
)
def test_malformed_run_names_path_line_and_token(tmp_path, text, line, token, what):
    p = tmp_path / "bad.run"
    p.write_text(text)
    with pytest.raises(TrecFormatError, match=what) as e:
        read_run(p)
    assert e.value.path == str(p) and e.value.line == line and e.value.token == token
    assert f"{p}:{line}:" in str(e.value)


# What trec_eval's get_trec_results.c reads ("the rank field is ignored", "Any field following run_id is ignored",
# '#' and blank lines skipped), as the trial-23 report wrote it: a clean run, then each variant.
CLEAN_RUN = "1 Q0 D1-1 1 2.5 t\n1 Q0 D1-0 2 2.5 t\n1 Q0 D1-2 3 1.0 t\n2 Q0 D2-1 1 3 t\n2 Q0 D2-0 2 1 t\n"


def with_rank(token: str) -> str:
    return "".join(f"{q} Q0 {d} {token} {s} {t}\n" for q, _, d, _, s, t in map(str.split, CLEAN_RUN.splitlines()))


RUN_VARIANTS = {
    "rank_float": with_rank("1.0"),
    "rank_dash": with_rank("-"),
    "extra_fields": CLEAN_RUN.replace(" t\n", " t extra 7\n"),
    "comments_and_blanks": "# run by bm25\n\n" + CLEAN_RUN.replace("2 Q0 D2-1", "  # indented comment\n\t\n2 Q0 D2-1")
                           + "\n#end\n",
    "crlf_comments": ("# run by bm25\n" + CLEAN_RUN).replace("\n", "\r\n"),
}


@pytest.mark.parametrize("variant", sorted(RUN_VARIANTS))
def test_runs_trec_eval_reads_read_as_the_clean_run(tmp_path, variant):
    clean = tmp_path / "clean.run"
    clean.write_text(CLEAN_RUN)
    p = tmp_path / f"{variant}.run"
    p.write_bytes(RUN_VARIANTS[variant].encode())
    got, want = read_run(p), read_run(clean)
    pd.testing.assert_frame_equal(got[["qid", "q0", "docno", "score", "tag"]], want[["qid", "q0", "docno", "score",
                                                                                      "tag"]])
    # Integer ranks are kept; ranks that are not (rank_float, rank_dash) are made from the scores, ties in file order.
    assert got["rank"].dtype == np.int64 and got["rank"].tolist() == [1, 2, 3, 1, 2]


@pytest.mark.parametrize("variant", ["rank_float", "rank_dash"])
def test_runs_with_any_rank_token_read_as_ir_measures_reads_them(tmp_path, variant):
    ir_measures = import_reference("ir_measures")
    p = tmp_path / f"{variant}.run"
    p.write_text(RUN_VARIANTS[variant])
    ref = [(d.query_id, d.doc_id, d.score) for d in ir_measures.read_trec_run(str(p))]
    assert list(read_run(p)[["qid", "docno", "score"]].itertuples(index=False, name=None)) == ref


def test_ranks_not_written_as_integers_are_made_from_the_scores_and_integer_ones_are_kept(tmp_path):
    p = tmp_path / "r.run"
    # Query 1 by score: b and c tie at 3.0 (file order: b first), then a; queries interleave in the file.
    p.write_text("1 Q0 a - 1.0 t\n2 Q0 d 5 0.0 t\n1 Q0 b - 3.0 t\n1 Q0 c 1.0 3.0 t\n")
    assert read_run(p)["rank"].tolist() == [3, 1, 1, 2]
    p.write_text("1 Q0 a 7 1.0 t\n1 Q0 b 9 3.0 t\n")  # all integers: as written, even against the scores
    assert read_run(p)["rank"].tolist() == [7, 9]
    p.write_text("1 Q0 a 1 1.0 t\n1 Q0 b 99999999999999999999 3.0 t\n")  # past int64: made from the scores
    assert read_run(p)["rank"].tolist() == [2, 1]


@pytest.mark.parametrize("text", [*RUN_VARIANTS.values(), "# only a comment\n", "\n\n",
                                  "1 Q0 a 1 2 t\r1 Q0 b 2 1 t\r", "1 Q0 a 1 2 t x\n1 Q0 b 2 1 t\n#\n",
                                  # a comment that would parse as a run line, in a file of CR-only line ends
                                  "# c\r1 Q0 a 1 2 t\r # x Q0 b 1 2 c\r1 Q0 b 2 1 t\r"])
def test_the_fast_tokenizer_and_the_line_by_line_path_read_the_same_runs(tmp_path, monkeypatch, text):
    from ltr.io import trec

    p = tmp_path / "r.run"
    p.write_bytes(text.encode())
    fast = read_run(p)
    monkeypatch.setattr(trec, "_fast_run", lambda data: None)
    pd.testing.assert_frame_equal(read_run(p), fast)
    assert not fast.docno.isin(["#", "x"]).any()


def test_a_run_of_comments_only_is_an_empty_frame_with_the_documented_types(tmp_path):
    p = tmp_path / "c.run"
    p.write_text("# nothing retrieved\n\n")
    run = read_run(p)
    assert len(run) == 0 and list(run.columns) == ["qid", "q0", "docno", "rank", "score", "tag"]
    assert (run["rank"].dtype, run["score"].dtype) == (np.int64, np.float64)


def test_qrels_read_write_round_trip(tmp_path):
    p = tmp_path / "q.qrels"
    p.write_text("1 0 d1 2\n1 0 d2 0\n10 0 d1 -1\n")
    q = read_qrels(p)
    assert q.rel.tolist() == [2, 0, -1] and q.qid.tolist() == ["1", "1", "10"]
    out = tmp_path / "out.qrels"
    write_qrels(out, q)
    pd.testing.assert_frame_equal(read_qrels(out)[["qid", "docno", "rel"]], q[["qid", "docno", "rel"]])


def test_qrels_with_non_integer_relevance_or_duplicates_is_an_error(tmp_path):
    p = tmp_path / "q.qrels"
    p.write_text("1 0 d1 2\n1 0 d2 0.5\n")
    with pytest.raises(TrecFormatError, match="integer") as e:
        read_qrels(p)
    assert e.value.line == 2 and e.value.token == "0.5"
    p.write_text("1 0 d1 2\n1 0 d1 1\n")
    with pytest.raises(TrecFormatError, match="judged twice"):
        read_qrels(p)


def test_empty_run_is_an_empty_frame(tmp_path):
    p = tmp_path / "empty.run"
    p.write_text("")
    assert len(read_run(p)) == 0


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="run file not found"):
        read_run(tmp_path / "nope.run")


@pytest.mark.parametrize("read, what", [(read_run, "run file"), (read_qrels, "qrels file"),
                                        (read_scores, "score file"), (read_letor, "LETOR file")])
def test_every_reader_names_a_missing_file_and_a_folder_the_same_way(tmp_path, read, what):
    with pytest.raises(FileNotFoundError) as e:
        read(tmp_path / "nope")
    assert str(e.value) == f"{what} not found: {tmp_path / 'nope'}"
    with pytest.raises(IsADirectoryError) as e:
        read(tmp_path)
    assert str(e.value) == f"{tmp_path}: is a folder, not a {what}"


def test_failed_write_leaves_previous_file_intact(tmp_path):
    p = tmp_path / "r.run"
    p.write_text("keep me\n")
    bad = pd.DataFrame({"qid": ["1"], "docno": ["a b"], "rank": [1], "score": [1.0]})
    with pytest.raises(ValueError, match="whitespace"):
        write_run(p, bad)

    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "rank": [1, 2], "score": [1.0, object()]})
    with pytest.raises(TypeError):
        write_run(p, run)
    assert p.read_text() == "keep me\n"
    assert [f.name for f in tmp_path.iterdir()] == ["r.run"]


def test_cranfield_style_qrels_from_shared_data_parse(shared_file):
    # NPL ships TREC qrels: 93 queries, 2083 judgments (PROVENANCE.md of vaswani_npl).
    q = read_qrels(shared_file("vaswani_npl/qrels"))
    assert len(q) == 2083
    assert q.qid.nunique() == 93


@pytest.mark.parametrize("compress", [False, True])
def test_readers_take_a_pipe_which_can_be_opened_only_once(tmp_path, compress):
    """``... | ltr evaluate DATA --scores /dev/stdin``, ``--run <(zcat r.gz)``: each reader opens the file once (the
    gzip check peeks at the first bytes instead of reading and reopening)."""
    import os
    import threading

    from ltr.datasets import make_ranking
    from ltr.io import write_letor, write_scores

    d = make_ranking(4, 5, 3, random_state=0)
    sources = {"run": "1 Q0 a 1 2.5 t\n1 Q0 b 2 1.5 t\n", "qrels": "1 0 a 1\n1 0 b 0\n",
               "scores": "0.5\n-1\n2\n", "letor": write_letor(tmp_path / "d.letor", d).read_text()}
    write_scores(tmp_path / "s.txt", [0.5, -1.0, 2.0])
    readers = {"run": read_run, "qrels": read_qrels, "scores": lambda p: read_scores(p, n_rows=3),
               "letor": read_letor}
    for kind, text in sources.items():
        fifo = tmp_path / f"{kind}.fifo"
        os.mkfifo(fifo)
        data = gzip.compress(text.encode()) if compress else text.encode()
        writer = threading.Thread(target=fifo.write_bytes, args=(data,))
        writer.start()
        got = readers[kind](fifo)
        writer.join(timeout=10)
        plain = tmp_path / f"{kind}.plain"
        plain.write_text(text)
        want = readers[kind](plain)
        if kind == "letor":
            assert got.equals(want)
        elif kind == "scores":
            assert got.tolist() == want.tolist() == [0.5, -1.0, 2.0]
        else:
            pd.testing.assert_frame_equal(got, want)


def test_a_pipes_bytes_are_held_once_not_copied_for_the_reader(tmp_path):
    # a 513 MB LETOR file through /dev/stdin peaked at 1.96 GB (the kept bytes, a read copy, a writable copy)
    import os
    import threading

    from ltr.io import files

    fifo = tmp_path / "d.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(b"1 qid:1 1:0.5\n0 qid:1 1:0.25\n",))
    writer.start()
    data = files.read_bytes(fifo)
    writer.join(timeout=10)
    assert data is files._STREAMS[str(fifo)] and data.startswith(b"1 qid:1")
    assert read_letor(fifo).X[:, 0].tolist() == [0.5, 0.25]  # read again from the kept bytes, the same object


def test_dash_as_an_input_says_how_standard_input_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file named '-' here
    with pytest.raises(FileNotFoundError, match=r"LETOR file not found: - \(standard input is read as /dev/stdin\)"):
        read_letor("-")


def test_a_blank_line_among_scores_is_an_error_naming_it_and_trailing_ones_are_fine(tmp_path):
    """Scores are positional: a blank line inside shifted every later score by a row (with one score appended the
    file was accepted, misaligned)."""
    (tmp_path / "s.txt").write_text("0.1\n0.2\n\n0.3\n0.4\n")
    with pytest.raises(ScoreFormatError) as e:
        read_scores(tmp_path / "s.txt", n_rows=4)
    assert (e.value.line, e.value.reason) == (3, "a blank line among the scores (one score per row, in the data's "
                                                 "row order)")
    (tmp_path / "t.txt").write_text("0.1\n0.2\n\n\n")
    assert read_scores(tmp_path / "t.txt", n_rows=2).tolist() == [0.1, 0.2]


def test_run_scores_are_each_tokens_correctly_rounded_double(tmp_path):
    """pandas before 3.1 read some shortest-repr doubles one ulp off (0.19999999999999996 as 0.1999999999999999)."""
    rng = np.random.default_rng(0)
    values = [0.19999999999999996, 5.815165519714356, *(rng.random(2000) * 10 - 5).tolist()]
    path = tmp_path / "r.run"
    path.write_text("".join(f"1 Q0 d{i} {i + 1} {v!r} t\n" for i, v in enumerate(values)))
    assert read_run(path)["score"].tolist() == [float(repr(v)) for v in values]
