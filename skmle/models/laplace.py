"""Linear regression with Laplace noise: :math:`y = x^\\top w + b + e`, :math:`e \\sim \\mathrm{Laplace}(0, s)`.

With residuals :math:`r_i = y_i - x_i^\\top w - b` and weights :math:`w_i`
(total :math:`W`),

.. math::

    \\ell(w, b, s) = -W\\log(2s) - \\frac{1}{s}\\sum_i w_i |r_i|

    \\nabla_w \\ell = \\frac{1}{s}\\sum_i w_i\\,\\mathrm{sign}(r_i)\\, x_i, \\qquad
    \\partial_b \\ell = \\frac{1}{s}\\sum_i w_i\\,\\mathrm{sign}(r_i), \\qquad
    \\partial_{\\log s} \\ell = -W + \\frac{1}{s}\\sum_i w_i |r_i|.

The gradient in :math:`(w, b)` exists wherever no residual is zero; at a kink it
is one subgradient (``sign(0) = 0``). The maximiser in :math:`(w, b)` is the
weighted least-absolute-deviation (median regression) fit, whatever :math:`s` is,
and then :math:`\\hat s = \\sum_i w_i |r_i| / W`, the weighted mean absolute
residual. The asymptotic covariance of :math:`(\\hat w, \\hat b)` is
:math:`s^2 (X_1^\\top \\mathrm{diag}(w) X_1)^{-1}` with :math:`X_1 = [X, 1]`: the
density at the median is :math:`1 / (2s)`.

There is no Hessian (it is zero almost everywhere in :math:`(w, b)`), so Newton's
method and the usual stopping rule on the gradient do not apply.

Conventions
-----------
``theta = [coef (n_features), intercept (if fit_intercept), log s]``, as in
:mod:`skmle.models.linear`.
"""

from __future__ import annotations

import numpy as np

from skmle.models.linear import LinearLogLikelihood

LOG_2 = np.log(2.0)


class LaplaceLogLikelihood(LinearLogLikelihood):
    """Log-likelihood of :math:`y \\sim \\mathrm{Laplace}(x^\\top w + b, s)`.

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True
    """

    def noise_terms(self, z, log_scale):
        abs_z = np.abs(z)
        return -LOG_2 - log_scale - abs_z, -np.sign(z), abs_z - 1.0

    def residual_statistic(self, residuals):
        return np.abs(residuals)

    def mean_loglik(self, residual_mean: float, scale: float) -> float:
        """:math:`-\\log(2s) - \\overline{|r|} / s` (also elementwise on arrays)."""
        return -np.log(2.0 * scale) - residual_mean / scale

    def scale_from(self, residual_mean: float) -> float:
        """:math:`\\hat s = \\overline{|r|}`."""
        return float(residual_mean)
