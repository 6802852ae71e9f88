"""Where the real public data sets live (``../shared/data`` or ``$LTRKIT_SHARED_DATA``).

Used by the tests and the benchmarks; the library itself never needs them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["TINY", "import_neural", "import_reference", "missing_reference", "require_shared", "shared_data_dir",
           "shared_data_missing", "sklearn_letor", "tiny_bert", "tiny_ranker", "with_nans"]

_HERE = Path(__file__).resolve().parent.parent


def shared_data_dir(given: str | os.PathLike | None = None) -> Path | None:
    """The data directory, or None when it cannot be found.

    ``given`` (a script's ``--data``) when given, else ``$LTRKIT_SHARED_DATA`` when set, else ``../shared/data``
    beside the repository or the working directory. A folder named by ``given`` or the variable is the only one
    looked at: a name of no folder gives None (:func:`shared_data_missing` says why), never another folder's data.
    """
    named = given if given not in (None, "") else os.environ.get("LTRKIT_SHARED_DATA")
    if named:
        return Path(named) if Path(named).is_dir() else None
    for c in (_HERE.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if c.is_dir():
            return c
    return None


def shared_data_missing(given: str | os.PathLike | None = None) -> str:
    """Why :func:`shared_data_dir` ``(given)`` is None, in one line (``given``: a script's ``--data``)."""
    if given not in (None, ""):
        return f"--data {given}: no such folder"
    env = os.environ.get("LTRKIT_SHARED_DATA")
    if env:
        return f"LTRKIT_SHARED_DATA={env}: no such folder"
    return "the shared data sets are not found: set LTRKIT_SHARED_DATA or place them in ../shared/data"


def require_shared() -> bool:
    """True when a missing data set must fail (CI sets ``LTRKIT_REQUIRE_SHARED=1``) rather than skip."""
    return os.environ.get("LTRKIT_REQUIRE_SHARED", "") not in ("", "0")


def missing_reference(message: str) -> None:
    """Skip the calling test with ``message``, or fail it when ``LTRKIT_REQUIRE_SHARED=1`` (as in CI, where every
    reference implementation is installed, a missing one is a failure, not a silent skip)."""
    import pytest

    if require_shared():
        pytest.fail(message + " (LTRKIT_REQUIRE_SHARED=1 makes a missing reference an error)")
    pytest.skip(message, allow_module_level=True)


def import_reference(module: str):
    """Import an independent reference implementation (pytrec_eval, ranx, rank_bm25, ...) for a test, skipping the
    test when it is absent, or failing it under ``LTRKIT_REQUIRE_SHARED=1``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        missing_reference(f"reference implementation {module!r} is not installed ({e}); pip install -e '.[dev]'")


def import_neural(module: str):
    """Import a dependency of the ``neural-test`` extra (torch, transformers, sentence_transformers, the packaged
    model) for a test, offline (``HF_HUB_OFFLINE=1``): skip the test when it is absent, or fail it under
    ``LTRKIT_REQUIRE_NEURAL=1`` (as in CI, which installs the extra)."""
    import importlib

    import pytest

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if os.environ.get("LTRKIT_REQUIRE_NEURAL") == "1":
            pytest.fail(f"{module} is not installed ({e}); LTRKIT_REQUIRE_NEURAL=1 makes this an error")
        pytest.skip(f"{module} is not installed: pip install -e '.[neural-test]'", allow_module_level=True)


def sklearn_letor(path, n_features: int):
    """A (gzipped) LETOR file read by scikit-learn's svmlight reader, the tests' reader independent of ltr.io:
    dense float32 features, labels, and the query sizes in file order."""
    import gzip

    import numpy as np
    from sklearn.datasets import load_svmlight_file

    with gzip.open(path, "rb") as f:
        X, y, qid = load_svmlight_file(f, query_id=True, n_features=n_features)
    return X.toarray().astype(np.float32), y, np.diff(np.flatnonzero(np.diff(qid, prepend=-1, append=-1)))


def with_nans(X, rate: float, seed: int):
    """A copy of ``X`` with a share ``rate`` of its cells, drawn with ``seed``, set to NaN (missing values)."""
    import numpy as np

    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < rate] = np.nan
    return X


#: The parameters of the tiny ranker the tests train: a few shallow trees, one thread, no early stopping unless
#: asked; fast enough for every test, deterministic.
TINY = {"n_estimators": 8, "num_leaves": 7, "min_child_samples": 3, "n_jobs": 1, "random_state": 0,
        "early_stopping_rounds": None, "preset": None}


def tiny_ranker(**overrides):
    """A small :class:`ltr.Ranker` for tests (:data:`TINY`, with ``overrides``): the one shared copy."""
    from ltr import Ranker

    return Ranker(**{**TINY, **overrides})


def tiny_bert(folder: Path, words, *, masked_lm: bool = False, positions: int = 32) -> Path:
    """A one-layer BERT of random weights (seeded) whose vocabulary is BERT's five special tokens and ``words``,
    saved with its tokenizer in ``folder`` as transformers saves it (``masked_lm``: with the head a SPLADE encoder
    reads). For the neural tests, which build their models here: nothing is downloaded."""
    transformers = import_neural("transformers")
    import_neural("torch").manual_seed(0)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=positions)
    model = transformers.BertForMaskedLM(config) if masked_lm else transformers.BertModel(config)
    model.save_pretrained(str(folder))
    transformers.BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(str(folder))
    return folder
