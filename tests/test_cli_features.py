"""``ltr features``: text collection -> LETOR file, and its usage and data errors."""

import numpy as np
import pytest

from features.featureset import FeatureSet
from features.index import InvertedIndex
from ltr.cli import main
from ltr.io import read_letor, read_qrels


# -- CLI -------------------------------------------------------------------------------------------------------------
def run(argv):
    return main(["features", *argv])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "docs.tsv").write_text("d1\tflutter of a wing\nd2\theat transfer in slabs\nd3\twing flutter wing\n")
    (tmp_path / "q.tsv").write_text("Q-A\twing flutter\nQ-B\theat\n")
    (tmp_path / "qrels").write_text("Q-A 0 d3 2\nQ-A 0 d2 0\nQ-B 0 d2 1\n")
    return tmp_path


def test_cli_writes_letor_with_names_doc_ids_and_a_qid_map(files, capsys):
    out = files / "train.letor"
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels"), "--topk", "5", "--out", str(out), "--quiet",
                          "--index", str(files / "ix.npz"), "--save-run", str(files / "bm25.run")])
    assert code == 0, capsys.readouterr().err
    d = read_letor(out)
    assert d.n_queries == 2 and d.feature_names == FeatureSet.default().feature_names(
        InvertedIndex.load(files / "ix.npz"))
    assert d.query_ids.tolist() == [1, 2] and d.y[d.doc_ids == "d3"].tolist() == [2.0]
    assert (files / "train.letor.qids.tsv").read_text() == "1\tQ-A\n2\tQ-B\n"
    # a second run reuses the saved index and the saved run
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels"), "--run", str(files / "bm25.run"), "--out",
                          str(files / "again.letor"), "--quiet", "--index", str(files / "ix.npz")])
    assert code == 0 and read_letor(files / "again.letor").equals(d)
    # --run-out, as ltr cv names its run, is --save-run
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--topk", "5",
                "--out", str(files / "third.letor"), "--quiet", "--index", str(files / "ix.npz"),
                "--run-out", str(files / "third.run")])
    assert code == 0 and (files / "third.run").read_text() == (files / "bm25.run").read_text()


def test_the_letor_file_and_its_query_map_are_replaced_together_or_not_at_all(files, capsys, monkeypatch):
    import errno
    import os

    out = files / "pair.letor.gz"  # gzip by its name, through the staged temporary too
    argv = ["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--qrels",
            str(files / "qrels"), "--topk", "5", "--out", str(out), "--quiet"]
    assert run(argv) == 0
    before = (out.read_bytes(), (files / "pair.letor.gz.qids.tsv").read_text())
    assert read_letor(out).n_queries == 2 and before[1] == "1\tQ-A\n2\tQ-B\n"

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("ltr.io.atomic_write", full)  # write_qid_map imports it from ltr.io when it is called
    (files / "q.tsv").write_text("Q-B\theat\nQ-C\twing\n")  # other queries: another map
    assert run([*argv, "--topk", "4"]) == 1
    assert "no space left" in capsys.readouterr().err.lower()
    assert (out.read_bytes(), (files / "pair.letor.gz.qids.tsv").read_text()) == before  # neither replaced
    assert not [p for p in os.listdir(files) if p.startswith(".")]  # no temporary left


def test_cli_takes_a_shipped_feature_set_by_name(files, capsys):
    out = files / "small.letor"
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--qrels",
                str(files / "qrels"), "--bm25-preset", "terrier", "--features", "small_collections", "--out", str(out),
                "--index", str(files / "ix.npz"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    want = FeatureSet.shipped("small_collections").feature_names(InvertedIndex.load(files / "ix.npz"))
    assert read_letor(out).feature_names == want and len(want) == 25  # body only: no per-title columns
    code = run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--features", "small",
                "--out", str(files / "x.letor"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--features small: neither a shipped feature set (default, small_collections) nor a file" \
        in err and "Traceback" not in err
    assert not (files / "x.letor").exists()
    (files / "sets").mkdir()
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--features",
                str(files / "sets"), "--out", str(files / "x.letor"), "--quiet"]) == 2
    assert "sets: is a folder, not a feature-set file" in capsys.readouterr().err


