"""scipy.sparse X for the linear-predictor estimators: the same fit as the dense
array, checked against statsmodels on the dense design (issue 20, item 1)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from scipy import stats
from sklearn.preprocessing import OneHotEncoder

import skmle
from skmle import (
    EMGaussianMixture,
    GaussianMLE,
    LinearGaussianRegressor,
    LogisticGD,
    StudentTRegressor,
)

CATEGORIES = ["religious", "educ", "occupation", "occupation_husb"]


@pytest.fixture(scope="module")
def fair():
    """statsmodels' Fair affairs data: four categorical columns one-hot encoded
    (one level dropped per column, so that the MLE with an intercept is unique),
    sparse CSR, plus the numeric age and years married."""
    data = sm.datasets.fair.load_pandas().data
    onehot = OneHotEncoder(drop="first", sparse_output=True).fit_transform(
        data[CATEGORIES]
    )
    numeric = sp.csr_array(data[["age", "yrs_married"]].to_numpy() / 10.0)
    X = sp.csr_array(sp.hstack([onehot, numeric], format="csr"))
    return X, data


def agree(fitted, reference, rtol=1e-10):
    np.testing.assert_allclose(fitted, reference, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_logistic_sparse_matches_dense_and_statsmodels(fair, solver, fmt):
    X, data = fair
    y = (data["affairs"] > 0).to_numpy().astype(int)
    dense = X.toarray()
    ref = sm.Logit(y, sm.add_constant(dense)).fit(method="newton", disp=0)
    sparse = LogisticGD(solver=solver, tol=1e-10).fit(X.asformat(fmt), y)
    full = LogisticGD(solver=solver, tol=1e-10).fit(dense, y)
    params = np.r_[sparse.intercept_, sparse.coef_[0]]
    # L-BFGS stops on the gradient (1e-10): some 7 digits of the estimates.
    agree(params, ref.params, 1e-8 if solver == "newton" else 1e-6)
    agree(sparse.loglik_, ref.llf, 1e-12)
    agree(np.r_[sparse.intercept_se_, sparse.coef_se_[0]], ref.bse, 1e-6)
    # Newton's iterates are the dense ones to rounding; the generic solvers stop
    # where a step would gain less than the value's rounding error, which
    # leaves some 7 digits in the rarest levels' coefficients, dense or sparse.
    digits = 1e-10 if solver == "newton" else 1e-6
    agree(sparse.coef_, full.coef_, digits)
    agree(sparse.coef_se_, full.coef_se_, digits)
    agree(sparse.loglik_, full.loglik_, 1e-12)
    if solver == "newton":
        assert str(sparse.summary()) == str(full.summary())
    agree(sparse.predict_proba(X[:50]), full.predict_proba(dense[:50]), digits)
    agree(sparse.log_likelihood(X, y), ref.llf, 1e-12)


@pytest.mark.slow
def test_logistic_sparse_multinomial_and_centring(fair):
    """Three classes (statsmodels' MNLogit), and a sparse column with a large
    offset, which the Newton solver centres implicitly."""
    X, data = fair
    y = np.digitize(data["affairs"], [0.01, 1.0])
    dense = X.toarray()
    ref = sm.MNLogit(y, sm.add_constant(dense)).fit(method="newton", disp=0)
    sparse = LogisticGD(tol=1e-10).fit(X, y)
    full = LogisticGD(tol=1e-10).fit(dense, y)
    agree(sparse.loglik_, ref.llf, 1e-12)
    agree(sparse.coef_, full.coef_)
    agree(sparse.coef_se_, full.coef_se_)
    # The differences of the class rows are statsmodels' coefficients.
    agree((sparse.coef_[1:] - sparse.coef_[0]).T, ref.params[1:], 1e-7)

    # A column of ages in days since 1900 (mean ~ 1e4 spreads): centred.
    shifted = X.toarray()
    shifted[:, -2] = 1e6 + 365.25 * 10 * shifted[:, -2]
    binary = (data["affairs"] > 0).to_numpy().astype(int)
    sparse = LogisticGD(tol=1e-10).fit(sp.csr_array(shifted), binary)
    full = LogisticGD(tol=1e-10).fit(shifted, binary)
    ref = sm.Logit(binary, sm.add_constant(shifted)).fit(method="newton", disp=0)
    agree(sparse.loglik_, ref.llf, 1e-12)
    agree(sparse.coef_[0], ref.params[1:], 1e-7)
    agree(sparse.coef_, full.coef_)
    agree(sparse.intercept_, full.intercept_)
    # The implicitly centred information X'FX - g c' - c g' + (1'f) c c' loses
    # the digits of (mean / spread)^2 ~ 1e5 that the dense centring keeps.
    agree(sparse.coef_se_, full.coef_se_, 1e-8)


def test_logistic_sparse_gd_reaches_the_dense_optimum(fair):
    X, data = fair
    y = (data["affairs"] > 0).to_numpy().astype(int)
    ref = sm.Logit(y, sm.add_constant(X.toarray())).fit(method="newton", disp=0)
    fitted = LogisticGD(solver="gd", tol=1e-9, max_iter=100000).fit(X, y)
    agree(fitted.loglik_, ref.llf, 1e-12)
    agree(np.r_[fitted.intercept_, fitted.coef_[0]], ref.params, 1e-6)


def regression_data(fair):
    X, data = fair
    return X, np.log1p(data["affairs"].to_numpy()) + 0.1 * data[
        "rate_marriage"
    ].to_numpy()


@pytest.mark.parametrize("solver", ["closed_form", "newton", "lbfgs"])
def test_linear_gaussian_sparse_matches_statsmodels_ols(fair, solver):
    X, y = regression_data(fair)
    dense = X.toarray()
    ref = sm.WLS(y, sm.add_constant(dense)).fit()
    sparse = LinearGaussianRegressor(solver=solver).fit(X.tocsc(), y)
    full = LinearGaussianRegressor(solver=solver).fit(dense, y)
    agree(np.r_[sparse.intercept_, sparse.coef_], ref.params, 1e-9)
    agree(sparse.loglik_, ref.llf, 1e-12)
    agree(sparse.coef_, full.coef_)
    agree(sparse.coef_se_, full.coef_se_)
    agree(sparse.loglik_, full.loglik_, 1e-12)
    agree(sparse.predict(X[:20]), full.predict(dense[:20]))
    assert str(sparse.summary()) == str(full.summary())


def test_linear_gaussian_sparse_collinear_minimum_norm(fair):
    """All levels kept and an intercept: collinear, the minimum-norm solution
    (numpy's lstsq of the centred design)."""
    data = fair[1]
    X = OneHotEncoder(sparse_output=True).fit_transform(data[CATEGORIES])
    y = np.log1p(data["affairs"].to_numpy())
    fitted = LinearGaussianRegressor().fit(X, y)
    dense = X.toarray()
    centred = dense - dense.mean(axis=0)
    coef = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    agree(fitted.coef_, coef, 1e-9)
    assert fitted.solver_route_.startswith("LSMR")


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_student_t_sparse_matches_dense(fair, solver):
    X, y = regression_data(fair)
    dense = X.toarray()
    sparse = StudentTRegressor(solver=solver).fit(X, y)
    full = StudentTRegressor(solver=solver).fit(dense, y)
    ref = sm.regression.linear_model.OLS(y, sm.add_constant(dense))
    # The t log-likelihood at skmle's estimate, from scipy (an independent density).
    resid = y - sparse.predict(X)
    scale = float(np.exp(sparse.theta_[sparse.model_.log_scale_index()]))
    llf = stats.t.logpdf(resid, sparse.df_, scale=scale).sum()
    agree(sparse.loglik_, llf, 1e-12)
    assert ref.exog.shape[1] == sparse.coef_.size + 1
    # As for LogisticGD: L-BFGS stops where a step gains less than the value's
    # rounding error, some 7 digits of the estimates, dense or sparse.
    digits = 1e-9 if solver == "newton" else 1e-6
    agree(sparse.coef_, full.coef_, digits)
    agree(sparse.df_, full.df_, digits)
    agree(sparse.coef_se_, full.coef_se_, 10 * digits)
    agree(sparse.loglik_, full.loglik_, 1e-12)


@pytest.mark.parametrize(
    ("estimator", "reason"),
    [
        (GaussianMLE(), "density of X"),
        (EMGaussianMixture(n_components=2), "density of X"),
        (skmle.MLPClassifierMLE(), "no sparse products yet"),
    ],
)
def test_dense_only_estimators_refuse_sparse_with_the_reason(estimator, reason):
    X = sp.random(40, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(
        ValueError, match=rf"does not accept sparse X: .*{reason}.*toarray"
    ):
        estimator.fit(X, np.arange(40) % 2)


@pytest.mark.slow
def test_sparse_chunks_in_dask_and_chunked_equal_in_memory(fair):
    da = pytest.importorskip("dask.array")
    X, data = fair
    y = (data["affairs"] > 0).to_numpy().astype(int)
    ref = sm.Logit(y, sm.add_constant(X.toarray())).fit(method="newton", disp=0)
    in_memory = LogisticGD().fit(X, y)
    chunked = LogisticGD().fit(skmle.chunked(X, 1000), y)
    dask_X = da.from_array(sp.csr_matrix(X), chunks=(1000, -1), asarray=False)
    on_dask = LogisticGD().fit(dask_X, da.from_array(y, chunks=1000))
    for fitted in (chunked, on_dask):
        agree(fitted.coef_, in_memory.coef_)
        agree(fitted.loglik_, ref.llf, 1e-12)


def test_logistic_partial_fit_sparse_equals_dense(fair):
    """The stochastic steps of partial_fit: the same iterates on sparse chunks,
    and the sparse initial step size equals the dense one (a closed form)."""
    X, data = fair
    y = (data["affairs"] > 0).to_numpy().astype(int)
    dense = X.toarray()
    sparse, full = LogisticGD(), LogisticGD()
    for rows in np.array_split(np.arange(X.shape[0]), 4):
        sparse.partial_fit(X[rows], y[rows], classes=[0, 1])
        full.partial_fit(dense[rows], y[rows], classes=[0, 1])
    first = np.column_stack(
        [dense[: X.shape[0] // 4 + 1], np.ones(X.shape[0] // 4 + 1)]
    )
    largest = np.linalg.eigvalsh(first.T @ first / first.shape[0])[-1]
    agree(sparse.initial_step_size_, 1.0 / (0.25 * largest))
    agree(sparse.coef_, full.coef_)
    agree(sparse.intercept_, full.intercept_)


@pytest.mark.parametrize("solver", [None, "lbfgs"])
def test_count_regressors_sparse_match_statsmodels_and_dense(fair, solver):
    """Poisson (statsmodels' GLM) and negative binomial (the dense fit) on the
    shared log-linear layout, whose products are those of skmle._sparse."""
    X, data = fair
    y = np.round(data["affairs"].to_numpy())
    dense = X.toarray()
    options = {} if solver is None else {"solver": solver}
    ref = sm.GLM(y, sm.add_constant(dense), family=sm.families.Poisson()).fit(tol=1e-12)
    poisson = skmle.PoissonMLERegressor(**options).fit(X, y)
    digits = 1e-9 if solver is None else 1e-6
    agree(np.r_[poisson.intercept_, poisson.coef_], ref.params, digits)
    agree(poisson.loglik_, ref.llf, 1e-12)
    agree(np.r_[poisson.intercept_se_, poisson.coef_se_], ref.bse, digits)
    for cls in (skmle.PoissonMLERegressor, skmle.NegativeBinomialRegressor):
        sparse, full = cls(**options).fit(X, y), cls(**options).fit(dense, y)
        agree(sparse.coef_, full.coef_, digits)
        agree(sparse.coef_se_, full.coef_se_, digits)
        agree(sparse.loglik_, full.loglik_, 1e-12)
        agree(sparse.predict(X[:20]), full.predict(dense[:20]), digits)


@pytest.mark.parametrize("n_rows", [0, 1, 4096, 4097, 20_000, 70_001])
def test_sampled_rows_are_the_dense_paths_chunks(n_rows):
    """The sparse sampled information takes the rows of the dense path's chunks
    0, SAMPLED_CHUNKS, 2 SAMPLED_CHUNKS, ... (the slices of row_chunks)."""
    from skmle.models.logistic_sparse import sampled_rows
    from skmle.models.logistic_terms import SAMPLED_CHUNKS, row_chunks

    chunks = list(row_chunks(n_rows))[::SAMPLED_CHUNKS]
    expected = [i for rows in chunks for i in range(n_rows)[rows]]
    np.testing.assert_array_equal(sampled_rows(n_rows), expected)
