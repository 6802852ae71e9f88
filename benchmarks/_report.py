"""Markdown fragments of the benchmark scripts: the header every fragment starts with, and the atomic write.

The convention (``benchmarks/README.md``): a script prints its tables and writes the same text to
``benchmarks/results/<script stem>.md``, which :mod:`assemble_results` joins into ``benchmarks/RESULTS.md``.
A fragment is::

    ## Title
    <blank line>
    `python benchmarks/bench_x.py --quick` (2026-12-01; CPU model, cores, memory; Python and library versions)
    <blank line>
    the script's own output, verbatim as printed
    <blank line>
    Run time: 12.3 s.

:class:`Fragment` prints every line it is given and keeps it, so that the file is exactly what the terminal
showed; :func:`write_fragment` is the same write for a script that builds its body itself.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

__all__ = ["RESULTS_DIR", "TRIAL_OPTIONS", "Fragment", "command_line", "environment_line", "fragment_out", "header",
           "markdown_table", "write_fragment"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_DIR = HERE / "results"
#: Packages whose versions the header names (distribution name, shown name).
VERSIONED = (("numpy", "numpy"), ("numba", "numba"), ("lightgbm", "LightGBM"), ("xgboost", "XGBoost"))
#: The options that make a run a trial of a script (a smoke run, not a measurement): such a run writes no fragment
#: unless ``--out`` names one (:func:`fragment_out`).
TRIAL_OPTIONS = ("--quick", "--cpu-only", "--simulate")


def _cpu_model() -> str:
    """The CPU's model name and, where it says little (a cloud's ``AMD EPYC``), the microarchitecture LLVM compiles
    Numba's kernels for (``znver5``): machines of one name can differ twofold in the kernels' times."""
    name = platform.processor() or platform.machine() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = " ".join(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    try:
        from llvmlite import binding

        return f"{name} ({binding.get_host_cpu_name()})"
    except Exception:  # noqa: BLE001 - llvmlite comes with Numba; without it the name alone
        return name


def _memory_gib() -> str | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except (OSError, ValueError):
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_line() -> str:
    """The machine and software a figure was measured on: CPU model, usable cores, memory, Python, libraries.

    Usable cores are the CPUs this process may run on (``os.sched_getaffinity``), as ``ltr.threads`` counts them.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    machine = f"{_cpu_model()}, {usable} usable cores of {os.cpu_count()}"
    mem = _memory_gib()
    if mem:
        machine += f", {mem}"
    versions = ", ".join(f"{shown} {_version(dist)}" for dist, shown in VERSIONED)
    return f"{machine}; Python {platform.python_version()}, {versions}"


