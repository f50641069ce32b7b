"""``conf_int(method="profile")`` against an independent brute-force profile and
against closed forms.

The brute force: the log-likelihood (statsmodels' ``loglike`` and ``score``
where it has the model, else skmle's public ``loglik_function``) maximised by
``scipy.optimize.minimize`` (BFGS) with the parameter eliminated through its
constraint, the ends found by ``scipy.optimize.brentq``; for least absolute
deviations (Laplace), whose likelihood has kinks, the constrained maximum is an
exact linear program (``scipy.optimize.linprog``). The closed forms: for the
Gaussian linear model :math:`\\hat\\beta_j \\pm \\sqrt{c_{jj}\\,\\mathrm{RSS}\\,
(e^{\\chi^2_{1,1-\\alpha}/n} - 1)}`, :math:`c_{jj} = [(X^\\top X)^{-1}]_{jj}`, and
for a Gaussian mean :math:`\\bar x \\pm \\sqrt{\\hat\\sigma^2 (e^{\\chi^2/n} - 1)}`.
Measured agreement (largest error relative to the interval's width; relative to
the end itself): Longley 2e-12; 1.2e-11 (all seven parameters), Gaussian mean
3e-12; 3e-13, Spector Logit 1e-11; 1e-11 (all four), anes96 multinomial 2e-12;
2e-12 (a baseline and a symmetric coefficient), engel Laplace 5e-15; 1e-15.
Linear combinations: Longley 2e-12, Laplace 8e-13 (against a linear program
with the constraint); a mean of a bivariate Gaussian 3e-12.
"""

import numpy as np
import pytest
from scipy import optimize, stats

from skmle import GaussianMLE, LaplaceRegressor, LinearGaussianRegressor, LogisticGD

sm = pytest.importorskip("statsmodels.api")

CHI2 = stats.chi2.ppf(0.95, df=1)


def _brute_force_interval(loglik, grad, theta_hat, contrast, scale):
    """The 95% likelihood-ratio interval of ``contrast @ theta`` by BFGS refits,
    the constraint solved for the coordinate with the largest coefficient."""
    contrast = np.asarray(contrast, dtype=float)
    i = int(np.argmax(np.abs(contrast)))
    rest = np.delete(np.arange(theta_hat.size), i)

    def full(z, value):
        theta = np.empty(theta_hat.size)
        theta[rest] = z
        theta[i] = (value - contrast[rest] @ z) / contrast[i]
        return theta

    def profile(value, start):
        def negative(z):
            theta = full(z, value)
            g = grad(theta)
            return -loglik(theta), -(g[rest] - g[i] * contrast[rest] / contrast[i])

        result = optimize.minimize(
            negative, start, jac=True, method="BFGS", options={"gtol": 1e-9}
        )
        return -result.fun

    def negative_full(theta):
        return -loglik(theta), -grad(theta)

    top = optimize.minimize(
        negative_full, theta_hat, jac=True, method="BFGS", options={"gtol": 1e-9}
    )
    cutoff = -top.fun - CHI2 / 2
    estimate = contrast @ top.x
    start = top.x[rest]
    ends = [
        optimize.brentq(
            lambda v: profile(v, start) - cutoff,
            estimate,
            estimate + side * 4 * scale,
            xtol=1e-12,
        )
        for side in (-1, 1)
    ]
    return np.array(ends)


def _assert_same_interval(result, expected, rtol):
    width = expected[1] - expected[0]
    np.testing.assert_allclose(result, expected, rtol=0, atol=rtol * width)


def test_longley_profile_intervals_are_the_closed_form():
    data = sm.datasets.longley.load_pandas()
    X, y = data.exog, data.endog
    model = LinearGaussianRegressor().fit(X, y)
    reference = sm.OLS(y, sm.add_constant(X)).fit()  # the constant first, as skmle
    n = len(y)
    c = np.diag(reference.normalized_cov_params)
    half = np.sqrt(c * reference.ssr * np.expm1(CHI2 / n))
    params = np.asarray(reference.params)
    expected = np.column_stack([params - half, params + half])
    result = model.conf_int(method="profile", X=X, y=y, params=[2, "YEAR", 0])
    np.testing.assert_allclose(result, expected[[2, 6, 0]], rtol=1e-8)
    # A linear combination: c^T (X^T X)^{-1} c in place of c_jj.
    c = np.array([0.5, 0, 1, -1, 0, 0, 0])
    half = np.sqrt(c @ reference.normalized_cov_params @ c * reference.ssr)
    half *= np.sqrt(np.expm1(CHI2 / n))
    estimate = c @ params
    result = model.conf_int(
        method="profile", X=X, y=y, params=["GNP - UNEMP + 0.5*intercept"]
    )
    _assert_same_interval(result[0], [estimate - half, estimate + half], 1e-10)


