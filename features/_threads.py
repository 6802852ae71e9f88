"""Numba thread count for one call, restored afterwards (never set at import): the toolkit's one helper.

``n_jobs`` means the same here as everywhere in ltrkit (:mod:`ltr.threads`): None keeps Numba's setting, a
positive count is that many threads, -1 every usable core.
"""

from ltr.threads import numba_threads, workqueue_turn

__all__ = ["numba_threads", "workqueue_turn"]
