"""Messages in the command line's words: the model options' flags (:data:`MODEL_FLAGS`, the one table that
``ltr train``, ``ltr cv`` and ``ltr tune`` build them from), a :class:`ltr.Ranker` error with its parameter names
as those flags, and an option's error named by the ``--config`` file and key that set it. Below every other module
of the command line (the guard words its usage errors here), so it imports none of them."""

from __future__ import annotations

import argparse
import re

__all__ = ["MODEL_FLAGS", "cli_words", "config_words", "flag_words", "model_flags"]


MODEL_FLAGS = (
    # (flag, Ranker parameter, type, help)
    ("--rounds", "n_estimators", int, "boosting rounds (the most; early stopping may use fewer)"),
    ("--learning-rate", "learning_rate", float, "shrinkage of each tree"),
    ("--leaves", "num_leaves", int, "leaves per tree"),
    ("--max-depth", "max_depth", int, "depth limit of each tree (-1: none)"),
    ("--min-child-samples", "min_child_samples", int, "least rows in a leaf (LightGBM's min_data_in_leaf)"),
    ("--subsample", "subsample", float, "fraction of rows sampled per round (bagging)"),
    ("--colsample", "colsample_bytree", float, "fraction of features sampled per tree"),
    ("--reg-lambda", "reg_lambda", float, "L2 regularisation of leaf values"),
    ("--seed", "random_state", int, "the model's random seed, from 0 to 2**32 - 1 (default: 0)"),
)


def model_flags() -> list[tuple[str, str]]:
    """``(flag, ltr.Ranker parameter)`` of the model options (``--rounds`` sets ``n_estimators``, ...)."""
    return [(flag, param) for flag, param, *_ in MODEL_FLAGS]


def config_words(message: str, args: argparse.Namespace) -> str:
    """An option's error (``--rounds must be ...``, ``--folds must be ...``, ``--valid '': an empty value``) named by
    the ``--config`` file and key that set the option, when the file set it (the user never typed the flag); the
    value, which the key's part shows, is not said twice."""
    from_config = getattr(args, "config_keys_", {})
    if not from_config:
        return message
    parser = getattr(args, "parser_", None)
    own = [] if parser is None else [(flag, a.dest) for a in parser._actions for flag in a.option_strings
                                     if flag.startswith("--")]
    flags = [(flag, dest) for flag, dest in (*model_flags(), ("--early-stopping", "early_stopping"), *own)
             if dest in from_config]
    lead = next(((flag, dest) for flag, dest in flags if message.startswith((flag + " ", flag + ": "))), None)
    opened = re.match(r"--config (.+?): ", message)  # a message that already names the file (an engine parameter's)
    named = from_config[lead[1]][0] if lead else opened.group(1) if opened else None
    for flag, dest in flags:  # named further on, as what another option clashes with: `--engine linear does not ...`
        path, key, value = from_config[dest]
        if (flag, dest) == lead:
            continue
        words = f"{key} = {value!r}" + ("" if path == named else f" (--config {path})")
        for said in _shown(value):
            message = re.sub(rf"(?<=.){re.escape(flag)} {re.escape(said)}(?![\w.@-])", words.replace("\\", r"\\"),
                             message)
    if lead is None:
        return message
    path, key, value = from_config[lead[1]]
    rest = message[len(lead[0]) + 1:].lstrip()
    for said in _shown(value):
        if rest.startswith(said + ": "):
            return f"--config {path}: {key} = {value!r}: {rest[len(said) + 2:]}"
        if rest.startswith(said + " "):
            return f"--config {path}: {key} = {value!r} {rest[len(said) + 1:]}"
    return f"--config {path}: {key} = {value!r}: {rest}"


def _shown(value) -> set[str]:
    """The ways an option's message writes a value a ``--config`` file gave."""
    return {repr(str(value)), str(value)} | ({f"{value:g}"} if isinstance(value, float) else set())


def cli_words(e: ValueError) -> str:
    """A :class:`ltr.Ranker` error for the command line: its own command-line wording, or its parameter names
    replaced by the flags that set them."""
    cli = getattr(e, "cli_message", None)
    if not callable(cli):
        return flag_words(str(e))
    if str(getattr(e, "reason", "") or "").startswith("sets what "):  # the ranker's parameter: by its flag
        return flag_words(cli())
    return cli()


def flag_words(message: str) -> str:
    """A :class:`ltr.Ranker` message with its parameter names as the flags that set them."""
    for flag, param, *_ in (*MODEL_FLAGS, ("--early-stopping", "early_stopping_rounds")):
        # (not an engine parameter of the same name given as --param num_leaves=7)
        message = re.sub(rf"(?<!--param )\b{param}=", flag + " ",
                         re.sub(rf"(?<!--param )\b{param}\b(?!=)", flag, message))
    message = re.sub(r"\b(engine|objective|kernel|device)='([^']*)'", r"--\1 \2", message)
    message = re.sub(r"(?<!--param )\bn_jobs=", "--n-jobs ", message)  # not a model option: its own flag
    return re.sub(r"\bengine_params\b", "--param", message)
