"""Behaviours mended in stop 57."""

from __future__ import annotations

import re

import numpy as np
import pytest

from features.analysis import Analyzer


@pytest.mark.parametrize("pattern, text", [(r"[a-z]+|[0-9]+", "b747 flies at mach2"), (r"[A-Za-z]{3}", "abcdef gh"),
                                           (r"\d+|[^\W\d]+", "covid19 h1n1 zürich2"),
                                           (r"[a-z]+|[0-9]+", "école2 ñu3")])
def test_a_token_pattern_s_matches_are_the_tokens(pattern, text):
    """With keep_marks (the default), matches that touched were glued into one token: '[a-z]+|[0-9]+' kept
    'mach2' whole, so a query for 'mach' missed it."""
    a = Analyzer(token_pattern=pattern, stopwords=None, stemmer=None, normalize="NFC")
    assert a.tokens(text) == re.findall(pattern, text)


@pytest.mark.parametrize("pattern", [r"(?u)\b\w\w+\b", r"(?i)[a-z]+"])
def test_a_token_pattern_with_global_inline_flags_is_taken(pattern):
    """scikit-learn's default pattern and any '(?i)...' were refused as 'not a valid regular expression'."""
    text = "Ab CD e Zürich"
    assert Analyzer(token_pattern=pattern, stopwords=None, stemmer=None, lowercase=False).tokens(text) == \
        re.findall(pattern, text)


def test_combining_marks_still_continue_a_token():
    """The default analyzer's tokens as before wherever no two matches touch (a review of the fix: marks that lead
    a token were dropped, so Bengali's ra + ZWJ + virama + ya read '্যাব' as another word, 'যাব')."""
    a = Analyzer(stopwords=None, stemmer=None)
    assert a.tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert a.tokens("cafe\u0301s ok") == ["cafe\u0301s", "ok"]
    assert a.tokens("র\u200d্যাব বাংলা") == ["র", "্যাব", "বাংলা"]
    # a run of marks alone is no token (trial t72: U+FE0F of every emoji in emoji presentation made one shared term)
    assert a.tokens("\u0301abc x \u20dd y") == ["\u0301abc", "x", "y"]
    assert Analyzer(token_pattern="(?x) \\w+  # words", stopwords=None, stemmer=None).tokens("ab cd") == ["ab", "cd"]
    with pytest.raises(ValueError, match="has capturing groups: write"):
        Analyzer(token_pattern=r"(?P<w>\w+)")
    assert Analyzer(token_pattern=r"[a-z]+|[0-9]+", stopwords=None, stemmer=None).tokens("e\u03012") == ["e\u03012"]


class _NaNFirst:
    """Scores rows by column 0 and reads an absent sparse entry as missing (NaN), as XGBoost does: -1 for it."""

    def predict(self, X):  # given the rows, as a model other than ltrkit's is
        import scipy.sparse as sp
        if sp.issparse(X):
            dense = np.full(X.shape, np.nan)
            coo = X.tocoo()
            dense[coo.row, coo.col] = coo.data
            X = dense
        return np.where(np.isnan(X[:, 0]), -1.0, X[:, 0]) + 0.1 * np.nan_to_num(X[:, 1])


