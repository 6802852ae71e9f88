"""Trial t66 fixes: the linear ranker and tune (linear-tune findings 1, 2, 4) and the collection readers (features
findings 2, 4, 5)."""

from __future__ import annotations

import dataclasses
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from features.collections import (
    load_documents,
    load_queries,
    read_beir_queries,
    read_trec_documents,
    read_trec_topics,
    read_tsv_documents,
)
from features.errors import CollectionFormatError
from ltr import Ranker, make_ranking
from ltr.cli import main
from ltr.io import write_letor
from ltr.rankers.linear import DEFAULTS, ConstantMetricWarning
from ltr.rankers.normalize import GlobalNormalizer, QueryNormalizer, make_normalizer
from ltr.tuning import load_space


# -- linear-tune 1: nothing to learn is said --------------------------------------------------------------------------
def _no_relevant(n_queries: int = 6):
    data = make_ranking(n_queries, 5, 3, random_state=0)
    return data.X, np.zeros(data.y.size), data.group_sizes


def _dataset(n_queries: int = 6):
    data = make_ranking(n_queries, 5, 3, random_state=0)
    return dataclasses.replace(data, y=np.zeros(data.y.size))


def test_training_on_queries_without_a_relevant_document_warns_and_keeps_the_uniform_start():
    X, y, group = _no_relevant()
    with pytest.warns(ConstantMetricWarning, match=r"no training query has a relevant document \(a label above 0, "
                                                   r"as ndcg@10 counts one\), so ndcg@10 is 0 for every weight"):
        model = Ranker(engine="linear").fit(X, y, group=group)
    history = model.booster_.training["history"]
    assert all(trail == [0.0, 0.0] for trail in history)  # one pass per restart, never a step


def test_a_binary_metric_counts_relevance_from_label_one():
    X, y, group = _no_relevant()
    y[::4] = 0.5  # a gain for NDCG, not relevant for MAP
    with pytest.warns(ConstantMetricWarning, match=r"a label of 1 or more, as map counts one\), so map is 0"):
        Ranker(engine="linear", objective="map").fit(X, y, group=group)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConstantMetricWarning)
        Ranker(engine="linear", objective="ndcg@10").fit(X, y, group=group)


def test_queries_each_of_one_grade_warn_that_the_metric_is_the_same_for_every_weight():
    X, y, group = _no_relevant()
    with pytest.warns(ConstantMetricWarning, match="no training query has documents of two relevance grades"):
        Ranker(engine="linear").fit(X, y + 2.0, group=group)


def test_one_query_of_two_grades_is_enough_for_no_warning():
    X, y, group = _no_relevant()
    y[1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConstantMetricWarning)
        Ranker(engine="linear", engine_params={"n_restarts": 1}).fit(X, y, group=group)


def test_ltr_train_and_ltr_tune_say_the_warning_on_stderr(tmp_path, capsys):
    path = tmp_path / "norel.txt"
    write_letor(path, _dataset(8))
    assert main(["train", str(path), "--engine", "linear", "--out", str(tmp_path / "m.json")]) == 0
    said = "warning: no training query has a relevant document (a label above 0, as ndcg@10 counts one)"
    assert f"ltr train: {said}" in capsys.readouterr().err
    assert main(["tune", str(path), "--engine", "linear", "--trials", "1", "--outer-folds", "2", "--inner-folds",
                 "2", "--quiet"]) == 0
    assert f"ltr tune: {said}" in capsys.readouterr().err


# -- linear-tune 2: the space's listing names only what a space may search --------------------------------------------
def test_every_setting_the_linear_space_lists_as_searchable_loads_in_a_space(capsys):
    assert main(["tune", "--engine", "linear", "--show-space"]) == 0
    listed = re.search(r"\[engine_params\.NAME\] \(([^;)]*)", capsys.readouterr().out.replace("\n# ", " "))
    names = [n.strip() for n in listed.group(1).split(",")]
    assert "gain" not in names and "n_restarts" in names
    for name in names:
        load_space({f"engine_params.{name}": {"choices": [DEFAULTS[name]]}}, Ranker(engine="linear"))
    with pytest.raises(ValueError, match="the linear ranker's gain is the tuned metric's own"):
        load_space({"engine_params.gain": {"choices": ["exp2", "linear"]}}, Ranker(engine="linear"))


# -- linear-tune 4: the documented alias -------------------------------------------------------------------------------
def test_query_normalizer_takes_linear_as_minmax_as_its_docstring_says():
    X = np.array([[5.0], [6.0], [10.0]])
    assert QueryNormalizer("linear") == QueryNormalizer("minmax") == make_normalizer("linear")
    assert QueryNormalizer("linear").transform(X, group_ptr=[0, 3]).ravel().tolist() == [0.0, 0.20000000298023224, 1.0]
    assert GlobalNormalizer("linear") == GlobalNormalizer("minmax") == make_normalizer("global-linear")
    with pytest.raises(ValueError, match=r"unknown query normalisation 'lin'; choose one of \['zscore', 'minmax', "
                                         r"'sum'\] \('linear' is 'minmax'\)"):
        QueryNormalizer("lin")


