"""Training and evaluation on a Dask cluster when one machine is not enough, through the engines' own Dask code.

- :func:`connect`: a ``distributed.Client`` for a scheduler address, or ``"local:N"`` for a ``LocalCluster`` of N
  worker processes on this machine; an address that does not answer raises :class:`SchedulerUnreachableError` after
  ``timeout`` seconds (never a hang).
- :func:`read_letor_shards`: many LETOR files (a glob) read in parallel, each by :func:`ltr.io.read_letor` on a
  worker, into a :class:`DaskRankingData` whose partitions are whole queries (one per file); a query id in two
  shards, or shards whose headers name their columns otherwise, is an error naming both files (shards grouped by a
  ``.query`` file without qid tokens number their queries by position: whole by construction). :func:`from_dataset`
  cuts an in-memory dataset at query boundaries.
- :func:`fit`: trains an :class:`ltr.Ranker`'s configuration with ``xgboost.dask`` (the default; ``qid`` per row,
  and since the partitions are already whole queries, no shuffle: each partition's queries get codes that increase
  through the partitions, so every worker's rows are sorted by ``qid`` as XGBoost requires, where
  ``DaskXGBRanker(allow_group_split=False)`` would sort the whole data by a shuffle) or LightGBM's
  ``DaskLGBMRanker`` (``engine="lightgbm"``), and returns the Ranker fitted, to be used as one trained locally:
  ``predict``, ``save`` and ``ltr predict`` work the same. The trees are not a local run's: each engine builds its
  histogram bins from the partitions (XGBoost's sketches, LightGBM's per-worker bin finding), so the model is
  another fit of the same data (on MQ2008-sized data, NDCG@10 within about 0.02 of a local run for XGBoost: 0.5363
  against 0.5183 on Fold1's validation segment in a trial, 3 shards on 2 workers, 30 rounds, ``--preset none``; for
  LightGBM 0.004 to 0.016 below it in three runs of a trial, varying run to run, 2 workers); LightGBM's can
  moreover differ from one run to the next with the same seed (its workers' bin finding and network order are not
  fixed; XGBoost's Dask training repeats exactly with the same shards on the same workers: partition i is placed on
  the i-th worker by name, in turn, since XGBoost's model depends on which partitions train together). Row and
  feature sampling (the small-data preset's query bagging and feature fraction) draw on the workers other rows than
  in one process: on MQ2008's 3 folds (XGBoost, 10 rounds) ``ltr cv --dask`` differs from local cv by up to 0.03
  NDCG@10 with the default preset; with ``--preset none`` (no sampling) only the bins differ, by up to 0.0066 in
  one trial (MQ2008's three segments cut by ``--folds 3``: 0.4416 / 0.4262 / 0.5469 locally, 0.4482 / 0.4262 /
  0.5439 on ``--dask local:2``; one fold equal, score for score) and up to 0.024 in another (the three segments as
  one file, 10 rounds: 0.4664 / 0.4741 / 0.4800 against 0.4543 / 0.4504 / 0.4798; XGBoost's own ``xgboost.dask``
  gives the same Dask models, so the gap is its sketching, not this module's). Before LightGBM trains,
  :func:`check_whole_queries` refuses partitions that split a query, which LightGBM does not detect and trains on
  wrongly (LightGBM issue #5676).
- :meth:`DaskRankingData.evaluate_model`: the metrics of :mod:`ltr.metrics` per query on the workers, averaged over
  all queries (the same numbers as a local evaluation).
- :func:`check_config`: what :func:`fit` refuses of a configuration (kernel, normalisation, device, engine,
  early-stopping metric), checked before a cluster is started.
- :class:`DistributedRanker`: a scikit-learn estimator that does :func:`fit` on the current client with its ranker's
  engine (unless told another), so that :func:`ltr.evaluation.cross_validate` (and ``ltr cv --dask``) trains each
  fold on the cluster.

Distributed training uses the engines' native objectives (the Numba kernels run in one process). Early stopping
(XGBoost only; ``DaskLGBMRanker`` has none) reads XGBoost's ``ndcg@k-`` on the first validation set: exp2 gain, a
query without a relevant document scores 0, as :mod:`ltr.metrics`' defaults (another ``early_stopping_metric``, or
other conventions in ``eval_params``, are refused: the workers evaluate with XGBoost's metrics); ``evals_result_``
then holds the final model's metrics on each validation set (one value per set, with :mod:`ltr.metrics`). Parameters
follow :class:`ltr.Ranker`'s mapping to each engine. Needs the ``dask`` extra: ``pip install "ltrkit[dask]"``.
"""

from __future__ import annotations

import contextlib
import glob
import io
import logging
import math
import os
import re
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ltr._dataset import fingerprint_of, query_digests
from ltr.datasets import RankingDataset
from ltr.exceptions import GroupError, NoDataLinesError, OptionError
from ltr.reader_options import refuse_one_files_sidecars

__all__ = ["DaskRankingData", "DistributedRanker", "SchedulerUnreachableError", "check_config", "check_whole_queries",
           "connect", "fit", "from_dataset", "read_letor_shards", "shard_paths"]

logger = logging.getLogger(__name__)

_INSTALL = 'distributed training needs the dask extra: pip install "ltrkit[dask]" (dask[distributed,dataframe])'
ENGINES = ("xgboost", "lightgbm")
_LONGEST_WAIT = 1_000_000  # a timeout's seconds at most (ltr.cli's LONGEST_WAIT)


class SchedulerUnreachableError(ConnectionError):
    """No Dask scheduler answered at the address within the timeout."""


def _distributed():
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - the dask extra
        raise ImportError(_INSTALL) from e
    return distributed


@contextlib.contextmanager
def connect(address: str = "local:2", *, timeout: float = 30.0) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address`` (``"tcp://host:8786"``), or ``"local:N"`` for a LocalCluster of ``N``
    single-threaded worker processes (``"local"``: two); closed on exit. The client is the default one inside the block.

    A local cluster's workers write their standard output and error to a file of their own (what the engines print
    there at any verbosity is not the command's output), and a Ctrl-C or SIGTERM while they start is acted on once
    they are up; after an interrupt the cluster closes without Dask's log of the work it cut short. The workers are
    processes that import the calling script again (Python's multiprocessing): a script that starts a local cluster
    does so under ``if __name__ == "__main__":``.

    Raises
    ------
    SchedulerUnreachableError
        Nothing answered at ``address`` within ``timeout`` seconds.
    """
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise OptionError(f"timeout={timeout!r}: a finite number of seconds > 0",
                          cli=f"--dask-timeout {timeout:g}: must be a finite number of seconds > 0"
                          if isinstance(timeout, (int, float)) else f"--dask-timeout {timeout!r}: must be a number")
    if timeout > _LONGEST_WAIT:  # (the connection's wait overflowed a time_t beyond, with a traceback)
        raise OptionError(f"timeout={timeout!r}: at most {_LONGEST_WAIT} seconds (about 11.6 days)",
                          cli=f"--dask-timeout {timeout:g}: must be at most {_LONGEST_WAIT} seconds (about 11.6 days)")
    distributed = _distributed()
    if address == "local" or address.startswith("local:"):
        n = address.partition(":")[2] if ":" in address else "2"  # "local": two workers, as connect's default
        if not n.isdigit() or int(n) < 1:
            raise OptionError(f"address {address!r}: local:N needs a positive worker count N",
                              cli=f"--dask {address}: local:N needs a positive worker count N")
        cluster, client = _start_local(distributed, int(n))
        try:
            yield client
        except BaseException as e:
            _close_quietly(client, cluster, quiet=isinstance(e, KeyboardInterrupt) or _disconnected(client))
            raise
        _close_quietly(client, cluster, quiet=False)
        return
    _check_host(address)
    client = _connect_within(distributed, address, float(timeout))
    try:
        _check_workers(client, address)
        yield client
    except BaseException as e:
        _close_quietly(client, None, quiet=isinstance(e, KeyboardInterrupt) or _disconnected(client))
        raise
    _close_quietly(client, None, quiet=False)


def _check_workers(client, address: str) -> None:
    """Refuse a cluster whose workers lack ltrkit (they die unpickling the first task that names it, and the cluster
    then looks empty: trial t53), naming them; warn of workers with another version than this process's."""
    from ltr import __version__

    try:  # a builtin and an expression: nothing of ltrkit's is unpickled there to ask
        found = client.run(eval, "__import__('ltr').__version__", on_error="return")
    except Exception as e:  # noqa: BLE001 - a scheduler that cannot say: the work itself will tell
        logger.debug("could not ask the workers their ltrkit: %s", e)
        return
    lacking = sorted(w for w, v in found.items() if not isinstance(v, str))
    if lacking:
        shown = ", ".join(lacking[:3]) + (f" and {len(lacking) - 3} more" if len(lacking) > 3 else "")
        raise RuntimeError(
            f"{len(lacking)} of the {len(found)} Dask worker(s) of {address} cannot import ltrkit ({shown}): install "
            f"ltrkit {__version__} (this process's version) in every worker's environment, then restart the workers")
    other = sorted({v for v in found.values() if v != __version__})
    if other:
        warnings.warn(f"Dask workers of {address} run ltrkit {', '.join(other)}, this process {__version__}: install "
                      "the same version everywhere (shards read and models scored there may differ)", UserWarning,
                      stacklevel=3)


def _check_host(address: str) -> None:
    """:class:`OptionError` for what is no scheduler address (a scheme Dask has no transport for, as the dashboard's
    ``http://``; no host; a bare word), and :class:`SchedulerUnreachableError` when the address's host name does not
    resolve (``lokal:2``, a misspelt machine): at once, instead of after the timeout."""
    import socket

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import backends

    def not_an_address(why: str = "") -> OptionError:
        said = f"not a scheduler address{why} (tcp://host:port, or local:N for workers on this machine)"
        return OptionError(f"address {address!r}: {said}", cli=f"--dask {address}: {said}")

    scheme, location = parse_address(address)
    if scheme not in backends:  # 'http://host:8787', the dashboard's address pasted: refused by the client at once,
        # reported as no answer within the timeout (trial t63)
        why = ": http:// is the dashboard's address, not the scheduler's" if scheme.lower() in ("http", "https") \
            else f": Dask's schemes are {', '.join(s + '://' for s in sorted(backends))}"
        raise not_an_address(why)
    if not location:  # 'tcp://'
        raise not_an_address(": no host")
    if scheme not in ("tcp", "tls", "ws", "wss"):
        return
    if "://" not in address and ":" not in location:  # 'bogus': no scheme, no port: not an address at all
        raise not_an_address()
    try:
        host = parse_host_port(location)[0]
    except ValueError as e:  # 'tcp://host' (no port), 'tcp:// ', 'http:/x:1' (tcp:// taken for the scheme): the
        # client refuses them at once, which read as no answer within the timeout (trial t63)
        raise not_an_address(f": {str(e).split(';')[0]}") from None
    if not host:  # 'tcp://:8786'
        raise not_an_address(": no host")
    try:
        socket.getaddrinfo(host, None)
    except ValueError:  # a name getaddrinfo cannot take (a NUL in it): left to the client, which names the address
        return
    except socket.gaierror as e:
        hint = "; for this machine's workers use local:N" if host.lower().startswith("lo") else ""
        raise SchedulerUnreachableError(f"no Dask scheduler at {address}: host {host!r} is not known "
                                        f"({e.strerror}){hint}") from None


def _connect_within(distributed, address: str, timeout: float):
    """``distributed.Client(address)`` or :class:`SchedulerUnreachableError` within ``timeout`` seconds, whatever
    answers there: a server that is not a Dask scheduler (a web server, the dashboard's port) can keep the
    handshake waiting past the client's own timeout, or send bytes it reads as a huge message."""
    import threading

    out: dict[str, Any] = {}

    def attempt() -> None:
        try:
            out["client"] = distributed.Client(address, timeout=f"{timeout}s")
        except BaseException as e:  # noqa: BLE001 - reported below, in the caller's thread
            out["error"] = e

    worker = threading.Thread(target=attempt, name="ltr-dask-connect", daemon=True)
    worker.start()
    worker.join(timeout + 5.0)
    if "client" in out:
        return out["client"]
    error = out.get("error")
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error
    # what the client raised says little (a host that drops packets surfaces as a MemoryError from the handshake, a
    # refused connection as "Timed out trying to connect"): asked again of the address itself
    cause = "connection refused: nothing listens there" if _refused(address) else "no answer"
    raise SchedulerUnreachableError(
        f"no Dask scheduler answered at {address} within {timeout:g} s ({cause}); start one (`dask scheduler`, then "
        "`dask worker ADDRESS` on each machine), check the address, or use local:N") from None


def _refused(address: str) -> bool:
    """Whether a TCP connection to the address's host and port is refused at once (no server on that port)."""
    import socket

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme != "tcp":
            return False
        host, port = parse_host_port(location, 8786)  # without a port, the client tries Dask's default
        with socket.create_connection((host, int(port)), timeout=2.0):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError, TypeError):
        return False


