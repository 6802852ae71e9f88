"""Stop 66: what the trials and the previous stop's review left (each test fails without its fix)."""

from __future__ import annotations

import pytest

from ltr.cli import main
from ltr.metrics.registry import parse_metric


# -- a cutoff that is a number but not an integer after trec_eval's '_' or '.' (stop 65's review) -----------------
@pytest.mark.parametrize("name, got", [("P_5.5", "'5.5'"), ("ndcg_cut.1e3", "'1e3'"), ("ndcg_cut_10.5", "'10.5'"),
                                       ("P_.5", "'.5'")])
def test_a_fractional_trec_cutoff_is_a_bad_cutoff_not_an_unknown_metric(name, got):
    with pytest.raises(ValueError) as caught:
        parse_metric(name)
    assert str(caught.value) == f"metric {name!r}: the cutoff must be a positive integer up to 2147483647, got {got}"


@pytest.mark.parametrize("name", ["P_x", "p@x", "ndcg_cutx"])
def test_a_misspelt_name_still_lists_the_known_metrics(name):
    with pytest.raises(ValueError) as caught:
        parse_metric(name)
    assert str(caught.value).startswith(f"unknown metric {name!r}")
    assert "; known metrics: ['bpref', " in str(caught.value)


def test_a_fractional_trec_cutoff_on_the_command_line(tmp_path, capsys):
    data = tmp_path / "d.txt"
    data.write_text("1 qid:1 1:0.5 #d1\n0 qid:1 1:0.2 #d2\n")
    (tmp_path / "s.txt").write_text("0.5\n0.2\n")
    assert main(["evaluate", str(data), "--scores", str(tmp_path / "s.txt"), "--metrics", "P_5.5"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "ltr evaluate: error: --metrics: metric 'P_5.5': the cutoff must be a positive integer up to 2147483647, "
        "got '5.5'")