def test_gaussian_mean_profile_interval_is_the_closed_form():
    x = sm.datasets.engel.load_pandas().data[["foodexp"]].to_numpy()
    model = GaussianMLE().fit(x)
    mean, variance = x.mean(), x.var()
    half = np.sqrt(variance * np.expm1(CHI2 / len(x)))
    # The variance is reported as a function of theta_ (a Cholesky factor of
    # the precision): no profile, a NaN row and a warning.
    with pytest.warns(UserWarning, match="No profile interval"):
        result = model.conf_int(method="profile", X=x)
    np.testing.assert_allclose(result[0], [mean - half, mean + half], rtol=1e-10)
    assert np.all(np.isnan(result[1]))


def test_a_mean_of_a_bivariate_gaussian_has_the_univariate_closed_form():
    """With the covariance free, fixing one mean moves the other by the
    regression on it, and the profile is that of the one column alone."""
    X = sm.datasets.engel.load_pandas().data.to_numpy()
    model = GaussianMLE().fit(X)
    x = X[:, 1]
    half = np.sqrt(x.var() * np.expm1(CHI2 / len(x)))
    result = model.conf_int(method="profile", X=X, params=["mean[x1]"])
    np.testing.assert_allclose(result, [[x.mean() - half, x.mean() + half]], 1e-10)


def test_spector_logit_profile_intervals_are_the_brute_force():
    data = sm.datasets.spector.load_pandas()
    X, y = data.exog, data.endog
    model = LogisticGD(tol=1e-10).fit(X, y)
    reference = sm.Logit(y, sm.add_constant(X, prepend=False))
    fitted = reference.fit(disp=0, method="newton", tol=1e-12)
    result = model.conf_int(method="profile", X=X, y=y, params=["GPA", "PSI"])
    for row, j in enumerate([0, 2]):
        expected = _brute_force_interval(
            reference.loglike,
            reference.score,
            np.asarray(fitted.params),
            np.eye(4)[j],
            fitted.bse.iloc[j],
        )
        _assert_same_interval(result[row], expected, 1e-8)
    # The profile interval is not the Wald one: the likelihood is skewed.
    wald = model.conf_int(params=["GPA", "PSI"])
    assert np.all(np.abs(result - wald) > 1e-3)


def test_multinomial_profile_of_a_baseline_and_a_symmetric_coefficient():
    data = sm.datasets.anes96.load_pandas().data
    X = data[["selfLR", "educ"]]
    y = data["PID"].astype(int)
    model = LogisticGD(tol=1e-10).fit(X, y)
    reference = sm.MNLogit(y, sm.add_constant(X, prepend=False))
    fitted = reference.fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    params = np.asarray(fitted.params).T.ravel()  # class after class, const last
    index = list(fitted.cov_params().index)
    baseline = np.eye(params.size)[index.index(("2", "selfLR"))]
    # skmle's symmetric coefficient of class 2: gamma_2 - mean over the classes
    # of gamma_k (gamma_0 = 0).
    symmetric = baseline.copy()
    for k in range(1, 7):
        symmetric[index.index((str(k), "selfLR"))] -= 1 / 7
    result = model.conf_int(
        method="profile", X=X, y=y, params=["2:selfLR - 0:selfLR", "2:selfLR"]
    )
    for row, contrast in enumerate([baseline, symmetric]):
        se = np.sqrt(contrast @ fitted.cov_params().to_numpy() @ contrast)
        expected = _brute_force_interval(
            reference.loglike, reference.score, params, contrast, se
        )
        _assert_same_interval(result[row], expected, 1e-8)


def _lad_loglik(X, y, row=None, value=0.0):
    """The Laplace log-likelihood at the least absolute deviations fit of y on X
    (subject to row @ beta = value), by an exact linear program: -n log(2 s) - n,
    s the mean absolute residual."""
    n, p = X.shape
    cost = np.concatenate([np.zeros(p), np.ones(2 * n)])
    equality = np.hstack([X, np.eye(n), -np.eye(n)])
    target = y
    if row is not None:
        equality = np.vstack([equality, np.concatenate([row, np.zeros(2 * n)])])
        target = np.append(y, value)
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    result = optimize.linprog(cost, A_eq=equality, b_eq=target, bounds=bounds)
    scale = result.fun / n
    return -n * np.log(2 * scale) - n


