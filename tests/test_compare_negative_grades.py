"""ltr compare on qrels with negative grades (the TREC Web track's -2 for spam): counted as ltr evaluate and
trec_eval count them, judged non-relevant with no gain (it refused them unless --labels declared the scale, where
ltr evaluate and ltr fuse --fit-weights took them, in an error that named neither the file nor the line); a
declared --labels scale still refuses a grade outside it, naming the file, the line and the token."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr._shared import import_reference
from ltr.cli import main
from ltr.evaluation import compare_runs
from ltr.exceptions import ComparisonDataError
from ltr.io import read_qrels, read_run
from ltr.metrics import evaluate_run_per_query

pytrec_eval = import_reference("pytrec_eval")

#: ltrkit's name -> trec_eval's, for the measures a negative grade changes: gain (NDCG), relevance (MAP, P, RR) and
#: bpref, which takes a negative grade for unjudged, not for judged non-relevant.
TREC_NAMES = {"map": "map", "ndcg@10": "ndcg_cut_10", "p@5": "P_5", "mrr": "recip_rank", "bpref": "bpref"}

#: The tester's qrels (queries 1 and 2) and a third query whose spam document and -1 are ranked first by r2.
QRELS = ("1 0 a 1\n1 0 b -2\n1 0 c 0\n2 0 a 0\n2 0 b 2\n2 0 c -2\n"
         "3 0 a 2\n3 0 s -2\n3 0 u -1\n3 0 n 0\n3 0 m 1\n")
RUNS = {
    "r1": "1 Q0 a 1 3 r1\n1 Q0 b 2 2 r1\n1 Q0 c 3 1 r1\n2 Q0 a 1 3 r1\n2 Q0 b 2 2 r1\n2 Q0 c 3 1 r1\n"
          "3 Q0 a 1 5 r1\n3 Q0 n 2 4 r1\n3 Q0 s 3 3 r1\n3 Q0 x 4 2 r1\n",
    "r2": "1 Q0 b 1 3 r2\n1 Q0 a 2 2 r2\n1 Q0 c 3 1 r2\n2 Q0 b 1 3 r2\n2 Q0 c 2 2 r2\n2 Q0 a 3 1 r2\n"
          "3 Q0 s 1 5 r2\n3 Q0 u 2 4 r2\n3 Q0 m 3 3 r2\n3 Q0 a 4 2 r2\n",
}


@pytest.fixture
def web(tmp_path):
    qrels = tmp_path / "web.qrels"
    qrels.write_text(QRELS)
    runs = {}
    for name, text in RUNS.items():
        runs[name] = tmp_path / f"{name}.run"
        runs[name].write_text(text)
    return qrels, runs


def _trec_eval(qrels_path, run_path) -> dict[str, dict[str, float]]:
    """pytrec_eval's per-query values on the files as given (negative grades included)."""
    q: dict = {}
    for line in qrels_path.read_text().splitlines():
        qid, _, doc, rel = line.split()
        q.setdefault(qid, {})[doc] = int(rel)
    r: dict = {}
    for line in run_path.read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        r.setdefault(qid, {})[doc] = float(score)
    return pytrec_eval.RelevanceEvaluator(q, set(TREC_NAMES.values())).evaluate(r)


