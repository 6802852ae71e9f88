"""Format variants a trial found read wrongly (stop 31): qrels with more columns than the named layout's, a LETOR
file whose comments hide old Mac (CR-only) line endings, and ``ltr info``'s reading of a sidecar's error.

References: ir_measures' TREC qrels reader; scikit-learn's load_svmlight_file for the CRLF file read as LF."""

from __future__ import annotations

import gzip

import ir_measures
import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file

from ltr.cli import main
from ltr.exceptions import LetorFormatError, ScoreFormatError, TrecFormatError
from ltr.io import read_letor, read_qrels


def judgments(n_queries: int = 30) -> list[tuple[str, str, int]]:
    rng = np.random.default_rng(0)
    return [(str(q), f"D{q}-{d}", int(rng.integers(0, 3))) for q in range(1, n_queries + 1) for d in range(4)]


@pytest.mark.parametrize("fmt, width", [("trec", 4), ("qdr", 3), ("beir", 3)])
def test_qrels_with_a_column_more_than_the_named_layout_are_refused_naming_the_line(tmp_path, fmt, width):
    rows = judgments()
    trec = tmp_path / "q.qrels"
    trec.write_text("".join(f"{q} 0 {d} {r}\n" for q, d, r in rows))
    ref = sorted((q.query_id, q.doc_id, q.relevance) for q in ir_measures.read_trec_qrels(str(trec)))
    got = read_qrels(trec, "trec")
    assert sorted(zip(got["qid"], got["docno"], got["rel"].astype(int))) == ref
    # every line one column wider than the layout: pandas made the surplus first column the index, and every
    # judgment fell under the iteration column's query '0'
    wide = tmp_path / "wide.qrels"
    cols = ["{q}", "0", "{d}", "{r}"] if width == 4 else ["{q}", "{d}", "{r}"]
    wide.write_text("".join(" ".join(cols + ["7"]).format(q=q, d=d, r=r) + "\n" for q, d, r in rows))
    with pytest.raises(TrecFormatError, match=rf"wide\.qrels:1: expected {width} columns for format '{fmt}', got "
                                              rf"{width + 1}"):
        read_qrels(wide, fmt)


def test_trecs_four_columns_read_as_beir_are_named(tmp_path, capsys):
    p = tmp_path / "test.tsv"
    p.write_text("".join(f"{q}\t0\t{d}\t{r}\n" for q, d, r in judgments()))
    with pytest.raises(TrecFormatError, match=r"got 4 .*TREC's four columns \(qid iteration docno relevance\)\? "
                                              r"read it as format 'trec'"):
        read_qrels(p, "beir")
    run = tmp_path / "r.run"
    run.write_text("1 Q0 D1-0 1 1.0 x\n")
    assert main(["evaluate", "--qrels", str(p), "--qrels-format", "beir", "--run", str(run)]) != 0
    err = capsys.readouterr().err
    assert "expected 3 columns for format 'beir', got 4" in err and len(err.strip().splitlines()) == 1


def letor_lines(n: int = 12) -> list[bytes]:
    rng = np.random.default_rng(1)
    return [f"{rng.integers(0, 3)} qid:{10 + i // 4} 1:{rng.random():.6f} 2:{rng.random():.6f} 3:{rng.random():.6f}"
            f" #docid = GX{i:03d} inc = 1 prob = 0.5".encode() for i in range(n)]


