"""The solvers of :class:`~skmle.LaplaceRegressor`: ``"lp"`` (exact, through the
LAD package :mod:`skmle.optim.lad`) and ``"gd"`` (subgradient ascent with a
duality-gap certificate), on rows that are dense or ``scipy.sparse``, in memory,
in chunks or on Dask workers.

Both reach the rows only through ``objective.sum_batches`` and the model's
:meth:`~skmle.models.linear.LinearLogLikelihood.design_rows`; the solvers see a
design, a response and weights. A sparse design is scaled but not centred for the
LP (centring would fill in its zeros), and every product with it is sparse
(:mod:`skmle.optim.lad.sparse_rows`).
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np

from skmle.estimators.least_squares import least_squares
from skmle.estimators.linear_fit import CONSTANT_RTOL, LinearObjective, data_rows
from skmle.optim import OptimizeResult
from skmle.optim.lad import (
    SAMPLE_SEED,
    LADResult,
    LADScaling,
    SummedPasses,
    banded_lad,
    relative_duality_gap,
    response_spread,
    subgradient_lad_by_sums,
    summed_subgradient,
)
from skmle.optim.result import Learned


class LaplaceSolverMixin:
    """``_solve_lp`` and ``_solve_gd`` of :class:`~skmle.LaplaceRegressor` (with
    ``model_``, ``fit_intercept``, ``learning_rate``, ``max_iter``, ``tol`` and
    ``verbose``), and the closing of a fit: the scale in closed form."""

    def _start(self, objective: LinearObjective) -> tuple[np.ndarray, float]:
        """:math:`w = 0` and :math:`b` the weighted median of ``y`` (or 0)."""
        centre = objective.y_median if self.fit_intercept else 0.0
        return np.zeros(self.model_.n_features), centre

    def _initial_theta(self, objective: LinearObjective) -> np.ndarray:
        coef, centre = self._start(objective)
        spread = objective.sum_batches(partial(self.model_.residual_sum, coef, centre))
        scale = max(spread / objective.total_weight, objective.scale_floor)
        return self.model_.pack(coef, centre, np.log(scale))

    def _result_from_fit(
        self, objective: LinearObjective, coef, intercept, factor=None, **fields
    ) -> OptimizeResult:
        """Close the fit: the scale in closed form, floored, and the log-likelihood."""
        model = self.model_
        mean = objective.sum_batches(partial(model.residual_sum, coef, intercept))
        mean = mean / objective.total_weight
        scale = objective.floored_scale(model.scale_from(mean))
        value = model.mean_loglik(mean, scale)
        history = fields.pop(
            "history",
            np.array([objective.value(self._initial_theta(objective)), value]),
        )
        # The last entry is the returned point (the same number unless the scale
        # was floored or the interpolant replaced).
        history = np.append(history[:-1], value)
        return OptimizeResult(
            theta=model.pack(coef, intercept, np.log(scale)),
            value=float(value),
            history=history,
            learned=Learned(extras={"gram_factor": factor}),
            **fields,
        )

    def _lad_scaling(self, objective: LinearObjective) -> LADScaling:
        """:class:`~skmle.optim.lad.LADScaling` of the design from sums over batches
        (the moments, the weighted median of ``y`` and one more pass); a sparse
        design is scaled, not centred (:mod:`skmle.optim.lad.sparse_rows`)."""
        moments = objective.moments
        total = moments.weight
        x_mean = moments.x_mean
        x_std = np.sqrt(np.maximum(np.diag(moments.xx), 0.0) / total)
        constant = x_std == 0
        if self.fit_intercept:
            # A constant column is not identified beside the intercept: an
            # infinite scale makes it an exact zero column of the LP, and its
            # coefficient the minimum-norm 0.
            eps = np.finfo(float).eps
            flat = x_std <= CONSTANT_RTOL * eps * np.abs(x_mean)
            x_std, constant = np.where(flat, np.inf, x_std), np.zeros_like(flat)
            x_mean, x_std = np.append(x_mean, 1.0), np.append(x_std, 0.0)
            constant = np.append(constant, True)
        centre = objective.y_median if np.any(constant & (x_mean != 0)) else 0.0
        spread, n_rows = response_spread(objective.sum_batches, data_rows, centre)
        sparse = objective.sparse
        scaling = LADScaling.from_summaries(
            x_mean,
            x_std,
            constant,
            centre,
            spread / total,
            total / max(n_rows, 1),
            centre_columns=not sparse,
        )
        if sparse and self.fit_intercept:
            # Not centred, a flat column would be a multiple of the intercept's:
            # an infinite scale makes it an exact zero column instead.
            flat = np.isinf(x_std)
            x_scale = np.where(flat, np.inf, scaling.x_scale)
            scaling = dataclasses.replace(scaling, x_scale=x_scale)
        return scaling

    def _exact_lad(self, objective: LinearObjective) -> LADResult:
        """The LAD fit on the design ``[X, 1]`` (or ``X``), on rows centred and
        scaled by :meth:`_lad_scaling`, reached through sums over the batches."""
        scaling = self._lad_scaling(objective)
        # The scaled rows of the design, made once where the rows are in memory
        # (the LP and IRLS pass over them twenty times or more).
        parts = objective.rows.prepared(
            partial(_scaled_design_rows, model=self.model_, scaling=scaling)
        )
        sample = partial(
            _sampled_design_rows,
            rows=objective.rows,
            model=self.model_,
            scaling=scaling,
        )
        passes = SummedPasses(parts.map_sum, _as_is, sample=sample)
        scaled = banded_lad(passes, self.model_.n_features + int(self.fit_intercept))
        return LADResult(
            scaling.coef(scaled.coef),
            scaled.objective * scaling.y_scale * scaling.w_scale,
            scaled.n_iter,
            scaled.method,
        )

    def _solve_lp(self, objective: LinearObjective, theta0) -> OptimizeResult:
        lad = self._exact_lad(objective)
        coef, intercept = self.model_.location(lad.coef)
        factor = None
        if lad.objective / objective.total_weight < objective.scale_floor:
            # Every interpolant is optimal: return the canonical, minimum-norm one.
            fit = least_squares(objective)
            coef, intercept, factor = fit.coef, fit.intercept, fit.factor
        return self._result_from_fit(
            objective,
            coef,
            intercept,
            factor,
            n_iter=1,
            converged=True,
            message=f"exact ({lad.method}, {lad.n_iter} IRLS steps and LP solves)",
        )

    def _subgradient_printer(self):
        name = type(self).__name__

        def callback(iteration, theta, value):
            print(f"[{name}] iter {iteration:4d}  mean |residual| {-value:.10g}")

        return callback

    def _gap_certificate(self, objective: LinearObjective):
        """``certificate(coef, intercept)`` for :func:`subgradient_lad_by_sums`: the
        relative duality gap of :func:`~skmle.optim.lad.relative_duality_gap` on
        the ``2 p`` rows nearest the fit (three passes over the rows)."""
        passes = SummedPasses(objective.sum_batches, self.model_.design_rows)
        n_band = 2 * (self.model_.n_features + int(self.fit_intercept))

        def certificate(coef, intercept):
            beta = np.append(coef, intercept) if self.fit_intercept else coef
            return relative_duality_gap(passes, beta, n_band)

        return certificate

    def _solve_gd(self, objective: LinearObjective, theta0) -> OptimizeResult:
        stats_ = objective.stats
        total = objective.total_weight
        if theta0 is not None:
            coef0, intercept0, _ = self.model_.unpack(theta0)
            start = (coef0, intercept0)
        else:
            start = self._start(objective)
        # Standardised features: the diagonal of G is sum w (x - mean)^2 with an
        # intercept and sum w x^2 without (then the mean is zero).
        result, coef, intercept = subgradient_lad_by_sums(
            summed_subgradient(objective.sum_batches, data_rows),
            stats_.x_mean,
            np.sqrt(np.maximum(np.diag(stats_.gram), 0.0) / total),
            total,
            start,
            fit_intercept=self.fit_intercept,
            learning_rate=1.0 if self.learning_rate == "auto" else self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            callback=self._subgradient_printer() if self.verbose >= 2 else None,
            certificate=self._gap_certificate(objective),
        )
        floor = objective.scale_floor
        factor = None
        if -result.value < floor:
            # Every interpolant is optimal: return the canonical, minimum-norm one,
            # as the exact solver does.
            fit = least_squares(objective)
            coef, intercept, factor = fit.coef, fit.intercept, fit.factor
        # History of the profile log-likelihood (s at its optimum for each iterate).
        spread = np.maximum(-result.history, floor)
        history = self.model_.mean_loglik(spread, spread)
        return self._result_from_fit(
            objective,
            coef,
            intercept,
            factor,
            history=history,
            n_iter=result.n_iter,
            converged=result.converged,
            message=result.message,
            status=result.status,
        )


def _scaled_design_rows(batch, model, scaling):
    """The rows of ``model``'s design as the LP sees them (scaled by ``scaling``)."""
    return scaling.rows(*model.design_rows(batch))


def _sampled_design_rows(n_rows, rows, model, scaling):
    """:func:`_scaled_design_rows` of a uniform sample of ``rows`` (the same rows
    in every store: :meth:`skmle.data.Rows.sample` with a fixed seed)."""
    batch = rows.sample(n_rows, random_state=SAMPLE_SEED)
    return _scaled_design_rows(batch, model, scaling)


def _as_is(part):
    """``rows(part)`` of parts that are already ``(design, y, weights)``."""
    return part
