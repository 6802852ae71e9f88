"""The toolkit's own tree ensembles: LightGBM and XGBoost models validated on load and scored exactly, fast.

:class:`TreeEnsemble` is one struct-of-arrays record for both engines. The parsers check a model's structure
before anything else sees it (a corrupt or hand-edited model is a :class:`~ltr.exceptions.ModelFormatError` naming
the file, the tree and the fault, never a crash), and :meth:`TreeEnsemble.predict` returns the engine's own raw
margins bit for bit, with a bit-sliced Numba kernel (:mod:`ltr.trees._score`).

>>> from ltr.trees import from_booster                      # doctest: +SKIP
>>> model = from_booster(booster)                           # doctest: +SKIP
>>> model.predict(X, n_iter=best_iteration)                 # doctest: +SKIP
"""

from ltr.trees.lightgbm_text import from_lightgbm_text
from ltr.trees.loaders import from_booster, from_model_text, load
from ltr.trees.model import TreeEnsemble
from ltr.trees.xgboost_json import from_xgboost_json

__all__ = ["TreeEnsemble", "from_booster", "from_lightgbm_text", "from_model_text", "from_xgboost_json", "load"]