def test_cli_exit_codes_for_usage_and_data_errors(files, capsys):
    base = ["--out", str(files / "o.letor"), "--quiet"]
    assert run(["--collection", str(files / "docs.tsv")] + base) == 2
    assert "--queries is required" in capsys.readouterr().err
    (files / "bad.tsv").write_bytes(b"d1\twing ok\nd2\tbad \xff\n")
    assert run(["--collection", str(files / "bad.tsv"), "--queries", str(files / "q.tsv")] + base) == 1
    err = capsys.readouterr().err
    assert "bad.tsv:2: invalid UTF-8 byte" in err and "Traceback" not in err
    assert run(["--collection", str(files / "bad.tsv"), "--queries", str(files / "q.tsv"),
                          "--encoding-errors", "replace"] + base) == 0
    (files / "ix.npz").write_bytes(b"garbage")
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--index", str(files / "ix.npz")] + base) == 1
    assert "not a readable index file" in capsys.readouterr().err
    (files / "qrels2").write_text("Q-A 0 d3 2\nQ-Z 0 d1 1\n")
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--qrels", str(files / "qrels2"), "--on-unknown", "error"] + base) == 1
    assert "unknown query id" in capsys.readouterr().err
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--features", str(files / "none.toml")] + base) == 2  # the option's, as --features none
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"),
                          "--topk", "0"] + base) == 2


