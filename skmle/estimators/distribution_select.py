"""Choosing a family: fit several and tabulate how well each describes the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.base import clone

from skmle.estimators.distribution import DistributionMLE
from skmle.models.distributions import FAMILIES


@dataclass
class FamilyComparison:
    """The table of :func:`compare_distributions`, best (lowest AIC) first.

    Attributes
    ----------
    rows : list of dict
        ``family``, ``loglik``, ``n_params``, ``aic``, ``bic``, ``ks`` (the
        Kolmogorov-Smirnov distance :math:`\\sup_x |F_n(x) - \\hat F(x)|`) and
        ``estimator`` (the fitted :class:`~skmle.DistributionMLE`).
    """

    rows: list

    def __str__(self) -> str:
        lines = [f"{'family':<12}{'loglik':>14}{'k':>4}{'AIC':>14}{'BIC':>14}{'KS':>9}"]
        for r in self.rows:
            lines.append(
                f"{r['family']:<12}{r['loglik']:>14.6g}{r['n_params']:>4d}"
                f"{r['aic']:>14.6g}{r['bic']:>14.6g}{r['ks']:>9.4f}"
            )
        return "\n".join(lines)

    def best(self) -> DistributionMLE:
        """The fitted estimator of the first row."""
        return self.rows[0]["estimator"]

    def to_pandas(self):
        """The table as a ``pandas.DataFrame`` (without the estimators)."""
        import pandas as pd

        return pd.DataFrame(
            [{k: v for k, v in r.items() if k != "estimator"} for r in self.rows]
        )


def ks_distance(x: np.ndarray, distribution) -> float:
    """:math:`\\sup_x |F_n(x) - F(x)|` for a frozen ``scipy.stats`` distribution
    (for a discrete one, at the jumps of both)."""
    x = np.sort(np.asarray(x, dtype=float))
    if hasattr(distribution.dist, "pmf"):
        values, counts = np.unique(x, return_counts=True)
        empirical = np.cumsum(counts) / x.size
        fitted = distribution.cdf(values)
        below = np.concatenate([[0.0], empirical[:-1]])
        return float(
            np.max(
                np.abs(
                    np.concatenate(
                        [empirical - fitted, below - distribution.cdf(values - 1)]
                    )
                )
            )
        )
    return float(stats.kstest(x, distribution.cdf).statistic)


def compare_distributions(
    x, families: Sequence[str], *, criterion: str = "aic", estimator=None
) -> FamilyComparison:
    """Fit each family to one column and rank them, as ``fitdistrplus`` users do.

    Families whose support excludes some values are left out of the table. The
    families must be all discrete or all continuous (a mass and a density do not
    compare).

    Parameters
    ----------
    x : array-like of shape (n_samples,) or (n_samples, 1)
    families : sequence of str
        Names accepted by ``DistributionMLE(family=...)``.
    criterion : {"aic", "bic", "loglik", "ks"}, default="aic"
        The ranking: lowest AIC, BIC or KS distance, or highest log-likelihood.
    estimator : DistributionMLE, default=None
        The estimator to clone for each family (for ``n_trials``, ``max_iter``).

    Returns
    -------
    FamilyComparison

    Examples
    --------
    >>> import numpy as np
    >>> from skmle import compare_distributions
    >>> x = np.random.default_rng(0).gamma(3.0, 2.0, size=500)
    >>> table = compare_distributions(x, ["gamma", "exponential", "gaussian"])
    >>> [row["family"] for row in table.rows]
    ['gamma', 'gaussian', 'exponential']
    """
    if criterion not in ("aic", "bic", "loglik", "ks"):
        raise ValueError(
            f"criterion must be 'aic', 'bic', 'loglik' or 'ks', got {criterion!r}."
        )
    kinds = {FAMILIES[f].discrete for f in families if f in FAMILIES}
    if len(kinds) > 1:
        raise ValueError(
            "families mixes discrete and continuous families: a probability mass "
            "and a density are not on one scale, so their log-likelihoods and AICs "
            "do not compare. Compare discrete families, or continuous ones."
        )
    column = np.asarray(x, dtype=float)
    if column.ndim == 2 and column.shape[1] == 1:
        column = column[:, 0]
    if column.ndim != 1:
        raise ValueError("compare_distributions takes one column: shape (n_samples,).")
    base = DistributionMLE() if estimator is None else estimator
    rows = []
    for family in families:
        model = clone(base).set_params(family=family)
        try:
            model.fit(column[:, None])
        except ValueError as error:
            if "needs" in str(error):  # outside the family's support
                continue
            raise
        rows.append(
            {
                "family": family,
                "loglik": model.loglik_,
                "n_params": model._n_parameters(),
                "aic": model.aic_,
                "bic": model.bic_,
                "ks": ks_distance(column, model.frozen_distributions()[0]),
                "estimator": model,
            }
        )
    if not rows:
        raise ValueError(f"No family in {list(families)} can describe these values.")
    sign = -1.0 if criterion == "loglik" else 1.0
    rows.sort(key=lambda r: sign * r[criterion])
    return FamilyComparison(rows)
