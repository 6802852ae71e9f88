"""Trial t69's findings: ``--convention lightgbm --no-relevant 0`` was replaced by LightGBM's 1 without a word
(0.5 was refused). LightGBM's own numbers under the preset: tests/test_cli_convention.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ltr import make_ranking
from ltr.cli import main
from ltr.io import write_letor


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    f = tmp_path_factory.mktemp("trial69")
    data = make_ranking(40, 10, 4, random_state=0)
    y = np.array(data.y)
    y[data.group_ptr[0]:data.group_ptr[1]] = 0  # a query without a relevant document
    data = replace(data, y=y)
    assert any(not (data.y[a:b] > 0).any() for a, b in zip(data.group_ptr[:-1], data.group_ptr[1:]))
    write_letor(f / "d.txt", data)
    np.savetxt(f / "d.scores", np.random.default_rng(0).standard_normal(data.n_rows))
    return f


@pytest.mark.parametrize("command", [["evaluate", "{d}", "--scores", "{s}", "--metrics", "map@10"],
                                     ["cv", "{d}", "--folds", "2", "--rounds", "2"]])
def test_a_given_no_relevant_score_the_convention_replaces_is_refused(scored, capsys, command):
    argv = [a.format(d=scored / "d.txt", s=scored / "d.scores") for a in command]
    assert main([*argv, "--convention", "lightgbm", "--no-relevant", "0"]) == 2
    err = capsys.readouterr().err
    assert err.endswith("error: --convention lightgbm fixes --no-relevant 1 (LightGBM's ndcg and map score a query "
                        "without relevant documents 1); got --no-relevant 0: drop one of the two\n")
    assert len(err.splitlines()) == 1


def test_the_conventions_own_no_relevant_score_given_or_not_is_the_same_mean(scored, capsys):
    means = []
    for extra in ([], ["--no-relevant", "1"]):
        assert main(["evaluate", str(scored / "d.txt"), "--scores", str(scored / "d.scores"), "--metrics", "map@10",
                     "--format", "csv", "--convention", "lightgbm", *extra]) == 0
        means.append(capsys.readouterr().out.strip().splitlines()[-1])
    assert means[0] == means[1] and means[0].startswith("map@10,")
