"""``ltr info FILE...``: what LETOR files hold (queries, rows, features, labels, sidecars used), and what model files
hold (engine, objective, rounds, trees, features, what the sidecar records, the feature importance table)."""

from __future__ import annotations

import argparse
import sys
import textwrap

from ltr.cli._data import read_data, trec_file
from ltr.cli._files import emit
from ltr.cli._guard import UsageError, add_command, error_message, note, visible
from ltr.cli._model import preset_flags
from ltr.cli._options import add_format, add_quiet, add_reader_options, refuse_shared_sidecars

__all__ = ["model_summary", "register", "run", "summaries"]

_NEITHER = ("nor is it a model file (ltrkit's MODEL with MODEL.meta.json, a LightGBM model text, an XGBoost JSON or "
            "UBJSON model)")


def register(sub) -> None:
    p = add_command(sub, "info", "summarise LETOR files (queries, rows, features, labels, sidecars) or model files "
                                 "(engine, objective, rounds, trees, features, feature importance)")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="LETOR / svmlight files (.gz too), or model files: ltrkit's (MODEL with MODEL.meta.json), a "
                        "plain LightGBM model text or an XGBoost JSON / UBJSON model (told apart by their content)")
    p.add_argument("--top", type=int, default=20, metavar="N",
                   help="models: the N features of largest gain in the importance table; 0: all (default: "
                        "%(default)s)")
    add_reader_options(p)
    add_format(p)
    add_quiet(p)
    p.set_defaults(func=run)
    p.epilog = textwrap.fill(
        "A model's importance table is LightGBM's Booster.feature_importance('gain') (total gain of the splits on a "
        "feature) and ('split') (their number), over the rounds the model predicts with (XGBoost: get_score "
        "'total_gain' and 'weight'). --format csv prints that table as CSV (the summary on standard error); "
        "--format json prints everything.", 100)


def summaries(args: argparse.Namespace, paths: list[str]) -> list[dict]:
    import numpy as np

    from ltr.datasets import dataset_summary

    out = []
    for path in paths:
        s = dataset_summary(read_data(args, path), path)
        sizes = np.asarray(s.pop("rows_per_query"))
        s["rows_per_query"] = {"min": int(sizes.min()), "median": float(np.median(sizes)), "max": int(sizes.max())}
        s["sidecars"] = {k: v for k, v in s.pop("sources").items() if k != "data"}
        out.append(s)
    return out


def _load_model(path: str):
    """The model at ``path`` with the notes its loading gave (a plain model's warning), via :func:`ltr.load_model`."""
    import warnings

    from ltr.rankers import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(path)
    return model, [error_message(w.message) for w in caught]


def _model_or_data(args: argparse.Namespace, path: str):
    """``("model", (model, notes))`` or ``("data", summary)``: a file with an ltrkit sidecar is a model; another is
    read as LETOR, and when its first line is not LETOR, loaded as a model (the loader tells a LightGBM text or an
    XGBoost JSON / UBJSON model by its content). A file that is neither keeps the LETOR reader's error."""
    from pathlib import Path

    from ltr.exceptions import FileFormatError, LetorFormatError, NotAModelError
    from ltr.rankers.sidecar import find_meta_path

    p = Path(path)
    if not p.exists() and path != "-":  # a LETOR file or a model: the reader's "LETOR file not found" would guess
        from ltr.io.files import not_found

        raise not_found(path)
    if p.is_file() and (find_meta_path(p).is_file() or p.name.endswith(".meta.json")):
        return "model", _load_model(path)  # (a sidecar given: the loader names its model, where the LETOR reader
        # said "the label is not a number (token '{')": trial t72)
    if p.is_file() and _compressed_model(p):
        return "model", _load_model(path)  # raises: the loader's error says to decompress it
    kind = _result_kind(p) if p.is_file() else None
    if kind is not None:  # (read as LETOR: "the label is not a number (token '{')"; trial t72)
        from ltr.cli._guard import UsageError

        raise UsageError(f"{path}: an ltrkit {kind} result (JSON), neither LETOR data nor a model: ltr report renders "
                         "it" + (", ltr compare compares it with others" if kind == "cv" else ""))
    if p.is_file() and _looks_like_a_model(p):
        try:
            return "model", _load_model(path)
        except NotAModelError:  # neither: the LETOR reader's error says what is wrong, with the models' hint
            pass
    try:
        return "data", summaries(args, [path])[0]
    except FileFormatError as e:
        if e.line not in (None, 1) or not p.is_file():  # a LETOR file with a bad line further on
            raise
        if e.path and Path(e.path).resolve() != p.resolve():  # its .query or .weight sidecar's error, not its own
            raise
        try:
            return "model", _load_model(path)
        except NotAModelError:  # a model the loader recognised but refuses (truncated, edited) says why itself
            if e.fix or e.hint:  # neither: the LETOR reader's one line says what is wrong
                raise e from None
            if _says_what_it_is(p):  # plainly LETOR, or a kind the reader names: no list of model formats
                raise e from None
            raise LetorFormatError(e.reason, e.path, e.line, e.token, offset=e.offset,
                                   hint=trec_file(path) or _NEITHER) from None