@pytest.mark.parametrize("gz", [False, True])
def test_a_lone_carriage_return_in_a_comment_is_refused(tmp_path, gz):
    lines = letor_lines()
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"\r\n".join(lines) + b"\r\n")
    lf = tmp_path / "lf.txt"
    lf.write_bytes(b"\n".join(lines) + b"\n")
    X, y, qid = load_svmlight_file(str(lf), query_id=True)
    for p in (crlf, lf):  # Windows line endings read as Unix ones, as the reference reads the Unix file
        d = read_letor(p)
        assert d.n_rows == 12 and np.array_equal(d.X, X.toarray().astype(np.float32)) and np.array_equal(d.y, y)
    # old Mac line endings: the first comment ran to the end of the file, and the file read as one row
    cr = tmp_path / "cr.txt"
    data = b"\r".join(lines) + b"\r"
    if gz:
        cr = tmp_path / "cr.txt.gz"
        data = gzip.compress(data)
    cr.write_bytes(data)
    with pytest.raises(LetorFormatError, match=r"cr\.txt(\.gz)?:1: carriage return inside a line .*token "
                                               r"'0\.5\\r1"):
        read_letor(cr)
    # a lone CR in a comment further on is named at its line
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes(b"\n".join(lines[:5]) + b"\n" + lines[5] + b"\r" + b"\n".join(lines[6:]) + b"\n")
    with pytest.raises(LetorFormatError, match=r"mixed\.txt:6: carriage return inside a line"):
        read_letor(mixed)


def test_ltr_info_names_a_sidecars_error_without_calling_the_file_a_model(tmp_path, capsys):
    d = tmp_path / "d.txt"
    d.write_text("1 1:0.5 2:0.1\n0 1:0.2 2:0.3\n1 1:0.1 2:0.9\n")
    (tmp_path / "d.txt.query").write_text("1.5\n1.5\n")
    assert main(["info", str(d)]) != 0
    err = capsys.readouterr().err
    assert "d.txt.query:1: a group size must be a positive integer" in err and "model" not in err


def test_unix_compress_files_are_named_by_every_reader(tmp_path, caplog):
    from features.collections import read_document_folder
    from ltr.io import read_run

    z = tmp_path / "la010189.Z"
    z.write_bytes(b"\x1f\x9d\x90<DOC>\x00\x01garbage")  # compress(1)'s magic, then LZW codes
    for read in (read_letor, read_qrels, read_run):
        with pytest.raises(LetorFormatError, match=r"la010189\.Z:1: Unix compress \(\.Z\) data: decompress it"):
            read(z)
    folder = tmp_path / "disk"
    folder.mkdir()
    (folder / "la010189.Z").write_bytes(z.read_bytes())
    (folder / "ok.trec").write_text("<DOC><DOCNO>d1</DOCNO>some text</DOC>\n")
    with caplog.at_level("WARNING", logger="features"):
        c = read_document_folder(folder)
    assert c.doc_ids == ("d1",)
    assert "1 file(s) skipped (la010189.Z): the first is Unix compress (.Z) data" in caplog.text
    assert "of no document format" not in caplog.text


@pytest.mark.parametrize("suffix, compress", [(".bz2", "bz2"), (".xz", "lzma")])
def test_fold_layouts_and_data_set_copies_are_found_compressed_as_the_readers_read_them(
        shared_file, tmp_path, capsys, suffix, compress):
    import importlib

    from ltr.evaluation import letor_folds
    from ltr.registry import verify

    module = importlib.import_module(compress)
    vali = gzip.decompress(shared_file("mq2008/Fold1/vali.txt.gz").read_bytes())
    for i in (1, 2):
        (tmp_path / f"Fold{i}").mkdir()
        for part in ("train", "vali", "test"):
            (tmp_path / f"Fold{i}" / f"{part}.txt{suffix}").write_bytes(module.compress(vali))
    folds = letor_folds(tmp_path)
    assert [f.train.name for f in folds] == [f"train.txt{suffix}"] * 2
    assert read_letor(folds[0].vali).n_rows == 2707
    report = verify("mq2008", tmp_path)  # MQ2008's Fold1/vali.txt as released: size and sha256 of the bytes
    row = next(f for f in report.files if f.path == "Fold1/vali.txt")
    assert row.status == "ok", row


