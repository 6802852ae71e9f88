"""ltr report after a user's trial (t63, cli-robustness): a data file name holding a byte that is not UTF-8 (Python's
lone surrogate for it, 'b\\udcffd.txt') reached matplotlib's font code and failed the whole report with a 700-byte
pybind signature; report.md wrote the user's --title and data file names raw, HTML a Markdown viewer would run.

The rule: every text of the report (figure titles and labels, HTML, Markdown) shows such a byte as U+FFFD."""

from __future__ import annotations

import os

import pytest

from ltr import make_ranking
from ltr._shared import import_reference, tiny_ranker
from ltr.cli import main
from ltr.datasets import dataset_summary
from ltr.evaluation import compare_cv, cross_validate, plots, render_report
from ltr.io import write_letor

import_reference("matplotlib")

ODD = "b\udcffd.txt"  # the name of b"b\xffd.txt" as Python (os.fsdecode) and a result file hold it
SHOWN = "b\ufffdd.txt"  # as the report shows it


@pytest.fixture(scope="module")
def data():
    return make_ranking(16, (4, 8), 4, random_state=0)


@pytest.fixture(scope="module")
def good_result(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "cv.json"
    cross_validate(tiny_ranker(n_estimators=3), data, name="trees", metrics=["ndcg@10"], n_splits=2,
                   progress=False).save(path)
    return path


def odd_file(folder, data) -> str:
    path = os.fsdecode(os.fsencode(folder) + b"/b\xffd.txt")
    write_letor(path, data)
    return path


def pages(out) -> dict[str, str]:
    # strict UTF-8: a lone surrogate could not have been written, nor read back
    return {k: (out / f"report.{k}").read_bytes().decode("utf-8") for k in ("html", "md")
            if (out / f"report.{k}").exists()}


def test_a_cv_result_of_a_data_file_named_with_a_byte_that_is_not_utf8_is_reported_with_the_replacement_character(
        data, tmp_path, capsys):
    path = odd_file(tmp_path, data)
    assert main(["cv", path, "--folds", "2", "--rounds", "3", "--preset", "none", "--n-jobs", "1", "--quiet",
                 "--out", str(tmp_path / "cv.json")]) == 0
    out = tmp_path / "rep"
    assert main(["report", str(tmp_path / "cv.json"), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
    texts = pages(out)
    assert set(texts) == {"html", "md"}
    for text in texts.values():
        assert f"{SHOWN}: label distribution" in text and "\udcff" not in text
    assert (out / "figures" / "labels-b-d-txt.png").stat().st_size > 0
    assert (out / "figures" / "sizes-b-d-txt.png").stat().st_size > 0


@pytest.mark.parametrize("formats", ["html,md", "md"])
def test_a_data_file_named_with_a_byte_that_is_not_utf8_given_as_data_is_drawn_and_written(
        data, good_result, tmp_path, capsys, formats):
    out = tmp_path / "rep"
    path = odd_file(tmp_path, make_ranking(7, 4, 3, random_state=1))  # not the result's data: drawn on its own
    assert main(["report", str(good_result), "--data", path, "--formats", formats, "--out", str(out),
                 "--quiet"]) == 0, capsys.readouterr().err
    texts = pages(out)
    assert set(texts) == set(formats.split(","))
    for text in texts.values():
        assert f"{SHOWN}: rows per query" in text and "\udcff" not in text
    assert f"![{SHOWN}: label distribution](figures/labels-b-d-txt.png)" in texts["md"]
    assert (out / "figures" / "labels-b-d-txt.png").exists()


def test_lone_surrogates_in_a_title_system_and_data_set_name_are_replaced_in_every_page_and_figure(data, tmp_path):
    odd = cross_validate(tiny_ranker(n_estimators=3), data, name="sys\udcfe", metrics=["ndcg@10"], n_splits=2,
                         progress=False)
    base = cross_validate(tiny_ranker(n_estimators=2), data, name="base", metrics=["ndcg@10"], n_splits=2,
                          progress=False)
    comp = compare_cv([base, odd], tests=["t"])
    written = render_report(comp, tmp_path / "r", datasets=[dataset_summary(data, ODD)], title="T\udcff\ud800")
    assert {"html", "md", "delta-sys"} <= set(written)
    for text in pages(tmp_path / "r").values():
        assert "T\ufffd\ufffd" in text and "sys\ufffd" in text and SHOWN in text
        assert not any("\ud800" <= ch <= "\udfff" for ch in text)


def test_every_plot_draws_a_lone_surrogate_as_the_replacement_character():
    assert plots.valid_text(ODD) == SHOWN and plots.valid_text("caf\u00e9 \ud83d") == "caf\u00e9 \ufffd"
    assert plots.label_distribution({"0": 3, "1": 1}, title=ODD).startswith(b"\x89PNG")
    assert plots.rows_per_query([3, 4, 4], title=ODD).startswith(b"\x89PNG")
    assert plots.ndcg_curves({ODD: [0.5, 0.6]}, title=ODD).startswith(b"\x89PNG")
    assert plots.query_deltas([0.1, -0.2], system=ODD, baseline=ODD, metric=ODD).startswith(b"\x89PNG")
    assert plots.training_curves({ODD: {"vali": {ODD: [0.1, 0.2]}}}, metric=ODD, title=ODD,
                                 xlabel=ODD).startswith(b"\x89PNG")
    assert plots.feature_importance([ODD, "f2"], [1.0, 2.0], kind=ODD, what=ODD).startswith(b"\x89PNG")


def test_the_markdown_page_shows_a_title_and_data_file_name_holding_html_as_text(data, good_result, tmp_path):
    # a Markdown viewer that renders inline HTML ran them; report.html escaped them already
    path = tmp_path / "<img src=x onerror=alert(1)>.txt"
    write_letor(path, make_ranking(7, 4, 3, random_state=1))
    out = tmp_path / "rep"
    assert main(["report", str(good_result), "--data", str(path), "--out", str(out), "--quiet",
                 "--title", "<script>alert(1)</script> & co"]) == 0
    md, page = pages(out)["md"], pages(out)["html"]
    assert md.splitlines()[0] == "# &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert "## &lt;img src=x onerror=alert(1)&gt;.txt: label distribution" in md
    assert "![&lt;img src=x onerror=alert(1)&gt;.txt: label distribution](figures/" in md
    for text in (md, page):
        assert "<script>alert" not in text and "<img src=x" not in text


def test_markdown_syntax_in_user_text_is_shown_as_text_in_report_md():
    """Review 2 of t63: a name '[x](http://e)' became a link in report.md, '![](u)' a remote image, backticks
    formatting. Reference: CommonMark's backslash escapes of ASCII punctuation."""
    from ltr.evaluation.report import _md_cell, _md_text

    assert _md_text("[x](http://e) ![i](u) a_b *c* `d` \\ <s> & 0.123") == \
        "\\[x\\](http://e) \\!\\[i\\](u) a_b \\*c\\* \\`d\\` \\\\ &lt;s&gt; &amp; 0.123"
    assert _md_cell("\ue0000.5\ue001") == "**0.5**" and _md_cell("a|b") == "a\\|b"
