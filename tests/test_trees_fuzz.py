"""Fuzzing the model parsers: mutated real models are either refused with ``ModelFormatError`` or scored sanely.

Mutations of a LightGBM text and an XGBoost JSON model trained on MQ2008: truncation, changed numbers, deleted,
duplicated and swapped lines, swapped tokens, flipped characters, and (JSON) edits of the parsed tree arrays. No
other exception may escape. A mutant that is accepted must score without error and its fast kernel must equal its
reference walk. The slow test hands the accepted LightGBM mutants to LightGBM itself, in a subprocess: LightGBM
must load each and predict the same margins (so a text the parser accepts cannot hang or abort LightGBM, which
texts the parser refuses can).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltr._shared import sklearn_letor, with_nans
from ltr.exceptions import ModelFormatError
from ltr.trees import from_lightgbm_text, from_xgboost_json

NUMBER_TOKENS = ["0", "-1", "1", "2", "7", "46", "99999", "-99999", "0.5", "-0.25", "1e-40", "1e400", "nan", "inf",
                 "-inf", "2147483648", "-0", "x", ""]


@pytest.fixture(scope="module")
def real(shared_file):
    X, y, group = sklearn_letor(shared_file("mq2008/Fold1/vali.txt.gz"), 46)
    X = with_nans(X, 0.05, 0)
    booster = lgb.train({"objective": "lambdarank", "num_leaves": 7, "num_threads": 1, "verbose": -1, "seed": 0},
                        lgb.Dataset(X, y, group=group), 4)
    xg = xgb.train({"objective": "rank:ndcg", "max_depth": 3, "nthread": 1}, xgb.DMatrix(X, y, group=group), 4)
    probe = X[:64].copy()
    probe[::3, :5] = 0.0
    return booster.model_to_string(), xg.save_raw("json").decode(), probe


def mutate_text(text: str, data) -> str:
    lines = text.split("\n")
    op = data.draw(st.sampled_from(["truncate", "number", "delete", "duplicate", "swap_lines", "swap_tokens",
                                    "flip", "insert"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    if op == "truncate":
        return text[:data.draw(st.integers(0, len(text)))]
    if op == "number":
        tokens = lines[i].replace("=", "= ").split(" ")
        j = data.draw(st.integers(0, len(tokens) - 1))
        tokens[j] = data.draw(st.sampled_from(NUMBER_TOKENS))
        lines[i] = " ".join(tokens).replace("= ", "=")
    elif op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "swap_lines":
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "swap_tokens":
        tokens = lines[i].split(" ")
        j, k = data.draw(st.integers(0, len(tokens) - 1)), data.draw(st.integers(0, len(tokens) - 1))
        tokens[j], tokens[k] = tokens[k], tokens[j]
        lines[i] = " ".join(tokens)
    elif op == "flip":
        if lines[i]:
            j = data.draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:j] + data.draw(st.sampled_from("0123456789-.=e \t\r[]{},:\"x")) + lines[i][j + 1:]
    else:
        lines.insert(i, data.draw(st.sampled_from(["", "Tree=0", "end of trees", "num_leaves=3", "x=1", "{", "]"])))
    return "\n".join(lines)


def check_accepted(model, X):
    """An accepted mutant is still a valid ensemble: scoring works and both scorers agree."""
    fast = model.predict(X)
    assert np.array_equal(fast, model.predict(X, method="reference"), equal_nan=True)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=True)


@FUZZ
@given(data=st.data())
def test_mutated_lightgbm_texts_raise_only_model_format_error(real, data):
    text = mutate_text(real[0], data)
    try:
        model = from_lightgbm_text(text, source="fuzz.txt")
    except ModelFormatError as e:
        assert str(e).startswith("fuzz.txt")
        return
    check_accepted(model, real[2])


@FUZZ
@given(data=st.data())
def test_mutated_xgboost_texts_raise_only_model_format_error(real, data):
    text = mutate_text(real[1].replace(",", ",\n"), data)  # one JSON value per line, so that lines mean something
    try:
        model = from_xgboost_json(text, source="fuzz.json")
    except ModelFormatError as e:
        assert str(e).startswith("fuzz.json")
        return
    check_accepted(model, real[2])


def _leaves(obj, path=()):
    """Every (path, scalar) in a JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            yield from _leaves(v, (*path, k))
    else:
        yield path, obj


