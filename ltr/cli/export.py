"""``ltr export MODEL --to FORMAT --out FILE``: a ranker in a search engine's format (:mod:`ltr.export`)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from ltr.cli._files import check_outputs, option_files
from ltr.cli._guard import UsageError, add_command, error_message, note, split_list, visible
from ltr.cli._options import add_quiet
from ltr.evaluation.selection import Once

__all__ = ["register", "run"]


def register(sub) -> None:
    from ltr.export import FORMATS, MISSING

    p = add_command(sub, "export", "export a ranker to Elasticsearch / OpenSearch LTR or Solr LTR, exactly or not at "
                                   "all", description=_DESCRIPTION)
    p.add_argument("model", metavar="MODEL", help="a model saved by ltr train, or a plain LightGBM / XGBoost model")
    p.add_argument("--to", required=True, choices=sorted(FORMATS), metavar="FORMAT", type=_format_name,
                   help="target format: " + "; ".join(f"{k}: {v.description}" for k, v in sorted(FORMATS.items())))
    p.add_argument("--out", required=True, help="the exported model ('-' for standard output)")
    p.add_argument("--feature-set-out", dest="feature_set_out", metavar="FILE",
                   help="also write the feature set the engine needs (features without an exact engine query are "
                        "templates to fill)")
    p.add_argument("--feature-names", dest="feature_names", metavar="NAMES", action=Once,
                   help="the model's feature names in column order, comma-separated or @FILE (one per line), for a "
                        "model trained on unnamed columns (for one trained on some columns with ltr train "
                        "--features: the whole file's names, id k taking name k, or those columns' names)")
    p.add_argument("--target-features", dest="target_features", metavar="FILE",
                   help="the engine's existing feature set (the plugin's featureset JSON, a Solr feature store JSON, "
                        "or one name per line); the model must use only its features")
    p.add_argument("--missing", choices=MISSING, default="auto",
                   help="where a feature the engine has no value for goes: where the model sends NaN, or where it "
                        "sends 0 (for features that are 0 when absent, as ltrkit's); auto: zero for a model trained "
                        "on ltr features output without missing values or for a linear model (which has no missing "
                        "direction; nan is refused for it), else nan (a Solr store then gives every feature "
                        "defaultValue NaN)")
    p.add_argument("--inexact", choices=("refuse", "nearest"), default="refuse",
                   help="a threshold Solr cannot hold exactly (near zero, or just inside a negative power of two): "
                        "refuse, or take the nearest and list the values that go the other way")
    p.add_argument("--name", default="ltrkit", help="the model's name in the engine")
    p.add_argument("--store", help="the feature set's (Solr: feature store's) name; default: the store a Solr "
                   "--target-features file names, else --name")
    add_quiet(p)
    p.set_defaults(func=run)


_DESCRIPTION = """\
export a ranker to Elasticsearch / OpenSearch LTR or Solr LTR, exactly or not at all

loading the files (STORE: --store, NAME: --name; fill in the feature set's templates first):
  Elasticsearch / OpenSearch LTR plugin (es-xgboost, es-ranklib, es-linear):
    PUT  _ltr                                            the feature store, once
    POST _ltr/_featureset/STORE                          body: the --feature-set-out file
    POST _ltr/_featureset/STORE/_createmodel             body: the --out file
    then rescore with {"sltr": {"model": "NAME", "params": {"keywords": "the query text"}}}
  Solr LTR module (solr, solr-linear), as curl -XPUT -H 'Content-type:application/json' --data-binary @FILE:
    /solr/COLLECTION/schema/feature-store                the --feature-set-out file
    /solr/COLLECTION/schema/model-store                  the --out file
    then rerank with rq={!ltr model=NAME reRankDocs=100 efi.keywords=...}
"""


def _format_name(value: str) -> str:
    """``--to``'s value: a name not known is refused as argparse refuses a choice, with the nearest known names."""
    from ltr.export.registry import FORMATS, did_you_mean

    if value not in FORMATS:
        raise argparse.ArgumentTypeError(f"invalid choice: {value!r}{did_you_mean(value)} (choose from "
                                         f"{', '.join(map(repr, sorted(FORMATS)))})")
    return value


def _feature_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.startswith("@"):
        from ltr.export.featureset import read_feature_names

        return read_feature_names(text[1:], "--feature-names @FILE")
    names = split_list(text, "--feature-names")
    if not names:
        raise UsageError("--feature-names: no names given")
    if len(names) == 1 and os.path.isfile(text):  # (read as one name: '1 names for a model of 46 features')
        raise UsageError(f"--feature-names {text}: a file of that name is here, and a plain value is a list of names; "
                         f"pass --feature-names @{text} to read the names from it")
    return names


def run(args: argparse.Namespace) -> int:
    from ltr.export import export
    from ltr.export.featureset import read_feature_store
    from ltr.rankers import PlainModelWarning

    if args.feature_set_out is not None and args.feature_set_out == args.out != "-":
        raise UsageError("--feature-set-out must differ from --out")
    if args.feature_set_out is not None and args.target_features:
        raise UsageError("--feature-set-out with --target-features: the engine has that feature set and its queries "
                         "already; writing it again would replace them with templates: leave --feature-set-out out")
    from ltr.rankers.sidecar import find_meta_path

    check_outputs(args.out, args.feature_set_out,
                  inputs=[args.model, find_meta_path(args.model),
                          *option_files(args.feature_names, args.target_features)],
                  flags=("--out", "--feature-set-out"))
    target, store = (read_feature_store(args.target_features, "--target-features") if args.target_features
                     else (None, None))
    if store is not None and args.to.startswith("solr"):  # the model names the store its features are in
        if args.store is not None and args.store != store:
            raise UsageError(f"--store {args.store!r}: the features of --target-features {args.target_features} are "
                             f"in Solr's feature store {store!r}, where a model of store {args.store!r} finds none "
                             "of them; leave --store out (or give that store's features)")
        args.store = store
    names = _feature_names(args.feature_names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlainModelWarning)
        # the model by its path: the export's errors name the file (and come alone: a refusal is one line)
        out = export(args.model, args.to, feature_names=names, target_features=target, missing=args.missing,
                     inexact=args.inexact, name=args.name, store=args.store)
    for w in caught:  # an export reads no data: a plain model's note on scoring data is left out
        note(args, f"note: {getattr(w.message, 'without_data', None) or error_message(w.message)}")
    notes = []
    if args.feature_set_out is None:
        out.write(args.out)
    else:  # both written as one unit: a failure leaves the previous model and feature set, never one of each
        from ltr.io.outputs import atomic_write_together

        text, notes = out.feature_set()
        atomic_write_together([(args.feature_set_out, text), (args.out, out.text)])
    from ltr.export.registry import RANKLIB_POSITIONS

    for line in [*out.notes, *notes]:
        if line.startswith(RANKLIB_POSITIONS) and args.feature_set_out is None:  # wrong scores on another set
            print(f"ltr export: warning: {line}", file=sys.stderr)
        else:
            note(args, f"note: {line}")
    if args.out != "-" and not args.quiet:
        print(visible(f"wrote {args.to} model to {args.out}" + (f" and its feature set to {args.feature_set_out}"
                                                                if args.feature_set_out else "")), file=sys.stderr)
    return 0