def test_cv_over_one_fold_shows_no_std_and_writes_null(tmp_path, capsys):
    import json

    from ltr import make_ranking
    from ltr.io import write_letor

    (tmp_path / "Fold1").mkdir()
    for part, seed in (("train", 0), ("vali", 1), ("test", 2)):
        write_letor(tmp_path / "Fold1" / f"{part}.txt", make_ranking(20, 8, 5, random_state=seed))
    out = tmp_path / "cv.json"
    assert main(["cv", str(tmp_path), "--rounds", "3", "--metrics", "ndcg@10,map", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    std = next(line for line in text.splitlines() if line.startswith("std"))
    assert std.split() == ["std", "-", "-"]
    assert "the mean over the 20 test queries of the one fold (Fold1; a standard deviation over one fold is " \
           "undefined: -)" in text and "over 1 folds" not in text
    assert json.loads(out.read_text())["systems"][0]["std"] is None
    assert main(["cv", str(tmp_path), "--rounds", "3", "--metrics", "ndcg@10,map", "--format", "csv"]) == 0
    assert "\nstd,,,," in capsys.readouterr().out


def test_runs_and_qrels_that_are_not_utf8_name_the_line_and_a_fix_each_command_takes(tmp_path, capsys, caplog):
    import pytrec_eval

    from ltr.io import read_run

    qrels, run = tmp_path / "latin1.qrels", tmp_path / "latin1.run"
    qrels.write_bytes(b"1 0 d1 1\n1 0 caf\xe9 1\n1 0 d2 0\n2 0 d3 1\n")
    run.write_bytes(b"1 Q0 d2 1 3.0 x\n1 Q0 caf\xe9 2 2.0 x\n1 Q0 d1 3 1.0 x\n2 Q0 d3 1 1.0 x\n")
    with pytest.raises(TrecFormatError, match=r"latin1\.run:2: invalid UTF-8 byte b'\\xe9' at byte offset 24; "
                                              r"pass errors='replace'"):
        read_run(run)
    for command in (["evaluate", "--qrels", qrels, "--run", run],
                    ["fuse", run, tmp_path / "r2.run", "--out", tmp_path / "f.run"],
                    ["compare", run, tmp_path / "r2.run", "--qrels", qrels]):
        (tmp_path / "r2.run").write_bytes(run.read_bytes())
        assert main([str(a) for a in command]) != 0
        err = capsys.readouterr().err
        assert ":1: invalid UTF-8 byte" in err or ":2: invalid UTF-8 byte" in err
        assert "pass --encoding-errors replace" in err and len(err.strip().splitlines()) == 1
        with caplog.at_level("WARNING"):
            assert main([str(a) for a in command] + ["--encoding-errors", "replace"]) == 0
        assert "replaced 1 invalid UTF-8 sequence(s) with U+FFFD" in caplog.text
        caplog.clear()
        capsys.readouterr()
    # replaced in both files alike, the ids still match: the numbers trec_eval gives on the bytes
    assert main(["evaluate", "--qrels", str(qrels), "--run", str(run), "--metrics", "map,ndcg@10", "--format",
                 "json", "--encoding-errors", "replace"]) == 0
    import json

    got = json.loads(capsys.readouterr().out)["mean"]
    ref_q = {"1": {"d1": 1, "cafe": 1, "d2": 0}, "2": {"d3": 1}}  # one id for the bytes in both files
    ref_r = {"1": {"d2": 3.0, "cafe": 2.0, "d1": 1.0}, "2": {"d3": 1.0}}
    res = pytrec_eval.RelevanceEvaluator(ref_q, {"map", "ndcg_cut.10"}).evaluate(ref_r)
    assert got["map"] == pytest.approx(np.mean([r["map"] for r in res.values()]), abs=1e-12)
    assert got["ndcg@10"] == pytest.approx(np.mean([r["ndcg_cut_10"] for r in res.values()]), abs=1e-12)


@pytest.mark.parametrize("gz", [False, True])
def test_a_file_that_declares_zero_based_ids_is_not_read_one_based(tmp_path, gz):
    """scikit-learn's dump_svmlight_file writes '# Column indices are zero-based': a file whose column 0 is never
    set read one-based without an error, one column short and every feature shifted."""
    from sklearn.datasets import dump_svmlight_file

    X = np.array([[0, 1.5, 2], [0, 0.5, 3], [0, 2, 1]], dtype=float)
    path = tmp_path / "skl.txt"
    dump_svmlight_file(X, [1, 0, 2], str(path), query_id=[1, 1, 1], zero_based=True, comment="made by sklearn")
    if gz:
        path = tmp_path / "skl.txt.gz"
        path.write_bytes(gzip.compress((tmp_path / "skl.txt").read_bytes()))
    with pytest.raises(LetorFormatError, match=r"skl\.txt(\.gz)?:2: the file says its column indices are "
                                               r"zero-based .*; pass zero_based=True"):
        read_letor(path)
    ref, _, _ = load_svmlight_file(str(tmp_path / "skl.txt"), query_id=True, zero_based=True, n_features=3)
    assert np.array_equal(read_letor(path, zero_based=True).X, ref.toarray().astype(np.float32))
    one = tmp_path / "one.txt"
    dump_svmlight_file(X, [1, 0, 2], str(one), query_id=[1, 1, 1], zero_based=False, comment="one-based")
    assert np.array_equal(read_letor(one).X, X.astype(np.float32))
    with pytest.raises(LetorFormatError, match="one-based .*read it without zero_based"):
        read_letor(one, zero_based=True)


def test_a_web_records_http_header_is_left_out_whether_or_not_its_page_is_html(tmp_path):
    from features.collections import load_documents

    p = tmp_path / "gov2.trec"
    p.write_text("<DOC>\n<DOCNO>GX000-00-0000001</DOCNO>\n<DOCHDR>\nhttp://www.example.gov/a.txt\nHTTP/1.1 200 OK\n"
                 "Content-Type: text/plain\n</DOCHDR>\nplain text page about budgets\n</DOC>\n"
                 "<DOC>\n<DOCNO>GX000-00-0000002</DOCNO>\n<DOCHDR>\nhttp://www.example.gov/b.html\nHTTP/1.1 200 OK\n"
                 "</DOCHDR>\n<HTML><HEAD><TITLE>Budget</TITLE></HEAD><BODY>html page</BODY></HTML>\n</DOC>\n")
    c = load_documents(p)
    assert c.fields == {"title": ["", "Budget"], "body": ["plain text page about budgets", "html page"]}


def test_relevance_level_is_trec_evals_l_in_evaluate_and_compare(tmp_path, capsys):
    import json

    import pytrec_eval

    rng = np.random.default_rng(3)
    qrels = {str(q): {f"d{q}-{d}": int(rng.integers(0, 3)) for d in range(12)} for q in range(1, 16)}
    run = {q: {d: float(rng.random()) for d in docs} for q, docs in qrels.items()}
    (tmp_path / "q.qrels").write_text("".join(f"{q} 0 {d} {r}\n" for q, docs in qrels.items() for d, r in docs.items()))
    (tmp_path / "r.run").write_text("".join(f"{q} Q0 {d} 0 {s!r} x\n" for q, docs in run.items()
                                            for d, s in docs.items()))
    measures = {"map": "map", "p@10": "P_10", "mrr": "recip_rank", "ndcg@10": "ndcg_cut_10"}
    for level in (1, 2):
        assert main(["evaluate", "--qrels", str(tmp_path / "q.qrels"), "--run", str(tmp_path / "r.run"), "-l",
                     str(level), "--metrics", ",".join(measures), "--format", "json"]) == 0
        got = json.loads(capsys.readouterr().out)
        ref = pytrec_eval.RelevanceEvaluator(qrels, {"map", "P.10", "recip_rank", "ndcg_cut.10"},
                                             relevance_level=level).evaluate(run)
        for ours, theirs in measures.items():
            assert got["mean"][ours] == pytest.approx(np.mean([r[theirs] for r in ref.values()]), abs=1e-12)
        assert ("relevant: label >= 2" in got["conventions"]) == (level == 2)
        # the same judgments and scores as a LETOR file and its scores: -l was refused there (trial t50), so a 0-4
        # set could not be scored with 'relevant = grade >= 2' from the command line
        letor, scores = tmp_path / "d.txt", tmp_path / "s.txt"
        letor.write_text("".join(f"{r} qid:{q} 1:0 # {d}\n" for q, docs in qrels.items() for d, r in docs.items()))
        scores.write_text("".join(f"{run[q][d]!r}\n" for q, docs in qrels.items() for d in docs))
        assert main(["evaluate", str(letor), "--scores", str(scores), "-l", str(level), "--gain", "linear", "--metrics",
                     ",".join(measures), "--format", "json"]) == 0
        letor_got = json.loads(capsys.readouterr().out)
        for ours, theirs in measures.items():
            assert letor_got["mean"][ours] == pytest.approx(np.mean([r[theirs] for r in ref.values()]), abs=1e-12)
    (tmp_path / "r2.run").write_text((tmp_path / "r.run").read_text())
    assert main(["compare", str(tmp_path / "r.run"), str(tmp_path / "r2.run"), "--qrels", str(tmp_path / "q.qrels"),
                 "-l", "2", "--metrics", "map", "--out", str(tmp_path / "c.json")]) == 0
    assert "relevant: label >= 2" in capsys.readouterr().out
    assert main(["evaluate", "--qrels", str(tmp_path / "q.qrels"), "--run", str(tmp_path / "r.run"), "-l", "-1"]) == 2
    assert "-l/--relevance-level: must be an integer grade >= 0 (trec_eval's -l; 0 counts every judged document " \
           "relevant), got '-1'" in capsys.readouterr().err


def test_ranklib_score_files_are_read_and_their_queries_checked_against_the_data(tmp_path, capsys):
    """RankLib's -rank DATA -score FILE writes 'qid<TAB>index<TAB>score' per document, in DATA's order."""
    import json

    from ltr import make_ranking
    from ltr.io import read_scores, write_letor, write_scores

    data = make_ranking(12, (3, 8), 5, random_state=4)
    path = write_letor(tmp_path / "d.txt", data)
    scores = np.random.default_rng(5).normal(size=data.n_rows)
    write_scores(tmp_path / "plain.scores", scores)
    qids = np.repeat(np.asarray(data.query_ids), np.diff(data.group_ptr))
    index = np.concatenate([np.arange(n) for n in np.diff(data.group_ptr)])
    lines = [f"{q}\t{j}\t{float(s)!r}\n" for q, j, s in zip(qids, index, scores)]
    (tmp_path / "ranklib.scores").write_text("".join(lines))
    assert np.array_equal(read_scores(tmp_path / "ranklib.scores", data.n_rows, qid=qids), scores)
    means = []
    for name in ("plain.scores", "ranklib.scores"):
        assert main(["evaluate", str(path), "--scores", str(tmp_path / name), "--format", "json"]) == 0
        means.append(json.loads(capsys.readouterr().out)["mean"])
    assert means[0] == means[1]
    other = [f"{q + 100}\t{j}\t{float(s)!r}\n" for q, j, s in zip(qids, index, scores)]  # another data's queries
    (tmp_path / "other.scores").write_text("".join(other))
    assert main(["evaluate", str(path), "--scores", str(tmp_path / "other.scores")]) != 0
    err = capsys.readouterr().err
    assert f"other.scores:1: query {qids[0] + 100} where the data's row 1 is of query {qids[0]}" in err
    assert len(err.splitlines()) == 1
    # RankLib writes the qid as the data file spells it: qid:0018 in the data is '0018' in its score file, where the
    # reader holds the number 18 ("a RankLib score file of other data?", trial t47/ranklib)
    padded = [f"{q:04d}\t{j}\t{float(s)!r}\n" for q, j, s in zip(qids, index, scores)]
    (tmp_path / "padded.scores").write_text("".join(padded))
    assert np.array_equal(read_scores(tmp_path / "padded.scores", data.n_rows, qid=qids), scores)
    skipped = lines[:1] + lines[2:]  # an index skipped: a line lost
    (tmp_path / "lost.scores").write_text("".join(skipped))
    with pytest.raises(ScoreFormatError,
                       match=r"lost\.scores:2: RankLib's score lines number each query's documents"):
        read_scores(tmp_path / "lost.scores")


def test_smaller_reading_slips_of_the_format_trial(tmp_path, capsys):
    from features.collections import load_documents
    from features.errors import CollectionFormatError

    # a U+FEFF inside an id (two BOM-saved files joined with cat): 'd2' would never match '\ufeffd2'
    (tmp_path / "cat.tsv").write_bytes(b"\xef\xbb\xbfd1\ta\n\xef\xbb\xbfd2\tb\n")
    with pytest.raises(CollectionFormatError, match=r"cat\.tsv:2: document id '\\ufeffd2' holds a byte-order mark"):
        load_documents(tmp_path / "cat.tsv")
    # a JSON array where JSON lines are read
    (tmp_path / "corpus.json").write_text('[{"_id": "d1", "text": "a"},\n {"_id": "d2", "text": "b"}]\n')
    with pytest.raises(CollectionFormatError, match=r"corpus\.json:1: a JSON array: .*one object per line"):
        load_documents(tmp_path / "corpus.json")
    # a qrels header line is named as one, not as a layout to choose
    (tmp_path / "h.qrels").write_text("qid iter docno rel\n1 0 d1 1\n")
    (tmp_path / "r.run").write_text("1 Q0 d1 1 1.0 x\n")
    assert main(["eval", "--qrels", str(tmp_path / "h.qrels"), "--run", str(tmp_path / "r.run")]) != 0  # an alias
    assert "h.qrels:1: line 1 looks like a header line ('qid iter docno rel')" in capsys.readouterr().err
    # ltr info on a run and on qrels: said what they are
    assert main(["info", str(tmp_path / "r.run")]) != 0
    (tmp_path / "q.qrels").write_text("1 0 d1 1\n")
    assert main(["info", str(tmp_path / "q.qrels")]) != 0
    err = capsys.readouterr().err
    assert "it reads as a TREC run" in err and "it reads as TREC qrels" in err
    # a -1 label kept (--unjudged keep) for an objective whose gains are indexed by the label
    (tmp_path / "neg.txt").write_text("1 qid:1 1:0.5\n-1 qid:1 1:0.2\n0 qid:1 1:0.1\n2 qid:2 1:0.4\n0 qid:2 1:0.9\n")
    for engine in ("lightgbm", "xgboost"):
        assert main(["train", str(tmp_path / "neg.txt"), "--unjudged", "keep", "--rounds", "2", "--engine",
                     engine]) != 0
        err = capsys.readouterr().err
        assert "neg.txt:2: " in err and "needs labels >= 0" in err and "--unjudged drop" in err
        assert len(err.strip().splitlines()) == 1


def test_review_of_the_format_fixes(tmp_path, capsys):
    """A review of this stop's reading fixes: a commented CR-only file whose first line is a comment, a BOM in the
    middle of qrels and runs, a RankLib score file's bad score, and the line of invalid UTF-8 in a CR-only run."""
    from ltr.io import read_run, read_scores

    (tmp_path / "mac.txt").write_bytes(b"# c\r1 qid:1 1:0.5\r0 qid:1 1:0.2\r")  # the whole file was the comment
    with pytest.raises(LetorFormatError, match=r"mac\.txt:1: carriage return inside a line"):
        read_letor(tmp_path / "mac.txt")
    (tmp_path / "all.qrels").write_bytes(b"1 0 d1 1\n1 0 d2 0\n\xef\xbb\xbf2 0 d3 1\n2 0 d4 1\n")
    with pytest.raises(TrecFormatError, match=r"all\.qrels:3: a byte-order mark \(U\+FEFF\) inside the file"):
        read_qrels(tmp_path / "all.qrels")
    (tmp_path / "lead.qrels").write_bytes(b"\xef\xbb\xbf2 0 d3 1\n")  # at the start: dropped, as before
    assert read_qrels(tmp_path / "lead.qrels")["qid"].tolist() == ["2"]
    (tmp_path / "cat.run").write_bytes(b"1 Q0 d1 1 2.0 t\r\n\xef\xbb\xbf2 Q0 d3 1 1.0 t\r\n")
    with pytest.raises(TrecFormatError, match=r"cat\.run:2: a byte-order mark"):
        read_run(tmp_path / "cat.run")
    (tmp_path / "badcr.run").write_bytes(b"1 Q0 d1 1 2.0 t\r1 Q0 d\xe92 2 1.0 t\r2 Q0 d3 1 1.0 t\r")
    with pytest.raises(TrecFormatError, match=r"badcr\.run:2: invalid UTF-8 byte"):
        read_run(tmp_path / "badcr.run")
    (tmp_path / "nan.scores").write_text("10\t0\t0.5\n10\t1\t0.2\n11\t0\tNaN\n11\t1\t0.1\n")
    with pytest.raises(ScoreFormatError, match=r"nan\.scores:3: a score cannot be NaN .*token 'NaN'"):
        read_scores(tmp_path / "nan.scores")
    (tmp_path / "abc.scores").write_text("10\t0\t0.5\n10\t1\t0.2\n11\t0\tabc\n11\t1\t0.1\n")
    with pytest.raises(ScoreFormatError,
                       match=r"abc\.scores:3: RankLib's score lines end in a number .*token 'abc'"):
        read_scores(tmp_path / "abc.scores")


@pytest.mark.parametrize("suffix, compress", [(".gz", "gzip"), (".bz2", "bz2"), (".xz", "lzma")])
def test_the_sidecars_of_every_compressed_copy_are_found_beside_the_name_it_was_made_from(tmp_path, suffix,
                                                                                          compress):
    """train.txt.query served train.txt.gz but not train.txt.bz2 or .xz, while the query-id map was found for all
    three: one rule now for .query, .weight and the map (ltr.io.files.sidecar_stems)."""
    import importlib

    from ltr.io.qidmap import locate_qid_map

    module = importlib.import_module(compress)
    text = b"1 1:0.5\n0 1:0.2\n2 1:0.9\n0 1:0.1\n1 1:0.3\n"
    (tmp_path / "train.txt.query").write_text("2\n3\n")
    (tmp_path / f"train.txt{suffix}").write_bytes(module.compress(text))
    d = read_letor(tmp_path / f"train.txt{suffix}")
    assert d.group_sizes.tolist() == [2, 3] and d.sources["query"].endswith("train.txt.query")
    (tmp_path / "train.txt.qids.tsv").write_text("1\tQ-A\n2\tQ-B\n")
    assert locate_qid_map(tmp_path / f"train.txt{suffix}") == tmp_path / "train.txt.qids.tsv"


def test_evaluate_reads_the_labels_of_a_file_whatever_its_feature_values(tmp_path, capsys):
    """`ltr evaluate DATA --scores S` reads only the labels, yet an Istella file's 1.79769313486e+308 (beyond
    float32) stopped it until --overflow clip was given, as NaN, inf and NULL feature values did (t49's 'left
    alone'). Its metrics are those of the same file with plain values, and a bad label is still refused."""
    rows = [(2, 1, "1:0.5 2:1.79769313486e+308"), (0, 1, "1:nan 2:0.1"), (1, 1, "1:NULL 2:inf"),
            (1, 2, "1:0.2 2:0.3"), (0, 2, "1:-1.79769313486e+308 2:0.4")]
    odd, plain = tmp_path / "odd.txt", tmp_path / "plain.txt"
    odd.write_text("".join(f"{y} qid:{q} {f}\n" for y, q, f in rows))
    plain.write_text("".join(f"{y} qid:{q} 1:0 2:0\n" for y, q, _ in rows))
    scores = tmp_path / "s.txt"
    scores.write_text("0.1\n0.9\n0.5\n0.3\n0.7\n")
    outs = []
    for data in (odd, plain):
        assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "ndcg@3,map", "--format",
                     "json"]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] and '"ndcg@3"' in outs[0]
    odd.write_text(odd.read_text().replace("2 qid:1", "inf qid:1"))
    assert main(["evaluate", str(odd), "--scores", str(scores)]) != 0
    assert f"{odd}:1" in capsys.readouterr().err