@FUZZ
@given(data=st.data())
def test_mutated_xgboost_trees_raise_only_model_format_error(real, data):
    doc = json.loads(real[1])
    tree = data.draw(st.integers(0, 3))
    items = list(_leaves(doc["learner"]["gradient_booster"]["model"]["trees"][tree]))
    items += list(_leaves(doc["learner"]["learner_model_param"]))
    n_edits = data.draw(st.integers(1, 3))
    for _ in range(n_edits):
        path, old = data.draw(st.sampled_from(items))
        node = doc["learner"]["gradient_booster"]["model"]["trees"][tree] if path[0] not in \
            doc["learner"]["learner_model_param"] else doc["learner"]["learner_model_param"]
        for k in path[:-1]:
            node = node[k]
        new = data.draw(st.sampled_from([-1, 0, 1, 2, 3, 5, 14, 15, 45, 46, 2**31, -(2**31) - 1, 0.5, 1e39, None,
                                         True, "1", "[0.5]", [], {}, float("nan"), float("inf")]))
        if data.draw(st.booleans()) and isinstance(old, (int, float)) and not isinstance(old, bool):
            new = old + data.draw(st.sampled_from([-1, 1]))  # off by one: a swapped or shifted index
        node[path[-1]] = new
    try:
        model = from_xgboost_json(doc, source="fuzz.json")
    except ModelFormatError as e:
        assert str(e).startswith("fuzz.json")
        return
    check_accepted(model, real[2])


@pytest.mark.slow
def test_lightgbm_accepts_and_agrees_on_every_text_the_parser_accepts(real, tmp_path):
    base, _, X = real
    rng = np.random.default_rng(7)
    accepted = []
    lines = base.split("\n")
    tree_lines = [i for i, s in enumerate(lines) if s.startswith(("threshold=", "leaf_value=", "decision_type="))]
    for n in range(400):  # number edits that keep each line's length, so that tree_sizes stays right
        out = list(lines)
        i = int(rng.choice(tree_lines))
        key, _, value = out[i].partition("=")
        tokens = value.split(" ")
        j = int(rng.integers(len(tokens)))
        width = len(tokens[j])
        tokens[j] = (str(rng.choice(["0", "1", "2", "4", "6", "8", "10"])) if key == "decision_type"
                     else f"{rng.normal():.{max(1, width - 8)}e}")[:width].ljust(width, "0")
        out[i] = f"{key}={' '.join(tokens)}"
        text = "\n".join(out)
        try:
            model = from_lightgbm_text(text)
        except ModelFormatError:
            continue
        path = tmp_path / f"m{n}.txt"
        path.write_text(text)
        accepted.append((path, model.predict(X)))
    assert len(accepted) > 50
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(f"""
        import sys, numpy as np, lightgbm as lgb
        X = np.load({str(tmp_path / 'X.npy')!r})
        for p in sys.argv[1:]:
            print(p, flush=True)
            np.save(p + ".npy", lgb.Booster(model_file=p).predict(X, raw_score=True, num_threads=1))
    """)
    r = subprocess.run([sys.executable, "-c", script, *[str(p) for p, _ in accepted]], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, f"LightGBM failed on an accepted text after {r.stdout.splitlines()[-1:]}: {r.stderr}"
    for path, ours in accepted:
        assert np.array_equal(np.load(str(path) + ".npy"), ours), path


@pytest.mark.slow
def test_texts_that_make_lightgbm_abort_or_hang_are_refused(real, tmp_path):
    base = real[0]
    first = base[base.index("Tree=0"):]
    left = next(s for s in first.split("\n") if s.startswith("left_child="))
    codes = left.split("=")[1].split(" ")
    # same byte length, so tree_sizes still matches: the last node's left child becomes the root ("-5" -> "00"),
    # a cycle that makes LightGBM's predict loop forever
    cycle = base.replace(left, "left_child=" + " ".join(codes[:-1] + ["0" * len(codes[-1])]), 1)
    sizes_off = base.replace("\nTree=1\n", "\n\nTree=1\n", 1)  # one more byte in tree 0: tree_sizes is wrong
    for text, message in ((cycle, "cycle|root|child of|left child"), (sizes_off, "tree_sizes says tree 0")):
        with pytest.raises(ModelFormatError, match=message):
            from_lightgbm_text(text, source="m.txt")
    # The premise, for the one that fails fast: LightGBM itself aborts the interpreter on it.
    path = tmp_path / "sizes_off.txt"
    path.write_text(sizes_off)
    r = subprocess.run([sys.executable, "-c", f"import lightgbm as lgb; lgb.Booster(model_file={str(path)!r})"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