@pytest.mark.parametrize("extra, message", [
    (["--stemmer", "klingon"], "--stemmer klingon: not a PyStemmer algorithm; 'none' or one of arabic,"),
    (["--stopwords", "nofile.txt"], "--stopwords nofile.txt: neither 'lucene', 'terrier', 'none' nor a file"),
    (["--bm25-k1", "-1"], "--bm25-k1 -1: BM25's k1 is a finite number >= 0"),
    (["--bm25-k1", "nan"], "--bm25-k1 nan: BM25's k1 is a finite number >= 0"),
    (["--bm25-b", "1.5"], "--bm25-b 1.5: BM25's b is between 0 and 1"),
    (["--n-jobs", "0"], "argument --n-jobs: '0': a positive count of threads up to 4096, -1 for every core"),
])
def test_analysis_and_first_stage_options_are_named_in_their_errors(files, capsys, extra, message):
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--out",
                str(files / "never.letor"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "stemmer must be" not in err
    assert not (files / "never.letor").exists()


def test_a_run_without_lines_or_without_lines_for_the_queries_is_named(files, capsys):
    """An empty --run (a first stage that failed) said only 'no query has any candidate document'."""
    base = ["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--out",
            str(files / "o.letor"), "--quiet"]
    (files / "empty.run").write_text("# nothing retrieved\n\n")
    assert run([*base, "--run", str(files / "empty.run")]) == 1
    err = capsys.readouterr().err
    assert err == (f"ltr features: error: --run {files / 'empty.run'}: the run holds no lines (blank and '#' lines "
                   "aside): no candidate for any query\n")
    (files / "other.run").write_text("9 Q0 d1 1 2.0 x\n9 Q0 d2 2 1.0 x\n")
    assert run([*base, "--run", str(files / "other.run")]) == 1
    assert capsys.readouterr().err == (f"ltr features: error: --run {files / 'other.run'}: none of its 2 line(s) "
                                       "names one of the 2 query id(s) (run: '9'; queries: 'Q-A', 'Q-B'): no "
                                       "candidate for any query\n")
    (files / "qrels1").write_text("Q-A 0 d3 2\n")  # Q-B unjudged, left out: the run's only query
    (files / "qb.run").write_text("Q-B Q0 d2 1 2.0 x\n")
    assert run([*base, "--qrels", str(files / "qrels1"), "--run", str(files / "qb.run")]) == 1
    assert "none of its 1 line(s) names one of the 1 judged query id(s) (run: 'Q-B'; queries: 'Q-A')" in \
        capsys.readouterr().err
    assert not (files / "o.letor").exists()
    # a run naming a judged query too: its other lines are left out as before, the features written
    (files / "ab.run").write_text("Q-B Q0 d2 1 2.0 x\nQ-A Q0 d3 1 3.0 x\n")
    assert run([*base, "--qrels", str(files / "qrels1"), "--run", str(files / "ab.run")]) == 0
    assert read_letor(files / "o.letor").doc_ids.tolist() == ["d3"]


def test_cli_usage_errors_from_argparse_exit_2(capsys):
    assert run(["--collection", "x", "--out", "y", "--run", "r", "--topk", "5"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.shared
def test_cli_on_cranfield_directory(shared_file, tmp_path):
    out = tmp_path / "cran.letor"
    assert run(["--collection", str(shared_file("cranfield")), "--topk", "20", "--out", str(out),
                          "--quiet"]) == 0
    d = read_letor(out)
    assert d.n_queries == 225 and d.n_rows == 225 * 20
    # graded Cranfield gains reach the labels: 4 = complete answer (code 1)
    assert set(np.unique(d.y)) <= {0.0, 1.0, 2.0, 3.0, 4.0} and (d.y == 4).any()



def test_cli_refuses_an_index_built_with_another_analyzer(files, capsys):
    base = ["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--quiet",
            "--out", str(files / "o.letor"), "--index", str(files / "ix.npz")]
    assert run(base) == 0
    assert run(base + ["--analyzer", "terrier"]) == 1
    assert "built with another analyzer" in capsys.readouterr().err
    assert run(base + ["--n-jobs", "1"]) == 0


# -- every option honoured or refused (issue #8 item 5) ----------------------------------------------------------
@pytest.fixture
def adi_like(tmp_path):
    """A small collection directory in ADI's SMART layout, with a repeated document id."""
    folder = tmp_path / "adi"
    folder.mkdir()
    (folder / "ADI.ALL").write_text(".I 1\n.T\nwing flutter\n.W\nflutter of a wing\n.I 2\n.T\nheat\n.W\nheat transfer\n"
                                    ".I 1\n.T\nrepeated\n.W\nthe repeated record\n")
    (folder / "ADI.QRY").write_text(".I 1\n.W\nwing flutter\n.I 2\n.W\nheat\n")
    (folder / "ADI.REL").write_text("1 1 0 0.0\n2 2 0 0.0\n")
    return folder


def test_duplicates_option_applies_to_a_collection_directory(adi_like, tmp_path, capsys):
    base = ["--collection", str(adi_like), "--topk", "5", "--out", str(tmp_path / "o.letor"), "--quiet"]
    assert run(base) == 1
    err = capsys.readouterr().err
    assert "ADI.ALL: duplicate document id '1' (records 1 and 3); pass --duplicates first" in err
    assert run([*base, "--duplicates", "first"]) == 0
    capsys.readouterr()
    assert run([*base, "--duplicates", "last"]) == 0


@pytest.mark.parametrize("extra, fragment", [
    (["--doc-format", "trec"], "--doc-format trec applies to a document file"),
    (["--format", "trec"], "--doc-format trec applies to a document file"),  # its older name, kept
    (["--query-format", "tsv"], "--query-format tsv applies to a query file"),
])
def test_format_options_that_cannot_apply_to_a_directory_are_refused(adi_like, tmp_path, capsys, extra, fragment):
    assert run(["--collection", str(adi_like), "--duplicates", "first", "--out", str(tmp_path / "o.letor"),
                "--quiet", *extra]) == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--save-run", "x.run"], ["--bm25-k1", "0.9"], ["--bm25-preset", "terrier"]])
def test_first_stage_options_with_a_given_run_are_refused(files, tmp_path, capsys, extra):
    (tmp_path / "cand.run").write_text("Q-A Q0 d1 1 1.0 t\nQ-B Q0 d2 1 1.0 t\n")
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--run",
                str(tmp_path / "cand.run"), "--out", str(tmp_path / "o.letor"), "--quiet", *extra]) == 2
    assert "which --run replaces" in capsys.readouterr().err


def test_fields_that_differ_from_a_saved_index_are_refused(tmp_path, capsys):
    (tmp_path / "docs.jsonl").write_text('{"_id": "d1", "title": "wing", "text": "flutter of a wing"}\n'
                                         '{"_id": "d2", "title": "heat", "text": "heat transfer"}\n')
    (tmp_path / "q.tsv").write_text("q1\twing\n")
    base = ["--collection", str(tmp_path / "docs.jsonl"), "--queries", str(tmp_path / "q.tsv"), "--quiet",
            "--out", str(tmp_path / "o.letor"), "--index", str(tmp_path / "ix.npz")]
    assert run([*base, "--fields", "title"]) == 0
    capsys.readouterr()
    assert run([*base, "--fields", "title,body"]) == 1  # (the jsonl's text is the field body)
    assert "holds the fields ['title'], not ['title', 'body']" in capsys.readouterr().err
    assert run([*base, "--fields", "title,text"]) == 2  # no such field, said before the index is read
    assert "--fields title,text: 'text' is not a field of the collection" in capsys.readouterr().err


def test_the_qid_map_is_written_atomically_and_a_stale_one_removed(files, tmp_path, capsys):
    out = tmp_path / "t.letor"
    base = ["--collection", str(files / "docs.tsv"), "--qrels", str(files / "qrels"), "--out", str(out), "--quiet"]
    assert run([*base, "--queries", str(files / "q.tsv")]) == 0
    assert (tmp_path / "t.letor.qids.tsv").read_text() == "1\tQ-A\n2\tQ-B\n"
    (files / "qn.tsv").write_text("1\twing flutter\n2\theat\n")
    (files / "qrels_n").write_text("1 0 d3 2\n2 0 d2 1\n")
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "qn.tsv"), "--qrels",
                str(files / "qrels_n"), "--out", str(out), "--quiet"]) == 0
    assert not (tmp_path / "t.letor.qids.tsv").exists()  # integer ids: a map left from before would mislead