def _says_what_it_is(path) -> bool:
    """Whether the reader's error alone tells the user what the file is: a file of a kind it names (a tar or zip
    archive, UTF-16 text), or one whose first data line starts as a LETOR line does (a number, then ``qid:`` or an
    ``id:value`` pair), so that listing the model formats it is not would only add noise."""
    import lzma
    import zlib

    from ltr.exceptions import FileFormatError
    from ltr.io.files import open_binary, refuse_utf16

    try:
        with open_binary(path) as f:
            head = f.read(1 << 16)
        refuse_utf16(head, path)
    except (FileFormatError, OSError, EOFError, zlib.error, lzma.LZMAError):  # named, or a broken compressed stream
        return True
    for line in head.splitlines()[:100]:
        tokens = line.split(b"#", 1)[0].split()
        if not tokens:
            continue
        try:
            float(tokens[0])
        except ValueError:
            return False
        return len(tokens) > 1 and b":" in tokens[1]
    return False


def _compressed_model(path) -> bool:
    """Whether the file is gzip, bzip2 or xz data holding a model: LightGBM's ``tree`` line, XGBoost's old
    ``binf``, or JSON/UBJSON naming XGBoost's ``learner`` or ltrkit's linear format in its first 64 KiB (any other
    compressed JSON, a cv result, is left to the LETOR reader's error)."""
    import lzma
    import zlib

    from ltr.io.files import compression, open_binary
    from ltr.rankers.linear import LINEAR_FORMAT

    try:
        with open(path, "rb") as f:
            if compression(f.read(6)) is None:
                return False
        with open_binary(path) as f:
            head = f.read(1 << 16)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return False
    if head.startswith((b"tree\n", b"tree\r\n", b"binf")):
        return True
    return head.startswith(b"{") and (b"learner" in head or LINEAR_FORMAT.encode() in head)


def _result_kind(path) -> str | None:
    """``"cv"`` or ``"compare"`` for a file that opens as an ``ltr cv`` / ``ltr compare`` result does (its first
    keys, as :func:`ltr.evaluation.results` writes them), else None."""
    import re

    try:
        with open(path, "rb") as f:
            head = f.read(256).decode("utf-8", "replace")
    except OSError:
        return None
    found = re.match(r'\{\s*"format":\s*"ltrkit-result/\d+",\s*"kind":\s*"(\w+)"', head)
    return found.group(1) if found else None


