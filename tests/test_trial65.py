"""Stop 65: what the trials found (each test fails without its fix)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ltr.registry as reg
from ltr.cli import main

SPLITS = {"train": "trainingset.txt", "vali": "validationset.txt", "test": "testset.txt"}


def _ohsumed_like(folder, *, queries: int = 5, docs: int = 3) -> int:
    """A copy in LETOR 3.0 OHSUMED's layout: five folds, each holding every query once (three for training, one
    for validation, one for test, rotated), every row listing all 45 features. Returns the rows of one fold."""
    for fold in range(1, 6):
        test = (fold - 1) % queries + 1
        vali = fold % queries + 1
        parts = {"train": [q for q in range(1, queries + 1) if q not in (test, vali)], "vali": [vali], "test": [test]}
        for split, qids in parts.items():
            lines = [f"{d % 3} qid:{q} " + " ".join(f"{j}:{(q * 7 + d * 3 + j) % 10 / 10:g}" for j in range(1, 46))
                     + f" #docid = {q}-{d}\n" for q in qids for d in range(docs)]
            path = folder / f"Fold{fold}" / SPLITS[split]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(lines))
    return queries * docs


def _entry(rows: int) -> reg.Entry:
    """The registry's OHSUMED entry, with the toy copy's total."""
    return reg.Entry.from_dict({**reg.get("ohsumed").data, "counts": {"rows": rows, "source": "the test"}}, "<test>")


def test_every_fold_of_a_folded_set_is_checked_for_leaks_and_for_its_total(tmp_path):
    """OHSUMED (five folds, no segment table) passed verify as OK with Fold2's test file a copy of its vali file, and
    with a file of fold 3 cut at a line's end: the leak check ran only for sets with a segment table, and only fold
    1's total was summed (trial t65)."""
    rows = _ohsumed_like(tmp_path)
    report = reg.verify(_entry(rows), tmp_path, checksums=False)
    assert report.ok and "each of 5 folds holds 15 rows in all, as documented" in report.notes
    (tmp_path / "Fold2" / "testset.txt").write_text((tmp_path / "Fold2" / "validationset.txt").read_text())
    lines = (tmp_path / "Fold3" / "testset.txt").read_text().splitlines(keepends=True)
    (tmp_path / "Fold3" / "testset.txt").write_text("".join(lines[:-1]))
    report = reg.verify(_entry(rows), tmp_path, checksums=False)
    assert not report.ok
    assert "fold 3 holds 14 rows in all, the registry documents 15 (the test)" in report.problems
    assert any(p.startswith("Fold2: Fold2/validationset.txt (vali) and Fold2/testset.txt (test) share query ids, "
                            "the first qid:3;") for p in report.problems)


def test_a_row_of_ohsumed_cut_inside_its_line_is_found(tmp_path):
    """LETOR 3.0 writes all 45 features on every row; the entries did not say so, and a row cut short inside its
    line was read with its last features as 0 (trial t65)."""
    rows = _ohsumed_like(tmp_path)
    path = tmp_path / "Fold1" / "testset.txt"
    text = path.read_text()
    path.write_text(text[:text.rindex(" 30:")] + "\n")
    report = reg.verify(_entry(rows), tmp_path, checksums=False)
    bad = [c for c in report.files if c.status == "differs"]
    assert [c.path for c in bad] == ["Fold1/testset.txt"]
    assert "1 row(s) lack features, where every row of ohsumed lists all 45" in bad[0].problems[0]


def test_ltr_cv_refuses_an_ohsumed_copy_whose_fold_tests_on_its_validation_queries(tmp_path, capsys):
    _ohsumed_like(tmp_path / "copy")
    fold = tmp_path / "copy" / "Fold4"
    (fold / "testset.txt").write_text((fold / "validationset.txt").read_text())
    assert main(["cv", "--dataset", "ohsumed", "--root", str(tmp_path / "copy"), "--rounds", "2", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "ltr cv: error: Fold4: " in err and "share query ids, the first qid:5;" in err
    assert "check the copy (ltr data verify ohsumed " in err and "Traceback" not in err


def test_a_yahoo_set_is_installed_without_the_other_set_its_archive_holds(tmp_path):
    """Yahoo's archive holds set 1 and set 2 side by side; each set's folder received both (trial t65)."""
    import io
    import tarfile

    downloads = tmp_path / ".ltrkit-downloads"
    downloads.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for n in (1, 2):
            for k, split in enumerate(("train", "valid", "test")):
                data = "".join(f"{(q + d) % 5} qid:{100 * k + q} 1:0.{d} 7:0.5\n"
                               for q in range(1, 3) for d in range(3))
                info = tarfile.TarInfo(f"ltrc_yahoo/set{n}.{split}.txt")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data.encode()))
    (downloads / "ltrc_yahoo.tar.bz2").write_bytes(buf.getvalue())
    for n in (1, 2):
        dest = reg.fetch(f"yahoo-set{n}", tmp_path, progress=False)
        assert sorted(p.name for p in dest.glob("*.txt")) == [f"set{n}.{s}.txt" for s in ("test", "train", "valid")]
    assert (downloads / "ltrc_yahoo.tar.bz2").is_file()  # the user's archive