def test_qrels_and_topics_are_written_for_the_trec_tools(files, tmp_path, capsys):
    assert run(["--collection", str(files / "docs.tsv"), "--queries", str(files / "q.tsv"), "--qrels",
                str(files / "qrels"), "--out", str(tmp_path / "t.letor"), "--quiet", "--qrels-out",
                str(tmp_path / "out.qrels"), "--topics-out", str(tmp_path / "topics.trec")]) == 0
    back = read_qrels(tmp_path / "out.qrels")
    assert sorted(zip(back.qid, back.docno, back.rel)) == [("Q-A", "d2", 0), ("Q-A", "d3", 2), ("Q-B", "d2", 1)]
    from features.collections import read_trec_topics

    assert dict(read_trec_topics(tmp_path / "topics.trec").items()) == {"Q-A": "wing flutter", "Q-B": "heat"}


def small_collection(folder, prefix: str, n_queries: int) -> list[str]:
    """40 documents, ``n_queries`` queries named ``{prefix}{q}``, 6 judgments each; ``ltr features`` arguments."""
    (folder / "docs.tsv").write_text("".join(f"d{i}\t{'wing flutter' if i % 3 else 'heat slab'} text {i}\n"
                                             for i in range(40)))
    (folder / "q.tsv").write_text("".join(f"{prefix}{q}\t{'wing' if q % 2 else 'heat'} text\n"
                                          for q in range(n_queries)))
    (folder / "qrels").write_text("".join(f"{prefix}{q} 0 d{(q * 7 + k) % 40} {k % 3}\n" for q in range(n_queries)
                                          for k in range(6)))
    return ["--collection", str(folder / "docs.tsv"), "--queries", str(folder / "q.tsv"), "--qrels",
            str(folder / "qrels"), "--topk", "10", "--quiet"]


