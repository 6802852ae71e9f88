"""Trial 34: fusion refuses an empty run and a run sharing no query with the others; the randomisation test runs
in batches with the p-value unchanged; fusion ranks scores as float32, as ltr evaluate does."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

from ltr.cli import main
from ltr.fusion import fuse, normalize_run
from ltr.io import read_run

_LINES = "1 Q0 d1 1 3.0 a\n1 Q0 d2 2 2.0 a\n2 Q0 d3 1 1.0 a\n"


@pytest.fixture
def runs(tmp_path):
    a, empty, renumbered = tmp_path / "A.run", tmp_path / "empty.run", tmp_path / "B.run"
    a.write_text(_LINES)
    empty.write_text("")
    renumbered.write_text("".join("Q" + line + "\n" for line in _LINES.splitlines()))  # '1' -> 'Q1'
    return a, empty, renumbered


def test_an_empty_run_file_is_refused_naming_it(runs, tmp_path):
    a, empty, _ = runs
    with pytest.raises(ValueError, match=r"empty\.run: the run file has no lines"):
        fuse([str(a), str(empty)])
    blank = tmp_path / "blank.run"
    blank.write_text("# a comment\n\n")
    with pytest.raises(ValueError, match=r"blank\.run: the run file has no lines"):
        fuse([str(blank), str(a)])
    with pytest.raises(ValueError, match="run 2: the run has no rows"):
        fuse([read_run(a), read_run(a).iloc[:0]])


def test_a_run_sharing_no_query_with_the_others_is_refused_naming_it_and_the_counts(runs):
    a, _, renumbered = runs
    with pytest.raises(ValueError, match=r"B\.run: none of its 2 queries is in the other runs' 2 "
                                         r"\(query ids such as 'Q1' and '1'\?\)"):
        fuse([str(a), str(renumbered)])
    with pytest.raises(ValueError, match=r"B\.run: none of its 2 queries"):  # one of three, wherever it stands
        fuse([str(renumbered), str(a), str(a)], method="combsum")
    # a partial overlap is fused as before: each query from the runs that have it
    one_query = pd.DataFrame({"qid": ["1"], "docno": ["d9"], "score": [1.0]})
    fused = fuse([str(a), one_query])
    assert sorted(set(fused["qid"])) == ["1", "2"]
    assert "d9" in set(fused["docno"])


@pytest.mark.parametrize("which", ["empty", "renumbered"])
def test_ltr_fuse_refuses_them_in_one_line_and_writes_nothing(runs, tmp_path, capsys, which):
    a, empty, renumbered = runs
    other = empty if which == "empty" else renumbered
    out = tmp_path / "x.run"
    assert main(["fuse", str(a), str(other), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert other.name in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_randomization_test_runs_in_batches_with_the_unbatched_p_value(monkeypatch):
    from scipy import stats

    from ltr.evaluation.significance import _abs_mean, randomization_test

    rng = np.random.default_rng(34)
    a, b = rng.random(225), rng.random(225)
    d = a - b
    real, seen = stats.permutation_test, []

    def recording(*args, **kwargs):
        seen.append(kwargs.get("batch"))
        return real(*args, **kwargs)

    monkeypatch.setattr(stats, "permutation_test", recording)
    got = randomization_test(a, b, n_permutations=20_000, seed=3).pvalue
    # memory bounded: a batch of at most a few million differences, so 20,000 x 225 takes several batches
    assert seen[0] is not None and seen[0] * d.size <= 4_000_000 and seen[0] < 20_000
    key = "rng" if "rng" in inspect.signature(real).parameters else "random_state"
    ref = real((d, np.zeros_like(d)), lambda x, y, axis: _abs_mean(x - y, axis=axis), permutation_type="samples",
               vectorized=True, n_resamples=20_000, alternative="greater", **{key: np.random.default_rng(3)})
    assert got == ref.pvalue


def test_fusion_ranks_scores_as_float32_as_evaluate_does():
    from ltr.metrics import evaluate_run

    # 1.00000002 and 1.00000001 are one float32: tied for trec_eval and ltr evaluate, so docno descending puts b first
    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [1.00000002, 1.00000001]})
    qrels = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "rel": [0, 1]})
    assert float(evaluate_run(qrels, run, ["p@1"])["p@1"]) == 1.0  # evaluate ranks b first
    assert normalize_run(run, "rank")["docno"].tolist() == ["b", "a"]
    fused = fuse([run, run])  # rrf: b 2/61, a 2/62
    assert fused["docno"].tolist() == ["b", "a"] and fused["score"].iat[0] == 2 / 61


def test_the_fused_run_is_ordered_by_its_float64_scores_as_it_is_written():
    run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [1.00000002, 1.00000001]})
    fused = fuse([run, run], method="combsum", norm="none")  # 2.00000004 and 2.00000002: a first, rank 1
    assert fused["docno"].tolist() == ["a", "b"] and fused["rank"].tolist() == [1, 2]
    assert fused["score"].is_monotonic_decreasing


def test_ltr_compare_reads_runs_from_pipes(tmp_path, capsys):
    import os
    import threading

    qrels = tmp_path / "q.qrels"
    qrels.write_text("1 0 d1 1\n2 0 d3 1\n")
    texts = [_LINES, _LINES.replace("d1 1 3.0", "d1 2 2.0").replace("d2 2 2.0", "d2 1 3.0")]  # b: d2 above d1
    fifos = [tmp_path / "a.fifo", tmp_path / "b.fifo"]
    writers = []
    for f, text in zip(fifos, texts):  # as bash's <(cat r.run): a pipe, read once
        os.mkfifo(f)
        writers.append(threading.Thread(target=lambda f=f, text=text: f.write_text(text), daemon=True))
        writers[-1].start()
    argv = ["--qrels", str(qrels), "--metrics", "map", "--tests", "t", "--format", "json"]
    code = main(["compare", str(fifos[0]), str(fifos[1]), *argv])
    assert code == 0, capsys.readouterr().err
    for w in writers:
        w.join(5)
    piped = json.loads(capsys.readouterr().out)
    plain = [tmp_path / "plain" / f.name for f in fifos]  # the same names: the same system names
    plain[0].parent.mkdir()
    for f, text in zip(plain, texts):
        f.write_text(text)
    assert main(["compare", str(plain[0]), str(plain[1]), *argv]) == 0
    from_files = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in piped.items() if k != "created"} == {k: v for k, v in from_files.items()
                                                                   if k != "created"}
    # by hand: AP of a is 1 and 1; b ranks d2 above d1 in query 1: AP 1/2 there
    assert [(s["name"], s["mean"]["map"], s["per_query"]["map"]) for s in piped["systems"]] == [
        ("a.fifo", 1.0, [1.0, 1.0]), ("b.fifo", 0.75, [0.5, 1.0])]
