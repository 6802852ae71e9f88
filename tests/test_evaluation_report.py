"""Plots and reports rendered from small real runs: valid PNGs of the expected pixel size, self-contained HTML,
Markdown that links existing files, the ``ltr report`` command."""

import base64
import io
import json
import re
import struct
import zlib

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference, tiny_ranker
from ltr.cli import main
from ltr.evaluation import compare_cv, cross_validate, dataset_summary, plots, read_result, render_report
from ltr.io import write_letor

import_reference("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, checking the signature and the chunk's CRC (no image library)."""
    assert data[:8] == PNG_MAGIC, "not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[12:16 + 13]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(body), "IHDR CRC mismatch"
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82", "no IEND chunk"
    return struct.unpack(">II", data[16:24])


def pixels(data: bytes) -> np.ndarray:
    from matplotlib import image

    return image.imread(io.BytesIO(data), format="png")


def assert_real_image(data: bytes, size=(800, 450)) -> None:
    assert png_size(data) == size
    px = pixels(data)
    assert px.shape[:2] == (size[1], size[0])
    # Not blank: several distinct colours and some dark (drawn) pixels on the white background.
    rgb = (px[..., :3] * 255).astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    assert np.unique(packed).size > 10
    assert (rgb.sum(axis=-1) < 200).mean() > 0.001


@pytest.fixture(scope="module")
def runs():
    data = make_ranking(36, (4, 10), 5, random_state=0)
    kw = dict(metrics=["ndcg@10", "map"], n_splits=3, progress=False)
    a = cross_validate(tiny_ranker(n_estimators=8), data, name="lambdamart",
                       **kw)
    b = cross_validate(Ranker(objective="pointwise", n_estimators=8, num_leaves=7, min_child_samples=3, n_jobs=1),
                       data, name="pointwise", **kw)
    return data, a, b


# -- plots ----------------------------------------------------------------------------------------------------------
def test_every_plot_is_a_valid_png_of_the_expected_size(runs):
    data, a, b = runs
    summary = dataset_summary(data)
    figures = {
        "curves": plots.ndcg_curves({"a": a.curve(), "b": b.curve()}),
        "deltas": plots.query_deltas(a.per_query("map") - b.per_query("map"), system="a", baseline="b",
                                     metric="map"),
        "rounds": plots.training_curves({f.name: f.evals for f in a.folds}, metric="ndcg@10"),
        "importance": plots.feature_importance(a.feature_names, a.importance("gain")),
        "labels": plots.label_distribution(summary["label_counts"]),
        "sizes": plots.rows_per_query(summary["rows_per_query"]),
    }
    for name, png in figures.items():
        assert_real_image(png), name
    assert_real_image(plots.ndcg_curves({"a": a.curve()}, size=(640, 480)), size=(640, 480))


def test_plots_are_deterministic_and_refuse_empty_input(runs):
    _, a, _ = runs
    assert plots.ndcg_curves({"a": a.curve()}) == plots.ndcg_curves({"a": a.curve()})
    with pytest.raises(ValueError, match="no curve"):
        plots.ndcg_curves({})
    with pytest.raises(ValueError, match="no per-round evaluation"):
        plots.training_curves({"Fold1": {}})
    with pytest.raises(ValueError, match="at least 100 x 100"):
        plots.rows_per_query([3, 4], size=(50, 50))


# -- reports --------------------------------------------------------------------------------------------------------
def embedded_images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_a_comparison_report_has_every_figure_in_html_markdown_and_png(runs, tmp_path):
    data, a, b = runs
    comp = compare_cv([a, b], tests=["randomization", "t"], n_permutations=500)
    comp.save(tmp_path / "c.json")
    written = render_report(tmp_path / "c.json", tmp_path / "rep", datasets=[data])
    ids = {"ndcg-at-k", "delta-pointwise", "rounds-lambdamart", "rounds-pointwise", "importance-lambdamart",
           "importance-pointwise", "labels-data1", "sizes-data1"}  # the result's own data, given again: drawn once
    assert set(written) == ids | {"html", "md"}
    for i in ids:
        assert_real_image(written[i].read_bytes())
    html = written["html"].read_text()
    images = embedded_images(html)
    assert len(images) == len(ids) and all(png_size(p) == (800, 450) for p in images)
    assert sorted(images) == sorted(written[i].read_bytes() for i in ids)
    # Self-contained: no external resource of any kind.
    assert not re.search(r'(src|href)="(?!data:)', html) and "http" not in html.replace("http-equiv", "")
    assert 'id="ltr-status"' in html and "lambdamart (baseline)" in html
    md = written["md"].read_text()
    links = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", md)
    assert len(links) == len(ids) and all((tmp_path / "rep" / p).is_file() for p in links)
    assert "| system | ndcg@10 | map |" in md and "Differences from the baseline" in md


def test_a_cv_report_shows_folds_and_training_curves(runs, tmp_path):
    _, a, _ = runs
    written = render_report(a.to_dict(), tmp_path, formats=["html"])
    assert set(written) == {"html"}  # no PNG files unless asked
    html = written["html"].read_text()
    assert "Cross-validation: lambdamart" in html and html.count("<tr>") >= 3 + 2 + 1
    assert len(embedded_images(html)) == 5  # curve, rounds, importance, labels, rows per query


def _fold_table_mean(md: str, system: str) -> list[str]:
    """The cells of the mean row of ``system``'s cross-validation table in a Markdown report."""
    section = md.split(f"Cross-validation: {system}", 1)[1]
    return next(line for line in section.splitlines() if line.startswith("| mean |")).split("|")[2:-3]


def test_a_cv_table_has_the_same_mean_row_from_a_cv_result_and_from_a_comparison(tmp_path):
    data = make_ranking(31, (4, 10), 5, random_state=1)  # folds of 8, 8, 8 and 7 queries
    kw = dict(metrics=["ndcg@10", "map"], n_splits=4, progress=False)
    a = cross_validate(tiny_ranker(n_estimators=4), data, name="a", **kw)
    b = cross_validate(tiny_ranker(n_estimators=9), data, name="b", **kw)
    pooled = a.per_query()["map"].mean()
    assert f"{pooled:.4f}" != f"{a.mean()['map']:.4f}"  # the two means differ on these folds
    from_cv = render_report(a.to_dict(), tmp_path / "cv", formats=["md"])["md"].read_text()
    from_compare = render_report(compare_cv([a, b], tests=["t"]).to_dict(), tmp_path / "cmp",
                                 formats=["md"])["md"].read_text()
    expected = [f" {a.mean()[m]:.4f} " for m in ("ndcg@10", "map")]  # the mean of the fold means, as ltr cv's
    assert _fold_table_mean(from_cv, "a") == expected
    assert _fold_table_mean(from_compare, "a") == expected
    assert "mean and std over the 4 folds' means" in from_compare


def test_ltr_report_command(runs, tmp_path, capsys):
    data, a, _ = runs
    a.save(tmp_path / "a.json")
    write_letor(tmp_path / "d.txt", data)

    def run_report(argv):
        return main(["report", *argv])

    assert run_report([str(tmp_path / "a.json"), "--out", str(tmp_path / "r"), "--formats", "png",
                          "--data", str(tmp_path / "d.txt"), "--format", "json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert "labels-d-txt" in written and "html" not in written
    assert_real_image(open(written["labels-d-txt"], "rb").read())
    # without --format json: a 'wrote' line on standard error, as every command says what it wrote
    assert run_report([str(tmp_path / "a.json"), "--out", str(tmp_path / "r2")]) == 0
    out, err = capsys.readouterr()
    assert out == "" and f"wrote {tmp_path / 'r2' / 'report.html'}, {tmp_path / 'r2' / 'report.md'}" in err
    assert run_report([str(tmp_path / "a.json"), "--out", str(tmp_path / "r3"), "--formats", "png"]) == 0
    assert re.fullmatch(r"wrote \d+ figure\(s\) in \S+\n", capsys.readouterr().err)  # (it said 'wrote  and ...')
    assert run_report([str(tmp_path / "a.json"), "--out", str(tmp_path / "r"), "--formats", "pdf"]) == 2
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    assert run_report([str(tmp_path / "bad.json"), "--out", str(tmp_path / "r")]) == 1
    assert "not an ltrkit result" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a JSON result file"):
        (tmp_path / "x.json").write_text("{")
        read_result(tmp_path / "x.json")


@pytest.mark.parametrize("correction", ["none", "holm"])
def test_the_difference_table_note_says_which_p_values_its_p_columns_hold(correction):
    """The note under "Differences from the baseline" follows the comparison's correction, as the p columns do
    (before: "p: adjusted p-values" whatever the correction, under unadjusted p-values with --correction none)."""
    import pandas as pd
    from scipy import stats

    from ltr.evaluation import compare
    from ltr.evaluation.report import render_markdown

    qids = [str(q) for q in range(1, 9)]
    base = [0.20, 0.35, 0.40, 0.10, 0.55, 0.30, 0.25, 0.60]
    b = [0.30, 0.45, 0.35, 0.30, 0.70, 0.40, 0.20, 0.75]
    c = [0.25, 0.30, 0.45, 0.20, 0.50, 0.45, 0.35, 0.65]
    per_query = {n: pd.DataFrame({"map": v}, index=qids) for n, v in (("base", base), ("b", b), ("c", c))}
    d = compare(per_query, tests=["t"], correction=correction).to_dict()
    md = render_markdown(d, [], "figures")
    section = md.split("## Differences from the baseline", 1)[1]
    table = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| b ") or
             line.startswith("| c ")]
    shown = [float(cells[-2]) for cells in table]
    # the paired t-test (scipy) and Holm's step-down adjustment over the m = 2 systems, by hand
    p = [stats.ttest_rel(v, base).pvalue for v in (b, c)]
    if correction == "holm":
        lo, hi = sorted(range(2), key=lambda i: p[i])
        adj = [0.0, 0.0]
        adj[lo] = min(1.0, 2 * p[lo])
        adj[hi] = min(1.0, max(adj[lo], p[hi]))
        p = adj
    assert shown == pytest.approx(p, abs=5e-5)
    note = next(line for line in section.splitlines() if line.startswith("delta: mean difference"))
    if correction == "none":
        assert "p(t)" in section and "Holm" not in section
        assert note.endswith("p: unadjusted p-values (no correction for multiple comparisons).")
    else:
        assert "Holm p(t)" in section
        assert note.endswith("p: Holm-adjusted p-values (Holm 1979) over the systems compared with the baseline, "
                             "per metric and test.")


def test_importing_the_evaluation_package_loads_no_plotting_or_engine_library():
    import subprocess
    import sys

    code = ("import sys, ltr.evaluation; "
            "print(sorted(m for m in ('matplotlib', 'lightgbm', 'xgboost', 'sklearn', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_two_data_files_with_the_same_name_get_a_figure_each(runs, tmp_path, capsys):
    """ltr report --data a/train.txt --data b/train.txt showed the second file's figures twice."""
    data, a, _ = runs
    a.save(tmp_path / "a.json")
    for sub, seed in (("x", 1), ("y", 2)):
        (tmp_path / sub).mkdir()
        write_letor(tmp_path / sub / "train.txt", make_ranking(5 + 10 * seed, 4, 3, random_state=seed))
    assert main(["report", str(tmp_path / "a.json"), "--out", str(tmp_path / "r"), "--formats", "png",
                 "--data", str(tmp_path / "x" / "train.txt"), "--data", str(tmp_path / "y" / "train.txt"),
                 "--format", "json"]) == 0
    written = json.loads(capsys.readouterr().out)
    labels = sorted(k for k in written if k.startswith("labels-") and k != "labels-data")  # data: the cv's own
    assert labels == ["labels-x-train-txt", "labels-y-train-txt"]
    pngs = [open(written[k], "rb").read() for k in labels]
    assert pngs[0] != pngs[1]  # 15 and 25 queries: two different label histograms


def test_result_figures_never_share_an_id():
    from ltr.evaluation.report import result_figures

    s = dataset_summary(make_ranking(6, 4, 3, random_state=0), "same")
    t = dataset_summary(make_ranking(7, 4, 3, random_state=1), "same")  # another data set under the same name
    figs = result_figures({"systems": [], "metrics": []}, datasets=[s, t])
    ids = [f["id"] for f in figs]
    assert len(ids) == len(set(ids)) == 4


def test_the_results_own_data_given_again_is_plotted_once(runs):
    """ltr report --data FILE, FILE the result's own data: its two figures were drawn twice."""
    from ltr.evaluation.report import result_figures

    data, a, _ = runs
    d = json.loads(json.dumps(a.to_dict()))  # as read back from its file
    own = [f["id"] for f in result_figures(d) if f["id"].startswith(("labels-", "sizes-"))]
    assert len(own) == 2
    again = result_figures(d, datasets=[dataset_summary(data, "again.txt")])  # drawn once, by the name given
    assert [f["id"] for f in again if f["id"].startswith(("labels-", "sizes-"))] == ["labels-again-txt",
                                                                                    "sizes-again-txt"]
    other = result_figures(d, datasets=[dataset_summary(make_ranking(9, 4, 3, random_state=5), "other.txt")])
    assert [f["id"] for f in other if f["id"].startswith(("labels-", "sizes-"))] == [
        *own, "labels-other-txt", "sizes-other-txt"]


def test_the_round_figure_caption_names_only_the_parts_drawn(runs):
    from ltr.evaluation.report import result_figures

    _, a, _ = runs
    d = a.to_dict()
    parts = {part for f in d["systems"][0]["folds"] for part in (f.get("evals") or {})}
    caption = next(f["caption"] for f in result_figures(d) if f["id"].startswith("rounds-"))
    assert ("Solid: validation part" in caption) == bool(parts - {"train"})
    assert ("dashed: training part" in caption.lower()) == ("train" in parts)
    for f in d["systems"][0]["folds"]:
        f["evals"] = {"train": f["evals"]["train"]} if "train" in f["evals"] else f["evals"]
    caption = next(f["caption"] for f in result_figures(d) if f["id"].startswith("rounds-"))
    assert caption == "Dashed: training part; one colour per fold."


@pytest.mark.parametrize("edit, named", [
    (lambda d: d["systems"][0]["folds"][0].__setitem__("metrics", []),
     "systems[0].folds[0].metrics must be an object, got list []"),
    (lambda d: d["systems"][0]["folds"][0]["metrics"].__setitem__("ndcg@10", [0.5]),
     "systems[0].folds[0].metrics.ndcg@10 must be a number or null, got list [0.5]"),
    (lambda d: d["systems"][0]["per_query"].__setitem__("map", "x"),
     "systems[0].per_query.map must be a list of numbers, got str \"x\""),
    (lambda d: d.__setitem__("systems", {"a": 1}), "systems must be a list, got dict"),
])
@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_result_file_with_a_field_of_the_wrong_type_is_named_by_its_path(runs, tmp_path, capsys, edit, named,
                                                                            command):
    _, a, b = runs
    d = a.to_dict()
    edit(d)
    (tmp_path / "bad.json").write_text(json.dumps(d))
    b.save(tmp_path / "b.json")
    argv = ([str(tmp_path / "bad.json"), "--out", str(tmp_path / "r"), "--formats", "md"] if command == "report"
            else [str(tmp_path / "bad.json"), str(tmp_path / "b.json")])
    assert main([command, *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr {command}: error: {tmp_path / 'bad.json'}: {named}") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


# -- a folder that cannot be written --------------------------------------------------------------------------------
def test_ltr_report_on_a_read_only_file_system_names_the_folder_given_and_what_failed(runs, tmp_path, read_only,
                                                                                      capsys):
    _, a, _ = runs
    a.save(tmp_path / "a.json")
    ro = tmp_path / "ro"
    ro.mkdir()
    read_only(ro)
    assert main(["report", str(tmp_path / "a.json"), "--out", str(ro), "--quiet"]) == 1
    assert capsys.readouterr().err == f"ltr report: error: {ro}: cannot write: the folder {ro} is not writable\n"
    assert main(["report", str(tmp_path / "a.json"), "--out", str(ro / "rep"), "--quiet"]) == 1
    assert capsys.readouterr().err == f"ltr report: error: {ro / 'rep'}: cannot create the folder: read-only file " \
                                      "system\n"
    assert list(ro.iterdir()) == []


def test_ltr_report_into_a_read_only_folder_holding_a_report_names_the_folder(runs, tmp_path, read_only, capsys):
    _, a, _ = runs
    a.save(tmp_path / "a.json")
    ro = tmp_path / "ro"
    assert main(["report", str(tmp_path / "a.json"), "--out", str(ro), "--quiet"]) == 0
    before = {p: p.read_bytes() for p in ro.rglob("*") if p.is_file()}
    read_only(ro)
    assert main(["report", str(tmp_path / "a.json"), "--out", str(ro), "--quiet"]) == 1
    assert capsys.readouterr().err == f"ltr report: error: {ro}: cannot write: the folder {ro} is not writable\n"
    assert {p: p.read_bytes() for p in ro.rglob("*") if p.is_file()} == before


def test_a_report_that_fills_the_disk_leaves_no_folder_it_created_and_keeps_a_previous_report(runs, tmp_path,
                                                                                              monkeypatch):
    import errno
    import hashlib

    from ltr.io import outputs as outputs_module

    _, a, _ = runs
    old = tmp_path / "old"
    render_report(a.to_dict(), old)
    before = {p.relative_to(old): hashlib.md5(p.read_bytes()).hexdigest() for p in old.rglob("*") if p.is_file()}
    real = outputs_module.os.fsync
    calls = []

    def full_after_two(fd):  # two files fit; then the disk is full (a folder's fsync failing is ignored)
        calls.append(fd)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(outputs_module.os, "fsync", full_after_two)
    new = tmp_path / "new" / "rep"
    with pytest.raises(OSError, match="cannot write: no space left on device") as e:
        render_report(a.to_dict(), new)
    assert e.value.filename.startswith(str(new))  # the folder given, and the file under it that did not fit
    assert not (tmp_path / "new").exists()  # no empty folder (or half a report) left where there was none
    calls.clear()
    with pytest.raises(OSError, match="cannot write: no space left on device"):
        render_report(a.to_dict(), old)
    after = {p.relative_to(old): hashlib.md5(p.read_bytes()).hexdigest() for p in old.rglob("*") if p.is_file()}
    assert after == before  # the previous report's files are as they were


def test_without_matplotlib_ltr_report_writes_its_tables_and_says_why_there_are_no_figures(runs, tmp_path):
    """The plot extra is optional: html and md reports keep their tables and say, under Figures, what to install;
    asking for the PNG figures alone is one line and exit 1. matplotlib is hidden from a fresh interpreter."""
    import subprocess
    import sys

    _, a, b = runs
    compare_cv([a, b], tests=["t"]).save(tmp_path / "c.json")
    code = ("import sys; sys.modules['matplotlib'] = None; from ltr.cli import main; "
            "raise SystemExit(main(sys.argv[1:]))")

    def report(*argv):
        return subprocess.run([sys.executable, "-c", code, "report", str(tmp_path / "c.json"), *argv],
                              capture_output=True, text=True)

    done = report("--out", str(tmp_path / "r"), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ('ltr report: warning: figures left out of the report: plots need matplotlib: '
                                   'pip install "ltrkit[plot]" (or pip install matplotlib)')
    assert set(json.loads(done.stdout)) == {"html", "md"}
    assert not (tmp_path / "r" / "figures").exists()
    md = (tmp_path / "r" / "report.md").read_text()
    html = (tmp_path / "r" / "report.html").read_text()
    for text in (md, html):
        assert "lambdamart" in text and "pointwise" in text  # the tables are there
        assert "Figures left out: plots need matplotlib" in text.replace("&quot;", '"')
    assert "![" not in md and "data:image/png" not in html

    done = report("--out", str(tmp_path / "p"), "--formats", "png")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        'ltr report: error: plots need matplotlib: pip install "ltrkit[plot]" (or pip install matplotlib)']
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
def test_a_report_to_standard_output_is_refused_not_made_a_folder_named_dash(runs, tmp_path, capsys, monkeypatch,
                                                                              out):
    """A trial (t45): `--out -` made a folder named '-', where every other command writes standard output."""
    _, a, _ = runs
    a.save(tmp_path / "a.json")
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(tmp_path / "a.json"), "--out", out, "--formats", "md"]) == 2
    assert f"--out {out}: a report is a folder of files" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


def test_a_comparison_of_fewer_paired_queries_says_so_and_draws_no_curves_of_other_query_sets(runs, tmp_path, capsys):
    # compare --intersection pairs the common queries; the report's cross-validation tables said "N test queries in
    # all" of the paired N while giving each system's own folds, and the NDCG@k figure drew each system over its own
    # queries, ranking them otherwise than the table beside it (trial t47/report)
    data, a, _ = runs
    fewer = data.subset(np.arange(24))
    c = cross_validate(tiny_ranker(n_estimators=8), fewer, name="fewer", metrics=["ndcg@10", "map"], n_splits=3,
                       progress=False)
    a.save(tmp_path / "a.json")
    c.save(tmp_path / "c.json")
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "c.json"), "--intersection", "--out",
                 str(tmp_path / "x.json"), "--quiet"]) == 0
    assert main(["report", str(tmp_path / "x.json"), "--out", str(tmp_path / "r"), "--formats", "md,png",
                 "--quiet"]) == 0
    capsys.readouterr()
    md = (tmp_path / "r" / "report.md").read_text()
    assert "36 test queries in all (the comparison above pairs 24 of them); mean and std over the 3 folds' means." in md
    assert "24 test queries in all; mean and std over the 3 folds' means." in md
    assert "the NDCG@k figure, over those, is left out" in md
    assert not (tmp_path / "r" / "figures" / "ndcg-at-k.png").exists()
    assert main(["report", str(tmp_path / "a.json"), "--out", str(tmp_path / "r2"), "--formats", "md,png",
                 "--quiet"]) == 0
    assert (tmp_path / "r2" / "figures" / "ndcg-at-k.png").exists()  # every query of the result: drawn


