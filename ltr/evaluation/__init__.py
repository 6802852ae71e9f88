"""The experiment workflow: folds, cross-validation, significance tests, feature analysis, reports.

Modules, lowest first (each imports only modules above it in this list, never a sibling's private names):

- :mod:`.results`: the records (:class:`FoldResult`, :class:`CVResult`, :class:`Comparison`) and their JSON
  result file (:func:`read_result`, :func:`write_result`);
- :mod:`.significance`: paired t, Wilcoxon signed-rank and Fisher randomisation tests, Holm/Bonferroni;
- :mod:`.folds`: :func:`letor_folds` (``Fold1..FoldK/{train,vali,test}``), :func:`query_kfold` (K folds of whole
  queries), :func:`make_folds`;
- :mod:`.selection`: feature subsets by id or name, RankLib ``-feature`` files;
- :mod:`.cv`: :func:`cross_validate` -> :class:`CVResult`;
- :mod:`.compare`: :func:`compare`, :func:`compare_runs`, :func:`compare_models`, :func:`compare_cv` ->
  :class:`Comparison`;
- :mod:`.importance`: :func:`importance_table`, :func:`permutation_importance`, :func:`ablation`;
- :mod:`.scoring`: :func:`ndcg_scorer` for scikit-learn's ``GridSearchCV`` with query-grouped folds;
- :mod:`.tables`, :mod:`.plots`, :mod:`.report`: terminal/Markdown/LaTeX/CSV/JSON tables, PNG figures, and
  :func:`render_report` (one self-contained HTML page and Markdown).

Feature normalisation (RankLib's ``-norm`` and global scaling) is preprocessing stored with a model: it lives in
:mod:`ltr.rankers.normalize`. Matplotlib is imported only when a figure is drawn.
"""

from ltr.datasets import dataset_summary
from ltr.evaluation.compare import (
    check_qrels_labels,
    compare,
    compare_cv,
    compare_models,
    compare_runs,
    run_name,
)
from ltr.evaluation.cv import FoldProgress, cross_validate, staged_folder, stops_early
from ltr.evaluation.folds import Fold, letor_folds, load_part, make_folds, query_kfold
from ltr.evaluation.importance import ablation, groups_by_prefix, importance_table, permutation_importance
from ltr.evaluation.report import render_report
from ltr.evaluation.results import Comparison, CVResult, FoldResult, is_result_file, read_result, write_result
from ltr.evaluation.scoring import QueryScorer, ndcg_scorer
from ltr.evaluation.selection import read_feature_file, resolve_features, select_features
from ltr.evaluation.significance import (
    bonferroni,
    effect_size,
    holm,
    paired_test,
    paired_ttest,
    randomization_test,
    wilcoxon_test,
    win_tie_loss,
)
from ltr.evaluation.tables import format_comparison, format_cv

__all__ = [
    "CVResult",
    "Comparison",
    "Fold",
    "FoldProgress",
    "FoldResult",
    "QueryScorer",
    "ablation",
    "bonferroni",
    "check_qrels_labels",
    "compare",
    "compare_cv",
    "compare_models",
    "compare_runs",
    "cross_validate",
    "dataset_summary",
    "effect_size",
    "format_comparison",
    "format_cv",
    "groups_by_prefix",
    "holm",
    "importance_table",
    "is_result_file",
    "letor_folds",
    "load_part",
    "make_folds",
    "ndcg_scorer",
    "paired_test",
    "paired_ttest",
    "permutation_importance",
    "query_kfold",
    "randomization_test",
    "read_feature_file",
    "read_result",
    "render_report",
    "resolve_features",
    "run_name",
    "select_features",
    "staged_folder",
    "stops_early",
    "wilcoxon_test",
    "win_tie_loss",
    "write_result",
]
