"""Per-row scores, the map to reported parameters, and the one objective over stores."""

import numpy as np
import pytest

from skmle.data import Batch, chunked
from skmle.data.chunked import ChunkedBatches, arrays_to_batch
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_objective import LogisticObjective
from skmle.models.logistic_separation import Margins, recession_status, step_margins
from skmle.status import Status

CASES = [
    pytest.param(2, True, None, id="binary"),
    pytest.param(2, False, None, id="binary-no-intercept"),
    pytest.param(3, True, None, id="multinomial"),
    pytest.param(4, True, np.array([5.0, 0.0, -3.0]), id="multinomial-centred"),
    pytest.param(2, True, np.array([1.0, 2.0, 0.0]), id="binary-centred"),
]


def make_batch(n_classes, n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return Batch(
        rng.normal(size=(n, d)),
        rng.integers(0, n_classes, size=n),
        rng.uniform(0.5, 2.0, size=n),
    )


@pytest.mark.parametrize(("n_classes", "fit_intercept", "center"), CASES)
def test_scores_are_finite_differences_of_loglik_obs(n_classes, fit_intercept, center):
    batch = make_batch(n_classes)
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, 0.3, center=center)
    assert {"hessian", "scores"} <= model.capabilities
    theta = np.random.default_rng(1).normal(scale=0.5, size=model.n_params)
    scores = model.scores(theta, batch)
    assert scores.shape == (batch.X.shape[0], model.n_params)
    h = 1e-6
    numeric = np.column_stack(
        [
            (
                model.loglik_obs(theta + h * e, batch)
                - model.loglik_obs(theta - h * e, batch)
            )
            / (2 * h)
            for e in np.eye(model.n_params)
        ]
    )
    np.testing.assert_allclose(scores, numeric, rtol=1e-6, atol=1e-8)
    # Unweighted rows: their weighted sum is the gradient.
    _, grad = model.loglik_grad(theta, batch)
    np.testing.assert_allclose(batch.sample_weight @ scores, grad, rtol=1e-12)


@pytest.mark.parametrize(("n_classes", "fit_intercept", "center"), CASES)
def test_reported_columns_uncentre_then_leave_free_coordinates(
    n_classes, fit_intercept, center
):
    model = LogisticLogLikelihood(3, n_classes, fit_intercept, center=center)
    phi = np.random.default_rng(2).normal(size=(model.n_free, 4))
    got = model.reported_columns(phi)
    assert got.shape == (model.n_params, 4)
    for j in range(4):
        # from_free then uncentre: the intercepts of the raw features, summing
        # to zero over the classes like the coefficients.
        np.testing.assert_allclose(
            got[:, j], model.uncentre(model.from_free(phi[:, j])), atol=1e-13
        )


def test_margins_add_by_their_extremes_and_give_a_status():
    y, weight = np.array([0, 1, 1]), np.ones(3)
    whole = step_margins(np.array([-1.0, 0.0, 2.0]), y, weight)
    parts = step_margins(np.array([-1.0]), y[:1], weight[:1]) + step_margins(
        np.array([0.0, 2.0]), y[1:], weight[1:]
    )
    assert parts == whole == Margins(2.0, 0.0, 2.0)
    assert recession_status(whole) is Status.QUASI_SEPARABLE
    assert recession_status(Margins()) is None
    assert recession_status(Margins(1.0, -0.5, 1.0)) is None


@pytest.mark.parametrize("n_classes", [2, 3])
def test_one_objective_over_a_store_read_in_pieces_equals_in_memory(n_classes):
    batch = make_batch(n_classes, n=50)
    model = LogisticLogLikelihood(3, n_classes, True, 0.2)
    resident = LogisticObjective(model, [batch])
    pieces = ChunkedBatches(
        chunked(batch.X, 7), batch.y, batch.sample_weight, prepare=arrays_to_batch
    )
    streamed = LogisticObjective(model, pieces)
    assert not resident.line_search_reads_data and streamed.line_search_reads_data
    rng = np.random.default_rng(3)
    theta, direction = rng.normal(size=(2, model.n_params)) * 0.5
    eta, step = resident.predictor(theta), resident.predictor(direction)
    a, s = streamed.predictor(theta), streamed.predictor(direction)
    np.testing.assert_allclose(
        streamed.value_at(theta, a), resident.value_at(theta, eta), rtol=1e-13
    )
    np.testing.assert_allclose(
        streamed.line_terms(theta, a, direction, s),
        resident.line_terms(theta, eta, direction, step),
        rtol=1e-12,
    )
    for x, z in zip(
        streamed.newton_system(theta, a),
        resident.newton_system(theta, eta),
        strict=True,
    ):
        np.testing.assert_allclose(x, z, rtol=1e-11, atol=1e-14)
    assert streamed.separated(a) == resident.separated(eta)
    assert streamed.recession_reason(theta, a, direction, s) == (
        resident.recession_reason(theta, eta, direction, step)
    )


def test_solution_information_reuses_what_is_known_at_that_point():
    from skmle.optim.result import Learned

    batch = make_batch(3, n=50)
    model = LogisticLogLikelihood(3, 3, True, 0.2)
    theta = np.random.default_rng(4).normal(size=model.n_params) * 0.3
    objective = LogisticObjective(model, [batch])
    _, _, mean_information, _ = objective.newton_system(
        theta, objective.predictor(theta)
    )
    total = objective.information
    np.testing.assert_array_equal(objective.solution_information(theta), total)
    # A solver's Learned holds the Newton system's information, per unit weight.
    fresh = LogisticObjective(model, [batch])
    learned = Learned(information=mean_information, at=np.array(theta))
    np.testing.assert_allclose(
        fresh.solution_information(theta, learned), total, rtol=1e-14
    )
    np.testing.assert_allclose(fresh.solution_information(theta), total, rtol=1e-12)
