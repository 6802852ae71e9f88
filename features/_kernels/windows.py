"""Numba kernels counting Indri's ordered (``#1``) and unordered (``#uwN``) windows of two terms.

Indri (Metzler & Croft, 2005; ``OrderedWindowNode``, ``UnorderedWindowNode`` and ``ListBeliefNode`` of the Lemur
project) counts windows as follows. Each candidate window is an extent ``[begin, end]`` of positions:

- ``#1(a b)``: ``[x, x + 1]`` for every occurrence ``x`` of ``a`` followed by ``b`` at ``x + 1``;
- ``#uwN(a b)``: for every occurrence (of either term, in position order) the window from it to the first later
  occurrence of the other term, kept when it spans at most N positions (``end - begin + 1 <= N``).

and a document's count ``c(x, D)`` is the number of non-overlapping extents taken greedily in order of ``begin``
(an extent counts when it starts after the end of the last counted one; ``ListBeliefNode``). For two different
terms ``#1`` extents never overlap, so its count is the number of bigrams ``a b``; ``#uw8`` over ``a b a b`` counts
2 (``[0, 1]`` and ``[2, 3]``), where the ``unordered_window`` feature of :mod:`features._kernels.proximity` counts
4 occurrence pairs. The collection's count ``c(x, C)`` adds up every extent instead, overlapping ones included, as
Indri's ``ContextCountAccumulator`` takes the window node's extents as they are: ``a b a b`` adds 3 to it
(``[0, 1]``, ``[1, 2]``, ``[2, 3]``).

A query repeating a term (``a a``) gives a window of one term with itself. ``#1(a a)`` needs the next occurrence
at ``x + 1`` (``a a a`` holds ``[0, 1]`` and ``[1, 2]``, which overlap: 1). For ``#uwN(a a)`` Indri's
``UnorderedWindowNode::prepare`` gives each of the two children its own type, and both types sit at every position
of ``a``, so the window from each occurrence closes on the other child's entry at the same position: the extent
``[x, x]``, one per occurrence, none overlapping; the count is :math:`tf_a` (``a z a`` counts 2, ``a`` alone 1).
This follows Indri exactly, though it makes the clique repeat the unigram's count. Each occurrence's second entry
also opens a window closing on the next occurrence (``[x, y]``, kept within N positions), which overlaps ``[x, x]``:
the collection counts it too (``a z a``: 3), with the entries of one position in their children's order, as the
sort Indri uses leaves them in a short document (a stable sort's order; ``std::sort`` does not promise it).
``#1(a a)`` over ``a a a``: 1 in the document, 2 in the collection.

Positions of one posting are ``positions[pos_ptr[p]:pos_ptr[p + 1]]``, ascending, as in the index.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["window_cf", "window_counts", "window_counts_doc"]


@njit(cache=True)
def window_counts_doc(positions, pos_ptr, pa, pb, window, out, every=False):  # pragma: no cover - compiled
    """``out[0]`` = #1(a b), ``out[1]`` = #uwN(a b) of one document; ``pa``/``pb`` are the postings of ``a``
    and ``b`` in it (-1 when absent; ``pa == pb`` for a repeated term); ``window`` is N. ``every``: every extent,
    overlapping ones included (the document's share of the collection's count), rather than the document's
    non-overlapping count."""
    out[0] = 0.0
    out[1] = 0.0
    if pa < 0 or pb < 0:
        return
    a0, a1 = pos_ptr[pa], pos_ptr[pa + 1]
    b0, b1 = pos_ptr[pb], pos_ptr[pb + 1]
    # #1: x in A with x + 1 in B, non-overlapping unless every (matters only for a == b: "a a a" counts once)
    last_end = -1
    j = b0
    for i in range(a0, a1):
        x = positions[i]
        while j < b1 and positions[j] < x + 1:
            j += 1
        if j < b1 and positions[j] == x + 1 and (every or x > last_end):
            out[0] += 1.0
            last_end = x + 1
    # #uwN: walk the merged occurrences; from each, the first later occurrence of the other term
    if pa == pb:  # Indri: each occurrence closes a window [x, x] with itself (module docstring): tf windows
        out[1] = float(a1 - a0)
        if every:  # and its second entry one on the next occurrence, within N positions
            for i in range(a0, a1 - 1):
                if positions[i + 1] - positions[i] + 1 <= window:
                    out[1] += 1.0
        return
    last_end = -1
    i = a0
    j = b0
    while i < a1 or j < b1:
        if j >= b1 or (i < a1 and positions[i] < positions[j]):
            x = positions[i]  # an occurrence of a; the next b is positions[j]
            i += 1
            if j < b1 and positions[j] - x + 1 <= window and (every or x > last_end):
                out[1] += 1.0
                last_end = positions[j]
        else:
            x = positions[j]  # an occurrence of b; the next a is positions[i]
            j += 1
            if i < a1 and positions[i] - x + 1 <= window and (every or x > last_end):
                out[1] += 1.0
                last_end = positions[i]


@njit(cache=True, parallel=True)
def window_cf(indptr, docs, pos_ptr, positions, term_a, term_b, window, out):  # pragma: no cover - compiled
    """Collection counts of #1 and #uwN for each term pair ``(term_a[k], term_b[k])`` into ``out[k]`` (shape
    (n, 2)): every extent of the documents holding both terms (a merge of the two posting lists), overlapping ones
    included, as Indri's collection count takes them (module docstring). A term id of -1 (not in the vocabulary)
    gives 0."""
    for k in prange(term_a.shape[0]):
        out[k, 0] = 0.0
        out[k, 1] = 0.0
        ta = term_a[k]
        tb = term_b[k]
        if ta < 0 or tb < 0:
            continue
        buf = np.zeros(2)
        i = indptr[ta]
        i1 = indptr[ta + 1]
        j = indptr[tb]
        j1 = indptr[tb + 1]
        while i < i1 and j < j1:
            if docs[i] < docs[j]:
                i += 1
            elif docs[i] > docs[j]:
                j += 1
            else:
                window_counts_doc(positions, pos_ptr, i, j, window, buf, True)
                out[k, 0] += buf[0]
                out[k, 1] += buf[1]
                i += 1
                j += 1


@njit(cache=True, parallel=True)
def window_counts(positions, pos_ptr, post, entry_ptr, group_ptr, bigram_ptr, bigram_a, bigram_b, row_ptr, window,
                  out):  # pragma: no cover - compiled
    """:func:`window_counts_doc` for every (pair, query bigram). Query ``q``'s bigrams are
    ``bigram_a/b[bigram_ptr[q]:bigram_ptr[q + 1]]`` (indices into its unique terms); pair ``i`` has postings
    ``post[entry_ptr[i] + k]`` per unique term ``k`` and writes rows ``out[row_ptr[i]:row_ptr[i + 1]]``, one per
    bigram of its query; each query writes a disjoint slice."""
    for q in prange(group_ptr.shape[0] - 1):
        b0 = bigram_ptr[q]
        nb = bigram_ptr[q + 1] - b0
        for i in range(group_ptr[q], group_ptr[q + 1]):
            e = entry_ptr[i]
            r = row_ptr[i]
            for k in range(nb):
                window_counts_doc(positions, pos_ptr, post[e + bigram_a[b0 + k]], post[e + bigram_b[b0 + k]], window,
                                  out[r + k], False)
