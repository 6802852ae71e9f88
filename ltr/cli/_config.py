"""``--config FILE``: options from a TOML file, under the flags typed, each value checked as the flag's own
and named by the file and key when it is wrong; and ``--dataset``'s defaults."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ltr.cli._data import dataset_max_grade
from ltr.cli._guard import UsageError, note
from ltr.cli._options import dense_for_xgboost, metric_names

__all__ = [
    "apply_config",
    "dataset_defaults",
    "given_dests",
    "refuse_empty_values",
]


def given_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options ``argv`` sets (``--leaves 31`` and ``--leaves=31`` set ``num_leaves``; the
    parsers take no abbreviation, so an option is matched by its whole name)."""
    flags = {s: a.dest for a in parser._actions for s in a.option_strings if s.startswith("--")}
    out = set()
    for tok in argv:
        if tok == "--":
            break
        name = tok.split("=", 1)[0]
        if name in flags:
            out.add(flags[name])
    return out


def _refuse_a_given_default_a_preset_replaces(args: argparse.Namespace) -> None:
    """``--convention lightgbm --no-relevant 0``: ``ltr.metrics`` reads the toolkit's default value under a preset as
    "not asked" and applies the tool's (LightGBM's 1); the command line can tell, and has the preset refuse a value
    given as an option, the default too, as it refuses any other (trial t69: 0 was replaced by 1 without a word,
    where 0.5 was refused)."""
    convention = getattr(args, "convention", None)
    if not convention or "no_relevant" not in args.given_ or args.no_relevant is None:
        return
    from ltr.metrics.conventions import resolve_convention

    resolve_convention(convention, no_relevant=args.no_relevant, asked=("no_relevant",))  # OptionError: exit 2


