"""The pieces behind the tests of hypotheses: the restriction parser, the Wald
statistic of a known covariance, and the checks of the estimator-level API."""

import warnings

import numpy as np
import pytest
from scipy import stats

from skmle import EMGaussianMixture, GaussianMLE, LogisticGD
from skmle.inference import parse_restrictions, wald_test

sm = pytest.importorskip("statsmodels.api")

NAMES = ["coef[x0]", "1:selfLR", "x1", "intercept"]


@pytest.mark.parametrize(
    ("text", "row", "q"),
    [
        ("x1 = 0", [0, 0, 1, 0], 0),
        ("x1", [0, 0, 1, 0], 0),
        ("coef[x0] = x1", [1, 0, -1, 0], 0),
        ("2*x1 - 0.5 * intercept = 1", [0, 0, 2, -0.5], 1),
        ("1:selfLR + 3 = -x1 + 1e-1", [0, 1, 1, 0], -2.9),
        ("- -x1 * 2 = 2 intercept", [0, 0, 2, -2], 0),
        ("x1 + x1 = 4", [0, 0, 2, 0], 4),
    ],
)
def test_the_parser_reads_linear_equations_with_names(text, row, q):
    R, constants = parse_restrictions(text, NAMES)
    np.testing.assert_allclose(R, [row])
    np.testing.assert_allclose(constants, [q])


def test_several_restrictions_by_commas_or_a_list():
    R1, q1 = parse_restrictions("x1 = 0, coef[x0] = 2", NAMES)
    R2, q2 = parse_restrictions(["x1 = 0", "coef[x0] = 2"], NAMES)
    np.testing.assert_array_equal(R1, R2)
    np.testing.assert_array_equal(q1, [0, 2])
    np.testing.assert_array_equal(q1, q2)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x1 * intercept = 0", "linear"),
        ("x1 = 0 = 1", "more than one"),
        ("x2 = 0", "Cannot read"),
        ("x1 - x1 = 0", "names no parameter"),
        ("3 = 1", "names no parameter"),
        ("x1 + = 0", "empty term"),
        ("= 1", "empty side"),
        (" , ", "No restriction"),
    ],
)
def test_the_parser_refuses_what_it_cannot_read(text, match):
    with pytest.raises(ValueError, match=match):
        parse_restrictions(text, NAMES)


def test_wald_statistic_of_a_known_covariance_is_the_quadratic_form():
    params = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]])
    R = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    q = np.array([0.0, 1.0])
    d = R @ params - q
    expected = d @ np.linalg.inv(R @ cov @ R.T) @ d
    result = wald_test(params, cov, R, q)
    assert result.statistic == pytest.approx(expected, rel=1e-13)
    assert result.pvalue == pytest.approx(stats.chi2.sf(expected, 2), rel=1e-12)
    f = wald_test(params, cov, R, q, df_resid=10)
    assert f.statistic == pytest.approx(expected / 2, rel=1e-13)
    assert f.pvalue == pytest.approx(stats.f.sf(expected / 2, 2, 10), rel=1e-12)
    assert "df_denom=10" in str(f)


def test_wald_test_refuses_an_undefined_covariance():
    with pytest.raises(ValueError, match="undefined"):
        wald_test(np.zeros(2), np.full((2, 2), np.nan), [[1.0, 0.0]])
    with pytest.raises(ValueError, match="df_resid"):
        wald_test(np.zeros(2), np.eye(2), [[1.0, 0.0]], df_resid=0)


def test_separable_classes_have_no_wald_test():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticGD().fit(X, y)
    with pytest.raises(ValueError, match="undefined"):
        model.wald_test("x0 = 0")


def test_logistic_loglik_function_is_in_raw_coordinates():
    """On Spector (TUCE's mean is 5 times its spread) Newton works on centred
    features; the public function still takes theta_ for the raw ones."""
    data = sm.datasets.spector.load_pandas()
    model = LogisticGD(tol=1e-10).fit(data.exog, data.endog)
    reference = sm.Logit(data.endog, sm.add_constant(data.exog, prepend=False)).fit(
        disp=0, method="newton", tol=1e-12
    )
    function = model.loglik_function(data.exog, data.endog)
    assert function.loglik(model.theta_) == pytest.approx(reference.llf, rel=1e-12)
    assert model.solver == "newton"


def test_a_mixture_has_wald_intervals_but_no_profile_of_its_weights():
    """The weights are reported as a transform of theta_ (log-weights), the
    means as coordinates of it."""
    X = sm.datasets.engel.load_pandas().data.to_numpy()[:60, 1:]
    model = EMGaussianMixture(n_components=2, random_state=0).fit(X)
    wald = model.conf_int()
    assert wald.shape == (len(model.param_names()), 2)
    assert np.all(wald[:, 0] < wald[:, 1])
    with pytest.raises(ValueError, match="not a coordinate of theta_"):
        model.conf_int(method="profile", X=X, params=["weight[0]"])
    # The likelihood of a mixture is unbounded (a component collapsing onto one
    # sample): re-maximised from the fit, it rises above the fitted maximum.
    with pytest.raises(ValueError, match="rises above the fitted maximum"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # the collapse overflows
            model.conf_int(method="profile", X=X, params=["mean[0][x0]"])


def test_n_parameters_counts_the_free_parameters():
    X = sm.datasets.engel.load_pandas().data.to_numpy()
    assert GaussianMLE().fit(X).n_parameters_ == 2 + 3
    assert GaussianMLE(covariance_type="diag").fit(X).n_parameters_ == 2 + 2


def test_a_map_profile_warns_that_it_is_not_a_likelihood_ratio_interval():
    data = sm.datasets.spector.load_pandas()
    model = LogisticGD(alpha=1.0).fit(data.exog, data.endog)
    with pytest.warns(UserWarning, match="maximum a posteriori"):
        model.conf_int(method="profile", X=data.exog, y=data.endog, params=["PSI"])
