"""Numba kernels that build and probe CSR postings.

Layout of one field (all flat arrays):

- ``indptr`` int64 (n_terms + 1): the postings of term ``t`` are ``indptr[t]:indptr[t + 1]``;
- ``docs`` int32 (n_postings): document index of each posting, ascending within a term;
- ``tf`` int32 (n_postings);
- ``pos_ptr`` int64 (n_postings + 1): the positions of posting ``p`` are ``positions[pos_ptr[p]:pos_ptr[p + 1]]``,
  ascending.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["build_postings", "match_pairs", "match_query"]


@njit(cache=True)
def build_postings(term_ids, tok_doc, tok_pos, n_terms):  # pragma: no cover - compiled
    """Counting sort of a token stream (doc-major, positions ascending within a document) into CSR postings.

    O(n_tokens + n_terms). Returns ``indptr, docs, tf, pos_ptr, positions``.
    """
    n = term_ids.shape[0]
    start = np.zeros(n_terms + 1, dtype=np.int64)
    for i in range(n):
        start[term_ids[i] + 1] += 1
    for t in range(n_terms):
        start[t + 1] += start[t]
    fill = start[:-1].copy()
    positions = np.empty(n, dtype=np.int32)
    sdocs = np.empty(n, dtype=np.int32)
    for i in range(n):
        t = term_ids[i]
        j = fill[t]
        fill[t] = j + 1
        positions[j] = tok_pos[i]
        sdocs[j] = tok_doc[i]
    # A posting starts wherever the term or the document changes in the sorted stream.
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    n_post = 0
    for t in range(n_terms):
        for j in range(start[t], start[t + 1]):
            if j == start[t] or sdocs[j] != sdocs[j - 1]:
                n_post += 1
        indptr[t + 1] = n_post
    docs = np.empty(n_post, dtype=np.int32)
    pos_ptr = np.empty(n_post + 1, dtype=np.int64)
    p = 0
    for t in range(n_terms):
        for j in range(start[t], start[t + 1]):
            if j == start[t] or sdocs[j] != sdocs[j - 1]:
                docs[p] = sdocs[j]
                pos_ptr[p] = j
                p += 1
    pos_ptr[n_post] = n
    tf = (pos_ptr[1:] - pos_ptr[:-1]).astype(np.int32)
    return indptr, docs, tf, pos_ptr, positions


@njit(cache=True)
def match_query(indptr, docs, tf, qterms, cand, out_tf, out_post):  # pragma: no cover - compiled
    """tf and posting index of every (candidate, query term) of one query, by binary search in the postings.

    ``out_*`` have shape (len(cand) * len(qterms),), candidate-major; a missing term gets tf 0 and posting -1.
    """
    m = qterms.shape[0]
    for k in range(m):
        t = qterms[k]
        if t < 0:
            for i in range(cand.shape[0]):
                out_tf[i * m + k] = 0
                out_post[i * m + k] = -1
            continue
        lo = indptr[t]
        hi = indptr[t + 1]
        plist = docs[lo:hi]
        for i in range(cand.shape[0]):
            j = np.searchsorted(plist, cand[i])
            if j < plist.shape[0] and plist[j] == cand[i]:
                out_tf[i * m + k] = tf[lo + j]
                out_post[i * m + k] = lo + j
            else:
                out_tf[i * m + k] = 0
                out_post[i * m + k] = -1


@njit(cache=True, parallel=True)
def match_pairs(indptr, docs, tf, qterm_ptr, qterms, group_ptr, cand, entry_ptr, out_tf, out_post):  # pragma: no cover
    """:func:`match_query` for every query: query ``q`` owns pairs ``group_ptr[q]:group_ptr[q+1]`` and entries
    ``entry_ptr[group_ptr[q]]:entry_ptr[group_ptr[q+1]]``; each query writes a disjoint slice."""
    for q in prange(group_ptr.shape[0] - 1):
        a = group_ptr[q]
        b = group_ptr[q + 1]
        e0 = entry_ptr[a]
        e1 = entry_ptr[b]
        match_query(indptr, docs, tf, qterms[qterm_ptr[q]:qterm_ptr[q + 1]], cand[a:b], out_tf[e0:e1], out_post[e0:e1])