def _looks_like_a_model(path) -> bool:
    """Whether the file starts as a model, which no LETOR line can: LightGBM's ``tree`` line, JSON or UBJSON's
    ``{``, XGBoost's old ``binf`` (the LETOR reader's first pass could report a later line of such a file first:
    a LightGBM ``feature_infos=[0.0061...:0.99]`` line read as a feature id)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith((b"tree\n", b"tree\r\n", b"{", b"binf"))


def model_summary(model, path: str, top: int = 20, notes: list[str] | None = None) -> dict:
    """What a loaded model holds: engine, objectives, rounds, trees and leaves, features, the sidecar's records,
    and the ``top`` rows of :func:`ltr.evaluation.importance.importance_table` (all for 0)."""
    from ltr._dataset import placeholder_names
    from ltr.evaluation.importance import importance_table
    from ltr.evaluation.selection import recorded_features

    plain = bool(getattr(model, "plain_model_", False))  # no ltrkit sidecar: no parameters, conventions, names
    names = getattr(model, "feature_names_in_", None)
    names = None if names is None or placeholder_names(names) else [str(n) for n in names]
    params = {} if plain else model.get_params(deep=False)
    s = {"name": path, "kind": "model", "engine": model.engine, "ltrkit_sidecar": not plain,
         "objective": None if plain else params.get("objective"), "engine_objective": None,
         "rounds": int(model.best_iteration_), "rounds_in_file": None, "trees": None, "leaves": None,
         "n_features": int(model.n_features_in_), "feature_names": names}
    if model.engine != "linear":
        from ltr.trees import from_booster

        ens = from_booster(model.booster_)
        used = min(int(model.best_iteration_) * ens.trees_per_iteration, ens.n_trees)
        s.update(engine_objective=ens.objective, rounds_in_file=int(ens.n_iterations), trees=int(used),
                 leaves=int(ens.leaf_ptr[used]))
    else:
        s["engine_objective"] = getattr(model.booster_, "objective", None)
    recorded = recorded_features(model)
    s["feature_subset"] = None if recorded is None else {"ids": recorded[0], "of": recorded[1]}
    norm = getattr(model, "normalizer_", None)
    s["normalizer"] = None if norm is None else norm.to_dict()
    described = getattr(model, "feature_set_", None)
    s["feature_set"] = described is not None
    s["read_options"] = getattr(model, "read_options_", None) or None
    s["preset_params"] = getattr(model, "preset_params_", None) or None
    s["trained_with"] = {k: v for k, v in (getattr(model, "trained_with_", None) or {}).items() if v} or None
    s["data_fingerprint"] = getattr(model, "data_fingerprint_", None)
    s["trained_on"] = getattr(model, "device_", None)  # None: not recorded (older files, the engines' own models)
    if not plain:
        s["params"] = {k: v for k, v in params.items() if v is not None}
    s["notes"] = list(notes or [])
    if getattr(model, "svmlight_columns_", False):  # ids are column + 1: say what they are if the engine read the file
        read = (f"ltr predict reads such data so: the model names its training file, {model.training_file_}"
                if getattr(model, "training_file_", None) else
                "ltr predict asks which reading a file takes where it cannot tell: --zero-based or --n-features")
        s["notes"].append("no split reads the model's first column: if its engine read an svmlight file itself (id j "
                          f"as column j), the id shown here is the file's id + 1 ({read})")
    table = importance_table(model)
    s["features_used"] = int((table["split"] > 0).sum())
    if names is not None and sorted(names) == sorted(str(i) for i in table["id"]):  # LETOR ids given as names
        s["feature_names"] = names = None
    if names is None:  # unnamed (or the engine's Column_j / fj): named by their LETOR ids
        table["feature"] = table["id"].astype(str)
    shown = table if top == 0 else table.head(top)
    s["importance"] = [{"id": int(r.id), "feature": str(r.feature), "gain": float(r.gain),
                        "gain_share": float(r.gain_share), "split": int(r.split),
                        **({"weight": float(r.weight)} if "weight" in table else {})} for r in shown.itertuples()]
    return s


def _words(value) -> str:
    if value is None or value == {} or value is False:
        return "-"
    if value is True:
        return "yes"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _print_model(args: argparse.Namespace, s: dict) -> None:
    """A model's summary (field, value) and its importance table; CSV: the importance table alone, the summary as
    notes on standard error."""
    names = s["feature_names"]
    shown_names = "-" if names is None else ", ".join(names[:12]) + (f", ... ({len(names)})" if len(names) > 12 else "")
    subset = s["feature_subset"]
    fields = [
        ("model", s["name"]),
        ("engine", s["engine"] + ("" if s["ltrkit_sidecar"] else " (plain model, no ltrkit sidecar)")),
        ("objective", _words(s["objective"]) + (f" (engine: {s['engine_objective']})" if s["engine_objective"]
                                                 else "")),
        ("passes" if s["engine"] == "linear" else "rounds kept",
         str(s["rounds"]) + (f" of {s['rounds_in_file']} in the file" if s["rounds_in_file"] and
                             s["rounds_in_file"] != s["rounds"] else "")),
        ("trees / leaves", "-" if s["trees"] is None else f"{s['trees']} / {s['leaves']}"),
        ("features", f"{s['n_features']} ({s['features_used']} used by "
                     f"{'a non-zero weight' if s['engine'] == 'linear' else 'a split'})"),
        ("feature names", shown_names),
        ("feature subset", "-" if subset is None else
         f"ids {','.join(map(str, subset['ids']))} of {subset['of']} (ltr predict picks them)"),
        ("normaliser", _normaliser(s["normalizer"])),
        ("feature set description", _words(s["feature_set"])),
        ("read options", _words({k: v for k, v in (s["read_options"] or {}).items() if k != "features"})),
        ("preset params", preset_flags(s["preset_params"]) or "-"),
        ("trained with", "-" if not s["trained_with"] else ", ".join(f"{k} {v}" for k, v in s["trained_with"].items())),
        ("data fingerprint", s["data_fingerprint"] or "-"),
        ("trained on", s["trained_on"] or "-"),
    ]
    kept = len(s["importance"])
    # (table heading, CSV column, the summary's key, factor in the table): the CSV keeps the values as they are
    columns = [("gain", "gain", "gain", 1), ("gain %", "gain_share", "gain_share", 100), ("split", "split", "split", 1)]
    how = ("as XGBoost's get_score('total_gain')); split: number of splits (get_score('weight'))"
           if s["engine"] == "xgboost" else
           "as LightGBM's feature_importance('gain')); split: number of splits ('split')")
    footer = (f"feature importance: top {kept} of {s['n_features']} features by gain (total gain of their splits, "
              f"{how}; over the {s['rounds']} rounds kept")
    if s["engine"] == "linear":  # no trees: the weights say it (ltr.rankers.linear.LinearModel.importances)
        columns = [("weight", "weight", "weight", 1), ("|weight| x scale", "abs_weight_x_scale", "gain", 1),
                   ("share %", "share", "gain_share", 100)]
        footer = (f"feature importance: top {kept} of {s['n_features']} features by |weight| x the feature's scale "
                  "(its share of the score's spread); weight: the model's, on the features after its normaliser "
                  "(a linear model has no splits)")
    header = ["id", "feature", *(c[0] for c in columns)]
    rows = [[r["id"], r["feature"], *(f * r[key] for _, _, key, f in columns)] for r in s["importance"]]
    csv_header = ["id", "feature", *(c[1] for c in columns)]
    csv_rows = [[r["id"], r["feature"], *(r[key] for _, _, key, _ in columns)] for r in s["importance"]]
    if args.format == "csv":
        for k, v in fields:
            note(args, f"{k}: {v}")
        emit(args, csv_header, csv_rows, {}, footer=footer)
        return
    from ltr._table import format_table

    # a file name's control characters escaped, as the messages show them (a terminal acts on them; review of t65)
    print(format_table(["field", "value"], [[k, visible(v) if isinstance(v, str) else v] for k, v in fields]))
    for line in s["notes"] if not args.quiet else ():
        print(visible(f"note: {line}"), file=sys.stderr)
    print()
    emit(args, header, rows, {}, footer=footer)


#: Distinct labels a table cell lists one by one; more (MQ2007/8-list's order labels, real-valued labels) are
#: summarised, and ``--format json`` keeps every count.
_LABELS_LISTED = 12


def _labels_cell(counts: dict) -> str:
    """``0:2140 1:400 2:167`` for a graded scale; ``401 distinct, 1..2000`` for more than a dozen labels."""
    if len(counts) <= _LABELS_LISTED:
        return " ".join(f"{k}:{v}" for k, v in counts.items())
    values = [float(k) for k in counts]
    return f"{len(counts)} distinct, {min(values):g}..{max(values):g} (--format json lists them)"


def run(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise UsageError(f"--top must be >= 0 (0: all features), got {args.top}")
    refuse_shared_sidecars(args, f"FILE is {len(args.files)} files" if len(args.files) > 1 else None)
    out = []
    for path in args.files:
        kind, item = _model_or_data(args, path)
        if kind == "model":
            model, notes = item
            item = model_summary(model, path, args.top, notes)
        out.append((kind, item))
    if args.format == "json":
        objs = [o for _, o in out]
        emit(args, [], [], objs[0] if len(objs) == 1 else objs)
        return 0
    data = [o for kind, o in out if kind == "data"]
    models = sum(kind == "model" for kind, _ in out)
    if args.format == "csv" and (data and models or models > 1):  # one CSV table on standard output, one header
        raise UsageError("--format csv writes one table: give LETOR files, or one model file (with several, "
                         "--format json holds them all)")
    if data:
        header = ["file", "queries", "rows", "features", "rows/query min", "median", "max", "no relevant", "labels",
                  "sidecars"]
        shown = str if args.format == "csv" else visible  # (CSV is data: the name as it is)
        rows = [[shown(o["name"]), o["n_queries"], o["n_rows"], o["n_features"], o["rows_per_query"]["min"],
                 f'{o["rows_per_query"]["median"]:g}', o["rows_per_query"]["max"], o["queries_without_relevant"],
                 _labels_cell(o["label_counts"]),
                 " ".join(f"{k}={v}" for k, v in o["sidecars"].items()) or "-"] for o in data]
        emit(args, header, rows, {})
    for i, o in enumerate(o for kind, o in out if kind == "model"):
        if data or i:
            print()
        _print_model(args, o)
    return 0


def _normaliser(d) -> str:
    """The model's normaliser as ``--normalize`` names it: ``global-zscore`` (fitted once, exportable) is not
    ``zscore`` (per query, from each query's whole candidate list; no search engine can reproduce it)."""
    if d is None:
        return "-"
    if not isinstance(d, dict):
        return str(d)
    method = str(d.get("method", "?"))
    return f"global-{method}" if d.get("type") == "global" else f"{method} (per query)"