def test_train_and_cv_on_features_output_say_their_metrics_count_only_the_candidates(tmp_path, capsys):
    """A new user read cv's MAP on ltr features output (0.4250) against trec_eval's BM25 MAP (0.3064): the
    relevant documents the first stage missed count nowhere in it, and nothing said so."""
    from ltr import make_ranking
    from ltr.io import write_letor

    letor = tmp_path / "c.letor"
    assert run([*small_collection(tmp_path, "Q", 12), "--out", str(letor)]) == 0
    said = "these metrics count only the relevant documents among them"
    for argv in (["train", str(letor), "--rounds", "2"], ["cv", str(letor), "--folds", "3", "--rounds", "2"]):
        capsys.readouterr()
        assert main(argv) == 0
        assert said in capsys.readouterr().err
    plain = write_letor(tmp_path / "plain.txt", make_ranking(12, 6, 3, random_state=0))
    for argv in (["train", str(plain), "--rounds", "2"], ["cv", str(plain), "--folds", "3", "--rounds", "2"]):
        assert main(argv) == 0
        assert said not in capsys.readouterr().err


def test_the_query_id_map_of_a_compressed_copy_is_found_and_standard_output_cannot_hold_one(tmp_path, capsys,
                                                                                          monkeypatch):
    """A trial gzipped ltr features output whose queries were renumbered: ltr predict --run wrote LETOR positions
    as query ids (its map, s.letor.qids.tsv, was looked for as s.letor.gz.qids.tsv), scored MAP 0.0147 for
    0.4425, silently; and --out - wrote the map to a file named '-.qids.tsv'."""
    import gzip

    from ltr.io import read_run

    letor = tmp_path / "s.letor"
    base = small_collection(tmp_path, "PLAIN-", 8)
    assert run([*base, "--out", str(letor)]) == 0
    assert (tmp_path / "s.letor.qids.tsv").is_file()
    model = tmp_path / "m.txt"
    assert main(["train", str(letor), "--rounds", "2", "--out", str(model), "--quiet"]) == 0
    (tmp_path / "s.letor.gz").write_bytes(gzip.compress(letor.read_bytes()))
    runs = []
    for data in (letor, tmp_path / "s.letor.gz"):
        out = tmp_path / f"{data.name}.run"
        assert main(["predict", str(model), str(data), "--run", "--out", str(out), "--quiet"]) == 0
        runs.append(read_run(out))
    assert set(runs[0]["qid"]) == {f"PLAIN-{q}" for q in range(8)}
    assert runs[1][["qid", "docno", "score"]].equals(runs[0][["qid", "docno", "score"]])
    # moved without its map: the header says the qids need it, so no run of LETOR numbers is written
    (tmp_path / "moved").mkdir()
    moved = tmp_path / "moved" / "s.letor"
    moved.write_bytes(letor.read_bytes())
    capsys.readouterr()
    for argv in (["predict", str(model), str(moved), "--run", "--out", str(tmp_path / "m.run")],
                 ["cv", str(moved), "--folds", "2", "--rounds", "2", "--run-out", str(tmp_path / "cv.run")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "its query ids are numbers that s.letor.qids.tsv maps to the collection's" in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.run").exists() and not (tmp_path / "cv.run").exists()
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)  # where '-.qids.tsv' was written
    assert run([*base, "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert "--out -: the query ids are not plain integers" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("-*")) and capsys.readouterr().out == ""


def test_a_saved_index_is_only_read_beside_its_collection_or_in_a_read_only_folder(files, tmp_path, capsys,
                                                                                    monkeypatch, caplog):
    """An --index that exists is an input: it may live in the collection's folder (every file there is an input),
    or where nothing may be written; one that does not exist yet is built there, an output like the others."""
    import os

    folder = tmp_path / "coll"
    folder.mkdir()
    (folder / "docs.tsv").write_text((files / "docs.tsv").read_text())
    base = ["--collection", str(folder), "--queries", str(files / "q.tsv"), "--quiet", "--topk", "5",
            "--index", str(folder / "ix.npz")]
    assert run([*base, "--out", str(tmp_path / "a.letor")]) == 0, capsys.readouterr().err
    assert run([*base, "--out", str(tmp_path / "b.letor")]) == 0, capsys.readouterr().err
    assert read_letor(tmp_path / "b.letor").equals(read_letor(tmp_path / "a.letor"))
    assert "skipped" not in caplog.text  # the folder's own index is no document file to warn about
    # an output that is the saved index is still refused: it is read
    assert run([*base, "--out", str(folder / "ix.npz")]) == 2
    assert "ix.npz: is also an input of this command" in capsys.readouterr().err
    # the index's folder not writable (as the OS answers): loaded all the same
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if mode & os.W_OK and str(p).startswith(
        str(folder)) else real(p, mode, *a, **k))
    assert run([*base, "--out", str(tmp_path / "c.letor")]) == 0, capsys.readouterr().err
    assert read_letor(tmp_path / "c.letor").equals(read_letor(tmp_path / "a.letor"))
    # and one still to be built there is refused as any output would be
    (folder / "ix.npz").unlink()
    assert run([*base, "--out", str(tmp_path / "d.letor")]) == 1
    assert f"ix.npz (--index): cannot write: the folder {folder} is not writable" in capsys.readouterr().err


def test_outputs_beside_a_layouts_files_are_rewritten_and_a_document_folder_takes_none(tmp_path, capsys):
    """A folder in a known layout (BEIR) reads its named files: an output beside them is no input, so the same
    command runs again; its files are. Every file of a folder of documents is read as documents: an output there is
    refused from the first run (the index excepted: the folder's reader skips it)."""
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "title": "", "text": "the cat sat on the mat"}\n'
                                       '{"_id": "d2", "title": "", "text": "dogs and cats"}\n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "cat"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    argv = ["--collection", str(beir), "--out", str(beir / "run1.letor"), "--quiet"]
    assert run(argv) == 0 and run(argv) == 0, capsys.readouterr().err
    for name in ("corpus.jsonl", "qrels/test.tsv"):
        assert run(["--collection", str(beir), "--out", str(beir / name), "--quiet"]) == 2
        assert f"{beir / name}: is also an input of this command" in capsys.readouterr().err
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.trec").write_text("<DOC><DOCNO>1</DOCNO>cat</DOC>\n")
    (tmp_path / "q.tsv").write_text("1\tcat\n")
    base = ["--collection", str(docs), "--queries", str(tmp_path / "q.tsv"), "--quiet"]
    assert run([*base, "--out", str(docs / "x.letor")]) == 2
    assert capsys.readouterr().err == (f"ltr features: error: --out {docs / 'x.letor'}: inside {docs}, a folder of "
                                       "document files, every one of which is read as the collection's documents: "
                                       "write it elsewhere\n")
    assert not (docs / "x.letor").exists()
    argv = [*base, "--out", str(tmp_path / "x.letor"), "--index", str(docs / "ix.npz")]
    assert run(argv) == 0 and run(argv) == 0, capsys.readouterr().err


@pytest.mark.shared
def test_queries_and_qrels_named_by_the_collection_folders_file_names_are_found_there(shared_file, tmp_path,
                                                                                      monkeypatch, capsys):
    # the README's "--queries/--qrels pick its other files, such as test.all.queries": a name not found from the
    # working folder is the collection folder's (test.all.queries ships as .gz); not found anywhere, both are named
    from features.pipeline import load_inputs

    coll = shared_file("nfcorpus")
    monkeypatch.chdir(tmp_path)
    inputs = load_inputs(coll, queries="test.vid-desc.queries", qrels="test.3-2-1.qrel.gz")
    assert len(inputs.queries) == 102
    assert len(load_inputs(coll, queries="test.all.queries").queries) == 325  # the judged 323 and two more
    out = tmp_path / "nf.letor"
    assert main(["features", "--collection", str(coll), "--queries", "test.vid-desc.queries", "--topk", "3",
                 "--out", str(out), "--quiet"]) == 0
    assert len(set(read_letor(out).qid)) > 0
    assert main(["features", "--collection", str(coll), "--queries", "nope.queries", "--out", str(out)]) == 1
    assert (f"queries not found: nope.queries (neither here nor in the collection folder {coll})"
            in capsys.readouterr().err)


def test_unicode_normalisation_makes_a_composed_query_match_decomposed_text(tmp_path, caplog):
    # 'café' typed composed (U+00E9) against text stored decomposed (e + U+0301, as macOS writes file names and
    # some exports text): no match by default, as Lucene's StandardAnalyzer; --unicode NFC makes them one term
    (tmp_path / "docs.tsv").write_text("d1\tthe cafe\u0301 menu\nd2\tcoffee shop\n", encoding="utf-8")
    (tmp_path / "q.tsv").write_text("1\tcaf\u00e9\n2\tcoffee\n", encoding="utf-8")
    (tmp_path / "qrels.txt").write_text("1 0 d1 1\n2 0 d2 1\n")
    argv = ["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"), "--qrels",
            str(tmp_path / "qrels.txt"), "--out", str(tmp_path / "f.letor")]
    assert main(argv) == 0
    assert "1 of 2 queries have no candidate and are left out ('1')" in caplog.text
    assert main([*argv, "--unicode", "NFC", "--quiet"]) == 0
    data = read_letor(tmp_path / "f.letor")
    assert data.n_queries == 2 and list(data.doc_ids[data.qid == 1]) == ["d1"]
    assert main([*argv, "--unicode", "nfc"]) == 2  # the forms' own names


