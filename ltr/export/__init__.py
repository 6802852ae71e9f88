"""Export rankers to search engines: the Elasticsearch / OpenSearch LTR plugin and Solr's LTR module.

===============  ======  ============================================================  ===================
format           models  what is written                                               defined in
===============  ======  ============================================================  ===================
``es-xgboost``   trees   plugin ``_createmodel`` body, ``model/xgboost+json``          :mod:`.es_xgboost`
``es-ranklib``   trees   plugin ``_createmodel`` body, ``model/ranklib`` (LambdaMART)  :mod:`.es_ranklib`
``solr``         trees   Solr model store JSON, ``MultipleAdditiveTreesModel``         :mod:`.solr`
``es-linear``    linear  plugin ``_createmodel`` body, ``model/linear``                :mod:`.linear`
``solr-linear``  linear  Solr model store JSON, ``LinearModel``                        :mod:`.linear`
===============  ======  ============================================================  ===================

Trees come from LightGBM and XGBoost models alike (:mod:`ltr.trees` reads both); each split is restated as the
engine's float32 comparison so that every float32 feature value goes the way the model sends it
(:mod:`ltr.export._plan`), the missing direction is written explicitly, a base score becomes a leading one-leaf
tree, and a global normaliser is folded into the thresholds. What a format cannot express is refused by name
(:class:`ExportError`), never approximated, unless an option asks for it by name. Scores equal ltrkit's: bit for
bit for XGBoost models, to float32 precision for LightGBM models (the engines sum float32 leaves) and linear models.

:meth:`Export.feature_set` gives the feature-set definition the engine needs (:mod:`.featureset`).

>>> from ltr.export import export                                         # doctest: +SKIP
>>> out = export("model.txt", "es-xgboost", missing="zero")               # doctest: +SKIP
>>> out.write("model.es.json"); text, notes = out.feature_set()           # doctest: +SKIP
"""

from ltr.export.errors import ExportError
from ltr.export.featureset import feature_set_definition
from ltr.export.registry import FORMATS, MISSING, Export, export

__all__ = ["FORMATS", "MISSING", "Export", "ExportError", "export", "feature_set_definition"]