def test_the_comparison_note_says_every_tests_settings(runs):
    # the report gave "Holm p(randomization)" with no word of its 10,000 draws, seed or floor of 1/10001 (printed
    # as an estimate), nor of the signed-rank test's treatment of zeros and ties (trial t47/report)
    from ltr.evaluation.tables import comparison_footnote

    _, a, b = runs
    c = compare_cv([a, b], tests=("t", "wilcoxon", "randomization"), n_permutations=500, seed=7)
    note = comparison_footnote(c)
    assert ("Tests: paired t (SciPy's ttest_rel); Wilcoxon signed-rank (SciPy's wilcoxon; differences within 1e-12 "
            "of 0 dropped, magnitudes within 1e-12 of each other tied); Fisher randomisation of the absolute mean "
            "difference (every sign assignment when 2^n <= 500, else 500 drawn with seed 7 and p = (count + 1) / "
            "501, never below 1/501).") in note  # (0.002 was above 1/501: trial t48/experiments)
    assert "Tests:" not in comparison_footnote(compare_cv([a, b], tests=("t",)))  # the t-test alone: said already


def test_a_result_of_another_format_version_is_named_so_by_compare_and_report(runs, tmp_path, capsys):
    # compare called it "cut short, or another tool's" and report "not an ltrkit result": a newer file could not be
    # told from a damaged one (trial t47/report)
    _, a, _ = runs
    a.save(tmp_path / "a.json")
    newer = tmp_path / "v2.json"
    newer.write_text((tmp_path / "a.json").read_text().replace('"ltrkit-result/1"', '"ltrkit-result/2"', 1))
    said = (f"{newer}: an ltrkit result of format 'ltrkit-result/2', which this version ('ltrkit-result/1') does not "
            "read: use the ltrkit that wrote it, or run the cv again\n")
    assert main(["compare", str(tmp_path / "a.json"), str(newer)]) == 1
    assert capsys.readouterr().err == f"ltr compare: error: {said}"
    assert main(["report", str(newer), "--out", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err == f"ltr report: error: {said}"
    assert not (tmp_path / "r").exists()
