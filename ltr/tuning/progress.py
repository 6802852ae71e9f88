"""Progress of :func:`ltr.tuning.tune` on standard error, on a terminal or not.

On a terminal: tqdm's bar over every trial of every outer fold (as :func:`ltr.evaluation.cross_validate` shows
its folds). Anywhere else (a script whose standard error is a file or a pipe, CI, ``nohup``, a notebook without
widgets), where tqdm draws nothing, plain lines instead:

- one at the start with the cost: ``outer folds x trials x inner folds`` fits, plus one refit per outer fold;
- one per finished trial, at most one every :data:`INTERVAL` seconds (the first always shows): the outer fold
  ``i/n``, the trial ``j/N``, the best inner score so far and the time elapsed;
- one per finished outer fold, with its chosen parameters' inner score and the outer test score.

Nothing here runs a trial: :func:`ltr.tuning.tune` calls :meth:`TuneProgress.trial` and the like as it goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

from ltr._progress import format_elapsed, say, terminal_bar

__all__ = ["INTERVAL", "TuneProgress", "format_elapsed"]

#: Seconds between two per-trial lines off a terminal (fold lines and the first trial line always show).
INTERVAL = 5.0


class TuneProgress:
    """A tqdm bar on a terminal, rate-limited lines elsewhere (see the module docstring).

    Parameters
    ----------
    label : str
        The system's name (``"lightgbm tuned"``).
    outer_folds, n_trials, inner_folds : int
    metric : str
        The inner folds' metric (``"ndcg@10"``).
    file : file object, optional
        Where to write (default: ``sys.stderr`` when a line is written). The bar shows when it is a terminal.
    interval : float, default=INTERVAL
        Seconds between two per-trial lines.
    clock : callable, default=time.monotonic
    inner_repeats : int, default=1
        Splits of each outer training part into ``inner_folds`` (a trial fits ``inner_folds * inner_repeats``).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()                     # not a terminal: lines
    >>> p = TuneProgress("lgbm", 2, 3, 2, "ndcg@10", file=out, clock=lambda: 0.0)
    >>> p.trial(0, 1, 0.5); p.trial(0, 2, 0.6)  # the second comes within INTERVAL: no line
    >>> p.close()
    >>> print(out.getvalue(), end="")
    tune lgbm: 2 outer folds x 3 trials x 2 inner folds = 12 fits, plus 2 outer refits
    tune lgbm: outer fold 1/2, trial 1/3, best inner ndcg@10 0.5000, 0s elapsed
    """

    def __init__(self, label: str, outer_folds: int, n_trials: int, inner_folds: int, metric: str, *,
                 file: IO[str] | None = None, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic, inner_repeats: int = 1):
        self.label, self.outer_folds, self.n_trials, self.metric = label, outer_folds, n_trials, metric
        self.file, self.interval, self.clock = file, float(interval), clock
        self.start = clock()
        self.last: float | None = None
        self.bar = terminal_bar(outer_folds * n_trials, f"tune {label}", "trial", file)
        if self.bar is None:  # not a terminal: lines instead
            repeats = f" x {inner_repeats} inner splits" if inner_repeats != 1 else ""
            self._line(f"{outer_folds} outer folds x {n_trials} trials x {inner_folds} inner folds{repeats} = "
                       f"{outer_folds * n_trials * inner_folds * inner_repeats} fits, plus {outer_folds} outer "
                       "refits")

    def _line(self, text: str) -> None:
        say(f"tune {self.label}: {text}", self.file)

    def _elapsed(self) -> str:
        return f"{format_elapsed(self.clock() - self.start)} elapsed"

    def resumed(self, fold: int, n: int) -> None:
        """``n`` completed trials of outer fold ``fold`` (0-based) found in the storage."""
        if self.bar is not None:
            self.bar.update(n)
        elif n:
            self._line(f"outer fold {fold + 1}/{self.outer_folds}, {n} trial{'' if n == 1 else 's'} resumed from the "
                       "storage")

    def trial(self, fold: int, done: int, best: float) -> None:
        """Trial ``done`` (1-based) of outer fold ``fold`` (0-based) finished; ``best``: the best inner score yet."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"fold {fold + 1} best {best:.4f}", refresh=False)
            return
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return
        self.last = now
        self._line(f"outer fold {fold + 1}/{self.outer_folds}, trial {done}/{self.n_trials}, best inner "
                   f"{self.metric} {best:.4f}, {self._elapsed()}")

    def fold_done(self, fold: int, n_trials: int, best: float, outer: float) -> None:
        """Outer fold ``fold`` (0-based) chose from ``n_trials`` trials (inner score ``best``) and tested its choice
        on its test queries (``outer``)."""
        if self.bar is not None:
            return
        self.last = self.clock()
        self._line(f"outer fold {fold + 1}/{self.outer_folds} done: {n_trials} trial{'' if n_trials == 1 else 's'}, "
                   f"best inner {self.metric} "
                   f"{best:.4f}, outer test {self.metric} {outer:.4f}, {self._elapsed()}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