def apply_config(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Fill ``args`` from ``--config`` for every option the command line did not set; unknown keys are refused.

    Sets ``args.given_``: the destinations set on the command line or by the config file (``make_ranker`` keeps
    them from the small-data preset).
    """
    given = given_dests(parser, argv)
    args.given_ = set(given)
    path = getattr(args, "config", None)
    if path:
        _apply_config_file(parser, args, path, given)
    refuse_empty_values(parser, args)
    alone = [flag for flag, dest in (("--dask-engine", "dask_engine"), ("--dask-timeout", "dask_timeout"))
             if dest in args.given_ and not getattr(args, "dask", None)]
    if alone:  # as --qrels without --fit-weights: options that would change nothing, refused before any work
        raise UsageError(f"{', '.join(alone)} {'goes' if len(alone) == 1 else 'go'} with --dask SCHEDULER")
    if getattr(args, "early_stopping_metric", None):  # named as its option, before any work (ltr cv started first)
        from ltr.metrics import target_metric

        names = metric_names(args.early_stopping_metric, "--early-stopping-metric")
        if len(names) > 1:  # the first was checked, the whole text refused once the data was read (trial t58)
            raise UsageError(f"--early-stopping-metric takes one metric (the one early stopping watches), got "
                             f"{args.early_stopping_metric!r}; --metrics lists the ones to report")
        name = names[0][0]
        try:
            target_metric(name, "--early-stopping-metric")
        except ValueError as e:
            raise UsageError(str(e)) from None
    _refuse_a_given_default_a_preset_replaces(args)
    if getattr(args, "dataset", None):  # an unknown name is a usage error naming the option (it read as data's)
        from ltr.registry import UnknownDatasetError, get

        try:
            get(args.dataset)
        except UnknownDatasetError as e:
            raise UsageError(f"--dataset {args.dataset}: {e}") from None
    dataset_defaults(parser, args)
    dataset_max_grade(args)
    _refuse_err_grade_beyond_float64(args)


def _refuse_err_grade_beyond_float64(args: argparse.Namespace) -> None:
    """``--max-grade G`` from 1024 up with ERR among the metrics: ERR's 2^rel / 2^G cannot be held in float64. Known
    before any data is read, it was a data error (exit 1) after reading, worded for Python (trial t58)."""
    from ltr.metrics.api import EXP2_LIMIT

    grade, metrics = getattr(args, "max_grade", None), getattr(args, "metrics", None)
    if grade is None or grade < EXP2_LIMIT or not isinstance(metrics, str):
        return
    err = [c for c, _ in metric_names(metrics) if c.startswith("err")]
    if err:
        raise UsageError(f"--max-grade {grade:g}: ERR's gain 2^rel / 2^G holds only G below {EXP2_LIMIT} in float64; "
                         f"leave {', '.join(err)} out of --metrics or map the labels to grades")


def refuse_empty_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse an option given an empty (or blank) text, on the command line or in ``--config``: ``--valid ''`` was
    read as no validation set, ``--save-dir ''`` as no saving and ``--scores ''`` as the working folder, each without
    a word. An option whose value is a list (``--metrics``) is checked where it is read."""
    actions = list(parser._actions) + list(getattr(getattr(args, "action_parser_", None), "_actions", []))
    for action in actions:
        if not action.option_strings or action.nargs not in (None, "?"):
            continue
        value = getattr(args, action.dest, None)
        if isinstance(value, str) and not value.strip() and value != action.default:
            flag = max(action.option_strings, key=len)
            fix = f"give {flag} a value" if action.required else f"leave {flag} out for its default"
            raise UsageError(f"{flag} {value!r}: an empty value; {fix}")


def dataset_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The ``[cli]`` table of ``--dataset NAME``'s registry entry: option defaults the set needs (the listwise
    LETOR 4.0 sets, whose labels order a query's documents: ``--objective listnet --kernel numba --gain linear`` and
    metrics without ERR), applied to the options of this command that neither the command line nor ``--config``
    set, with a note naming them."""
    if not getattr(args, "dataset", None):
        return
    from ltr.registry import get

    entry = get(args.dataset)
    table = entry.data.get("cli") or {}
    flags = {s: a for a in parser._actions for s in a.option_strings if s.startswith("--")}
    applied = []
    for key, value in table.items():
        action = None if key == "reason" else flags.get("--" + key.replace("_", "-"))
        if action is None or action.dest in args.given_:
            continue
        args.given_.add(action.dest)
        setattr(args, action.dest, _config_value(action, key, value, f"the registry entry {entry.origin} [cli]"))
        applied.append(f"--{key.replace('_', '-')} {value}")
    if entry.read_options().get("sparse") and dense_for_xgboost(args) and getattr(args, "engine", None):
        note(args, f"note: {entry.name} read dense for XGBoost: an absent feature is 0, as the set defines it "
                   "(--sparse keeps the files sparse, and XGBoost reads absent entries as missing)")
    if applied:
        why = table.get("reason", "")
        note(args, f"note: {entry.name}'s defaults: {' '.join(applied)}" + (f" ({why})" if why else ""))


def _apply_config_file(parser: argparse.ArgumentParser, args: argparse.Namespace, path: str, given: set) -> None:
    """:func:`apply_config`'s reading of ``--config PATH``."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    p = Path(path)
    if not p.exists() or p.is_dir():  # a pipe (<(...), /dev/stdin) is read as a file is (trial t60)
        raise UsageError(f"--config {path}: no such file" if not p.exists() else f"--config {path}: is a folder, "
                         "not a file")
    from ltr.exceptions import FileFormatError
    from ltr.io.files import read_text

    try:
        text = read_text(p, what="config file")
    except FileFormatError as e:  # not UTF-8, named by line and byte
        where = f"{e.path}:{e.line}" if e.line is not None else f"{e.path}"
        at = f" at byte offset {e.offset}" if getattr(e, "offset", None) is not None else ""
        fix = "; save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8)" if e.fix else ""
        raise UsageError(f"--config {where}: {e.reason}{at}{fix}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        json_like = text.lstrip().startswith("{")
        raise UsageError(f"--config {path}: not valid TOML ({e})" + ("; it reads as JSON, and --config reads TOML "
                         "(key = value lines, [params] tables)" if json_like else "")) from None
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    by_flag = {s.lstrip("-").replace("-", "_"): a for a in parser._actions for s in a.option_strings}
    named: dict[argparse.Action, str] = {}  # the options this file names, by key, set or not (a flag typed wins)
    for key, value in table.items():
        if key in ("params", "objective_params"):
            if not isinstance(value, dict):
                raise UsageError(f"--config {path}: [{key}] must be a table")
            from ltr.rankers.params import parse_assignments

            current = parse_assignments(getattr(args, key), what="--param" if key == "params" else "--objective-param")
            # the command line's items as typed (a flag wins over the file); the file's values as --param text
            typed = {item.partition("=")[0].strip(): item for item in getattr(args, key)}
            setattr(args, key, [typed[k] if k in current else f"{k}={_table_text(v, path, key, k)}"
                                for k, v in {**value, **current}.items()])
            # the parameters the file set, for an error that names it
            setattr(args, f"config_{key}_", {k: path for k in value if k not in current})
            continue
        action = by_flag.get(key.replace("-", "_")) or actions.get(key.replace("-", "_"))
        if action is None or action.dest in ("config", "help", "format", "out"):
            known = sorted({s.lstrip("-") for a in parser._actions for s in a.option_strings
                            if a.dest not in ("config", "help", "format", "out")})
            import difflib

            near = difflib.get_close_matches(key.replace("_", "-"), known, n=1, cutoff=0.75)
            raise UsageError(f"--config {path}: unknown key {key!r}{f' (did you mean {near[0]!r}?)' if near else ''}; "
                             f"known keys: {', '.join(known)}, and the tables [params] and [objective_params]")
        if action in named:  # learning-rate and learning_rate, rounds and n_estimators: two keys to TOML, one
            # option here; the last won without a word (trial t63). Refused even when the command line sets it.
            flag = max(action.option_strings, key=len)
            raise UsageError(f"--config {path}: {named[action]} and {key} both set {flag}; give it once")
        named[action] = key
        if action.dest in given:
            continue
        args.given_.add(action.dest)
        setattr(args, action.dest, _config_value(action, key, value, f"--config {path}"))
        args.config_keys_ = {**getattr(args, "config_keys_", {}), action.dest: (path, key, value)}
    for dest in ("params", "objective_params"):  # the file's own two spellings of one parameter: the key's value
        set_by = getattr(args, "config_keys_", {}).get(dest)  # won and the table's was dropped, silently (t58)
        if isinstance(table.get(dest), dict) and set_by is not None and set_by[0] == path:
            from ltr.rankers.params import parse_assignments

            listed = set_by[2] if isinstance(set_by[2], list) else [set_by[2]]
            twice = sorted(set(parse_assignments([str(v) for v in listed], what=f"--config {path}: {set_by[1]}"))
                           & set(table[dest]))
            if twice:
                raise UsageError(f"--config {path}: {set_by[1]} and the table [{dest}] both set {', '.join(twice)}; "
                                 "give each parameter once")
    for group in parser._mutually_exclusive_groups:  # as the command line refuses them together ("not allowed with")
        both = [named[a] for a in group._group_actions if a in named and a.dest not in given]  # the file set
        if len(both) > 1:
            raise UsageError(f"--config {path}: {' and '.join(repr(k) for k in both)} are not allowed together")


def _table_text(value: Any, path: str, table: str, key: str) -> str:
    """A ``[params]`` or ``[objective_params]`` value as the ``KEY=VALUE`` text ``--param`` takes. A TOML date or
    time has no such text (JSON has none, and no engine or objective parameter is one): it was Python's "Object of
    type date is not JSON serializable", exit 1, naming neither the file nor the key (trial t63)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        raise UsageError(f"--config {path}: [{table}] {key} = {value!r}: a date or time, which no parameter takes; "
                         "give a number, true or false, or quote it as text") from None


def _config_value(action: argparse.Action, key: str, value: Any, where: str) -> Any:
    """A config file's value as the command line's flag would give it: a switch takes a TOML boolean; a value
    goes through the flag's own type and choices (an array of a comma-separated option is joined by commas); an
    error names the file and the key, and is a usage error as on the command line."""
    if action.nargs == 0:  # a switch (--quiet, --sort, --no-query-file)
        if not isinstance(value, bool):
            raise UsageError(f"{where}: {key} is a switch: give true or false, got {value!r}")
        return action.const if value else action.default
    many = action.nargs in ("+", "*") or isinstance(action, argparse._AppendAction)
    if isinstance(value, bool) or isinstance(value, dict):
        raise UsageError(f"{where}: {key} takes a value (as {action.option_strings[0]} does), got {value!r}")
    if isinstance(value, list):
        if any(isinstance(v, (bool, dict, list)) for v in value):
            raise UsageError(f"{where}: {key} must list strings or numbers, got {value!r}")
        texts = [str(v) for v in value] if many else [",".join(str(v) for v in value)]
    else:
        texts = [str(value)]
    out = []
    for text in texts:
        try:
            v = action.type(text) if callable(action.type) else text
        except (TypeError, ValueError, argparse.ArgumentTypeError) as e:
            kind = getattr(action.type, "__name__", "")
            reason = f"invalid {kind} value" if kind in ("int", "float") else str(e)
            raise UsageError(f"{where}: {key} = {value!r}: {reason}") from None
        if action.choices is not None and v not in action.choices:
            raise UsageError(f"{where}: {key} = {value!r} is not one of {list(action.choices)}")
        out.append(v)
    return out if many else out[0]