def _start_local(distributed, n: int):
    """A LocalCluster of ``n`` single-threaded worker processes and its client.

    The workers' standard output and error are a temporary file of their own, not this command's: what the engines
    print there at any verbosity (LightGBM's network set-up, ``[LightGBM] [Info] Trying to bind port ...``; XGBoost's
    warning that a worker holds no part of a one-partition validation set) stays out of the user's output, and so do
    the tracebacks of workers that a Ctrl-C at the terminal reaches as well (it goes to the whole process group);
    errors still reach this process as the tasks' exceptions. A worker that the nanny restarts later is spawned from
    this process, with its output: the preload :mod:`ltr._dask_worker` points it at the null device. While they
    start (a few seconds) Ctrl-C and SIGTERM are held, and acted on once the cluster is up and closed again: in the
    middle of the start they left Dask's own tracebacks behind (a half-made cluster closed at exit).
    """
    import signal
    import tempfile

    cluster = client = None
    with tempfile.TemporaryFile() as log, _signals_held() as received:
        try:
            with _output_inherited(log):  # the worker processes keep it; this process's own comes back after
                cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                   dashboard_address=None, silence_logs=logging.ERROR,
                                                   preload=["ltr._dask_worker"])  # a restarted one's, too
                client = distributed.Client(cluster)
        except Exception as e:
            _close_quietly(client, cluster)
            if not received:  # a worker that could not start: its last words say why
                said = _last_line(log)
                if any(w in f"{e}{said}" for w in ("bootstrapping phase", "__name__ == '__main__'")):
                    # a script without the guard: each worker ran it again (its own error, or this one from it)
                    raise RuntimeError("the local Dask workers did not start: each worker process imports the "
                                       "script that starts them again, which started a cluster once more; start "
                                       "it under if __name__ == '__main__': (Python's multiprocessing rule)") from None
                raise RuntimeError(f"the local Dask workers did not start ({e}){said}") from None
        except BaseException:
            _close_quietly(client, cluster)
            raise
    if received:
        _close_quietly(client, cluster)
        signal.raise_signal(received[0])  # now to the handler the caller had (Ctrl-C: KeyboardInterrupt)
        raise KeyboardInterrupt  # a handler that returned: the cluster is gone all the same
    return cluster, client


@contextlib.contextmanager
def _signals_held() -> Iterator[list]:
    """Within the block SIGINT and SIGTERM are recorded in the list yielded rather than acted on; as they were
    after it. Only in the main thread, where Python's signal handlers are; a signal the caller ignores stays
    ignored."""
    import signal
    import threading

    received: list = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def hold(signum, frame):
        if signum not in received:
            received.append(signum)

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    held = [s for s, handler in previous.items() if handler not in (signal.SIG_IGN, None)]
    for s in held:
        signal.signal(s, hold)
    try:
        yield received
    finally:
        for s in held:
            signal.signal(s, previous[s])