def test_laplace_profile_interval_is_the_linear_programming_brute_force():
    data = sm.datasets.engel.load_pandas().data.iloc[::3]
    X, y = data[["income"]].to_numpy(), data["foodexp"].to_numpy()
    model = LaplaceRegressor().fit(X, y)
    ones = np.ones((len(y), 1))
    top = _lad_loglik(np.hstack([X, ones]), y)
    cutoff = top - CHI2 / 2
    slope, se = model.coef_[0], model.coef_se_[0]
    expected = [
        optimize.brentq(
            lambda b: _lad_loglik(ones, y - b * X[:, 0]) - cutoff,
            slope,
            slope + side * 6 * se,
            xtol=1e-12,
        )
        for side in (-1, 1)
    ]
    result = model.conf_int(method="profile", X=X, y=y, params=["x0"])
    _assert_same_interval(result[0], np.array(expected), 1e-8)
    # The median food expenditure at an income of 1000: intercept + 1000 * slope.
    row = np.array([1000.0, 1.0])
    design = np.hstack([X, ones])
    estimate = row @ np.r_[model.coef_, model.intercept_]
    se = np.sqrt(row @ model.params_cov_ @ row)
    expected = [
        optimize.brentq(
            lambda v: _lad_loglik(design, y, row, v) - cutoff,
            estimate,
            estimate + side * 6 * se,
            xtol=1e-12,
        )
        for side in (-1, 1)
    ]
    result = model.conf_int(method="profile", X=X, y=y, params=["1000*x0 + intercept"])
    _assert_same_interval(result[0], np.array(expected), 1e-8)


def test_conf_int_wald_is_the_summary_interval_and_bad_input_is_refused():
    data = sm.datasets.spector.load_pandas()
    model = LogisticGD(tol=1e-10).fit(data.exog, data.endog)
    reference = sm.Logit(data.endog, sm.add_constant(data.exog)).fit(
        disp=0, method="newton", tol=1e-12
    )
    np.testing.assert_allclose(
        model.conf_int(alpha=0.1), reference.conf_int(alpha=0.1), rtol=1e-8
    )
    combination = reference.t_test(np.array([[0.0, 1.0, 0.0, -1.0]])).conf_int()
    np.testing.assert_allclose(
        model.conf_int(params="GPA - PSI"), combination, rtol=1e-8
    )
    with pytest.raises(ValueError, match="pass X"):
        model.conf_int(method="profile")
    with pytest.raises(ValueError, match="method"):
        model.conf_int(method="bootstrap")
    with pytest.raises(ValueError, match="Unknown parameter"):
        model.conf_int(method="profile", X=data.exog, y=data.endog, params=["nope"])
    with pytest.raises(ValueError, match="out of range"):
        model.conf_int(params=[4])


def test_weights_are_repeated_rows_and_other_data_are_refused():
    data = sm.datasets.longley.load_pandas()
    X, y = data.exog.to_numpy()[:, :2], data.endog.to_numpy()
    weights = np.arange(1, 17) % 3 + 1.0
    repeat = np.repeat(np.arange(16), weights.astype(int))
    weighted = LinearGaussianRegressor().fit(X, y, sample_weight=weights)
    repeated = LinearGaussianRegressor().fit(X[repeat], y[repeat])
    np.testing.assert_allclose(
        weighted.conf_int(method="profile", X=X, y=y, sample_weight=weights),
        repeated.conf_int(method="profile", X=X[repeat], y=y[repeat]),
        rtol=1e-9,
    )
    with pytest.raises(ValueError, match="not the data"):
        weighted.conf_int(method="profile", X=X, y=y)
    spector = sm.datasets.spector.load_pandas()
    Xs, ys = spector.exog.to_numpy(), spector.endog.to_numpy()
    weights = np.arange(32) % 2 + 1.0
    repeat = np.repeat(np.arange(32), weights.astype(int))
    logistic = LogisticGD(tol=1e-10).fit(Xs, ys, sample_weight=weights)
    np.testing.assert_allclose(
        logistic.conf_int(method="profile", X=Xs, y=ys, sample_weight=weights),
        LogisticGD(tol=1e-10)
        .fit(Xs[repeat], ys[repeat])
        .conf_int(method="profile", X=Xs[repeat], y=ys[repeat]),
        rtol=1e-8,
    )