# -- features 2: TSV that pandas quoted -------------------------------------------------------------------------------
def test_a_tsv_pandas_wrote_with_quoted_fields_reads_as_pandas_reads_it(tmp_path):
    frame = pd.DataFrame({"id": ["d1", "d2", "d3", "d4"], "title": ["T1", 'say "hi"', "", "t4"],
                          "text": ["plain text", 'he said "hello" there', "line one\nline two", "tab\tinside"]})
    path = tmp_path / "p.tsv"
    frame.to_csv(path, sep="\t", index=False)
    c = load_documents(path)
    assert c.doc_ids == ("d1", "d2", "d3", "d4")
    assert c.fields == {"title": ["T1", 'say "hi"', "", "t4"],
                        "body": ["plain text", 'he said "hello" there', "line one\nline two", "tab\tinside"]}
    queries = tmp_path / "q.tsv"
    pd.DataFrame({"qid": ["1"], "query": ['"quoted" wing']}).to_csv(queries, sep="\t", index=False)
    assert load_queries(queries).texts == ('"quoted" wing',)


def test_a_tsv_whose_texts_merely_start_with_a_quote_reads_as_before(tmp_path):
    marco = tmp_path / "collection.tsv"  # MS MARCO: no header, texts that start with a quote
    marco.write_text('0\t"The" presence of communication\n1\t"a\tb"\n2\tplain\n')
    assert read_tsv_documents(marco).fields["body"] == ['"The" presence of communication', '"a\tb"', "plain"]
    headed = tmp_path / "h.tsv"  # a header, but quotes no csv writer writes: text
    headed.write_text('id\ttitle\ttext\nd1\t"Dune"\ta novel\nd2\t"a ""b"""\tsaid "x"\n')
    assert read_tsv_documents(headed).fields["title"] == ['"Dune"', '"a ""b"""']


def test_a_quoted_tsv_without_a_header_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text('d1\tT1\tplain text\nd3\t\t"line one\nline two"\n')
    with pytest.raises(CollectionFormatError, match=r"p.tsv:3: no tab on the line, .*; a \"quoted\" field spanning "
                                                    r"lines\? quotes in a TSV are read only in a file a csv writer "
                                                    r"wrote whole .* write it with commas"):
        read_tsv_documents(path)


# -- features 4: TREC markup messages ---------------------------------------------------------------------------------
def test_an_empty_docno_is_said_as_such(tmp_path):
    path = tmp_path / "e.trec"
    path.write_text("<DOC>\n<DOCNO>d1</DOCNO>\n</DOC>\n<DOC>\n<DOCNO></DOCNO>\n<TEXT>beta</TEXT>\n</DOC>\n")
    with pytest.raises(CollectionFormatError) as e:
        read_trec_documents(path)
    assert str(e.value) == (f"{path}:5: empty <DOCNO>, and no id attribute on the <DOC>: the document has no id "
                            "(token '<DOCNO></DOCNO>')")
    path.write_text('<DOC id="d2">\n<DOCNO> </DOCNO>\nbeta\n</DOC>\n')  # the <DOC>'s id, as without a <DOCNO>
    assert read_trec_documents(path).doc_ids == ("d2",)


def test_a_docno_with_attributes_is_the_id(tmp_path):
    path = tmp_path / "e.trec"
    path.write_text('<DOC>\n<DOCNO>d1</DOCNO>\n</DOC>\n<DOC>\n<DOCNO type="x">d2</DOCNO>\n<TEXT>beta</TEXT>\n</DOC>\n')
    c = read_trec_documents(path)
    assert c.doc_ids == ("d1", "d2") and c.fields["body"] == ["", "beta"]


def test_a_doc_tag_inside_a_comment_opens_no_record(tmp_path):
    path = tmp_path / "e.trec"
    path.write_text("<DOC>\n<DOCNO>d1</DOCNO>\n<TEXT>alpha <!-- old <DOC> marker --> omega</TEXT>\n</DOC>\n"
                    "<DOC>\n<DOCNO>d2</DOCNO>\n<TEXT>beta</TEXT>\n</DOC>\n")
    c = read_trec_documents(path)
    assert c.doc_ids == ("d1", "d2") and c.fields["body"] == ["alpha omega", "beta"]
    path.write_text("<DOC>\n<DOCNO>d1</DOCNO>\n<!-- <DOC> -->\n</DOC>\n<DOC>\n<DOCNO>d2</DOCNO>\n")  # still unclosed
    with pytest.raises(CollectionFormatError, match=r"e.trec:5: 2 <DOC> tags but 1 complete records: a </DOC> is "
                                                    r"missing \(this <DOC> is not closed before the end of the file\)"):
        read_trec_documents(path)


# -- features 5: a str of topic fields is one field -------------------------------------------------------------------
def test_topic_fields_given_as_a_str_is_one_field(tmp_path):
    topics = tmp_path / "t.topics"
    topics.write_text("<top>\n<num> Number: 051\n<title> Topic: Airbus Subsidies\n<desc> Description:\nAid to "
                      "Airbus.\n</top>\n")
    assert load_queries(topics, topic_fields="title").texts == ("Airbus Subsidies",)
    assert read_trec_topics(topics, fields="desc").texts == ("Aid to Airbus.",)
    jsonl = tmp_path / "topics.jsonl"
    jsonl.write_text(json.dumps({"query_id": "1", "title": "cat", "description": "dog barks"}) + "\n")
    assert load_queries(jsonl, topic_fields="desc").texts == ("dog barks",)
    assert read_beir_queries(jsonl, fields="title").texts == ("cat",)
    with pytest.raises(ValueError, match="topic fields must be one or more of title, desc, narr, got 'titles'"):
        load_queries(topics, topic_fields="titles")