def test_permutation_importance_scores_the_rows_as_given():
    """The features were cast to float32 and sparse rows made dense (absent -> 0): a float64 unix time lost its
    order, the baseline was 0.61 for the model's 0.997, and the most important feature came out least."""
    import scipy.sparse as sp

    from ltr import RankingDataset
    from ltr.evaluation import permutation_importance
    from ltr.metrics import evaluate

    rng = np.random.default_rng(0)
    n, per = 400, 20
    qid, ptr = np.repeat(np.arange(n // per), per), np.arange(0, n + 1, per)
    ts = 1.7e9 + np.concatenate([rng.permutation(per) for _ in range(n // per)]).astype(np.float64)
    y = (ts - 1.7e9 >= 15).astype(float)  # the latest 5 of each query, 0-19 s apart: one float32 value
    d = RankingDataset(np.column_stack([ts, rng.normal(size=n)]), y, qid, ptr)
    true = evaluate(y, _NaNFirst().predict(d.X), group_ptr=ptr, metrics=["ndcg@10"])["ndcg@10"]
    table = permutation_importance(_NaNFirst(), d, n_repeats=2)
    assert table["baseline"][0] == true == 1.0

    X = rng.normal(size=(n, 3))
    X[rng.random(X.shape) < 0.5] = 0.0
    y = (X[:, 0] > 0.3).astype(float) + (X[:, 0] > 1)
    sparse = RankingDataset(sp.csr_matrix(X), y, qid, ptr)
    twin = RankingDataset(np.where(X == 0, np.nan, X), y, qid, ptr)  # the same rows, absent written as NaN
    assert _NaNFirst().predict(sparse.X) == pytest.approx(_NaNFirst().predict(twin.X))
    for within in ("query", "all"):
        a = permutation_importance(_NaNFirst(), sparse, n_repeats=3, within=within, random_state=4)
        b = permutation_importance(_NaNFirst(), twin, n_repeats=3, within=within, random_state=4)
        assert a.equals(b) and a["importance"].abs().sum() > 0.1
    assert sparse.X.toarray() == pytest.approx(X)  # the caller's rows are left as they were


def test_distill_in_xgboost_mode_mixes_alike_whatever_the_weights_scale():
    """mode='xgboost' rescales the lambdas' query weights to average one, and the teacher terms took the raw
    weights: weights x10 moved the balance alpha sets (a row's gradient changed sign; a MQ2008 student's scores
    moved by 0.595)."""
    from ltr.kernels import distill, lambdarank

    rng = np.random.default_rng(0)
    ptr = np.array([0, 4, 9])
    y, s, t = rng.integers(0, 3, 9), rng.normal(size=9), rng.normal(size=9)
    w = np.repeat([1.0, 3.0], [4, 5])
    for mode, alpha in (("xgboost", 0.5), ("exact", 0.5), ("xgboost", 0.0)):
        g1, h1 = distill.grad_hess(s, y, ptr, weight=w, teacher=t, alpha=alpha, mode=mode)
        g10, h10 = distill.grad_hess(s, y, ptr, weight=10 * w, teacher=t, alpha=alpha, mode=mode)
        lam1, _ = lambdarank.grad_hess(s, y, ptr, weight=w, mode=mode)
        lam10, _ = lambdarank.grad_hess(s, y, ptr, weight=10 * w, mode=mode)
        scale = float(np.abs(lam10).sum() / np.abs(lam1).sum())  # 1 where the lambdas' weights are rescaled
        assert scale == pytest.approx(1.0 if mode == "xgboost" else 10.0)
        assert g10 == pytest.approx(scale * g1, rel=1e-6) and h10 == pytest.approx(scale * h1, rel=1e-6)
    # alpha 0 (the teacher alone) is the limit of a small alpha, as in the other modes (a review of the fix)
    g0, _ = distill.grad_hess(s, y, ptr, weight=w, teacher=t, alpha=0.0, mode="xgboost")
    g_small, _ = distill.grad_hess(s, y, ptr, weight=w, teacher=t, alpha=1e-12, mode="xgboost")
    assert g0 == pytest.approx(g_small, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("in_place", [False, True])
def test_a_score_file_replaced_with_the_same_size_and_time_is_read_again(tmp_path, in_place):
    """The served table was keyed by size and modification time: a file replaced by cp -p, rsync -a or touch -r
    kept the old scores (0.12573 served where a fresh reranker read 0.92573)."""
    import os

    from features.scorers.neural.file import NeuralFile

    path = tmp_path / "s.tsv"
    path.write_text("1\td1\t0.12573\n1\td2\t0.5\n")
    scorer = NeuralFile(path=str(path))
    assert scorer.table().score.tolist() == [0.12573, 0.5]
    st = os.stat(path)
    new = tmp_path / "new.tsv"
    new.write_text("1\td1\t0.92573\n1\td2\t0.5\n")
    if in_place:  # cp -p onto the file: the same inode, rewritten
        path.write_text(new.read_text())
    else:  # rsync -a: a new file renamed over it
        os.replace(new, path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size and os.stat(path).st_mtime_ns == st.st_mtime_ns
    assert scorer.table().score.tolist() == [0.92573, 0.5]


def test_the_line_search_s_means_of_tied_steps_are_equal():
    """One matrix product took the means of a line's steps: its last column rounded an ulp above the exact ties
    before it, and coordinate ascent took the last of 10 tied steps where it documents the first (a step 512 times
    larger; NDCG@3 0.338 for 0.363 on MQ2008's held-out fold, from 24 training queries)."""
    from ltr.rankers.linear import MetricTarget

    rng = np.random.default_rng(0)
    for n_queries in (7, 24, 61, 160):
        ptr = np.arange(n_queries + 1) * 3
        target = MetricTarget(rng.normal(size=(ptr[-1], 2)), rng.integers(0, 3, ptr[-1]).astype(float), ptr,
                              "ndcg@3", weight=rng.random(n_queries) + 0.5)
        column = rng.random(n_queries)
        means = target.mean(np.repeat(column[:, None], 25, axis=1))
        assert means.tolist() == [target.mean(column)] * 25


@pytest.mark.parametrize("options", [[], ["--missing", "nan"], ["--sparse"]])
def test_another_set_s_file_is_refused_whatever_the_reader_options(tmp_path, capsys, options):
    """--missing nan (absent cells NaN) and --sparse (no column scanned) passed a 46-feature file read as
    MSLR-WEB10K's 136: trained and saved under MSLR's feature names, exit 0."""
    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    text = write_letor(tmp_path / "mq.txt", make_ranking(10, (4, 4), 46, random_state=0)).read_text()
    plain = tmp_path / "plain.txt"
    plain.write_text("".join(line + "\n" for line in text.splitlines() if not line.startswith("#")))
    for command in (["info"], ["train", "--rounds", "2", "--out", str(tmp_path / "m.txt")]):
        assert main([command[0], str(plain), *command[1:], "--dataset", "mslr-web10k", *options]) == 1
        assert "has no value in features 47..136 of mslr-web10k's 136" in capsys.readouterr().err
    assert not (tmp_path / "m.txt").exists()


def test_a_set_s_own_width_passes_with_nan_and_sparse_reads():
    import scipy.sparse as sp

    from ltr import RankingDataset
    from ltr.registry import empty_last_columns

    X = np.zeros((3, 46))
    X[0, 45] = 0.5
    for data in (X, np.where(X == 0, np.nan, X), sp.csr_matrix(X)):
        d = RankingDataset(data, np.zeros(3), np.zeros(3, dtype=np.int64), np.array([0, 3]))
        assert empty_last_columns("mq2008", d) is None  # its last column holds a value
        assert empty_last_columns("mslr-web10k", d) == 46


def _fit_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(60, 4)), rng.integers(0, 3, 60).astype(float), np.repeat(np.arange(6), 10)


def test_a_model_is_not_saved_under_a_ubj_name(tmp_path):
    """Ranker.save('model.ubj') wrote JSON text that xgb.Booster(model_file=...) reads as binary UBJSON and fails
    on; ltr train --out model.ubj refused the name, the Python API did not."""
    from ltr import Ranker
    from ltr.exceptions import OutputPathError

    X, y, qid = _fit_data()
    model = Ranker(engine="xgboost", n_estimators=2, preset=None).fit(X, y, qid=qid)
    with pytest.raises(OutputPathError, match=r"XGBoost reads a '\.ubj' name as binary UBJSON: name it \.json"):
        model.save(tmp_path / "model.ubj")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, fit, said", [
    ({"engine_params": "max_bin=63"}, {}, "engine_params must be a dict (or None), got str 'max_bin=63'"),
    ({"objective_params": [("sigma", 2.0)]}, {}, "objective_params must be a dict (or None), got list"),
    ({"eval_params": ["gain"]}, {}, "eval_params must be a dict (or None), got list ['gain']"),
    ({}, {"log_period": -1}, "log_period must be an integer >= 0 (0: never), got -1"),
    ({}, {"log_period": "x"}, "log_period must be an integer >= 0 (0: never), got 'x'"),
    ({}, {"feature_names": ["a", "b", "a", "c"]}, "feature_names has 'a' twice: name each feature once"),
    ({}, {"qid": "qid"}, "qid must be one query id per row (an array of 60), got 'qid' (a column's name?"),
    ({}, {"qid": 5}, "qid must be one query id per row (an array of 60), got 5"),
])
def test_a_wrong_call_is_named_by_its_argument(kwargs, fit, said):
    """Each failed in Python's or numpy's words (an IndexError, dict()'s 'update sequence element', an
    AttributeError), log_period=-1 logged every round and duplicate names were taken (trial t57)."""
    from ltr import Ranker

    X, y, qid = _fit_data()
    with pytest.raises((TypeError, ValueError)) as e:
        Ranker(n_estimators=2, preset=None, **kwargs).fit(X, y, **{"qid": qid, **fit})
    assert said in str(e.value)


def test_scorer_arguments_are_checked_when_made(tmp_path):
    from ltr import Ranker, load_model
    from ltr.evaluation import QueryScorer, ndcg_scorer
    from ltr.exceptions import NotAModelError

    assert ndcg_scorer(np.int64(5)).metric == "ndcg@5"  # a grid's numpy integer
    with pytest.raises(ValueError, match=r"gain must be one of \['exp2', 'linear'\], got 'exp3'"):
        QueryScorer("ndcg@10", gain="exp3")
    X, y, qid = _fit_data()
    Ranker(n_estimators=2, preset=None).fit(X, y, qid=qid).save(tmp_path / "m.txt")
    with pytest.raises(NotAModelError, match=r"m\.txt\.meta\.json: is the sidecar of the model .*m\.txt .*: load "):
        load_model(tmp_path / "m.txt.meta.json")
    (tmp_path / "m.txt").unlink()
    with pytest.raises(NotAModelError, match=r"its model, .*m\.txt, is not there"):
        load_model(tmp_path / "m.txt.meta.json")


@pytest.mark.parametrize("label, said", [
    ("0.5", "frac.txt:3: the numba distill kernel's lambdarank term (alpha > 0) needs whole-number labels"),
    ("40", "frac.txt:3: label '40' is above the gain table of the numba distill kernel's lambdarank term")])
def test_distill_s_labels_are_named_by_line_when_it_mixes_in_lambdas(tmp_path, capsys, label, said):
    """distill with alpha > 0 indexes the lambdarank gains by the label: a 0.5 or a 40 was named by a 0-based row in
    Python's words ('pass label_gain='), where the lambdarank kernel names the file's line and token."""
    from ltr.cli import main

    path = tmp_path / "frac.txt"
    path.write_text(f"1 qid:1 1:0.1 2:0.3\n0 qid:1 1:0.2 2:0.1\n{label} qid:1 1:0.3 2:0.2\n")
    argv = ["train", str(path), "--objective", "distill", "--kernel", "numba", "--teacher-column", "2", "--rounds",
            "2", "--out", str(tmp_path / "m.txt")]
    assert main([*argv, "--alpha", "0.5"]) == 1
    assert said in capsys.readouterr().err


def test_a_distillation_flag_wins_over_the_config_s_objective_params(tmp_path, capsys):
    """--config's [objective_params] temperature beside --temperature was refused, blaming an --objective-param the
    command line never had; --help says the command line's flags win, and they do for every other key."""
    import json

    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    data = write_letor(tmp_path / "d.txt", make_ranking(20, 8, 4, random_state=0))
    (tmp_path / "c.toml").write_text("[objective_params]\ntemperature = 4.0\n")
    argv = ["train", str(data), "--objective", "distill", "--kernel", "numba", "--teacher-column", "4", "--rounds",
            "2", "--preset", "none", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "m.txt")]
    assert main([*argv, "--temperature", "1.5"]) == 0
    meta = json.loads((tmp_path / "m.txt.meta.json").read_text())
    assert meta["params"]["objective_params"]["temperature"] == 1.5
    (tmp_path / "c.toml").write_text("temperature = 2.0\n[objective_params]\ntemperature = 4.0\n")
    assert main(argv) == 2
    assert (f"--config {tmp_path / 'c.toml'}: temperature and [objective_params] temperature both set distill's "
            "temperature; give one") in capsys.readouterr().err


def test_a_missing_text_is_named_by_its_document_or_query():
    """A None or NaN text (a DataFrame column with gaps) failed later, in .strip() or the analyzer, naming neither
    the document nor the field."""
    from features.collections import Collection, Queries

    with pytest.raises(TypeError, match=r"field 'title' of document 'd1' is None \(NoneType\), not text: give ''"):
        Collection(("d1", "d2"), {"body": ["a", "b"], "title": [None, "x"]})
    with pytest.raises(TypeError, match=r"field 'body' of document 'd2' is nan \(float\), not text"):
        Collection(("d1", "d2"), {"body": ["wing", float("nan")]})
    with pytest.raises(TypeError, match=r"the text of query 'q2' is nan \(float\), not text"):
        Queries(("q1", "q2"), ("wing", float("nan")))
    import pandas as pd  # a filtered frame's column: its values by place, not by its index's labels

    body = pd.Series(["x", "y", None], index=[5, 0, 1], dtype=object)
    with pytest.raises(TypeError, match=r"field 'body' of document 'c' is None \(NoneType\)"):
        Collection(("a", "b", "c"), {"body": body})


def test_stopwords_no_token_can_equal_are_warned_of(tmp_path, caplog):
    """Snowball's English list (Lucene's, Solr's) holds 50 contractions that this tokeniser splits at the
    apostrophe: they stopped nothing and their parts were indexed, without a word."""
    import pickle

    path = tmp_path / "english_stop.txt"
    path.write_text("the           | article\ndon't\nisn't\n")
    a = Analyzer(stopwords=path, stemmer=None)
    assert [r.getMessage() for r in caplog.records] == [
        "stopwords: 2 of the 3 words can never match, as the analyzer splits them into other tokens (\"don't\" -> "
        "['don', 't'], \"isn't\" -> ['isn', 't']); their parts are not stopped (list the parts themselves to stop "
        "them)"]
    caplog.clear()  # said once: not again for the saved settings, a pickle or a list it can match
    Analyzer.from_dict(a.to_dict())
    pickle.loads(pickle.dumps(a))
    Analyzer(stopwords=["the", "a"])
    Analyzer.terrier()
    assert caplog.records == []


_ENTRY = """name = "{name}"
kind = "letor"
title = "toy"
[layout]
folds = 1
fold_dir = "{fold_dir}"
train = ["train.txt"]
[format]
{format}
"""


@pytest.mark.parametrize("fold_dir, fmt, said", [
    ("F{k}", "n_features = 3", "[layout] fold_dir must be a folder name whose one placeholder is {fold} (Fold{fold}), "
                               "got 'F{k}'"),
    ("F{fold}", 'n_features = 3\noverflow = "clamp"',
     "[format] overflow must be one of ['error', 'clip'], got 'clamp'"),
    ("F{fold}", 'n_features = 3\nsparse = "no"', "[format] sparse must be true or false, got 'no'"),
    ("F{fold}", "n_features = true", "[format] n_features must be a positive integer, got True"),
    ("F{fold}", 'n_features = 3\nencoding = "nosuch"', "[format] encoding: unknown encoding 'nosuch'"),
    ("F{fold}", "n_features = 3\nzero_based = true", "[format] has unknown key(s) ['zero_based']; known keys: "),
])
def test_a_user_registry_entry_s_bad_value_is_named_with_its_file(tmp_path, monkeypatch, fold_dir, fmt, said):
    """Each passed the entry's checks and failed later: a bare KeyError 'k', 'overflow must be one of' as if the
    user had passed --overflow, 'no' read as sparse, true as 1 column, an unknown key ignored (trial t57)."""
    from ltr.registry import DatasetLayoutError, get_entry

    (tmp_path / "toy.toml").write_text(_ENTRY.format(name="toy", fold_dir=fold_dir, format=fmt))
    monkeypatch.setenv("LTRKIT_DATA_REGISTRY", str(tmp_path))
    with pytest.raises(DatasetLayoutError) as e:
        get_entry("toy")
    assert str(e.value).startswith(f"{tmp_path / 'toy.toml'}: {said}")


def test_two_user_registry_files_of_one_name_are_refused(tmp_path, monkeypatch):
    from ltr.registry import DatasetLayoutError, get_entry

    for file in ("toy.toml", "toy_v2.toml"):
        (tmp_path / file).write_text(_ENTRY.format(name="toy", fold_dir="F{fold}", format="n_features = 3"))
    monkeypatch.setenv("LTRKIT_DATA_REGISTRY", str(tmp_path))
    with pytest.raises(DatasetLayoutError, match=r"toy_v2\.toml: data set 'toy' is also .*toy\.toml's; give each "):
        get_entry("toy")
    (tmp_path / "toy_v2.toml").unlink()
    assert get_entry("toy").origin == str(tmp_path / "toy.toml")
    # the same folder named twice (a shell rc file appending it again) is read once (a review of the check)
    monkeypatch.setenv("LTRKIT_DATA_REGISTRY", f"{tmp_path}:{tmp_path}/")
    assert get_entry("toy").origin == str(tmp_path / "toy.toml") and get_entry("mq2008").name == "mq2008"


class _ArrowLike:
    """A data frame of another library, as pyarrow's Table shows itself: named columns and to_pandas()."""

    def __init__(self, frame):
        self._frame = frame
        self.column_names = list(frame.columns)

    def to_pandas(self):
        return self._frame.copy()

    def __array__(self, dtype=None, copy=None):
        return self._frame.to_numpy(dtype=dtype)


def test_another_library_s_frame_keeps_its_column_names():
    """A pyarrow Table's names were dropped (scikit-learn reads them), and a DataFrame-trained model scored a Table
    of swapped columns by position (off by up to 2.68) under a false 'X does not have valid feature names'."""
    import pandas as pd

    from ltr import Ranker

    X, y, qid = _fit_data()
    df = pd.DataFrame(X, columns=["bm25", "tfidf", "lm", "pagerank"])
    model = Ranker(n_estimators=3, preset=None, min_child_samples=2).fit(_ArrowLike(df), y, qid=qid)
    assert list(model.feature_names_in_) == ["bm25", "tfidf", "lm", "pagerank"]
    assert np.array_equal(model.predict(_ArrowLike(df)), model.predict(df))
    with pytest.raises(ValueError, match="X's columns are the model's features in another order"):
        model.predict(_ArrowLike(df[["tfidf", "bm25", "lm", "pagerank"]]))


def test_a_trec_headline_tag_with_attributes_is_the_title(tmp_path):
    """<TITLE lang="en"> was read as body text (title ''), where <DOC ...> and a web page's <title ...> take
    attributes."""
    from features.collections.trec import read_trec_documents

    path = tmp_path / "docs.trec"
    path.write_text('<DOC>\n<DOCNO>d1</DOCNO>\n<TITLE lang="en">Attr title</TITLE>\n<TEXT>two</TEXT>\n</DOC>\n'
                    "<DOC>\n<DOCNO>d2</DOCNO>\n<HEADLINE>Plain</HEADLINE>\nbody\n</DOC>\n")
    c = read_trec_documents(path)
    assert c.fields["title"] == ["Attr title", "Plain"]
    assert "Attr" not in c.fields["body"][0]


def test_retrieval_s_output_is_as_wide_as_the_most_a_query_can_hit():
    """The output took n_queries x k whatever the hits: 1 GiB for 12,088 rows at a depth of 60,000."""
    from features import Analyzer, BM25Retriever, InvertedIndex
    from features.collections import Collection

    docs = [f"w{i} filler{i % 7}" for i in range(2000)] + ["rare word"] * 3
    ix = InvertedIndex.build(Collection(tuple(f"d{i}" for i in range(len(docs))), {"body": docs}),
                             Analyzer(stopwords=None, stemmer=None))
    r = BM25Retriever(ix, field="body")
    got, scores, n = r.retrieve([ix.query_terms("rare"), ix.query_terms("w5 word")], k=len(docs))
    assert got.shape == (2, 4) and n.tolist() == [3, 4]  # 'w5 word': postings of 1 + 3 documents
    run = r.search({"q1": "rare", "q2": "w5 word"}, k=len(docs))
    assert run.groupby("qid").size().to_dict() == {"q1": 3, "q2": 4}


def test_a_cv_result_says_where_each_fold_trained():
    """ltr cv --device gpu-or-cpu --format json recorded the device asked for, not that the folds trained on the CPU
    (ltr train's JSON says "device": "cpu" for the same case)."""
    import warnings

    from ltr import Ranker, make_ranking
    from ltr.evaluation import cross_validate
    from ltr.evaluation.results import cv_result_from_dict

    data = make_ranking(12, 6, 4, random_state=0)
    params = dict(n_estimators=2, preset=None, min_child_samples=2, device="gpu-or-cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (no GPU here: the fallback's warning)
        where = Ranker(**params).fit(data).device_
        result = cross_validate(Ranker(**params), data, n_splits=2, progress=False)
    assert where in ("cpu", "gpu") and [f.device for f in result.folds] == [where, where]
    assert result.params["device"] == "gpu-or-cpu"
    assert [f.device for f in cv_result_from_dict(result.to_dict()).folds] == [where, where]


def test_margin_pairs_without_a_margin_term_is_noted(tmp_path, capsys):
    """--objective-param margin_pairs=labels without --margin-weight was taken and did nothing, without a word."""
    from ltr import make_ranking
    from ltr.cli import main
    from ltr.io import write_letor

    data = write_letor(tmp_path / "d.txt", make_ranking(20, 8, 4, random_state=0))
    argv = ["train", str(data), "--objective", "distill", "--kernel", "numba", "--teacher-column", "4", "--rounds",
            "2", "--preset", "none", "--objective-param", "margin_pairs=labels", "--out", str(tmp_path / "m.txt")]
    said = "note: margin_pairs=labels changes nothing without a Margin-MSE term: add --margin-weight W (W > 0)"
    assert main(argv) == 0 and said in capsys.readouterr().err
    assert main([*argv, "--margin-weight", "0.5"]) == 0 and said not in capsys.readouterr().err