def test_ltr_compare_counts_negative_grades_as_ltr_evaluate_and_trec_eval_do(web, capsys):
    qrels, runs = web
    metrics = ",".join(TREC_NAMES)
    code = main(["compare", str(runs["r1"]), str(runs["r2"]), "--qrels", str(qrels), "--metrics", metrics,
                 "--tests", "t", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["qids"] == ["1", "2", "3"]
    for system in result["systems"]:
        name = system["name"]
        ref = _trec_eval(qrels, runs[name])
        assert main(["evaluate", "--qrels", str(qrels), "--run", str(runs[name]), "--metrics", metrics, "-q",
                     "--format", "trec"]) == 0
        evaluated = {}  # ltr evaluate's per-query lines: measure, query, value
        for line in capsys.readouterr().out.splitlines():
            measure, qid, value = line.split()
            evaluated[measure, qid] = float(value)
        for ours, trec in TREC_NAMES.items():
            got = system["per_query"][ours]
            want = [ref[q][trec] for q in result["qids"]]
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=f"{name} {ours}")
            shown = [evaluated[trec, q] for q in result["qids"]]  # printed to 4 decimals, as trec_eval prints
            np.testing.assert_allclose(got, shown, rtol=0, atol=5e-5, err_msg=f"{name} {ours} (ltr evaluate)")
    # the spam document r2 ranks first in query 3 is no relevant document: its reciprocal rank is that of 'm', 1/3
    r2 = next(s for s in result["systems"] if s["name"] == "r2")
    assert r2["per_query"]["mrr"][2] == pytest.approx(1 / 3)


def test_the_testers_reproduction_now_compares(tmp_path, capsys):
    qrels = tmp_path / "web.qrels"
    qrels.write_text("1 0 a 1\n1 0 b -2\n1 0 c 0\n2 0 a 0\n2 0 b 2\n2 0 c -2\n")
    (tmp_path / "r1.run").write_text("1 Q0 a 1 3 r1\n1 Q0 b 2 2 r1\n1 Q0 c 3 1 r1\n2 Q0 a 1 3 r1\n2 Q0 b 2 2 r1\n"
                                     "2 Q0 c 3 1 r1\n")
    (tmp_path / "r2.run").write_text("1 Q0 b 1 3 r2\n1 Q0 a 2 2 r2\n1 Q0 c 3 1 r2\n2 Q0 b 1 3 r2\n2 Q0 c 2 2 r2\n"
                                     "2 Q0 a 3 1 r2\n")
    argv = ["compare", str(tmp_path / "r1.run"), str(tmp_path / "r2.run"), "--qrels", str(qrels), "--format", "json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    means = {s["name"]: s["mean"] for s in result["systems"]}
    # ltr evaluate --metrics map,ndcg_cut_10 on r1: MAP (1 + 1/2) / 2, NDCG@10 (1 + 1/log2(3)) / 2
    assert means["r1"]["map"] == pytest.approx(0.75)
    assert means["r1"]["ndcg@10"] == pytest.approx((1 + 1 / np.log2(3)) / 2)
    # declaring the scale changes nothing but what is refused
    assert main([*argv, "--labels", "-2,0,1,2"]) == 0
    declared = json.loads(capsys.readouterr().out)
    result.pop("created"), declared.pop("created")  # a time stamp
    assert declared["systems"] == result["systems"]


def test_compare_runs_in_python_takes_negative_grades_as_evaluate_run_does(web):
    qrels, runs = web
    c = compare_runs({n: str(p) for n, p in runs.items()}, str(qrels), metrics=list(TREC_NAMES), tests=["t"])
    for name, path in runs.items():
        ref = evaluate_run_per_query(read_qrels(qrels), read_run(path), list(TREC_NAMES))
        for m in TREC_NAMES:
            np.testing.assert_allclose(c.per_query[name][m], ref.loc[c.qids, m].to_numpy(), rtol=0, atol=0)


def test_a_declared_scale_refuses_a_grade_outside_it_naming_the_file_line_and_token(web, capsys):
    qrels, runs = web
    argv = ["compare", str(runs["r1"]), str(runs["r2"]), "--qrels", str(qrels)]
    assert main([*argv, "--labels", "0,1,2"]) == 1
    assert capsys.readouterr().err == (
        f"ltr compare: error: {qrels}:2: grades outside the declared scale [0, 1, 2]: -2 (3 judgments), -1 (1 "
        "judgment); the first at query '1', document 'b' (token '-2'); add them to --labels, or leave --labels out "
        "to take every integer grade as trec_eval does (a negative one is non-relevant)\n")
    with pytest.raises(ComparisonDataError) as e:
        compare_runs({n: str(p) for n, p in runs.items()}, str(qrels), labels=[-2, 0, 1, 2])
    assert str(e.value) == (
        f"{qrels}:9: grades outside the declared scale [-2, 0, 1, 2]: -1 (1 judgment); the first at query '3', "
        "document 'u' (token '-1'); add them to labels=, or pass labels=None to take every integer grade as trec_eval "
        "does (a negative one is non-relevant)")


def test_a_declared_scale_names_the_file_without_a_line_in_a_layout_of_other_columns(web, tmp_path):
    """In a 3-column file the third field is the grade, not the document: no line is guessed from it."""
    _, runs = web
    qdr = tmp_path / "web.qdr"
    qdr.write_text("".join(f"{q} {d} {r}\n" for q, _, d, r in (line.split() for line in QRELS.splitlines())))
    with pytest.raises(ComparisonDataError, match=rf"^{qdr}: grades outside the declared scale \[0, 1, 2\]: -2 \(3 "
                                                  r"judgments\), -1 \(1 judgment\); the first at query '1', "
                                                  r"document 'b' \(token '-2'\)"):
        compare_runs({n: str(p) for n, p in runs.items()}, str(qdr), labels=[0, 1, 2])
    frame = read_qrels(qdr).copy()
    frame.attrs.clear()  # a frame built in memory: named as qrels
    with pytest.raises(ComparisonDataError, match=r"^qrels: grades outside the declared scale"):
        compare_runs({n: str(p) for n, p in runs.items()}, frame, labels=[0, 1, 2])
