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
import contextlib
import io
import os
from pathlib import Path

from ltr.cli._guard import UsageError, add_command, note, visible
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


class _StepFailed(Exception):
    """A step that returned a failing exit code: raised through the staged outputs, so that none is renamed in."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def run(args: argparse.Namespace) -> int:
    from ltr._meta_path import meta_path
    from ltr.cli._files import check_outputs
    from ltr.io.outputs import outputs_together

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
    final = {name: folder / f"{name}.txt" for name in ("train", "valid", "test", "model")}
    # The five files are staged beside their places and renamed in together once the model is trained (as ltr cv,
    # features and fuse write theirs): a Ctrl-C, a full disk or a failed step leaves an earlier demo's five files as
    # they were, where the new data were left beside the old model (trial t65). The sidecar goes in before the
    # model, as ltr train writes them.
    places = (*(final[n] for n in ("train", "valid", "test")), meta_path(final["model"]), final["model"])
    try:
        with outputs_together(*places) as staged_places:
            staged = dict(zip(("train", "valid", "test", "meta", "model"), map(Path, staged_places)))
            try:
                _demo(args, folder, final, staged)
            finally:  # ltr train wrote the staged model's own sidecar beside it: moved into its place, or removed
                with contextlib.suppress(OSError):
                    os.unlink(meta_path(staged["model"]))
    except _StepFailed as e:  # (raised through the block: none of the staged files is renamed in)
        return e.code
    return 0


def _demo(args, folder: Path, final: dict[str, Path], staged: dict[str, Path]) -> None:
    """Write the data to the staged files and run the steps on them; each step is shown, and prints, as run on the
    files' own names (``final``), which the staged files become when the demo ends."""
    from ltr._meta_path import meta_path
    from ltr.cli import build_parser
    from ltr.datasets import make_ranking
    from ltr.io import write_letor

    for i, (name, n_queries) in enumerate((("train", 600), ("valid", 200), ("test", 200))):
        data = make_ranking(n_queries, (10, 40), 30, random_state=args.seed + i)
        write_letor(staged[name], data)
    # flushed: piped or logged, each line arrived at exit (block buffering), not "as it runs" (trial t61)
    print(visible(f"wrote synthetic LETOR files to {folder}/ (ltr.datasets.make_ranking, seed {args.seed})") + "\n",
          flush=True)

    def arg(path: Path) -> str:  # ./-y/train.txt: a folder named -y was read as an option (trial t56)
        return f"./{path}" if str(path).startswith("-") else str(path)

    shown = {arg(staged[n]): arg(final[n]) for n in final}
    staged_arg = {v: k for k, v in shown.items()}
    parser = build_parser()
    steps = [
        ["info", *(arg(final[n]) for n in ("train", "valid", "test"))],
        ["train", arg(final["train"]), "--valid", arg(final["valid"]), "--test", arg(final["test"]),
         "--out", arg(final["model"])],
    ]
    for argv in steps:
        print("$ ltr " + " ".join(argv), flush=True)
        if argv[0] == "train" and not args.quiet:  # its own note is quieted with its progress bars
            from ltr._numba_cache import needs_compile

            if needs_compile(kernel=None):  # the first run compiles for about a minute: said, not silent
                note(args, "compiling Numba kernels (first run only; later runs load them from the cache)")
        ran = [staged_arg.get(a, a) for a in argv]  # on the staged files
        sub = parser.parse_args([*ran, *(["--quiet"] if argv[0] == "train" else [])])  # ltr info has no --quiet
        out = io.StringIO()
        with contextlib.redirect_stdout(out):  # each step prints once it is done (ltr train runs --quiet)
            code = sub.func(sub)
        print(_as_named(out.getvalue(), shown), end="", flush=True)
        if code:
            raise _StepFailed(code)
        print(flush=True)
    os.replace(meta_path(staged["model"]), staged["meta"])


def _as_named(text: str, shown: dict[str, str]) -> str:
    """``text`` with each staged path (a key of ``shown``) written as the file's own name; a table cell (followed by
    two spaces) padded to the staged path's width, so that ``ltr info``'s columns stay aligned."""
    for staged, name in shown.items():
        text = text.replace(staged + "  ", name.ljust(len(staged)) + "  ").replace(staged, name)
    return text