def _runs_and_qrels(tmp_path):
    """Two TREC runs over 12 queries (b ranks the relevant document last, a first) and their qrels."""
    qrels, a, b = [], [], []
    for q in range(1, 13):
        for d in range(5):
            qrels.append(f"{q} 0 d{d} {1 if d == 0 else 0}\n")
            a.append(f"{q} Q0 d{d} {d + 1} {10 - d} a\n")
            b.append(f"{q} Q0 d{d} {5 - d if q % 4 else d + 1} {d if q % 4 else 10 - d} b\n")
    for name, lines in (("qrels", qrels), ("a.run", a), ("b.run", b)):
        (tmp_path / name).write_text("".join(lines))
    return [str(tmp_path / n) for n in ("a.run", "b.run")], str(tmp_path / "qrels")


def test_compare_csv_wide_carries_each_metrics_p_value_and_mark(tmp_path, capsys):
    """The wide CSV held the means alone, while the note on standard error spoke of a * (trial t65)."""
    import csv
    import io

    runs, qrels = _runs_and_qrels(tmp_path)
    assert main(["compare", *runs, "--qrels", qrels, "--metrics", "ndcg@10,map", "--format", "csv"]) == 0
    long = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert main(["compare", *runs, "--qrels", qrels, "--metrics", "ndcg@10,map", "--format", "csv", "--layout",
                 "wide"]) == 0
    out = capsys.readouterr()
    wide = list(csv.reader(io.StringIO(out.out)))
    assert wide[0] == ["system", "ndcg@10", "ndcg@10 Holm p(t)", "ndcg@10 sig", "map", "map Holm p(t)", "map sig"]
    assert wide[1][0] == "a" and wide[1][2:4] == ["", ""]  # (the name alone, as before: scripts look it up)
    by_metric = {r["metric"]: r for r in long if r["system"] == "b"}
    for i, m in ((1, "ndcg@10"), (4, "map")):
        assert float(wide[2][i]) == float(by_metric[m]["mean"])
        assert float(wide[2][i + 1]) == float(by_metric[m]["Holm p(t)"]) < 0.05 and wide[2][i + 2] == "*"
    assert "* differs from a" in out.err and " d: the paired effect size" not in out.err


