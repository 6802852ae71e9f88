"""``ltr demo``: the embedded default, no data of your own needed.

Writes synthetic LETOR files (:func:`ltr.datasets.make_ranking`), summarises them as ``ltr info`` does and trains
LambdaMART on them as ``ltr train`` does (early stopping on validation NDCG@10), printing each command it runs.

No text collection is shipped, so the demo does not show the text-to-ranker path (collection -> BM25 candidates ->
features -> ranker -> metrics). One would be shipped only if its terms allow it, and none of the registered
collections states terms that allow redistribution (the ``license`` line of each ``data/*.toml``):
Cranfield, ADI, CISI, MED and NPL state no licence at all; CACM is ACM copyright, "used with permission of ACM",
with no redistribution licence; NFCorpus is "free for use for academic purposes", a term of use rather than of
redistribution; Vaswani is the NPL collection copied into terrier-core, with no data licence of its own. The README
shows that path on a local copy instead ("From a text collection to a significance table": ``ltr features
--collection DIR``, then ``ltr cv``; ``ltr data fetch cranfield --to DIR`` makes such a copy).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ltr.cli._guard import UsageError, add_command, note
from ltr.cli._options import add_quiet

__all__ = ["register", "run"]

#: What a demo writes in its folder, and the file that marks the folder as a demo's.
_WRITES = ("train.txt", "valid.txt", "test.txt", "model.txt", "model.txt.meta.json")
_MARKER = ".ltr-demo"


def register(sub) -> None:
    p = add_command(sub, "demo", "generate synthetic data, train LambdaMART on it and print the metrics")
    p.add_argument("--dir", default="ltr-demo", help="folder for the generated files and the model")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ltr.cli import build_parser
    from ltr.cli._files import check_outputs
    from ltr.datasets import make_ranking
    from ltr.io import write_letor

    if not 0 <= args.seed <= 2**32 - 3:  # the three files take seed, seed + 1 and seed + 2
        raise UsageError(f"--seed {args.seed}: a seed from 0 to 2**32 - 3")
    folder = Path(args.dir)
    # A demo's own folder (its marker file) is written again; files of the same names that a demo did not write
    # are the user's, and are not replaced.
    marker = folder / _MARKER
    clash = sorted(n for n in _WRITES if (folder / n).exists()) if not marker.is_file() else []
    if clash:
        raise UsageError(f"--dir {args.dir}: the folder holds {', '.join(clash)}, not written by ltr demo, which it "
                         "would replace; give a new or empty folder (default: ltr-demo)")
    check_outputs(*(folder / name for name in _WRITES))  # each before any is written (a folder named as the model's
    # sidecar failed the demo after 11 MB of data and the marker were written; trial t58)
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text("written by ltr demo: it replaces its files here when run again\n", encoding="utf-8")
    files = {}
    for i, (name, n_queries) in enumerate((("train", 600), ("valid", 200), ("test", 200))):
        data = make_ranking(n_queries, (10, 40), 30, random_state=args.seed + i)
        files[name] = folder / f"{name}.txt"
        write_letor(files[name], data)
    # flushed: piped or logged, each line arrived at exit (block buffering), not "as it runs" (trial t61)
    print(f"wrote synthetic LETOR files to {folder}/ (ltr.datasets.make_ranking, seed {args.seed})\n", flush=True)
    parser = build_parser()

    def arg(path: Path) -> str:  # ./-y/train.txt: a folder named -y was read as an option (trial t56)
        return f"./{path}" if str(path).startswith("-") else str(path)

    steps = [
        ["info", *(arg(p) for p in files.values())],
        ["train", arg(files["train"]), "--valid", arg(files["valid"]), "--test", arg(files["test"]),
         "--out", arg(folder / "model.txt")],
    ]
    for argv in steps:
        print("$ ltr " + " ".join(argv), flush=True)
        if argv[0] == "train" and not args.quiet:  # its own note is quieted with its progress bars
            from ltr._numba_cache import needs_compile

            if needs_compile(kernel=None):  # the first run compiles for about a minute: said, not silent
                note(args, "compiling Numba kernels (first run only; later runs load them from the cache)")
        sub = parser.parse_args([*argv, *(["--quiet"] if argv[0] == "train" else [])])  # ltr info has no --quiet
        code = sub.func(sub)
        if code:
            return code
        print(flush=True)
    return 0