def test_the_first_stages_doc_count_is_an_option_and_its_scores_follow_it(tmp_path):
    # --bm25-doc-count collection gives the first stage's rule before Lucene's statistics were taken (review 2)
    from features.analysis import Analyzer
    from features.collections import Collection, Queries
    from features.retrieval import BM25Retriever
    from ltr.io import read_run

    docs = {"d1": ("cat dog", "x"), "d2": ("", "cat y"), "d3": ("cat", "z"), "d4": ("", "w cat")}
    (tmp_path / "docs.tsv").write_text("".join(f"{d}\t{t}\t{b}\n" for d, (t, b) in docs.items()))
    (tmp_path / "q.tsv").write_text("1\tcat\n")
    (tmp_path / "qrels.txt").write_text("1 0 d1 1\n")
    scores = {}
    for rule in ("field", "collection"):
        out = tmp_path / f"{rule}.letor"
        assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                     "--qrels", str(tmp_path / "qrels.txt"), "--bm25-field", "title", "--bm25-doc-count", rule,
                     "--out", str(out), "--save-run", str(tmp_path / f"{rule}.run"), "--quiet"]) == 0
        run = read_run(tmp_path / f"{rule}.run")
        scores[rule] = dict(zip(run["docno"], run["score"]))
        ix = InvertedIndex.build(Collection(tuple(docs), {"title": [t for t, _ in docs.values()],
                                                          "body": [b for _, b in docs.values()]}), Analyzer())
        want = BM25Retriever(ix, field="title", doc_count=rule).search(Queries(("1",), ("cat",)), k=10)
        assert scores[rule] == pytest.approx(dict(zip(want["docno"], want["score"])), rel=1e-6)
    assert scores["field"]["d1"] != pytest.approx(scores["collection"]["d1"])
