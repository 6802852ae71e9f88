"""Numba kernels of the feature layer (postings, proximity, top-k); policy-free, called by the library modules."""
