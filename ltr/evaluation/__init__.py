"""The experiment workflow: cross-validation, significance tests, normalisation, feature analysis, reports.

- :func:`cross_validate` over LETOR fold directories (:func:`letor_folds`) or query-grouped K folds
  (:func:`query_kfold`), with parallel folds and saved models -> :class:`CVResult`;
- :func:`compare`, :func:`compare_runs`, :func:`compare_models`, :func:`compare_cv` -> :class:`Comparison`: paired
  t-test, Wilcoxon signed-rank and Fisher randomisation tests against a baseline (:mod:`.significance`), Holm or
  Bonferroni correction, win/tie/loss, effect sizes; tables as text, Markdown, LaTeX, CSV or JSON;
- :class:`QueryNormalizer` / :class:`GlobalNormalizer` (:mod:`.normalize`): RankLib's ``-norm`` and global scaling,
  JSON-serialisable so that a model can carry them;
- :func:`importance_table`, :func:`permutation_importance`, :func:`ablation`; :func:`select_features` and
  :func:`read_feature_file` (RankLib ``-feature`` files);
- :func:`ndcg_scorer` for scikit-learn's ``GridSearchCV`` with query-grouped folds (:mod:`.scoring`);
- result files and reports: :func:`render_report` (PNG, one self-contained HTML page, Markdown).

Matplotlib is imported only when a figure is drawn.
"""

from ltr.evaluation.compare import Comparison, check_qrels_labels, compare, compare_cv, compare_models, compare_runs
from ltr.evaluation.cv import CVResult, Fold, FoldResult, cross_validate, dataset_summary, letor_folds, query_kfold
from ltr.evaluation.importance import ablation, groups_by_prefix, importance_table, permutation_importance
from ltr.evaluation.normalize import GlobalNormalizer, QueryNormalizer, make_normalizer, normalizer_from_dict
from ltr.evaluation.report import read_result, render_report, write_result
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
    "FoldResult",
    "GlobalNormalizer",
    "QueryNormalizer",
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
    "letor_folds",
    "make_normalizer",
    "ndcg_scorer",
    "normalizer_from_dict",
    "paired_test",
    "paired_ttest",
    "permutation_importance",
    "query_kfold",
    "randomization_test",
    "read_feature_file",
    "read_result",
    "render_report",
    "resolve_features",
    "select_features",
    "wilcoxon_test",
    "win_tie_loss",
    "write_result",
]
