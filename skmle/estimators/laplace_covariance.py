"""The passes over the rows behind LaplaceRegressor's sandwich covariances.

The kernel estimate of the error density at the median
(:mod:`skmle.inference.sparsity`) needs the interquartile range of the
residuals and a kernel sum; both are sums over the rows (the quartiles by exact
radix selection, :func:`~skmle.optim.lad.quantiles.select_by_passes`), so
chunked and Dask data give what the rows in memory give. The scores of the
sandwich's meat are :math:`\\psi(r_i)\\, x_{1i}`, :math:`x_{1i} = [1, x_i]`,
:math:`\\psi(r) = \\tfrac12 - 1\\{r < 0\\}`.

At the median :math:`\\psi^2 = \\tfrac14` for every row, so the meat of
``"HC0"`` is a weighted Gram matrix, :math:`M = \\tfrac14 X_1^\\top W X_1`, and
with the bread :math:`I = \\hat f(0)\\, X_1^\\top W X_1` (:math:`I^{-1} = G
G^\\top`) its whitened middle is :math:`G^\\top M G = I_p / (4 \\hat f(0))`: no
pass over the rows, dense or sparse (:func:`gram_meat`). ``"cluster"`` sums
:math:`u_g = \\sum_{i \\in g} w_i \\psi(r_i) x_{1i}` with one product of a
sparse group indicator (:func:`group_psi_sums`), so a sparse ``X`` stays sparse.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp

from skmle._sparse import is_sparse, matvec
from skmle.data import Batch
from skmle.estimators.linear_fit import LinearObjective
from skmle.inference import WaldSpec
from skmle.inference.sandwich import ScoreMeat
from skmle.inference.sparsity import (
    MEDIAN,
    epanechnikov,
    interpolation_ranks,
    median_density_problem,
    residual_bandwidth,
)
from skmle.optim import OptimizeResult
from skmle.optim.lad.quantiles import key_bucket, key_histogram, select_by_passes
from skmle.optim.lad.sparse_rows import absolute


def _residuals(batch: Batch, coef: np.ndarray, intercept: float) -> np.ndarray:
    return batch.y - matvec(batch.X, coef) - intercept


def quantile_psi(batch: Batch, coef: np.ndarray, intercept: float) -> np.ndarray:
    """:math:`\\psi(r_i)`, with :math:`\\psi(0) = \\tfrac12`, so that every row
    has :math:`\\psi^2 = \\tfrac14`.

    A residual within rounding of zero, :math:`|r_i| \\le 64 \\epsilon (|y_i| +
    |x_i|^\\top |w| + |b|)` (the rows the LAD fit passes through), counts as
    zero: its sign would be rounding noise, and the cluster sums would change
    with it (the size of the terms summed, not of their sum: a fit of zero at
    ``y = 0`` can be :math:`b + x^\\top w` with :math:`b = -x^\\top w`).
    """
    fitted = matvec(batch.X, coef) + intercept
    residuals = batch.y - fitted
    size = matvec(absolute(batch.X), np.abs(coef)) + abs(intercept)
    noise = 64.0 * np.finfo(float).eps * (np.abs(batch.y) + size)
    return np.where(residuals < -noise, MEDIAN - 1.0, MEDIAN)


def quantile_scores(
    batch: Batch, coef: np.ndarray, intercept: float, fit_intercept: bool
) -> np.ndarray:
    """:math:`\\psi(r_i)\\, [1, x_i]` (or :math:`\\psi(r_i) x_i`), in the
    coordinates of :func:`~skmle.estimators.least_squares.location_information`
    (:func:`quantile_psi`); dense rows."""
    psi = quantile_psi(batch, coef, intercept)
    scores = batch.X * psi[:, None]
    return np.column_stack([psi, scores]) if fit_intercept else scores


def group_psi_sums(
    batch: Batch,
    coef: np.ndarray,
    intercept: float,
    fit_intercept: bool,
    labels: np.ndarray,
) -> np.ndarray:
    """:math:`u_g = \\sum_{i \\in g} w_i \\psi(r_i)\\, [1, x_i]` for every group,
    (n_groups, p), from one product :math:`E^\\top (\\mathrm{diag}(w \\psi) X)`
    with the sparse indicator :math:`E` of the rows' groups (``labels`` sorted,
    as in :func:`~skmle.inference.sandwich.group_score_sums`): dense or sparse
    ``X``, never densified; the sums of disjoint batches add up."""
    if batch.groups is None:
        raise ValueError(
            'cov_type="cluster" needs the groups of the rows: fit(X, y, groups=...).'
        )
    codes = np.searchsorted(labels, batch.groups)
    n = batch.X.shape[0]
    mass = batch.sample_weight * quantile_psi(batch, coef, intercept)
    indicator = sp.csr_array((mass, (codes, np.arange(n))), shape=(len(labels), n))
    sums = indicator @ batch.X
    sums = sums.toarray() if is_sparse(sums) else np.asarray(sums)
    if not fit_intercept:
        return sums
    return np.column_stack([np.bincount(codes, mass, minlength=len(labels)), sums])


def gram_meat(cov_type: str, density: float, n_obs: float, n_params: int, whiten):
    """The whitened meat of ``"HC0"``/``"HC1"``, :math:`I_p / (4 \\hat f(0))`
    (see the module; ``whiten`` is not needed)."""
    del whiten
    return ScoreMeat(cov_type, np.eye(n_params) / (4.0 * density), n_obs)


def cluster_meat(
    sum_batches, coef, intercept, fit_intercept, labels, n_obs, whiten
) -> ScoreMeat:
    """The whitened meat of ``"cluster"``: :math:`\\sum_g (G^\\top u_g)(G^\\top
    u_g)^\\top` from :func:`group_psi_sums` summed over the batches."""
    if labels is None:
        raise ValueError('cov_type="cluster" needs the distinct group labels.')
    sums = sum_batches(
        partial(
            group_psi_sums,
            coef=coef,
            intercept=intercept,
            fit_intercept=fit_intercept,
            labels=labels,
        )
    )
    whitened = whiten(sums)
    return ScoreMeat("cluster", whitened.T @ whitened, n_obs, len(labels))


def _histogram(batch, coef, intercept, prefix, level):
    return key_histogram(
        _residuals(batch, coef, intercept), batch.sample_weight, prefix, level
    )


def _bucket(batch, coef, intercept, prefix, level):
    values = _residuals(batch, coef, intercept)
    keep = key_bucket(values, batch.sample_weight, prefix, level)
    return [values[keep]], [batch.sample_weight[keep]]


def _kernel_sum(batch, coef, intercept, bandwidth):
    values = _residuals(batch, coef, intercept) / bandwidth
    return float(batch.sample_weight @ epanechnikov(values))


def residual_order_statistic(sum_batches, coef, intercept, target: float) -> float:
    """The smallest residual with weight ``target`` at or below it (exact)."""
    fixed = {"coef": coef, "intercept": intercept}

    def histogram(prefix, level):
        return sum_batches(partial(_histogram, **fixed, prefix=prefix, level=level))

    def gather(prefix, level):
        values, masses = sum_batches(
            partial(_bucket, **fixed, prefix=prefix, level=level)
        )
        return np.concatenate(values), np.concatenate(masses)

    return select_by_passes(histogram, gather, target)


def residual_percentile(
    sum_batches, coef, intercept, total_weight: float, prob: float
) -> float:
    """The ``prob`` percentile of the residuals by linear interpolation of the
    repeated sample (:func:`~skmle.inference.sparsity.interpolation_ranks`)."""
    low, high, fraction = interpolation_ranks(total_weight, prob)
    lower = residual_order_statistic(sum_batches, coef, intercept, low)
    if fraction == 0.0:
        return lower
    upper = residual_order_statistic(sum_batches, coef, intercept, high)
    return lower + fraction * (upper - lower)


@dataclass(frozen=True)
class MedianDensity:
    """:math:`\\hat f(0)` and the bandwidth :math:`h` it was estimated with."""

    density: float
    bandwidth: float


def median_density(objective, coef: np.ndarray, intercept: float) -> MedianDensity:
    """The kernel estimate :math:`\\hat f(0)` of :mod:`skmle.inference.sparsity`
    at the fit ``(coef, intercept)``, from sums over ``objective``'s rows (NaN
    when the bandwidth is zero)."""
    sum_batches, total = objective.sum_batches, objective.total_weight
    moments = objective.moments
    y_std = float(np.sqrt(max(moments.yy, 0.0) / total))
    quartiles = [
        residual_percentile(sum_batches, coef, intercept, total, prob)
        for prob in (0.25, 0.75)
    ]
    bandwidth = residual_bandwidth(total, y_std, quartiles[1] - quartiles[0])
    density = np.nan
    if bandwidth > 0:
        kernel = sum_batches(
            partial(_kernel_sum, coef=coef, intercept=intercept, bandwidth=bandwidth)
        )
        density = kernel / (total * bandwidth)
    return MedianDensity(float(density), float(bandwidth))


class LaplaceCovarianceMixin:
    """The covariance hooks of :class:`~skmle.LaplaceRegressor` for its
    ``cov_type``: the Laplace model's information, or the sandwich with the
    kernel density at the median (``coef_``, ``intercept_``, ``scale_`` set by
    the fit)."""

    def _coef_variance_factor(self) -> float:
        """:math:`\\hat s^2`, the inverse of the information's multiplier; for the
        sandwiches :math:`1/\\hat f(0)`, so that the bread is :math:`\\hat f(0)
        X_1^\\top W X_1`."""
        if self.cov_type == "nonrobust":
            return self.scale_**2
        return 1.0 / self.median_density_

    def _wald_spec(self, objective: LinearObjective, result: OptimizeResult):
        """The bread of ``cov_type``; for the sandwiches the density at the
        median is estimated first (NaN errors, with a warning, when it cannot
        be)."""
        if self.cov_type != "nonrobust":
            found = median_density(objective, self.coef_, self.intercept_)
            self.median_density_, self.bandwidth_ = found.density, found.bandwidth
            problem = median_density_problem(found.density, found.bandwidth)
            if problem is not None:
                warnings.warn(problem, UserWarning, stacklevel=5)
                return WaldSpec(None, self._inference_blocks())
        spec = super()._wald_spec(objective, result)
        if self.cov_type == "nonrobust":
            return spec
        n_obs = objective.total_weight
        if self.cov_type == "cluster":
            meat = partial(
                cluster_meat,
                objective.sum_batches,
                self.coef_,
                self.intercept_,
                self.fit_intercept,
                objective.group_labels,
                n_obs,
            )
        else:
            n_params = self.model_.n_features + int(self.fit_intercept)
            meat = partial(
                gram_meat, self.cov_type, self.median_density_, n_obs, n_params
            )
        return dataclasses.replace(spec, meat=meat)

    def _refuse_sparse_covariance(self, X) -> None:
        """Nothing to refuse: every ``cov_type`` of median regression is a
        weighted Gram matrix or group sums of sparse products."""

    def _score_rows(self, objective: LinearObjective, result: OptimizeResult):
        """:func:`~skmle.estimators.laplace_covariance.quantile_scores` at the fit
        (the per-row scores; the meats themselves come from :func:`gram_meat`
        and :func:`cluster_meat`)."""
        return partial(
            quantile_scores,
            coef=self.coef_,
            intercept=self.intercept_,
            fit_intercept=self.fit_intercept,
        )
