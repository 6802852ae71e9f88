"""The model options every training command shares, built from :class:`ltr.Ranker`'s own defaults so that
``ltr train``, ``ltr cv`` and ``Ranker()`` cannot drift apart; the distillation options; the ranker a command's
arguments make; and ``--dask``'s client."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from ltr.cli._guard import UsageError, note
from ltr.cli._options import conventions, seed, subset_flag
from ltr.cli._words import MODEL_FLAGS, cli_words, config_words, flag_words

__all__ = [
    "add_dask_options",
    "add_model_options",
    "candidates_note",
    "check_distill_options",
    "dask_client",
    "file_feature_set",
    "check_device",
    "learned_teacher_warning",
    "make_ranker",
    "preset_flags",
    "refuse_per_row_teacher_in_folds",
    "refuse_teacher_column_in_subsets",
]




def file_feature_set(path) -> dict | None:
    """The feature-set description in a LETOR file's header (what ``ltr features`` wrote), or None: for a file
    without one, for a folder (a fold layout), or for ``None``."""
    if path is None or not os.path.isfile(path):
        return None
    from ltr.io.letor import read_header

    return read_header(path).get("feature_set")


def candidates_note(args: argparse.Namespace, feature_set) -> None:
    """Say, for data that ``ltr features`` wrote (``feature_set``: the description in its header), that the metrics
    count only the relevant documents among its candidates."""
    if feature_set:
        note(args, f"note: the data holds ltr features' candidates, so these metrics {CANDIDATES_ONLY}; for those, "
                   "evaluate a run of the scores (ltr cv --run-out R, or ltr predict MODEL DATA --run --out R) "
                   "with ltr evaluate --qrels Q --run R")
    if isinstance(feature_set, dict) and feature_set.get("add_judged") and args.command in ("cv", "tune"):
        print(f"ltr {args.command}: warning: {ADDED_JUDGED}", file=sys.stderr)


def compile_notice(args: argparse.Namespace, model, timed: str | None = None) -> None:
    """Say, before the pause, that this run compiles Numba kernels (the parser, the metrics, ``model``'s Numba loss
    or coordinate ascent) for many seconds; ``timed``: which reported time holds them (ltr cv's first fold took
    28 s where the others took 1 to 2, and ltr tune's help sizes --trials by those seconds; trial t62)."""
    from ltr._numba_cache import needs_compile

    kernel = model.objective if getattr(model, "kernel", None) == "numba" else None
    if needs_compile(kernel=kernel, engine=getattr(model, "engine", None)):
        note(args, "compiling Numba kernels (first run only; later runs load them from the cache)"
                   + (f": {timed}" if timed else ""))


def learned_teacher_warning(args: argparse.Namespace) -> None:
    """Warn, in ``ltr cv`` and ``ltr tune``, that one teacher of every fold must not have seen the data's labels
    (trial t53: a student taught by ltr cv --run-out of a LambdaMART on features of pure noise read NDCG@10 0.75,
    chance 0.31)."""
    given = [f"--{f.replace('_', '-')}" for f in ("teacher_model", "teacher_scores") if getattr(args, f, None)]
    if given:
        print(f"ltr {args.command}: warning: {given[0]} is the teacher of every fold: if it was fitted on this data's "
              "labels (a model trained on the file, or ltr cv --run-out of one), it carries each test fold's labels "
              "into its student, and the folds read far above what the student does; give a teacher that never saw "
              "these labels (a neural score column: --teacher-column), or cross-fit it as examples/hybrid_ranker.py "
              "does", file=sys.stderr)


#: What ltr cv, tune and compare say of data made with ``ltr features --add-judged`` (trial t52: Cranfield's MAP
#: 0.3064 -> 0.6119, "significant", from the judged documents the first stage missed, all ranked K+1).
#: What metrics computed on ``ltr features`` output are (candidates_note; ltr compare of such cv results).
CANDIDATES_ONLY = ("count only the relevant documents among them and read higher than trec_eval's over all the "
                   "judgments")
ADDED_JUDGED = ("the data was made with ltr features --add-judged: each query also holds the judged documents its "
                "first stage missed, all at first_stage_rank K+1, so a model learns the judgments from that and its "
                "test folds read far above what it does on a first stage's candidates; for an estimate, "
                "cross-validate data made without --add-judged (it is for training data only)")


def preset_flags(applied) -> str:
    """The small-data preset's settings (``preset_params_``) as the options that give them by hand: ``--leaves 15
    --learning-rate 0.02 ... --early-stopping 0 --param bagging_by_query=true``."""
    import json

    flags = {param: flag for flag, param, *_ in MODEL_FLAGS}
    out = []
    for key, value in dict(applied or {}).items():
        if key == "engine_params":
            out += [f"--param {k}={json.dumps(v)}" for k, v in dict(value or {}).items()]  # TOML reads JSON's
        elif key == "early_stopping_rounds":
            out.append(f"--early-stopping {value or 0}")
        elif key in flags:
            out.append(f"{flags[key]} {value:g}" if isinstance(value, float) else f"{flags[key]} {value}")
        else:  # a parameter without a flag of its own
            out.append(f"--param {key}={json.dumps(value)}")
    return " ".join(out)


def _check_model(model, args: argparse.Namespace) -> None:
    """The ranker's own parameter checks, their errors worded with the command line's flags (usage errors); an
    engine parameter from ``--config`` is named by the file."""
    from ltr.exceptions import ParameterValueError

    if getattr(args, "dask", None):  # first: the ranker's own hints (--kernel numba) are refused under --dask
        from ltr.dask import ENGINES, check_config

        given = getattr(args, "given_", set())  # the engine that will train, as dask_client resolves it
        if {"engine", "dask_engine"} <= given and args.engine in ENGINES and args.engine != args.dask_engine:
            raise UsageError(f"--engine {args.engine} contradicts --dask-engine {args.dask_engine}: pass one engine")
        engine = args.dask_engine if "dask_engine" in given or model.engine not in ENGINES else model.engine
        try:
            check_config(model, engine=engine, validation=False)
        except ParameterValueError:
            pass  # worded below, as without --dask
    try:
        model._check_params()
    except ParameterValueError as e:
        if getattr(args, "dask", None):
            from ltr.dask import device_param_error

            dask_error = device_param_error(e, model.engine_params)
            if dask_error is not None:
                raise UsageError(dask_error.cli_message()) from None
        path = getattr(args, "config_params_", {}).get(e.key)
        if path is None or e.reason is None:
            raise UsageError(cli_words(e)) from None
        # the fix in the command line's words, as its keys are, but the file's key as the file spells it
        kept = re.sub(rf"\b{re.escape(e.key)}\b(?!=)", "\0", e.reason)  # (a key=value is a fix: as its flag)
        reason = e.cli_reason or flag_words(kept).replace("\0", e.key)
        raise UsageError(f"--config {path}: [params] {e.key}: {reason}") from None
    except ValueError as e:
        said = _objective_param_from_config(str(e), args)
        raise UsageError(said or config_words(cli_words(e), args)) from None
    except TypeError as e:  # an unknown option of the objective (objective_params), named by its flag
        said = str(e)
        if not said.startswith("unknown option"):
            raise
        raise UsageError(_objective_param_from_config(said, args) or f"--objective-param: {said}") from None


def _objective_param_from_config(said: str, args: argparse.Namespace) -> str | None:
    """An objective option's error (``sigma must be ...``, ``unknown option 'x' ...``) named by the ``--config``
    file and its ``[objective_params]`` key, when the file set that option; None otherwise."""
    said = said.removeprefix("objective_params: ")  # (the Python wording of an option's value refused)
    for key, path in getattr(args, "config_objective_params_", {}).items():
        if said.startswith((f"{key} ", f"{key}:", f"unknown option {key!r}")):
            return f"--config {path}: [objective_params] {key}: {said}"
    return None


def _ranker_defaults() -> dict[str, Any]:
    from ltr.rankers.ranker import Ranker

    return {k: v.default for k, v in inspect.signature(Ranker.__init__).parameters.items() if k != "self"}


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The ranker's options, with :class:`ltr.Ranker`'s defaults, choices from the registries, and engine
    parameters by name (``--param``) or from a TOML file (``--config``)."""
    from ltr.rankers.normalize import GLOBAL_METHODS, QUERY_METHODS
    from ltr.rankers.presets import PRESET_NAMES
    from ltr.rankers.ranker import DEVICES, ENGINES, KERNELS, objective_names

    d = _ranker_defaults()
    g = p.add_argument_group("model (defaults are ltr.Ranker's)")
    g.add_argument("--objective", default=d["objective"], metavar="OBJECTIVE",
                   help=f"training objective: {', '.join(objective_names())}; with --engine linear, the metric to "
                        "maximise (ndcg@10, map, err@10, ...; lambdarank stands for ndcg@10)")
    g.add_argument("--engine", default=d["engine"], choices=ENGINES,
                   help="gradient-boosting engine, or linear: coordinate ascent on the metric (RankLib's; settings "
                        "by --param n_restarts=10, reg=0.01, ...)")
    g.add_argument("--preset", default=d["preset"] or "none", choices=(*PRESET_NAMES, "none"),
                   help="tree defaults for small query sets (ltr.rankers.presets): small = 15 leaves of >= 100 "
                        "rows, rate 0.02, L2 10, feature and query bagging; auto = small below 500 training "
                        "queries; none = the standard defaults always; options given here win over the preset")
    g.add_argument("--kernel", default=d["kernel"], choices=KERNELS,
                   help="the engine's native objective, or the toolkit's Numba gradient kernel. The lambdarank "
                        "kernel trains the native model with the engine's pair rule (--objective-param "
                        "mode=lightgbm; mode=xgboost and --param base_score=0 for XGBoost, whose rank:ndcg "
                        "estimates a base score; the default mode=exact takes LightGBM's pairs, truncation level "
                        "30, in float64 arithmetic, and differs in the last digits) and "
                        "without sampling: the small-data preset's query and feature bagging samples otherwise in "
                        "LightGBM with a kernel, so compare them with --preset none. XGBoost's rank:pairwise picks "
                        "its own pairs and normalises as LambdaMART does, so the ranknet kernel (every pair) differs "
                        "from it; --objective logistic's kernel starts from 0, the native one from the log-odds of "
                        "the labels (boost_from_average)")
    g.add_argument("--device", default=d["device"], choices=DEVICES,
                   help="gpu: LightGBM's OpenCL learner or XGBoost's CUDA (see `ltr doctor`)")
    for flag, param, typ, text in MODEL_FLAGS:
        typ = seed if param == "random_state" else typ  # the engines take it mod 2**32: 2**32 trained seed 0's model
        # the seed given as the seed used: None trains as 0, and was recorded as null in results and reports, which a
        # model rebuilt from the record took for LightGBM's own seeds (trial t71)
        default = 0 if param == "random_state" and d[param] is None else d[param]
        g.add_argument(flag, type=typ, default=default, dest=param, help=text,
                       metavar=flag.lstrip("-").upper().replace("-", "_"))
    g.add_argument("--early-stopping", type=int, default=None, dest="early_stopping", metavar="ROUNDS",
                   help=f"stop when the validation metric has not improved for ROUNDS rounds; 0: off (default: "
                        f"{d['early_stopping_rounds']} when a validation set is given, but off under the small-data "
                        "preset, which trains its fixed rounds unless this or --early-stopping-metric is given); trees "
                        "only: --engine linear refuses it (it runs "
                        "its passes to --param tolerance)")
    g.add_argument("--early-stopping-metric", default=None, dest="early_stopping_metric", metavar="METRIC",
                   help="the validation metric that drives early stopping (default: ndcg@10); trees only: with "
                        "--engine linear, RankLib's -metric2t (the metric trained) is --objective, and this is "
                        "refused. --engine linear's --param settings (n_restarts = RankLib's -r, n_steps = -i, "
                        "tolerance, reg, standardize, gain) and their RankLib names: README, 'Learners and tuning "
                        "for small query sets'")
    g.add_argument("--normalize", default=None,
                   choices=("zscore", "minmax", "linear", "sum", *(f"global-{m}" for m in GLOBAL_METHODS)),
                   help="feature normalisation stored with the model: per query (zscore, minmax = linear, sum; "
                        "RankLib's -norm: zscore, sum and linear as RankLib 2.10's, linear but for a feature negative "
                        "throughout a query) "
                        "or global (fitted on the training data)")
    assert set(QUERY_METHODS) <= {"zscore", "minmax", "sum"}
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", dest="params",
                   help="an engine parameter by the engine's own name, e.g. --param lambdarank_truncation_level=20 "
                        "(repeatable; unknown names are refused)")
    g.add_argument("--objective-param", action="append", default=[], metavar="KEY=VALUE", dest="objective_params",
                   help="an objective option in the kernels' vocabulary (sigma, truncation_level, norm, "
                        "label_gain, mode; distill's margin_pairs=all|labels; repeatable)")
    g.add_argument("--dataset-cache", default=None, dest="dataset_cache", metavar="DIR",
                   help="keep LightGBM's binned training data in DIR and reuse it while the data and the binning "
                        "parameters are unchanged (Ranker(dataset_cache=DIR))")
    g.add_argument("--config", default=None, metavar="FILE.toml",
                   help="model options from a TOML file: keys are these options' names (rounds, learning-rate, "
                        "...; learning_rate, as in Python, too), tables [params] and [objective_params] hold engine "
                        "and objective parameters; a flag given on the command line wins over the file's key of the "
                        "same name, and one setting given under two names (--leaves against [params] num_leaves) is "
                        "refused")
    _add_distill_options(p)


def _add_distill_options(p: argparse.ArgumentParser) -> None:
    # Defaults are SUPPRESS: a flag not given leaves the kernel's default (or --objective-param's value) alone.
    g = p.add_argument_group("distillation (--objective distill --kernel numba; see ltr.kernels.distill)")
    g.add_argument("--teacher-column", default=argparse.SUPPRESS, dest="teacher_column", metavar="ID|NAME",
                   help="the teacher is this column of the data (1-based feature id or feature name, the file's "
                        "also with --features); the student never uses it, and the saved model ignores it in the "
                        "data it scores")
    g.add_argument("--teacher-scores", default=argparse.SUPPRESS, dest="teacher_scores", metavar="FILE",
                   help="the teacher's scores: one per training row (as ltr predict writes), or a TREC run or "
                        "qid<TAB>docid<TAB>score lines joined on query and document ids (the forms ltr cv's folds "
                        "can use)")
    g.add_argument("--teacher-model", default=argparse.SUPPRESS, dest="teacher_model", metavar="MODEL",
                   help="the teacher is this saved model, scored on the training data (it needs the data's "
                        "features)")
    g.add_argument("--temperature", type=float, default=argparse.SUPPRESS, metavar="T",
                   help="softmax temperature of teacher and student scores, T > 0 (default: 1)")
    g.add_argument("--alpha", type=float, default=argparse.SUPPRESS, metavar="A",
                   help="weight of the lambdarank term on the labels, in [0, 1]; 0 learns from the teacher alone, "
                        "so unjudged queries (label 0) can be used (default: 0)")
    g.add_argument("--margin-weight", type=float, default=argparse.SUPPRESS, dest="margin_weight", metavar="W",
                   help="weight of Margin-MSE (Hofstaetter et al.) on score differences next to the softmax "
                        "cross-entropy (default: 0, none); its pairs: --objective-param margin_pairs=all (every "
                        "pair, the default) or labels (pairs whose labels differ)")


def _distill_params(args: argparse.Namespace, objective_params: dict[str, Any]) -> dict[str, Any]:
    """``objective_params`` with the distillation flags applied (flags win); refuses them for other objectives."""
    teachers = [f for f in ("teacher_column", "teacher_scores", "teacher_model") if hasattr(args, f)]
    scalars = [f for f in ("temperature", "alpha", "margin_weight") if hasattr(args, f)]
    if args.objective != "distill":
        if teachers or scalars:
            flag = "--" + (teachers + scalars)[0].replace("_", "-")
            raise UsageError(f"{flag} is an option of --objective distill (the objective is {args.objective})")
        return objective_params
    if getattr(args, "dask", None):  # (--kernel numba, the fix below, is refused under --dask)
        raise UsageError("--objective distill is a Numba kernel, which runs in one process: drop --dask to train it")
    if args.kernel != "numba":
        raise UsageError("--objective distill is a Numba kernel: add --kernel numba")
    for name, ok, says in (("temperature", lambda v: v > 0, "> 0"), ("alpha", lambda v: 0 <= v <= 1, "in [0, 1]"),
                           ("margin_weight", lambda v: v >= 0, ">= 0")):
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and ok(value)):
            raise UsageError(f"--{name.replace('_', '-')} {value:g}: a {'' if says.startswith('in') else 'finite '}"
                             f"number {says}")
    if len(teachers) > 1:
        raise UsageError(f"give one teacher, not {' and '.join('--' + t.replace('_', '-') for t in teachers)}")
    out = dict(objective_params)
    if teachers:
        if "teacher" in out:
            raise UsageError(f"--{teachers[0].replace('_', '-')} and --objective-param teacher=... both name a "
                             "teacher; give one")
        value = getattr(args, teachers[0])
        if teachers[0] == "teacher_column":
            out["teacher"] = {"column": int(value) if value.isdigit() else value}
        elif teachers[0] == "teacher_scores":
            if Path(value).is_dir():
                raise IsADirectoryError(f"{value}: is a folder, not a score file")
            if Path(value).exists() and not Path(value).is_file():  # a pipe (<(...)), a FIFO, a device
                raise UsageError(f"--teacher-scores {value}: not a regular file (a pipe?): the teacher's scores are "
                                 "read more than once (their first lines tell one score a row from a run), which a "
                                 "pipe cannot give; write them to a file first")
            if not Path(value).is_file():  # the option named (the OS's words named the file alone)
                raise FileNotFoundError(f"--teacher-scores {value}: no such file")
            out["teacher"] = {"scores": value}
        else:
            from ltr.rankers import load_model
            from ltr.rankers.teacher import TeacherModel

            out["teacher"] = TeacherModel(load_model(value), source=value)
    elif "teacher" not in out:
        raise UsageError("--objective distill needs a teacher: --teacher-column, --teacher-scores or --teacher-model")
    for f in scalars:
        out[f] = getattr(args, f)
    idle = [f"--{f.replace('_', '-')}" for f in ("temperature", "margin_weight") if f in scalars]
    if getattr(args, "alpha", None) == 1 and idle:  # the loss is lambdarank's alone: the teacher's terms weigh 0
        note(args, f"note: --alpha 1 trains on the labels alone (lambdarank), so {' and '.join(idle)} and the "
                   "teacher change nothing; an alpha below 1 mixes the teacher in")
    weight = out.get("margin_weight") or 0
    if "margin_pairs" in out and isinstance(weight, (int, float)) and not weight > 0:  # taken without a word (t57)
        note(args, f"note: margin_pairs={out['margin_pairs']} changes nothing without a Margin-MSE term: add "
                   "--margin-weight W (W > 0)")
    return out


def _eval_params(args: argparse.Namespace) -> dict | None:
    """The command's metric conventions (:func:`conventions`) that differ from :func:`ltr.metrics.evaluate`'s
    defaults: the metrics recorded while training (and early stopping) follow them as the reported ones do."""
    from ltr.metrics import evaluate

    default = {k: p.default for k, p in inspect.signature(evaluate).parameters.items()}
    given = getattr(args, "given_", set())  # (--gain exp2 given: kept, as it says the gain is meant)
    out = {k: v for k, v in conventions(args).items() if v != default[k] or k in given}
    return out or None


def _gradient_only(objective: str) -> bool:
    """A training objective of the boosting engines that is no metric the linear engine could optimise."""
    from ltr.rankers.linear import linear_objective
    from ltr.rankers.ranker import objective_names

    if objective not in objective_names():
        return False
    try:
        linear_objective(objective)
    except ValueError:
        return True
    return False


def check_distill_options(args: argparse.Namespace) -> None:
    """Refusals that ``make_ranker`` would word as two contradicting fixes (``--engine linear`` with a gradient
    objective), or would settle silently (a distillation flag and ``--objective-param`` giving the same option)."""
    from ltr.rankers.params import parse_assignments

    if args.engine == "linear" and _gradient_only(args.objective):
        raise UsageError(f"--objective {args.objective} is a gradient objective: it needs --engine lightgbm or "
                         "xgboost (with --kernel numba where it is a Numba kernel); --engine linear optimises a "
                         "metric directly by coordinate ascent (--objective ndcg@10, map, err@10, ...)")
    if args.objective != "distill":
        return
    try:
        params = parse_assignments(args.objective_params, what="--objective-param")
    except ValueError:
        return  # make_ranker says what is wrong with it
    from_config = getattr(args, "config_objective_params_", {})  # [objective_params] keys --config set
    for name in ("temperature", "alpha", "margin_weight"):
        if hasattr(args, name) and name in params:
            flag = "--" + name.replace("_", "-")
            flag_in_config = name in getattr(args, "config_keys_", {})
            if name in from_config and not flag_in_config:  # the command line's flag wins over the file, as
                # everywhere else (it was refused, blaming an --objective-param never given; trial t57)
                args.objective_params = [a for a in args.objective_params if a.split("=", 1)[0].strip() != name]
                continue
            if name in from_config:
                raise UsageError(f"--config {from_config[name]}: {name} and [objective_params] {name} both set "
                                 f"distill's {name}; give one")
            raise UsageError(f"{flag} {getattr(args, name):g} and --objective-param {name}={params[name]} both set "
                             f"distill's {name}; give one")


def refuse_teacher_column_in_subsets(args: argparse.Namespace) -> None:
    """``--teacher-column`` with ``--features``/``--drop-features`` where the folds are cut from the data (``ltr cv``,
    ``ltr tune``): the column would be counted within the subset (``--features 1,3,5 --teacher-column 3`` took
    feature 5), so it is refused; ``ltr train`` resolves it as the file's feature id."""
    if hasattr(args, "teacher_column") and (getattr(args, "features", None) or getattr(args, "drop_features", None)):
        flag = subset_flag(args)
        raise UsageError(f"--teacher-column {args.teacher_column} with {flag}: under cross-validation the column "
                         "would be counted within the subset; give the teacher as --teacher-scores (a run) or "
                         "--teacher-model, or leave the subset out")


def check_device(args: argparse.Namespace, model) -> None:
    """``--device gpu`` with no GPU for the engine here: refused before ``ltr cv`` or ``ltr tune`` announces its
    plan (the refusal came after it, two lines for one mistake: trial t71), as ``ltr train`` refuses it; with
    ``--dask`` the workers' devices count, and their engine says."""
    if getattr(args, "device", "cpu") != "gpu" or getattr(args, "dask", None):
        return
    from ltr.gpu import engine_device_params

    engine_device_params(model.engine, "gpu", model.engine_params)


def refuse_per_row_teacher_in_folds(args: argparse.Namespace) -> None:
    """``--teacher-scores`` of one score per line (a training file's rows in order) where each fold trains on rows
    of its own (``ltr cv``, ``ltr tune``): refused before any data is read. It was refused by a count after the
    first fold had started ('6750 teacher scores for 3360 training rows', the data's right count called wrong:
    trial t71), and folds of train files that happened to hold as many rows as the file would each have read it
    as their own rows."""
    path = getattr(args, "teacher_scores", None)
    if not path or not Path(path).is_file():
        return
    from ltr.rankers.teacher import per_row_scores

    if per_row_scores(path):
        raise UsageError(f"--teacher-scores {path}: under cross-validation each fold trains on rows of its own, "
                         "which one score per line cannot follow; give the teacher as a TREC run or "
                         "qid<TAB>docid<TAB>score lines (joined on query and document ids), as --teacher-model, or "
                         "as a column of the data (--teacher-column)")


def _check_dataset_cache(cache: str | None) -> None:
    """``--dataset-cache``: a file there, or a folder this user cannot write, said before the data is read (it was
    os.makedirs' "File exists", or LightGBM's "Cannot write binary data" naming a temporary file, after the read)."""
    if not cache:
        return
    path = Path(cache)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--dataset-cache {cache}: is a file, not a folder")
    folder = path
    while not folder.exists() and folder != folder.parent:  # the folder the cache folder is made in
        folder = folder.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--dataset-cache {cache}: the folder {folder} is not writable")
    if folder != path and folder.is_dir():  # a place where no folder can be made (/proc, where root may write)
        first = path  # was said as "/proc/dsc: no such file or folder", naming no option (trial t65): tried, and
        while first.parent != folder:  # undone (a run refused later leaves nothing made)
            first = first.parent
        try:
            first.mkdir()
        except FileExistsError:  # made meanwhile
            pass
        except OSError as e:
            why = e.strerror[:1].lower() + e.strerror[1:] if e.strerror else type(e).__name__
            raise UsageError(f"--dataset-cache {cache}: no folder can be made in {folder} ({why})") from None
        else:
            with contextlib.suppress(OSError):  # another run sharing the new cache may have filled it meanwhile
                first.rmdir()


def _one_setting(args: argparse.Namespace, engine_params: dict, given: set, key: str, flag: str, default) -> None:
    """The command's option ``flag`` (reporting) and the linear engine's parameter ``key`` (training) as one setting:
    the option, when not the engine's default, is passed on; ``--param KEY=`` alone sets what the command reports
    (it trained one metric and reported another); the two given apart are refused (``--dataset`` gives
    ``--max-grade``)."""
    value = getattr(args, key)
    if key not in engine_params:
        if value != default:
            engine_params[key] = value
        return
    try:
        param = type(default)(engine_params[key])
    except (TypeError, ValueError):  # the engine's own check names the value
        return
    if key in given or (key == "max_grade" and getattr(args, "dataset", None)):
        if param != value:
            shown = f"{value:g}" if isinstance(value, float) else value
            raise UsageError(f"{flag} {shown} and --param {key}={engine_params[key]} disagree: --engine linear "
                             f"optimises the metric it reports with {flag}; give one of them")
        return
    setattr(args, key, param)


def make_ranker(args: argparse.Namespace, *, has_valid: bool):
    """A :class:`ltr.Ranker` from the model options (refusing options that would be ignored)."""
    from ltr.rankers.params import parse_assignments
    from ltr.rankers.ranker import Ranker

    check_distill_options(args)
    d = _ranker_defaults()
    stopping = args.early_stopping
    given = getattr(args, "given_", set())
    if args.engine == "linear":  # options a linear model would ignore are refused, as the tree parameters are
        for flag, value in (("--early-stopping", stopping), ("--early-stopping-metric", args.early_stopping_metric)):
            if value is not None:
                raise UsageError(f"{flag} {value}: --engine linear does not use it; the metric coordinate ascent "
                                 "optimises is --objective (RankLib's -metric2t); with --valid it chooses the restart "
                                 "by that metric")
        convention = getattr(args, "convention", "default")
        if convention != "default":
            raise UsageError(f"--convention {convention} with --engine linear: coordinate ascent optimises the "
                             "toolkit's own metric (--gain, no tie or cutoff rules of another tool), so the metric "
                             "reported would not be the one trained; leave --convention default")
    if stopping is not None and stopping < 0:  # the value first: its own error, with or without --valid
        raise UsageError(f"--early-stopping must be >= 0, got {stopping}")
    if not has_valid:
        where = ("ltr tune cuts no validation part from its folds: every model trains --rounds rounds, which the "
                 "space can search (n_estimators)" if args.command == "tune" else
                 # the option that took it away, named (trial t65)
                 "--no-vali cuts the folds without one: leave out one of the two" if getattr(args, "no_vali", False)
                 else "--valid, or a cv with vali parts")
        if stopping:
            raise UsageError(f"--early-stopping needs a validation set to watch ({where})")
        if args.early_stopping_metric:
            raise UsageError(f"--early-stopping-metric needs a validation set ({where})")
    rounds = d["early_stopping_rounds"] if stopping is None else (stopping or None)
    if stopping is not None and stopping < 0:
        raise UsageError(f"--early-stopping must be >= 0, got {stopping}")
    try:
        engine_params = parse_assignments(args.params, what="--param")
        objective_params = parse_assignments(args.objective_params, what="--objective-param")
    except ValueError as e:
        raise UsageError(str(e)) from None
    objective_params = _distill_params(args, objective_params)
    if args.engine == "linear":  # the learner optimises the metric the command reports: one setting each
        if getattr(args, "gain", None):
            _one_setting(args, engine_params, given, "gain", "--gain", "exp2")
        # ERR's top grade, whatever the metric optimised: a space of ltr tune may draw an ERR objective (which
        # trained at grade 4 beside --max-grade 2), and the ranker reads it for ERR alone
        if getattr(args, "max_grade", None) is not None:
            _one_setting(args, engine_params, given, "max_grade", "--max-grade", 4.0)
    kw = {param: getattr(args, param) for _, param, _, _ in MODEL_FLAGS}
    # Options given on the command line (or in --config) win over the small-data preset, even at default values.
    keep = tuple(param for _, param, _, _ in MODEL_FLAGS if param in given)
    if "early_stopping" in given:  # (a metric to stop on asks for stopping too: apply_preset's rule)
        keep += ("early_stopping_rounds",)
    _check_dataset_cache(getattr(args, "dataset_cache", None))
    engine = args.engine
    if getattr(args, "dask", None) and "engine" not in given and engine != "linear":
        engine = args.dask_engine  # the engine that trains (xgboost by default): its objectives are checked
    model = Ranker(objective=args.objective, engine=engine, kernel=args.kernel, device=args.device,
                   early_stopping_rounds=rounds, early_stopping_metric=args.early_stopping_metric,
                   eval_params=_eval_params(args),
                   engine_params=engine_params or None, objective_params=objective_params or None,
                   n_jobs=getattr(args, "n_jobs", None), normalize=args.normalize,
                   preset=None if getattr(args, "preset", "none") == "none" else args.preset, preset_keep=keep,
                   dataset_cache=None if getattr(args, "dask", None) else getattr(args, "dataset_cache", None),
                   **kw)  # (with --dask a dataset cache does not apply, as dask_client's note says)
    _check_model(model, args)  # bad parameters are refused before any data is read
    return model


# -- distributed training ---------------------------------------------------------------------------------------
def add_dask_options(p: argparse.ArgumentParser, *, shards: bool = True) -> None:
    """``--dask`` and its options; ``shards``: TRAIN may be a glob of shards read on the workers (``ltr train``),
    else the data is read here and each fit trains on the cluster (``ltr cv``)."""
    g = p.add_argument_group("distributed training (the dask extra)")
    read = ("TRAIN may then be a glob of LETOR shards, each read on a worker" if shards else
            "the data is read in this process and each fold's model trains on the cluster")
    g.add_argument("--dask", default=None, metavar="SCHEDULER",
                   help="train on a Dask cluster: a scheduler address (tcp://host:8786), or local:N for a LocalCluster "
                        f"of N worker processes here (local alone: local:2); {read} (see ltr.dask)")
    g.add_argument("--dask-engine", default="xgboost", choices=("xgboost", "lightgbm"), dest="dask_engine",
                   help="engine of distributed training: xgboost.dask, or LightGBM's DaskLGBMRanker (no early "
                        "stopping); default: --engine's when it is given, else xgboost; an --engine that names the "
                        "other engine (or linear, which trains in one process) is refused")
    g.add_argument("--dask-timeout", type=float, default=30.0, dest="dask_timeout", metavar="SECONDS",
                   help="how long to wait for the scheduler before giving up")


@contextlib.contextmanager
def dask_client(args: argparse.Namespace, model=None, *, validation: bool = True):
    """The Dask client of ``--dask`` (None without it); ``model`` (the Ranker to train, on ``validation`` sets or
    not) is checked first (:func:`ltr.dask.check_config`), so that a configuration the cluster cannot train costs no
    cluster start-up."""
    given = getattr(args, "given_", set())
    if not getattr(args, "dask", None):  # its own options without it were refused with the config (apply_config)
        yield None
        return
    if "engine" in given and "dask_engine" not in given and args.engine in ("xgboost", "lightgbm"):
        args.dask_engine = args.engine  # --engine lightgbm trained XGBoost (--dask-engine's default), silently
    if args.dask_engine == "lightgbm" and "early_stopping" in given and args.early_stopping:  # 0: off, as it is
        raise UsageError("--early-stopping with --dask-engine lightgbm: LightGBM's Dask ranker has no early "
                         "stopping (--dask-engine xgboost has)")
    why = {"n_jobs": ("--n-jobs", "each worker trains with its Dask threads on the shards it holds"),
           "parallel_folds": ("--parallel-folds", "folds train one after another on the cluster"),
           "dataset_cache": ("--dataset-cache", "the workers keep no dataset cache"),
           "log_every": ("--log-every", "the engines' Dask training logs no rounds")}
    unused = [why[dest] for dest in why if dest in given]
    if unused:  # only the reasons of the options given: ltr train has no folds
        verb = "does" if len(unused) == 1 else "do"
        note(args, f"note: {', '.join(flag for flag, _ in unused)} {verb} not apply with --dask: "
                   f"{'; '.join(reason for _, reason in unused)}")
        if model is not None and "n_jobs" in given:  # said here: not again by ltr.dask.fit's warning
            model.set_params(n_jobs=None)
    from ltr.dask import check_config, connect

    if model is not None:
        check_config(model, engine=args.dask_engine, validation=validation)
    with connect(args.dask, timeout=args.dask_timeout) as client:
        yield client
