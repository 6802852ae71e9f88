"""The dataset record, a synthetic ranking-data generator, and the public data sets by name.

:class:`RankingDataset` is immutable: its arrays are read-only views, so a dataset handed to a trainer, a metric or
a writer cannot be changed behind the caller's back. :func:`load` reads one split of one fold of a registered set
(:mod:`ltr.registry`) with its documented feature names.
"""

from __future__ import annotations

import os

from ltr._dataset import RankingDataset, dataset_summary, make_ranking

__all__ = ["RankingDataset", "dataset_summary", "load", "make_ranking"]

# The record is defined in ltr._dataset, below ltr.io (which builds it); its public home is here.
for _obj in (RankingDataset, dataset_summary, make_ranking):
    _obj.__module__ = __name__
del _obj


def load(name: str, root: str | os.PathLike, fold: int = 1, split: str = "train", **read_options) -> RankingDataset:
    """Read one split of one fold of a registered data set's local copy, with its documented feature names.

    The same as :func:`ltr.registry.load`, under the name of the dataset layer; see it for the details.

    Parameters
    ----------
    name : str
        A registered name (``ltr.registry.list_datasets()``; case ignored, ``_`` and spaces read as ``-``, aliases
        accepted).
    root : path
        The folder :func:`ltr.registry.fetch` made (``DIR/NAME``), its parent ``DIR``, or an unpacked copy.
    fold : int, default=1
        1..K for sets with official folds; 1 for sets with a single split (Istella, Yahoo).
    split : {"train", "vali", "test"}, default="train"
        ``"valid"`` and ``"validation"`` are accepted for ``"vali"``.
    **read_options
        Options of :func:`ltr.io.read_letor`; they override the set's own (Istella's ``overflow="clip"``, the
        -semi sets' ``unjudged="drop"``, Yahoo's ``sparse=True``).

    Returns
    -------
    RankingDataset
        With ``feature_names`` set when the registry documents them (MSLR: 136, LETOR 4.0: 46).

    Raises
    ------
    ltr.registry.UnknownDatasetError
        An unknown name (the message lists the known ones).
    ltr.registry.DatasetLayoutError
        The copy lacks that file (the message names the path and suggests verify).

    Examples
    --------
    ::

        path = ltr.registry.fetch("mq2008", to="~/ltr-data")     # once
        train = load("mq2008", root=path, fold=1, split="train")  # train.feature_names[20] == "BM25 of body"
    """
    from ltr.registry import load as load_registered

    return load_registered(name, root, fold=fold, split=split, **read_options)