def code_digest() -> str:
    """A digest of the toolkit's code text (``features/`` with its shipped feature sets, and ``ltr/``): part of the
    key of a cache of features or results, so that a cache written by other code is never read as this code's."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for pkg in ("features", "ltr") for p in (ROOT / pkg).rglob("*")
                       if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def fragment_out(out: str | os.PathLike | None, *, trial: bool, default: str | os.PathLike | None = None
                 ) -> str | None:
    """Where a script's fragment goes, the one rule of every script: ``--out`` when given; otherwise nothing (``"-"``,
    standard output only) for a trial run (``--quick``, ``--cpu-only``, ``--simulate``: a smoke run is not a
    measurement), else ``default`` (None: ``benchmarks/results/<stem>.md``, as :class:`Fragment` reads it).

    Examples
    --------
    >>> fragment_out(None, trial=True), fragment_out(None, trial=False), fragment_out("x.md", trial=True)
    ('-', None, 'x.md')
    """
    if out is not None:
        return str(out)
    if trial:
        return "-"
    return None if default is None else str(default)


def command_line(script: str | os.PathLike, argv: Sequence[str] | None = None) -> str:
    """``python <script relative to the repository> <arguments>``, quoted as a shell would need them.

    A process running at a lowered priority gets the ``nice -n N`` prefix it was (in effect) started with.
    """
    path = Path(script).resolve()
    try:
        shown = path.relative_to(ROOT).as_posix()
    except ValueError:
        shown = str(path)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        niceness = os.nice(0)
    except OSError:
        niceness = 0
    prefix = ["nice", "-n", str(niceness)] if niceness > 0 else []  # a lowered priority is part of what ran
    return shlex.join([*prefix, "python", shown, *args])


def header(title: str, command: str, *, date: str | None = None) -> str:
    """The two header lines of a fragment (title, then command, date and machine), each followed by a blank line."""
    if "\n" in title or not title.strip():
        raise ValueError(f"a fragment title is one non-empty line, got {title!r}")
    if "`" in command or "\n" in command:
        raise ValueError(f"the command must be one line without backquotes, got {command!r}")
    date = date or datetime.date.today().isoformat()
    return f"## {title}\n\n`{command}` ({date}; {environment_line()})\n\n"


def write_fragment(stem: str, title: str, command: str, body: str, *, out: str | os.PathLike | None = None) -> Path:
    """Write ``## title``, the command line and ``body`` to ``benchmarks/results/<stem>.md`` (or ``out``), atomically.

    Returns the path written.
    """
    from ltr.io import atomic_write

    path = Path(out) if out is not None else RESULTS_DIR / f"{stem}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        fh.write(header(title, command) + body.rstrip("\n") + "\n")
    return path


def markdown_table(head: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one letter per column, ``l`` or ``r`` (default: all left)."""
    align = align or "l" * len(head)
    if len(align) != len(head):
        raise ValueError(f"align has {len(align)} letters for {len(head)} columns")
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    lines = ["| " + " | ".join(str(h) for h in head) + " |", rule]
    for r in rows:
        if len(r) != len(head):
            raise ValueError(f"row {list(r)} has {len(r)} cells for {len(head)} columns")
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


class Fragment:
    """Print a script's output and keep it, then write it as the script's fragment.

    The header is printed when the fragment is made; :meth:`write` adds the run time (seconds since then),
    prints it and writes everything printed to the fragment file. Progress belongs on standard error, not here.

    Parameters
    ----------
    script : path
        The running script (``__file__``): its stem names the fragment, its path appears in the command.
    title : str
        The ``## title`` line.
    argv : sequence of str, optional
        The script's arguments as run (default ``sys.argv[1:]``).
    out : path, optional
        Where to write (default ``benchmarks/results/<stem>.md``); ``"-"`` writes nothing (the text is printed).
        A script resolves its ``--out`` with :func:`fragment_out`, so that a trial run writes nothing by default.
    """

    def __init__(self, script: str | os.PathLike, title: str, argv: Sequence[str] | None = None, *,
                 out: str | os.PathLike | None = None):
        self.stem = Path(script).stem
        self.title = title
        self.command = command_line(script, argv)
        self.out = out
        self._t0 = time.perf_counter()
        self._parts: list[str] = []
        head = header(title, self.command)
        self._head = head
        sys.stdout.write(head)
        sys.stdout.flush()

    def _emit(self, text: str) -> None:
        self._parts.append(text)
        sys.stdout.write(text)
        sys.stdout.flush()

    def print(self, *values: object, sep: str = " ") -> None:
        """``print`` to standard output, and keep the line for the fragment."""
        self._emit(sep.join(str(v) for v in values) + "\n")

    def table(self, head: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> None:
        """Print a Markdown table followed by a blank line."""
        self.print(markdown_table(head, rows, align))
        self.print()

    @property
    def text(self) -> str:
        """What has been printed so far, header included: the fragment's content."""
        return self._head + "".join(self._parts)

    def write(self) -> Path | None:
        """Print the run time, then write everything printed to the fragment; returns its path (None for ``"-"``)."""
        printed = "".join(self._parts)
        sep = "" if not printed or printed.endswith("\n\n") else "\n"
        self._emit(f"{sep}Run time: {time.perf_counter() - self._t0:.0f} s.\n")
        if self.out is not None and str(self.out) == "-":
            return None
        from ltr.io import atomic_write

        path = Path(self.out) if self.out is not None else RESULTS_DIR / f"{self.stem}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            fh.write(self.text)
        print(f"wrote {path}", file=sys.stderr)
        return path