def test_the_long_table_says_what_its_d_column_is(tmp_path, capsys):
    runs, qrels = _runs_and_qrels(tmp_path)
    assert main(["compare", *runs, "--qrels", qrels, "--metrics", "map"]) == 0
    out = capsys.readouterr().out
    assert " d " in out.splitlines()[0] + " " and "d: the paired effect size, the mean of the per-query differences " \
        "over their standard deviation (Cohen's d_z)." in out


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_a_teacher_alike_within_every_query_is_said_to_leave_nothing_to_learn(shared_file, engine):
    """A query-level feature as the teacher (or a file of zeros) trained a constant model, LightGBM's warning blaming
    min_child_samples and reg_lambda, XGBoost's saying nothing (trial t65)."""
    from ltr import Ranker
    from ltr.io import read_letor

    d = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"), n_features=46).subset(np.arange(40))
    flat = np.repeat(np.arange(d.n_queries, dtype=np.float64), np.diff(d.group_ptr))  # one value per query
    said = r"the teacher's scores do not vary within any query .* so distillation has nothing to learn"
    for params in ({"teacher": flat}, {"teacher": np.zeros(d.n_rows)}, {"teacher": 7}):
        model = Ranker(engine=engine, objective="distill", kernel="numba", n_estimators=5, preset=None,
                       objective_params=params)
        with pytest.warns(UserWarning, match=said) as caught:
            model.fit(d)
        assert not [w for w in caught if "min_child" in str(w.message)]
    varied = Ranker(engine=engine, objective="distill", kernel="numba", n_estimators=5, preset=None,
                    objective_params={"teacher": flat + d.X[:, 0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        varied.fit(d)
    labels_too = Ranker(engine=engine, objective="distill", kernel="numba", n_estimators=5, preset=None,
                        objective_params={"teacher": flat, "alpha": 0.5})
    with warnings.catch_warnings():  # the labels' term learns
        warnings.simplefilter("error")
        labels_too.fit(d)


def test_ltr_train_gives_no_leaf_size_advice_for_a_teacher_with_nothing_to_teach(shared_file, tmp_path, capsys):
    data = shared_file("mq2008/Fold1/vali.txt.gz")
    assert main(["train", str(data), "--objective", "distill", "--kernel", "numba", "--teacher-column", "7",
                 "--preset", "none", "--rounds", "5"]) == 0
    err = capsys.readouterr().err
    assert "so distillation has nothing to learn" in err and "min-child-samples" not in err


def test_a_teacher_score_beyond_the_limit_is_named_by_its_query_document_and_line(shared_file, tmp_path, capsys):
    """Every teacher form said "teacher score of row 4 is 1e+31", a 0-based training row, where its NaN is named by
    query, document and line (trial t65)."""
    import gzip

    data = tmp_path / "tr.txt"
    data.write_text("".join(gzip.open(shared_file("mq2008/Fold1/vali.txt.gz"), "rt").readlines()[:40]))
    line5 = data.read_text().splitlines()[4]
    doc = line5.split("#docid = ")[1].split()[0]
    qid = line5.split()[1].removeprefix("qid:")
    scores = tmp_path / "t.txt"
    scores.write_text("".join(f"{1e31 if i == 4 else i / 10}\n" for i in range(40)))
    assert main(["train", str(data), "--objective", "distill", "--kernel", "numba", "--teacher-scores", str(scores),
                 "--preset", "none", "--rounds", "2"]) == 1
    err = capsys.readouterr().err
    assert f"scores query {qid}, document {doc} ({data}:5) 1e+31; teacher scores beyond +-1e+30" in err
    assert len(err.strip().splitlines()) == 1


def test_csv_columns_are_the_canonical_metric_names_whatever_the_spelling(shared_file, tmp_path, capsys):
    """``--metrics P_5 --format csv`` headed its column 'p@5 (P_5)', 'p@5' when spelt so: a script reading the column
    by name broke with the spelling (trial t65); JSON keys its values by the canonical name."""
    import csv
    import io

    data = shared_file("mq2008/Fold1/vali.txt.gz")
    scores = tmp_path / "s.txt"
    assert main(["train", str(data), "--rounds", "2", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 0
    assert main(["predict", str(tmp_path / "m.txt"), str(data), "--out", str(scores), "--quiet"]) == 0
    capsys.readouterr()
    tables = []
    for spelt in ("P_5,ndcg_cut_10,recip_rank", "p@5,ndcg@10,mrr"):
        assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", spelt, "--format", "csv",
                     "-q"]) == 0
        tables.append(list(csv.reader(io.StringIO(capsys.readouterr().out))))
        assert main(["train", str(data), "--rounds", "2", "--metrics", spelt, "--format", "csv", "--quiet"]) == 0
        tables.append(list(csv.reader(io.StringIO(capsys.readouterr().out))))
    assert tables[0][0] == ["qid", "p@5", "ndcg@10", "mrr"] and tables[0] == tables[2]
    assert [r[0] for r in tables[1][1:]] == ["p@5", "ndcg@10", "mrr"] and tables[1] == tables[3]
    assert main(["evaluate", str(data), "--scores", str(scores), "--metrics", "P_5"]) == 0
    assert "p@5 (P_5)" in capsys.readouterr().out  # the table keeps showing the spelling asked for


def test_evaluate_refuses_the_other_modes_reading_options(tmp_path, capsys):
    """--query-file /nonexistent, --unjudged drop, --sort ... with --qrels/--run, and --qrels-format with LETOR
    scores, were accepted and did nothing, where -M and -c with LETOR scores are refused (trial t65)."""
    (tmp_path / "q").write_text("1 0 a 1\n1 0 b 0\n")
    (tmp_path / "r").write_text("1 Q0 b 1 2 t\n1 Q0 a 2 1 t\n")
    run = ["evaluate", "--qrels", str(tmp_path / "q"), "--run", str(tmp_path / "r"), "--metrics", "map"]
    for extra, said in ((["--query-file", "/nonexistent"], "--query-file reads a LETOR file"),
                        (["--no-query-file"], "--no-query-file reads a LETOR file"),
                        (["--unjudged", "drop", "--sort", "--n-features", "5"],
                         "--sort, --unjudged, --n-features read a LETOR file")):
        assert main([*run, *extra]) == 2
        err = capsys.readouterr().err
        assert f"ltr evaluate: error: {said} (DATA --scores S); evaluate --qrels Q --run R reads none" in err
    assert main([*run, "--dataset", "mq2008", "--quiet"]) == 0  # (it sets ERR's top grade for runs too)
    capsys.readouterr()
    (tmp_path / "d.txt").write_text("1 qid:1 1:0.5\n0 qid:1 1:0.2\n")
    (tmp_path / "s.txt").write_text("2\n1\n")
    letor = ["evaluate", str(tmp_path / "d.txt"), "--scores", str(tmp_path / "s.txt"), "--metrics", "map"]
    assert main([*letor, "--qrels-format", "trec"]) == 2
    assert "--qrels-format trec applies to --qrels" in capsys.readouterr().err
    assert main([*letor, "--qrels-format", "auto", "--quiet"]) == 2  # given, even as its default
    assert main([*letor, "--quiet"]) == 0


def test_trec_qrels_read_as_smart_are_said_to_look_like_trecs_layout(tmp_path):
    """TREC's 'qid 0 docno rel' read with format 'smart' said document '0' was judged twice, no word of the layout,
    where 'beir' on the same file says it (trial t65)."""
    from ltr.exceptions import TrecFormatError
    from ltr.io import read_qrels

    path = tmp_path / "q"
    path.write_text("1 0 d1 1\n1 0 d2 0\n2 0 d1 2\n")
    with pytest.raises(TrecFormatError, match=r":2: document '0' is judged twice for query '1' .*TREC's four columns "
                                              r"\(qid iteration docno relevance\)\? read it as format 'trec'"):
        read_qrels(path, "smart")
    path.write_text("1 d1 0 0\n1 d2 0 0\n1 d1 0 0\n")  # a SMART file judging a pair twice: no such hint
    with pytest.raises(TrecFormatError) as e:
        read_qrels(path, "smart")
    assert "judged twice" in str(e.value) and "TREC's" not in str(e.value)


def test_sets_share_an_archive_only_when_it_comes_from_the_same_place(tmp_path, monkeypatch):
    """Two sets of archives that merely share a file name (two users' data.zip) are not one archive: neither's files
    are left out of the other's folder (review of t65)."""
    import ltr.registry._catalog as catalog_module
    from ltr.registry._fetch import _leave_out_other_sets

    def entry(name: str, url: str) -> reg.Entry:
        return reg.Entry.from_dict({
            "name": name, "kind": "letor", "title": name, "homepage": "http://127.0.0.1/", "license": "test",
            "sources": ["test"], "archives": [{"file": "data.zip", "format": "zip", "urls": [url],
                                               "checksum_source": "none published"}],
            "layout": {"folds": 1, "train": [f"{name}.txt"]}, "format": {"n_features": 2}}, "<test>")

    a, b, b_same = entry("a", "http://x/data.zip"), entry("b", "http://y/data.zip"), entry("b", "http://x/data.zip")
    for other, kept in ((b, True), (b_same, False)):
        monkeypatch.setattr(catalog_module, "catalog", lambda other=other: {"a": a, "b": other})
        for name in ("a", "b"):
            (tmp_path / f"{name}.txt").write_text("0 qid:1 1:0.5\n")
        _leave_out_other_sets(a, tmp_path)
        assert (tmp_path / "a.txt").is_file() and (tmp_path / "b.txt").is_file() is kept


def test_distillation_of_labels_alone_with_no_two_labels_says_so(shared_file):
    from ltr import Ranker
    from ltr.io import read_letor

    d = read_letor(shared_file("mq2008/Fold1/vali.txt.gz"), n_features=46).subset(np.arange(20))
    y = np.zeros(d.n_rows)
    teacher = np.random.default_rng(0).normal(size=d.n_rows)  # varies: not what is said
    with pytest.warns(UserWarning, match=r"no query of the training data has two different labels, so distillation "
                                         r"with alpha=1") as caught:
        Ranker(objective="distill", kernel="numba", n_estimators=3, preset=None,
               objective_params={"teacher": teacher, "alpha": 1.0}).fit(d.X, y, group=np.diff(d.group_ptr))
    assert not [w for w in caught if "teacher's scores do not vary" in str(w.message)]
