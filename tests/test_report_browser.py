"""Open the HTML report in headless Chromium: it loads without script errors, every image decodes, and a
screenshot is not blank.

The page carries a small script that, on ``load``, checks ``naturalWidth > 0`` for every image and records
``window.onerror`` / ``console.error`` calls into ``#ltr-status``; Chromium's ``--dump-dom`` prints the DOM after
the load event, so the test reads the verdict there. Skips when Chromium is absent (Debian package
``chromium``), except under ``LTRKIT_REQUIRE_SHARED=1`` (CI), where a missing browser fails.
"""

import re
import shutil
import subprocess

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr._shared import import_reference, require_shared, tiny_ranker
from ltr.evaluation import compare_cv, cross_validate, render_report

import_reference("matplotlib")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--virtual-time-budget=10000"]


@pytest.fixture(scope="module")
def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    msg = "headless Chromium not found (install the Debian package: apt-get install -y chromium)"
    if require_shared():
        pytest.fail(msg + "; LTRKIT_REQUIRE_SHARED=1 makes this an error")
    pytest.skip(msg)


def browse(chromium, tmp_path, url, *extra):
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *extra, url], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def status(dom: str) -> dict:
    m = re.search(r'<p id="ltr-status"([^>]*)>([^<]*)</p>', dom)
    assert m, "no #ltr-status element in the dumped DOM"
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', m.group(1)))
    return {"text": m.group(2), **attrs}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    data = make_ranking(30, (4, 10), 5, random_state=0)
    kw = dict(metrics=["ndcg@10"], n_splits=3, progress=False)
    a = cross_validate(tiny_ranker(n_estimators=6), data, name="lm", **kw)
    b = cross_validate(Ranker(objective="pointwise", n_estimators=6, num_leaves=7, min_child_samples=3, n_jobs=1),
                       data, name="pw", **kw)
    written = render_report(compare_cv([a, b], tests=["t"]).to_dict(), folder, formats=["html"], datasets=[data])
    return written["html"]


def test_the_html_report_loads_cleanly_in_chromium_and_every_image_decodes(chromium, report, tmp_path):
    n_images = report.read_text().count('src="data:image/png;base64,')
    assert n_images == 8  # curves, 1 delta, 2 x rounds, 2 x importance, labels and sizes (of the one data set)
    s = status(browse(chromium, tmp_path, report.as_uri(), "--dump-dom"))
    assert s["text"].startswith("report check ok"), s
    assert (s["data-images"], s["data-broken"], s["data-errors"]) == (str(n_images), "0", "0")


def test_the_check_script_catches_broken_images_and_script_errors(chromium, report, tmp_path):
    # A negative control: the same page with one image truncated and a script error must be reported as failed.
    html = report.read_text()
    html = re.sub(r'(src="data:image/png;base64,)([A-Za-z0-9+/]{200})', r"\1AAAA", html, count=1)
    html = html.replace("</body>", "<script>undefinedFunction();</script></body>")
    bad = tmp_path / "bad.html"
    bad.write_text(html)
    s = status(browse(chromium, tmp_path, bad.as_uri(), "--dump-dom"))
    assert s["text"].startswith("report check failed"), s
    assert s["data-broken"] == "1" and int(s["data-errors"]) >= 1


def test_a_screenshot_of_the_report_is_not_blank(chromium, report, tmp_path):
    from matplotlib import image

    shot = tmp_path / "shot.png"
    browse(chromium, tmp_path, report.as_uri(), f"--screenshot={shot}", "--window-size=1000,1600")
    px = image.imread(shot)
    assert px.shape[:2] == (1600, 1000)
    rgb = (px[..., :3] * 255).astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    assert np.unique(packed).size > 50  # text, tables and plot colours
    assert (rgb.sum(axis=-1) < 3 * 250).mean() > 0.02  # a fair share of non-white pixels