@contextlib.contextmanager
def _output_inherited(file) -> Iterator[None]:
    """Within the block, file descriptors 1 and 2 of this process are ``file``'s, so that processes started in it
    write there for good; this process's own are back after it."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # a closed standard stream: nothing of ours to keep clean
        yield
        return
    try:
        os.dup2(file.fileno(), 1)
        os.dup2(file.fileno(), 2)
        yield
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def _last_line(file) -> str:
    """``": "`` and the last exception written to ``file`` (``ImportError: ...``, with the indented lines its
    message runs over; else the last line), or nothing."""
    import re

    file.flush()
    file.seek(0)
    lines = [line.rstrip() for line in file.read().decode(errors="replace").splitlines() if line.strip()]
    if not lines:
        return ""
    starts = [i for i, line in enumerate(lines) if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b",
                                                            line)]
    if not starts:
        return f": {lines[-1].strip()}"
    said = [lines[starts[-1]].strip()]
    for line in lines[starts[-1] + 1:]:
        if not line[:1].isspace():
            break
        said.append(line.strip())
    text = " ".join(said)
    return f": {text[:240]}{'...' if len(text) > 240 else ''}"


def _close_quietly(client, cluster, *, quiet: bool = True) -> None:
    """Close the client, then the cluster; with ``quiet``, after an interrupt or a lost scheduler, without Dask's and
    asyncio's log of the tasks and connections the close cuts short (``CommClosedError``, ``AllExit``; the client's
    attempts to connect to its scheduler again, cancelled: a 20-line ``CancelledError`` traceback after the error
    that said the scheduler was lost, trial t65)."""
    # each of Dask's loggers with a level of its own too (distributed.client's is Dask's configuration's: the
    # package's level alone let its traceback through)
    named = [name for name in list(logging.Logger.manager.loggerDict) if name.partition(".")[0] == "distributed"]
    loggers = [logging.getLogger(name) for name in dict.fromkeys(("distributed", "asyncio", *named))] if quiet else []
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        for part in (client, cluster):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.close()
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _client(client):
    if client is not None:
        return client
    try:
        return _distributed().default_client()
    except ValueError:
        raise ValueError("no Dask client: pass client=, or call inside `with ltr.dask.connect(address):`") from None


def _disconnected(client) -> bool:
    """Whether ``client`` has lost its scheduler: it tries to connect again (``"connecting"``), or has given up."""
    return client is not None and getattr(client, "status", "running") in ("connecting", "closing", "closed")


def _scheduler_address(client) -> str | None:
    """The address ``client`` reaches its scheduler at (known while it tries to connect again; not once closed)."""
    return getattr(getattr(client, "scheduler", None), "address", None)


def _scheduler_lost(client, e: BaseException, patience: float = 2.0) -> bool:
    """Whether ``e`` comes of ``client``'s lost connection to its scheduler (stopped, killed, its machine gone): Dask
    then cancels every future ("scheduler-connection-lost") while the client tries to connect again. An error of
    the connection itself (``CommClosedError``, a reset) can arrive before the client has noticed: it is given
    ``patience`` seconds to; any other error is asked about once, at once."""
    from concurrent.futures import CancelledError

    chain, seen = [], set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    for x in chain:
        try:
            if "scheduler-connection-lost" in str(x):
                return True
        except Exception:  # noqa: BLE001 - some distributed exceptions cannot render themselves
            pass
    connection = any(isinstance(x, (ConnectionError, CancelledError)) or type(x).__module__.partition(".")[0] in
                     ("distributed", "tornado", "asyncio") for x in chain)
    deadline = time.monotonic() + (patience if connection else 0.0)
    while not _disconnected(client):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _lost_scheduler_error(address: str | None, during: str) -> RuntimeError:
    """The error for a scheduler lost ``during`` a step, named by its ``address`` (taken before: a closed client
    forgets it)."""
    at = f" at {address}" if address else ""
    return RuntimeError(f"lost the connection to the Dask scheduler{at} {during} (the scheduler stopped or was "
                        "killed, or the network to it failed): start it again with its workers, or check the network, "
                        "then run again")


@contextlib.contextmanager
def _scheduler_kept(client, during: str) -> Iterator[None]:
    """Within the block, an error that comes of ``client``'s lost scheduler (:func:`_scheduler_lost`) is raised as
    one that says so, naming its address (a scheduler killed while the shards were read gave Dask's
    ``FuturesCancelledError`` and an 80-line traceback; trial t65)."""
    address = _scheduler_address(client)
    try:
        yield
    except Exception as e:
        if _scheduler_lost(client, e):
            raise _lost_scheduler_error(address, during) from e
        raise


# -- data ---------------------------------------------------------------------------------------------------------
def _read_shard(path: str, n_features: int | None, options: dict, reader=None) -> RankingDataset | None:
    """The shard at ``path`` (read by ``reader``, :func:`ltr.io.read_letor` by default), or None when it holds no
    data line (:func:`read_letor_shards` skips it)."""
    if reader is None:
        from ltr.io import read_letor as reader
    try:
        return reader(path, n_features=n_features, **options)
    except NoDataLinesError:
        return None


def _summary(d: RankingDataset | None) -> dict | None:
    if d is None:
        return None
    return {"n_rows": d.n_rows, "n_features": d.n_features, "query_ids": np.asarray(d.query_ids),
            "feature_names": d.feature_names, "weighted": d.weight is not None,
            "query_file": "query" in (getattr(d, "sources", None) or {}),
            "digests": query_digests(d.X, d.y, d.group_ptr),
            "label_max": float(np.max(d.y)) if d.n_rows else None,
            "sparse": hasattr(d.X, "tocsr"),  # its absent entries: XGBoost's missing values, made 0 by _field
            # the features' float type, kept as a local fit keeps it (float64 in memory; float32 as read)
            "dtype": np.result_type(d.X.dtype, np.float32)}


@dataclass
class DaskRankingData:
    """A ranking dataset held by the workers, one partition per shard, each partition whole queries.

    ``parts`` are futures of :class:`~ltr.datasets.RankingDataset`; the rest is what the client knows of them.
    """

    client: Any
    parts: list
    names: list[str]
    summaries: list[dict] = field(repr=False)
    #: cut at query boundaries (:func:`from_dataset`): whole queries by construction, whatever ids repeat
    cut_at_queries: bool = field(default=False, repr=False)
    #: ``reread(i, worker)``: partition ``i`` read again on ``worker`` (shards read from files), for one whose worker
    #: was lost; None where the data lives nowhere else (scattered from this process)
    reread: Any = field(default=None, repr=False)

    def recover(self) -> None:
        """Read again, on the workers there are now, the partitions a lost worker held: each read is pinned to one
        worker (so that the same shards train alike), and a worker gone for good, or restarted by its nanny under
        another address, left its partition waiting for it for ever, and the training with it."""
        live = [p for p in self.parts if not p.cancelled()]  # (who_has raises on a cancelled future)
        held = self.client.who_has(live) if live else {}
        lost = [i for i, p in enumerate(self.parts) if p.cancelled() or not held.get(p.key)]
        # a read still in flight is held by no worker either: lost only when the scheduler can run it nowhere
        asked = [self.parts[i].key for i in lost if not self.parts[i].cancelled()]
        states = _task_states(self.client, asked) if asked else {}
        lost = [i for i in lost if self.parts[i].cancelled() or states.get(self.parts[i].key) in _LOST_STATES]
        if not lost:
            return
        if self.reread is None:
            raise RuntimeError(f"{len(lost)} partition(s) ({', '.join(self.names[i] for i in lost[:3])}) were lost "
                               "with their worker (killed, out of memory): scatter the data again (from_dataset)")
        where = _placement(self.client, len(self.parts))
        logger.warning("%d partition(s) lost with their worker are read again: %s", len(lost),
                       ", ".join(self.names[i] for i in lost[:5]) + (", ..." if len(lost) > 5 else ""))
        for i in lost:
            # the lost future is let go, not cancelled: Dask's cancel of a task with a dependent no client wants
            # (the previous fit's arrays made of it, recomputed after the loss) fails an assertion in the scheduler,
            # which drops the client's connection and so cancels every future (the first fit after a lost worker
            # failed with "scheduler-connection-lost"; trial t65)
            self.parts[i] = self.reread(i, where[i])

    @property
    def n_rows(self) -> int:
        return sum(s["n_rows"] for s in self.summaries)

    @property
    def n_features(self) -> int:
        return int(self.summaries[0]["n_features"])

    @property
    def n_queries(self) -> int:
        return sum(int(s["query_ids"].size) for s in self.summaries)

    @property
    def feature_names(self):
        return self.summaries[0]["feature_names"]

    @property
    def fingerprint(self) -> str:
        """The data fingerprint a local fit of the same queries in the same order records."""
        return fingerprint_of(*(s["digests"] for s in self.summaries))

    def check_whole_queries(self, what: str = "partition") -> None:
        """:func:`check_whole_queries` over the partitions whose query ids are ids (not the positions a ``.query``
        file numbers its groups by, whole by construction: :func:`_numbered_by_position`)."""
        if self.cut_at_queries:  # two groups that share an id (files numbered from 1, joined) are two queries
            return
        named = [i for i, s in enumerate(self.summaries) if not _numbered_by_position(s)]
        check_whole_queries([self.summaries[i]["query_ids"] for i in named], names=[self.names[i] for i in named],
                            what=what)

    def gather(self) -> RankingDataset:
        """The whole dataset in this process, partitions in order (for small data and tests)."""
        parts = self.client.gather(self.parts)
        sizes = np.concatenate([d.group_sizes for d in parts])
        return RankingDataset(X=np.concatenate([np.asarray(d.dense()) for d in parts]),
                              y=np.concatenate([d.y for d in parts]), qid=np.concatenate([d.qid for d in parts]),
                              group_ptr=np.concatenate(([0], np.cumsum(sizes))), feature_names=parts[0].feature_names)

    def to_arrays(self):
        """``(X, y, group, qid)`` Dask arrays, one chunk per partition.

        ``group``: each partition's query sizes (LightGBM's input); ``qid``: query codes that increase through the
        partitions in order (``0 .. n_queries - 1``), so that any worker's partitions, concatenated in order as
        XGBoost does, have sorted qids, which XGBoost requires.
        """
        import dask
        import dask.array as da

        xs, ys, gs, qs = [], [], [], []
        first = 0
        dtype = np.result_type(*(s.get("dtype", np.float32) for s in self.summaries))  # one type across chunks
        for p, s in zip(self.parts, self.summaries):
            n, q = int(s["n_rows"]), int(s["query_ids"].size)
            xs.append(da.from_delayed(dask.delayed(_field)(p, "X", dtype), shape=(n, self.n_features), dtype=dtype))
            ys.append(da.from_delayed(dask.delayed(_field)(p, "y"), shape=(n,), dtype=np.float64))
            gs.append(da.from_delayed(dask.delayed(_field)(p, "group_sizes"), shape=(q,), dtype=np.int64))
            qs.append(da.from_delayed(dask.delayed(_query_codes)(p, first), shape=(n,), dtype=np.int64))
            first += q
        return da.concatenate(xs), da.concatenate(ys), da.concatenate(gs), da.concatenate(qs)

    def evaluate_model(self, model, metrics: Sequence[str], **conventions) -> dict[str, float]:
        """Mean of each metric over all queries, computed per query on the workers (as :func:`ltr.metrics.evaluate`
        on the whole data would)."""
        from ltr.metrics import aggregate

        model = getattr(model, "ranker_", model)  # a fitted DistributedRanker: its Ranker
        # a key of its own (not the model's hash): a second call with the same model would race with the release
        # of the first call's copy ("lost dependencies")
        self.recover()
        model_future = self.client.scatter(model, broadcast=True, hash=False)
        per = self.client.gather([self.client.submit(_evaluate_part, p, model_future, list(metrics), conventions,
                                                     pure=False) for p in self.parts])
        joined = {m: np.concatenate([p[m] for p in per]) for m in per[0]}
        return {k: float(v) for k, v in aggregate(joined).items() if k in metrics}


def _refuse_sparse_for_xgboost(data: DaskRankingData) -> None:
    """Sparse shards with XGBoost: the workers give xgboost.dask each shard's rows dense (:func:`_field`), so an
    absent entry would train as 0, where the model then scores one of sparse data as the missing value a local fit
    reads it as (every row of LightGBM's example scored otherwise; trial t60). ``ltr train --dask`` refuses
    ``--sparse`` before, in its own words (``refuse_sparse_dask_xgboost``); the Python API took it."""
    if any(s.get("sparse") for s in data.summaries):
        raise OptionError("sparse data with XGBoost on Dask: the workers give xgboost.dask each shard's rows dense, so "
                          "an absent entry would train as 0, not as the missing value a sparse read makes it; read "
                          "the data dense (sparse=False: absent entries are 0), or train with engine='lightgbm' "
                          "(which reads them as 0 either way)")


def _check_part(d: RankingDataset, model, native) -> None:
    """:meth:`ltr.Ranker.fit`'s checks of the training labels and features, made on one partition, on the worker that
    holds it, in a local fit's words: a NaN label, one that is fractional, negative or above the gain table of
    ``model``'s objective (``native``: its native parameters), and for XGBoost an infinite feature value, each named
    by the shard's file and line where the partition was read from one. Left to the engines, each was refused in
    their own words after the cluster had started training (XGBoost's with advice about dead workers; trial t61)."""
    from ltr.rankers.ranker import refuse_fractional_labels, refuse_infinite, unpack  # as Ranker.fit checks them

    X, y, ptr = unpack(d, None, None, None)  # NaN and beyond 1e38: "X.y has NaN labels (first at row 3)"
    refuse_fractional_labels(model, d, y, ptr, native)
    if model.engine == "xgboost":  # LightGBM bins inf as a large value, as in one process
        refuse_infinite(X, "X", d)


def _query_codes(d: RankingDataset, first: int):
    return np.repeat(np.arange(first, first + d.n_queries, dtype=np.int64), d.group_sizes)


def _field(d: RankingDataset, name: str, dtype=np.float32):
    # a sparse read's rows made dense (np.asarray of a scipy matrix is a 0-d object array, which neither engine took:
    # "setting an array element with a sequence"); an absent entry is 0, as LightGBM reads one. The features keep
    # their float type: a float64 timestamp cast to float32 lost all but 2 of its 100 values (trial t57)
    return np.asarray(d.dense(), dtype=dtype) if name == "X" else np.asarray(getattr(d, name))


def _evaluate_part(d: RankingDataset, model, metrics, conventions):
    from ltr.metrics import evaluate_per_query

    return evaluate_per_query(d.y, model.predict(d), group_ptr=d.group_ptr, metrics=metrics, **conventions)


def shard_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The shard files, as given or found by the glob here (read by the workers as absolute paths: their working
    directory is their own); a glob that matches nothing, a folder or a shard given twice is refused, before any
    cluster is needed (``ltr train --dask`` checks them first)."""
    if isinstance(paths, (str, os.PathLike)):
        text = os.fspath(paths)
        found = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not found:
            raise FileNotFoundError(f"no LETOR shard matches {text!r}")
        if found == [text] and os.path.isdir(text):  # (no filename: the message is the whole line)
            raise IsADirectoryError(f"{text}: is a folder, not a shard file: give its shards as a glob, e.g. "
                                    f"'{os.path.join(text, '*.txt')}'")
        return found
    out = [os.fspath(p) for p in paths]
    if not out:
        raise ValueError("no LETOR shards given")
    seen: dict[str, str] = {}
    for p in out:  # (it was said as a query split between two shards, both the same file)
        key = os.path.realpath(p)
        if key in seen:
            same = f" (as {seen[key]!r} and {p!r})" if seen[key] != p else ""
            raise ValueError(f"the shard {p} is given twice{same}: give each shard once")
        seen[key] = p
    return out


def _placement(client, n: int) -> list[str]:
    """The worker of each of ``n`` partitions: in turn over the workers ordered by name (a LocalCluster's 0, 1, ...),
    so that the same shards on the same workers are placed alike in every run. XGBoost's model depends on which
    partitions train together on a worker; left to the scheduler, that follows its load of the moment."""
    workers = client.scheduler_info().get("workers", {})
    if not workers:  # none known at this moment (a worker reconnecting after a missed heartbeat): wait a little
        with contextlib.suppress(TimeoutError, OSError):
            client.wait_for_workers(1, timeout=10)
        workers = client.scheduler_info().get("workers", {})
    if not workers:
        raise RuntimeError("the Dask cluster has no worker: start some (dask worker ADDRESS), then run again")
    ordered = sorted(workers, key=lambda a: (str(workers[a].get("name", a)), a))
    return [ordered[i % len(ordered)] for i in range(n)]


def _numbered_by_position(s: dict) -> bool:
    """Whether a shard's query ids are its group sizes file's positions (0, 1, ...: LightGBM's .query layout, no qid
    tokens): every such shard has a query 0, whose rows are whole by the file's own groups."""
    ids = s["query_ids"]
    return s["query_file"] and np.array_equal(ids, np.arange(ids.size))


def _check_feature_names(summaries: list[dict], files: list[str]) -> None:
    """Shards whose headers name their columns otherwise (other names, or the same in another order) would train
    one column as two features: refused, naming both files. A narrower shard is compared on its columns; a shard
    whose header names none is taken by position."""
    first = next(((i, list(s["feature_names"])) for i, s in enumerate(summaries) if s["feature_names"]), None)
    if first is None:
        return
    i0, names0 = first
    for i, s in enumerate(summaries):
        names = list(s["feature_names"] or ())
        j = next((j for j, (a, b) in enumerate(zip(names, names0)) if a != b), None)
        if j is not None:
            raise ValueError(f"{files[i]}: its column {j + 1} is named {names[j]!r} where {files[i0]}'s is "
                             f"{names0[j]!r}: the shards of one dataset must hold the same columns in the same order")


def read_letor_shards(paths, *, client=None, n_features: int | None = None, reader=None,
                      **options) -> DaskRankingData:
    """Read LETOR shards in parallel, each by :func:`ltr.io.read_letor` on a worker (``options`` as there).

    ``paths``: a glob (``"shards/part-*.txt"``), one path, or a list. Every shard gets the same width: the largest
    of their widths unless ``n_features`` is given. A query id in two shards raises :class:`GroupError` naming both
    files (a query's rows must be one list, in one partition). A shard without data lines (an empty part file) is
    skipped with a warning naming it; when none holds any, :class:`~ltr.exceptions.NoDataLinesError`.

    ``reader``, optional: a picklable function called on the workers in place of ``read_letor``, with the same
    arguments (``ltr train --dask`` reads each shard as one process reads TRAIN, with ``--dataset``'s width, checks
    and feature names, and the label checks of its metrics, which name the shard's line).
    """
    files = shard_paths(paths)
    refuse_one_files_sidecars(options, len(files), f"there are {len(files)} shards")  # before a cluster starts
    client = _client(client)
    with _scheduler_kept(client, "while the shards were read"):  # (its loss: one line, not Dask's traceback)
        where = _placement(client, len(files))

        def read(i: int, width: int | None, worker: str | None = None):
            # pinned: XGBoost's model depends on which partitions train together (lost: DaskRankingData.recover)
            return client.submit(_read_shard, os.path.abspath(files[i]), width, options, reader,
                                 workers=[worker or where[i]], allow_other_workers=False, pure=False)

        parts = [read(i, n_features) for i in range(len(files))]
        summaries = _summaries_surviving(client, parts, where, lambda i, worker: read(i, n_features, worker))
        empty = [i for i, s in enumerate(summaries) if s is None]
        if len(empty) == len(files):
            raise NoDataLinesError("no data lines (empty file?)" + (f", nor in the other {len(files) - 1} shard(s)"
                                                                   if len(files) > 1 else ""), files[0])
        if empty:  # a writer's empty part files (part-00007 of a job with nothing to put there): nothing to train on
            warnings.warn(f"{len(empty)} shard(s) hold no data lines and are skipped: "
                          + ", ".join(files[i] for i in empty[:5]) + (", ..." if len(empty) > 5 else ""), stacklevel=2)
            keep = [i for i in range(len(files)) if i not in set(empty)]
            parts, summaries = [parts[i] for i in keep], [summaries[i] for i in keep]
            files, old = [files[i] for i in keep], [where[i] for i in keep]  # (read() takes both by index)
            # placed again in turn over the shards that hold data: in their places among all, the empty ones between
            # two shards put both on one worker and left another idle (another model than the same two shards alone)
            where = _placement(client, len(files))
            moved = [i for i in range(len(files)) if where[i] != old[i]]
            for i in moved:
                parts[i] = read(i, n_features)
            if moved:  # read before the data is handed on (a fit's checks took a read in flight for a lost one)
                summaries = _summaries_surviving(client, parts, where, lambda i, worker: read(i, n_features, worker))
        width = max(s["n_features"] for s in summaries)
        redo = [i for i, s in enumerate(summaries) if s["n_features"] != width]
        if redo:  # the widest shard sets the width (absent trailing features are zeros)
            again = [read(i, width) for i in redo]
            for i, f in zip(redo, again):
                parts[i] = f
            for i, s in zip(redo, client.gather(client.map(_summary, again, pure=False))):
                summaries[i] = s
        _check_feature_names(summaries, files)
        data = DaskRankingData(client, parts, files, summaries, reread=lambda i, worker: read(i, width, worker))
        data.check_whole_queries(what="shard")
    return data


def _summaries_surviving(client, parts: list, where: list[str], reread, poll: float = 5.0) -> list:
    """:func:`_summary` of every part, the reads of a worker lost meanwhile made again on the workers there are now
    (``reread(i, worker)``; ``parts`` and ``where`` updated in place): a read is pinned to its worker, and one whose
    worker died, or came back under another address, waited for it for ever (:meth:`DaskRankingData.recover` does
    the same once the data is read)."""
    from distributed import wait

    summaries = list(client.map(_summary, parts, pure=False))
    while True:
        try:
            wait(summaries, timeout=poll)
            return client.gather(summaries)
        except TimeoutError:
            pass
        alive = set(client.scheduler_info().get("workers", {}))
        lost = [i for i, (w, f) in enumerate(zip(where, summaries)) if w not in alive and not f.done()]
        if not lost:
            continue
        fresh = _placement(client, len(parts))
        logger.warning("%d of %d shard read(s) lost with their worker are made again", len(lost), len(parts))
        for i in lost:
            client.cancel([summaries[i], parts[i]])
            where[i] = fresh[i]
            parts[i] = reread(i, where[i])
            summaries[i] = client.submit(_summary, parts[i], pure=False)


def from_dataset(data: RankingDataset, *, client=None, n_parts: int | None = None) -> DaskRankingData:
    """Scatter an in-memory dataset to the workers in ``n_parts`` partitions of whole queries (default: one per
    worker; at most one per query), of about equal rows."""
    client = _client(client)
    if n_parts is None:
        n_parts = max(1, len(client.scheduler_info().get("workers", {})))
    subsets = [data.subset(np.arange(a, b)) for a, b in _query_cuts(data.group_ptr, n_parts)]
    # Keys of their own (hash=False): scattered by content, the same data given again (a second fit) shares its
    # keys with the first's futures, whose release on the scheduler can then arrive after the new scatter and lose
    # the data under the new futures ("lost dependencies").
    parts = [client.scatter([d], workers=[w], hash=False)[0]
             for d, w in zip(subsets, _placement(client, len(subsets)))]
    summaries = [_summary(d) for d in subsets]
    names = [f"part {i}" for i in range(len(subsets))]
    return DaskRankingData(client, parts, names, summaries, cut_at_queries=True)


def _query_cuts(ptr, n_parts: int) -> list[tuple[int, int]]:
    """``min(n_parts, n_queries)`` ranges of whole queries, each non-empty, cut near equal rows. Cutting at the
    nearest query boundary alone made fewer parts than asked where queries are uneven (103 of 156 asked on 156
    MQ2008 queries: a worker could be left without data; trial t55).

    >>> _query_cuts(np.array([0, 10, 11, 12, 13]), 4)
    [(0, 1), (1, 2), (2, 3), (3, 4)]
    """
    ptr = np.asarray(ptr, dtype=np.int64)
    n_queries = ptr.size - 1
    n = max(1, min(int(n_parts), n_queries))
    cuts = np.searchsorted(ptr, np.linspace(0, ptr[-1], n + 1)[1:-1]).tolist()
    bounds = [0]
    for k, c in enumerate(cuts, 1):  # at least one query before each cut, room for one after it
        bounds.append(min(max(int(c), bounds[-1] + 1), n_queries - (n - k)))
    bounds.append(n_queries)
    return list(zip(bounds[:-1], bounds[1:]))


def check_whole_queries(query_ids: Sequence[np.ndarray], *, names: Sequence[str] | None = None,
                        what: str = "partition") -> None:
    """Raise :class:`GroupError` if a query id occurs in more than one partition.

    ``query_ids[i]``: the query ids of partition ``i`` (one per query, as ``RankingDataset.query_ids``). LightGBM's
    Dask ranker trains on a split query as two queries without a word (LightGBM issue #5676); XGBoost's is told not
    to split them.

    Examples
    --------
    >>> check_whole_queries([np.array([1, 2]), np.array([3])])
    >>> check_whole_queries([np.array([1, 2]), np.array([2, 3])])
    Traceback (most recent call last):
    ...
    ltr.exceptions.GroupError: query 2 is in partition 0 and partition 1: a query split between partitions trains \
as two queries (LightGBM issue #5676); keep each query's rows in one partition (ltr.dask.from_dataset cuts at \
query boundaries)
    """
    names = list(names) if names is not None else [f"{what} {i}" for i in range(len(query_ids))]
    if len(query_ids) < 2:
        return
    # each partition's ids once: two groups of one partition that share an id (files numbered from 1, joined) are
    # two queries there as in a local fit (the engines read group sizes and positional codes), never a split one
    each = [np.unique(np.asarray(q)) for q in query_ids]
    ids = np.concatenate(each)
    owner = np.repeat(np.arange(len(query_ids)), [q.size for q in each])
    order = np.argsort(ids, kind="stable")
    same = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if same.size:
        k = same[0]
        q, a, b = ids[order][k], names[owner[order][k]], names[owner[order][k + 1]]
        raise GroupError(f"query {q} is in {a} and {b}: a query split between {what}s trains as two queries "
                         f"(LightGBM issue #5676); keep each query's rows in one {what}"
                         + (" (ltr.dask.from_dataset cuts at query boundaries)" if what == "partition" else
                            " (merge those rows into one file)"))


# -- training -----------------------------------------------------------------------------------------------------
def _raise_engine_error(engine: str, e: Exception, *, shards: bool = True) -> None:
    """Raise what a failed engine fit says: the engine's own check (an XGBoostError is a ValueError) in one line,
    ltrkit's checks as they are, a missing package with its install line; ``shards``: the data was read from shards
    (not scattered from memory), which the advice may name."""
    if isinstance(e, (ValueError, TypeError)):
        if type(e).__module__.partition(".")[0] in ENGINES:  # XGBoostError: the engine's check, stack trace and all
            raise _engine_failure(engine, e, shards=shards) from e
        raise e
    if isinstance(e, ImportError):
        raise ImportError(f"{e}; {_INSTALL}") from e
    raise _engine_failure(engine, e, shards=shards) from e


#: The scheduler's states of a task that nothing will run: its pinned worker is gone ("no-worker"), or it is gone
#: itself. A read in flight ("waiting", "processing", "queued") or done ("memory") is not lost.
_LOST_STATES = ("no-worker", "released", "forgotten", "erred", None)


def _task_states(client, keys: list) -> dict:
    """The scheduler's state of each key (None: the scheduler has no such task)."""

    def states(dask_scheduler=None, keys=keys):
        return {k: (dask_scheduler.tasks[k].state if k in dask_scheduler.tasks else None) for k in keys}

    return client.run_on_scheduler(states)


class _LostPartitions:
    """While an engine trains: a partition whose worker is lost (its read pinned there, recomputed nowhere) left
    xgboost.dask's DMatrix waiting for it for ever. A thread asks the scheduler every ``poll`` seconds; once a
    partition's task is one nothing will run (:data:`_LOST_STATES`), those partitions are cancelled, so that the
    training fails at once (they are read again by :meth:`DaskRankingData.recover` on the next fit); ``lost`` names
    them."""

    def __init__(self, client, data: DaskRankingData, poll: float = 2.0):
        self.client, self.data, self.poll = client, data, poll
        self.lost: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        parts = list(self.data.parts)
        while not self._stop.wait(self.poll):
            try:
                states = _task_states(self.client, [p.key for p in parts])
            except Exception:  # the client closing: nothing to watch
                return
            lost = [i for i, p in enumerate(parts) if states.get(p.key) in _LOST_STATES]
            if lost:
                self.lost = [self.data.names[i] for i in lost]
                with contextlib.suppress(Exception):  # what waits for them fails at once (recover reads them again)
                    self.client.cancel([parts[i] for i in lost])
                return

    def __enter__(self) -> _LostPartitions:
        self._thread = threading.Thread(target=self._run, name="ltrkit-lost-partitions", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _engine_failure(engine: str, e: BaseException, *, shards: bool = True) -> RuntimeError:
    try:
        text = (str(e).strip().splitlines() or [type(e).__name__])[0].split("Stack trace:")[0].strip(" ;:")
    except Exception:  # some distributed exceptions cannot render themselves
        text = type(e).__name__
    if type(e).__name__ == "LightGBMError":  # the engine's own refusal, the same on every run: not a dead worker
        port = re.search(r"\bport\b|_port\b|\bbinding\b", text, re.IGNORECASE) is not None  # not 'support'
        advice = ("a port it was told to use is taken or not allowed: leave out machines and local_listen_port "
                  "(LightGBM's Dask ranker then finds free ports), or free them" if port else
                  "LightGBM refused its configuration under Dask: change or leave out the parameter it names")
        return RuntimeError(f"distributed {engine} training failed ({type(e).__name__}: {text}); {advice}")
    # data scattered from memory has no shards to cut finer or read (trial t65 was told of them)
    fix = ("give the workers more memory or less data each (more shards, more workers), check that every worker "
           "can read the shards, and run again" if shards else
           "give the workers more memory or less data each (more workers), and run again")
    return RuntimeError(f"distributed {engine} training failed ({type(e).__name__}: {text}); if a worker died "
                        f"(out of memory, killed), its log says why: {fix}")


def _distributed_engine(ranker_engine: str, engine: str | None) -> str:
    """The engine of a distributed fit of a Ranker whose ``engine`` is ``ranker_engine``: ``engine`` when given, else
    XGBoost (:func:`fit`'s default). Ranker's own default engine, ``"lightgbm"``, gives way to ``engine`` (it cannot
    be told from a choice); a Ranker's ``engine="xgboost"`` that ``engine`` contradicts, and the linear ranker
    (coordinate ascent, in one process), are refused by name."""
    if engine is not None and engine not in ENGINES:
        why = " (the linear ranker's coordinate ascent runs in one process)" if engine == "linear" else ""
        raise OptionError(f"unknown distributed engine {engine!r}{why}; choose one of {list(ENGINES)}",
                          cli=f"unknown distributed engine {engine!r}{why}; choose --dask-engine xgboost or lightgbm")
    if ranker_engine == "linear":
        raise OptionError("unknown distributed engine 'linear': the Ranker's engine='linear' (coordinate ascent) runs "
                          "in one process; use engine='xgboost' or 'lightgbm' in the Ranker, or drop the client",
                          cli="unknown distributed engine 'linear': --engine linear (coordinate ascent) runs in one "
                              "process; use --engine xgboost or lightgbm with --dask, or drop --dask")
    if engine is not None and ranker_engine == "xgboost" and engine != "xgboost":
        raise OptionError(f"engine={engine!r} contradicts the Ranker's engine='xgboost': pass one engine (set the "
                          "Ranker's engine, or leave engine=None)",
                          cli=f"--dask-engine {engine} contradicts --engine xgboost: pass one engine")
    return engine if engine is not None else "xgboost"


def check_config(model, *, engine: str | None = None, validation: bool = True) -> None:
    """Refuse, before any cluster is started or data read, a configuration :func:`fit` cannot train: ``model``'s
    kernel, normalisation, device, parameters and, when there is a ``validation`` set to stop on, early-stopping
    metric, against ``engine`` (as :func:`fit` reads it). ``ltr train/cv --dask`` call it first, so a bad option
    costs no cluster start-up."""
    model, _ = _configured(model, engine, quiet=True)
    if model.engine == "xgboost" and model.early_stopping_rounds and validation:  # as fit: only what stops early
        _xgboost_stopping_metric(model, model._metric_names())


def _configured(model, engine: str | None, *, quiet: bool = False):
    """A clone of ``model`` set to train with ``engine``'s Dask integration, checked (:func:`check_config`), and
    its native objective; ``quiet``: without the gpu-or-cpu warning (:func:`fit` says it)."""
    from sklearn.base import clone

    engine = _distributed_engine(model.engine, engine)
    model = clone(model).set_params(engine=engine)  # the caller's estimator is never changed (sklearn's rule)
    if model.kernel != "native":
        raise OptionError("distributed training uses the engines' native objectives: kernel='numba' runs in one "
                          "process (drop the client, or use kernel='native')",
                          cli="distributed training uses the engines' native objectives: --kernel numba runs in one "
                              "process (drop --dask, or use --kernel native)")
    from ltr.objectives import NATIVE

    ours = sorted(NATIVE[engine])
    other = next((e for e in ENGINES if e != engine and model.objective in NATIVE[e]), None)
    if model.objective not in NATIVE[engine] and other is not None:  # map, ranknet (XGBoost's); xendcg (LightGBM's)
        raise OptionError(f"objective={model.objective!r}: distributed {engine} training has no native "
                          f"{model.objective!r} objective (its native ones: {', '.join(ours)}); distributed {other} "
                          f"training has it: pass engine={other!r} (the Ranker's, or fit's)",
                          cli=f"--objective {model.objective}: distributed {engine} training has no native "
                              f"{model.objective} objective (its native ones: {', '.join(ours)}); distributed {other} "
                              f"training has it: pass --dask-engine {other} (and no other --engine)")
    if model.objective not in NATIVE[engine]:  # a Numba kernel only (listnet, distill): in one process alone
        raise OptionError(f"objective={model.objective!r} is a Numba kernel, which runs in one process: distributed "
                          f"{engine} training uses the engine's native objectives ({', '.join(ours)}); drop the "
                          "client to train it",
                          cli=f"--objective {model.objective} is a Numba kernel, which runs in one process: --dask "
                              f"trains {engine}'s native objectives ({', '.join(ours)}); drop --dask to train it")
    if model.normalize is not None:
        raise OptionError("normalize is not supported with distributed training: normalise the shards first",
                          cli="--normalize is not supported with --dask: normalise the shards first")
    from ltr.rankers.aliases import engine_threads_key

    threads = engine_threads_key(engine, model.engine_params)
    learner = {k: v for k, v in dict(model.engine_params or {}).items()
               if k in ("tree_learner", "tree", "tree_type", "tree_learner_type")}
    feature = [(k, v) for k, v in learner.items() if str(v).lower() in ("feature", "feature_parallel")]
    if engine == "lightgbm" and feature:
        key, value = feature[0]
        why = "LightGBM's Dask ranker trains data- or voting-parallel only (its C API has no feature-parallel)"
        raise OptionError(f"engine_params: {key}={value!r}: {why}; use 'data' or 'voting'",
                          cli=f"--param {key}={value}: {why}; use data or voting")
    if engine == "lightgbm" and threads is not None:  # dropped, or warned about by LightGBM as ignored
        why = ("LightGBM's Dask ranker trains each worker with the threads Dask gives it (dask-worker --nthreads, "
               "LocalCluster's threads_per_worker), not a count of its own")
        raise OptionError(f"engine_params: {threads}={model.engine_params[threads]!r}: {why}; leave it out",
                          cli=f"--param {threads}={model.engine_params[threads]}: {why}; leave it out (--dask "
                              "local:N sets the local workers)")
    if model.device == "gpu-or-cpu":  # the engines' Dask GPU training is not wired here: the CPU, as documented
        if not quiet:
            logger.warning("device gpu-or-cpu with distributed training: the workers train on their CPUs (the "
                           "engines' Dask GPU training is not wired here)")
        model.set_params(device="cpu")
    elif model.device != "cpu":
        raise OptionError(f"device={model.device!r}: distributed training runs on the workers' CPUs (the engines' "
                          "Dask GPU training is not wired here); use device='cpu'",
                          cli=f"--device {model.device}: distributed training (--dask) runs on the workers' CPUs "
                              "(the engines' Dask GPU training is not wired here); use --device cpu or gpu-or-cpu")
    from ltr.exceptions import ParameterValueError

    try:
        return model, model._check_params()
    except ParameterValueError as e:
        raise device_param_error(e, model.engine_params) or e from None


def device_param_error(e, engine_params) -> OptionError | None:
    """The error for an engine parameter that picks a GPU (``--param device=cuda``) in distributed training, where
    the ranker's own refusal (:class:`~ltr.exceptions.ParameterValueError`, ``e``) points at ``--device gpu``, which
    distributed training refuses too; None for any other parameter error."""
    if e.key not in ("device", "device_type", "tree_method") or not str(e.reason).startswith("the device is"):
        return None
    value = engine_params[e.key]
    why = "distributed training runs on the workers' CPUs (the engines' Dask GPU training is not wired here)"
    return OptionError(f"engine_params: {e.key}={value!r}: {why}; leave it out",
                       cli=f"--param {e.key}={value}: {why} (--dask); leave it out")


def fit(model, data, *, client=None, eval_set=None, eval_names=None, engine: str | None = None):
    """Train ``model``'s configuration (an :class:`ltr.Ranker`) on the cluster; returns a fitted copy of ``model``
    (a clone with the engine that trained it; ``model`` itself is left as it was).

    Parameters
    ----------
    model : ltr.Ranker
        Its tree parameters, native objective, eval_at, early stopping and seed are used; ``kernel="numba"``,
        ``normalize`` and ``objective="distill"`` are refused (they run in one process).
    data : DaskRankingData or RankingDataset
        Training data (an in-memory dataset is scattered by :func:`from_dataset`).
    client : dask.distributed.Client, optional
        The cluster; default the current one (``distributed.default_client()``, e.g. inside ``with
        ltr.dask.connect(address):``).
    eval_set : list of RankingDataset, optional
        Validation sets (small, in this process); the first drives XGBoost's early stopping.
    eval_names : list of str, optional
        Their names in the fitted model's ``evals_result_`` (default ``valid_0``, ...).
    engine : {"xgboost", "lightgbm"}, optional
        The engine's Dask training: ``xgboost.dask`` (``None``, the default, for a Ranker whose ``engine`` is
        Ranker's default ``"lightgbm"``, or ``"xgboost"``) or ``DaskLGBMRanker`` (``engine="lightgbm"``; no
        early stopping). A model's ``engine="xgboost"`` that ``engine`` contradicts and ``engine="linear"`` (it
        runs in one process) are refused. :class:`DistributedRanker` instead follows its ranker's engine. With
        ``engine=None`` and a Ranker whose engine is ``"lightgbm"`` (its default, which cannot be told from a
        choice), a warning says that XGBoost trains. XGBoost's binary objectives (``objective="map"``,
        ``"logistic"``) train on label >= 1, as in one process; each worker trains with its Dask threads.
    """
    client = _client(client)
    if engine is None and getattr(model, "engine", None) == "lightgbm":  # Ranker's default: not read as a choice
        warnings.warn("ltr.dask.fit trains XGBoost when engine= is not given (xgboost.dask: early stopping, "
                      "repeatable), whatever the Ranker's engine='lightgbm', which is Ranker's default and cannot be "
                      "told from a choice; pass engine='lightgbm' for LightGBM's Dask ranker, engine='xgboost' to "
                      "say nothing (DistributedRanker follows its ranker's engine)", UserWarning, stacklevel=2)
    model, native = _configured(model, engine)
    engine = model.engine
    from ltr.rankers.params import warn_unused

    warn_unused(model, stacklevel=2)  # min_child_samples given to XGBoost, as a local fit says it (trial t60)
    if getattr(model, "n_jobs", None) not in (None, -1):  # as ltr train --dask notes --n-jobs (trial t57)
        warnings.warn(f"n_jobs={model.n_jobs!r} does not apply to distributed training: each worker trains with its "
                      "Dask threads (dask-worker --nthreads, LocalCluster's threads_per_worker)", UserWarning,
                      stacklevel=2)
    in_memory = not isinstance(data, DaskRankingData)
    if in_memory:
        _check_part(data, model, native)  # here, naming the rows of the data given, as a local fit names them
        data = from_dataset(data, client=client)
    data.recover()
    if any(s["weighted"] for s in data.summaries):
        raise OptionError("row weights are not supported with distributed training (read the shards with "
                          "weight_file=None)",
                          cli="row weights (a .weight file beside a shard) are not supported with --dask: train "
                              "without them (--no-weight-file), or in one process")
    eval_set = list(eval_set or [])
    for i, v in enumerate(eval_set):  # as a local fit checks them, before the cluster works
        if not isinstance(v, RankingDataset):
            raise TypeError(f"eval_set[{i}] must be a RankingDataset, got {type(v).__name__}")
        if v.n_features != data.n_features:
            raise ValueError(f"eval_set[{i}] has {v.n_features} features but the training data has "
                             f"{data.n_features}; read both with the same n_features=")
    names = [str(n) for n in eval_names] if eval_names is not None else [f"valid_{i}" for i in range(len(eval_set))]
    if len(names) != len(eval_set) or len(set(names)) != len(names):  # (zipped with the sets, one was dropped: t65)
        raise ValueError(f"eval_names must name each of the {len(eval_set)} evaluation sets once, got {eval_names!r}")
    metrics = model._metric_names()
    # The same defaults as a local fit: the preset (ltr.rankers.presets) sees the number of training queries, and
    # rows (too few rows for its leaf size keep the default: LightGBM's Dask models were cut short or constant,
    # trial t59), and says what it replaced as a local fit says it
    from ltr.rankers.presets import apply_preset, warn_replaced

    n_queries = sum(len(s["query_ids"]) for s in data.summaries)
    effective, applied = apply_preset(model, n_queries, sum(int(s["n_rows"]) for s in data.summaries))
    warn_replaced(model, applied)
    if engine == "xgboost" and eval_set and effective.early_stopping_rounds:  # (it kept round 1; review of t61)
        from ltr.rankers.ranker import refuse_nothing_to_stop_on

        refuse_nothing_to_stop_on(eval_set[0], names[0], metrics[0], model._eval_params())
    t0 = time.perf_counter()
    address = _scheduler_address(client)  # (forgotten by the client once it closes)
    watch = _LostPartitions(client, data)
    try:
        with watch:  # (a partition lost meanwhile fails the checks at once too)
            if engine == "xgboost":
                _refuse_sparse_for_xgboost(data)
                _refuse_labels_above_gain_table(effective, native, data)  # by the partition's name, from its summary
            if not in_memory:  # each partition where it lives: its labels, and for XGBoost its features, scanned once
                client.gather(client.map(_check_part, data.parts, model=model, native=native, pure=False))
            if engine == "xgboost":
                booster, best = _fit_xgboost(effective, native, data, client, eval_set, metrics)
            else:
                data.check_whole_queries()
                if eval_set and effective.early_stopping_rounds:  # the default with a validation set: said, not dropped
                    logger.warning("LightGBM's Dask ranker has no early stopping: all %d rounds are trained, the "
                                   "validation metrics recorded (XGBoost's Dask training stops early)",
                                   effective.n_estimators)
                booster, best = _fit_lightgbm(effective, native, data, client)
    except Exception as e:
        if watch.lost:  # (its cancel of the lost partitions may cost the client its scheduler connection as well)
            again = ("run again (the shards are read again on the workers there are then)"
                     if data.reread is not None else
                     "run again (the data is scattered again to the workers there are then)" if in_memory else
                     "scatter the data again (from_dataset), then run again")
            raise RuntimeError(f"a Dask worker was lost during training, and its partition(s) with it "
                               f"({', '.join(watch.lost[:3])}{', ...' if len(watch.lost) > 3 else ''}): "
                               f"{again}") from e
        if _scheduler_lost(client, e):  # not a worker's death, which the engine's failure below would advise on
            raise _lost_scheduler_error(address, "during training") from e
        _raise_engine_error(engine, e, shards=data.reread is not None)
    model.fit_seconds_ = time.perf_counter() - t0
    model.booster_ = booster
    model.best_iteration_ = int(best)
    model.n_features_in_ = data.n_features
    if data.feature_names is not None:
        model.feature_names_in_ = np.asarray(list(data.feature_names), dtype=object)
    model.normalizer_ = None
    model.preset_params_ = applied
    model.device_ = "cpu"
    # the threads a worker trained with: XGBoost's nthread where given, else the most Dask gives a worker (it
    # recorded 1 whatever trained; trial t57)
    from ltr.rankers.aliases import engine_threads_key

    key = engine_threads_key(engine, model.engine_params)
    given = int(model.engine_params[key]) if key is not None else 0
    # (a count of 0 or less is the workers' own, as xgboost.dask reads it)
    model.n_threads_ = given if given > 0 else max(client.nthreads().values(), default=1)
    model.n_workers_ = _holders(client, data)  # the Dask workers that trained it: a worker without data does not
    model.n_rounds_ = int(booster.num_boosted_rounds() if engine == "xgboost" else booster.current_iteration())
    model.data_fingerprint_ = data.fingerprint
    model._remember_params()  # (a set_params after the fit changes the next fit, not this model's save)
    # The validation sets' metrics with ltr.metrics (the engines' Dask APIs keep only their own per-round log).
    from ltr.metrics import evaluate

    record = {}
    for name, v in zip(names, eval_set):  # the model's (the best round's) metrics: one value per set
        final = evaluate(v.y, model.predict(v), group_ptr=v.group_ptr, metrics=metrics,
                         **dict(getattr(model, "eval_params", None) or {}))
        record[name] = {m: [float(final[m])] for m in metrics}
    model.evals_result_ = record
    return model


def _holders(client, data: DaskRankingData) -> int:
    """How many workers hold a partition of ``data`` now (the scheduler's ``who_has``; a worker that joined after
    the data was placed holds none, and trains nothing)."""
    held = client.who_has(data.parts)
    return len({w for workers in held.values() for w in workers})


def _xgboost_stopping_metric(model, metrics) -> str:
    """XGBoost's name of the metric that stops a distributed fit early: ``ndcg@k-`` (a query without a relevant
    document scores 0, the gain the objective's: exp2, or linear with ``ndcg_exp_gain=False`` or a label_gain table
    of 0, 1, 2, ...), which equals :mod:`ltr.metrics`' ``ndcg@k`` under the same gain and its default conventions.
    Other metrics, gains and conventions are refused by name: the engines' Dask training evaluates on the workers
    with their own metrics, so the local fit's :mod:`ltr.metrics` callback has no place there (``--gain exp2`` with
    ``ndcg_exp_gain=false`` stopped on XGBoost's linear-gain NDCG, silently; trial t65)."""
    first = metrics[0]
    name = first.partition("@")[0]
    gain = _xgboost_metric_gain(model)
    defaults = {"gain": gain, "no_relevant": 0.0, "ties": "stable", "convention": "default"}  # XGBoost NDCG's own
    changed = {key: value for key, value in dict(getattr(model, "eval_params", None) or {}).items()
               if key in defaults and value != defaults[key]}
    if name != "ndcg" or changed:
        own = (f"{gain} gain (the objective's{', ndcg_exp_gain=false' if gain == 'linear' else ''}), 0 for a query "
               "without a relevant document")
        what = (f"early_stopping_metric={first!r}" if name != "ndcg" else
                f"eval_params {changed} (XGBoost's ndcg@k- has {own})")
        cli = (f"--early-stopping-metric {first}" if name != "ndcg" else
               f"{' '.join(f'--{k.replace(chr(95), chr(45))} {v}' for k, v in changed.items())} (XGBoost's ndcg@k- "
               f"has {own})")
        fix = f"eval_params={{'gain': {gain!r}}}" if set(changed) == {"gain"} else "the default conventions"
        cli_fix = f"--gain {gain}" if set(changed) == {"gain"} else "the default conventions"
        raise OptionError(
            f"{what}: distributed XGBoost training stops early on XGBoost's own ndcg@k- only; stop on ndcg@k with "
            f"{fix}, or train in one process",
            cli=f"{cli} with --dask: distributed XGBoost training stops early on XGBoost's own ndcg@k- only; stop "
                f"on ndcg@K with {cli_fix}, or drop --dask")
    return _xgboost_ndcg(first)


def _xgboost_metric_gain(model) -> str:
    """``"linear"`` where XGBoost's ``ndcg@k`` measures with linear gains (``ndcg_exp_gain=False``, in the engine
    parameters or from a label_gain table of 0, 1, 2, ... as :func:`ltr.objectives.native_params` translates it),
    else ``"exp2"``."""
    from ltr.objectives import native_params

    value = (model.engine_params or {}).get("ndcg_exp_gain")
    if value is None and "label_gain" in (model.objective_params or {}):
        try:
            value = native_params("xgboost", model.objective, **dict(model.objective_params)).get("ndcg_exp_gain")
        except (TypeError, ValueError, KeyError):  # (refused with its own words where the objective is made)
            value = None
    return "linear" if value is not None and str(value).lower() in ("false", "0") else "exp2"


#: The cut-off that makes XGBoost's NDCG the whole list's: XGBoost (2.0 and later) reads ``ndcg-``, and the largest
#: unsigned cut-off ``ndcg@4294967295-``, as its default NDCG@32 (trial t53: a --dask fit with
#: --early-stopping-metric ndcg kept the best round by NDCG@32); no query is longer than this.
_WHOLE_LIST = 2**31 - 1


def _xgboost_ndcg(metric: str) -> str:
    """XGBoost's name of ``metric``'s NDCG cut-off with ltr.metrics' default of 0 for a query without a relevant
    document: ``ndcg@k-``, or ``ndcg@2147483647-`` for the whole list (:data:`_WHOLE_LIST`)."""
    k = metric.partition("@")[2]
    return f"ndcg@{k or _WHOLE_LIST}-"


def _refuse_labels_above_gain_table(model, native, data: DaskRankingData) -> None:
    """XGBoost's rank:ndcg reads a label_gain table as its form alone: a label above it trains with the form's gain,
    as in one process, where the label is refused by its line (it trained on Dask, exit 0; review of trial t59).
    Here it is named by its shard, the highest label of which the workers reported."""
    table = (model.objective_params or {}).get("label_gain")
    if (native or {}).get("objective") != "rank:ndcg" or table is None or isinstance(table, str) \
            or not hasattr(table, "__len__"):
        return
    top = len(table) - 1
    for name, s in zip(data.names, data.summaries):
        if s is not None and s.get("label_max") is not None and s["label_max"] > top:
            from ltr.objectives import xgboost_gain_table_error

            raise xgboost_gain_table_error(f"{name}: ", top, f"{s['label_max']:g}")


def _fit_xgboost(model, native, data: DaskRankingData, client, eval_set, metrics):
    import dask.array as da
    import xgboost as xgb
    from xgboost import dask as dxgb

    from ltr.objectives import XGBOOST_BINARY_OBJECTIVES
    from ltr.rankers.aliases import engine_threads_key
    from ltr.rankers.ranker import get_backend  # the engines' parameter mapping, as Ranker uses it

    params = get_backend("xgboost").params(model, native, 1)
    params.pop("disable_default_eval_metric", None)
    if engine_threads_key("xgboost", model.engine_params) is None:
        params.pop("nthread", None)  # each worker trains with its Dask threads (xgboost.dask's own rule), not 1
    stop = int(model.early_stopping_rounds) if eval_set and model.early_stopping_rounds else None
    if stop:
        params["eval_metric"] = _xgboost_stopping_metric(model, metrics)
    elif eval_set:
        params["eval_metric"] = _xgboost_ndcg(metrics[0])  # recorded only: evals_result_ is ltr.metrics'
    extra = {"max_bin": params["max_bin"]} if "max_bin" in params else {}  # the data's bins are the booster's
    X, y, _, qid = data.to_arrays()
    if params.get("objective") in XGBOOST_BINARY_OBJECTIVES:  # 0/1 labels only: label >= 1, as in one process
        y = (y >= 1).astype(np.float64)
    dtrain = dxgb.DaskQuantileDMatrix(client, X, y, qid=qid, **extra)
    evals = []
    for i, v in enumerate(eval_set):
        codes = np.repeat(np.arange(v.n_queries, dtype=np.int64), v.group_sizes)
        # one chunk each: Dask cuts an array above 128 MiB (a 247k x 136 validation set) into chunks of its own
        # choosing, the labels' not matching the features' (XGBoost refuses the mismatch) and splitting queries
        dense = np.asarray(v.dense())
        dv = dxgb.DaskQuantileDMatrix(client, da.from_array(dense, chunks=dense.shape),
                                      da.from_array(np.asarray(v.y), chunks=v.n_rows),
                                      qid=da.from_array(codes, chunks=v.n_rows), ref=dtrain, **extra)
        evals.append((dv, f"valid_{i}"))
    # XGBoost's early_stopping_rounds watches the last of the evals: the first set (the validation part of a cv
    # fold, ahead of its training part) is named, as a local fit stops on its first set
    callbacks = [xgb.callback.EarlyStopping(rounds=stop, metric_name=params["eval_metric"], data_name="valid_0",
                                            maximize=True, save_best=False)] if stop else None
    out = dxgb.train(client, params, dtrain, num_boost_round=int(model.n_estimators), evals=evals,
                     callbacks=callbacks, verbose_eval=False)
    booster = out["booster"]
    best = booster.best_iteration + 1 if stop else booster.num_boosted_rounds()
    return booster, best


def _fit_lightgbm(model, native, data: DaskRankingData, client):
    import lightgbm as lgb

    from ltr.rankers.ranker import get_backend  # the engines' parameter mapping, as Ranker uses it

    params = get_backend("lightgbm").params(model, native, 1)
    for key in ("metric", "verbosity", "num_threads"):
        params.pop(key, None)
    X, y, group, _ = data.to_arrays()
    if params.get("objective") == "binary":  # "logistic": label >= 1 is relevant, as in one process (LightGBM's own
        y = (y >= 1).astype(np.float64)  # binary objective counts any label > 0: a 0.5 would be relevant here only)
    ranker = lgb.DaskLGBMRanker(client=client, n_estimators=int(model.n_estimators), verbose=-1, **params)
    with warnings.catch_warnings():
        # LightGBM's Dask wrapper passes its own n_jobs (None) down and then warns that it ignores it: each worker's
        # threads are Dask's. Nothing the user set is dropped (a num_threads of theirs was refused by _configured;
        # the backend's own is removed above).
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored", category=UserWarning)
        # LightGBM's Dask wrapper and its network set-up print to standard output whatever the verbosity ("Finding
        # random open ports for workers", "[LightGBM] [Info] Trying to bind port ..."): kept out of the user's
        # output (a notebook's cell, `ltr train --format json`), and logged at DEBUG level instead
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                ranker.fit(X, y, group=group)
        finally:
            for line in captured.getvalue().splitlines():
                logger.debug("lightgbm: %s", line)
    booster = ranker.booster_
    return booster, booster.current_iteration()


class DistributedRanker(BaseEstimator):
    """A scikit-learn estimator that trains its ``ranker``'s configuration on the current Dask client (:func:`fit`).

    Fitted, it predicts, saves and reports like the :class:`ltr.Ranker` it wraps (``ranker_``); so
    :func:`ltr.evaluation.cross_validate` can train every fold on the cluster (``ltr cv --dask``).

    Parameters
    ----------
    ranker : ltr.Ranker, optional
        The configuration (default ``Ranker()`` trained with XGBoost, :func:`fit`'s default); never changed.
    engine : {"xgboost", "lightgbm"}, optional
        The engine's Dask training. ``None`` (the default): the ranker's own ``engine`` (``Ranker(engine="lightgbm")``
        trains ``DaskLGBMRanker``, ``"xgboost"`` ``xgboost.dask``), XGBoost without a ranker. Given, it overrides
        a ranker whose engine is Ranker's default ``"lightgbm"``; ``engine="lightgbm"`` with a ranker whose engine is
        ``"xgboost"`` is refused as a contradiction, and a ranker with ``engine="linear"`` (one process) is refused.
    """

    def __init__(self, ranker=None, engine: str | None = None):
        self.ranker = ranker
        self.engine = engine

    def fit(self, X, y=None, *, eval_set=None, eval_names=None, log_period: int = 0, **kwargs) -> DistributedRanker:
        from sklearn.base import clone

        from ltr import Ranker

        if y is not None or kwargs:
            raise TypeError("DistributedRanker.fit takes a RankingDataset or DaskRankingData (and eval_set=)")
        if isinstance(eval_set, RankingDataset):
            eval_set = [eval_set]
        model = clone(self.ranker) if self.ranker is not None else Ranker(engine="xgboost")
        engine = self.engine if self.engine is not None else model.engine  # the ranker's, unless given (fit checks)
        self.ranker_ = fit(model, X, eval_set=eval_set, eval_names=eval_names, engine=engine)
        return self

    def __setattr__(self, name: str, value) -> None:
        # A fitted attribute set on the wrapper (ltr train records read_options_ before saving) is the Ranker's:
        # save() and predict() are its, and would not see it on the wrapper.
        if name.endswith("_") and not name.startswith("_") and name != "ranker_" and "ranker_" in self.__dict__:
            setattr(self.__dict__["ranker_"], name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Fitted attributes and methods (predict, save, feature_importance, best_iteration_...) are the Ranker's.
        if name.startswith("__") or name in ("ranker_", "ranker", "engine"):
            raise AttributeError(name)
        ranker = self.__dict__.get("ranker_")
        if ranker is None:
            from sklearn.exceptions import NotFittedError

            from ltr import Ranker

            if name.endswith("_") or hasattr(Ranker, name):  # the fitted Ranker's: NotFittedError is an AttributeError
                raise NotFittedError(f"this DistributedRanker is not fitted yet: call fit before using {name}")
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(ranker, name)
