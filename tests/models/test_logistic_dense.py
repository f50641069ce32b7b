"""The dense pass's two chunk sizes give the closed-form sums.

References: the gradient :math:`\\tilde X^\\top W r` and the information
:math:`\\sum_i w_i (\\mathrm{diag}(p_i) - p_i p_i^\\top) \\otimes \\tilde x_i
\\tilde x_i^\\top` in free coordinates, computed row by row with NumPy and
``scipy.special.softmax``; the sampled information on the rows of
:func:`~skmle.models.logistic_sparse.sampled_rows`.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import softmax

from skmle.data import Batch
from skmle.models.logistic import LogisticLogLikelihood
from skmle.models.logistic_dense import dense_newton_terms
from skmle.models.logistic_sparse import sampled_rows
from skmle.models.logistic_terms import CHUNK_ROWS, eta_chunks


def closed_form(model, theta, X, y, w, rows):
    """Gradient in theta and information in free coordinates over ``rows``."""
    Xt = np.hstack([X, np.ones((len(X), 1))])
    W = model.coef_matrix(theta)
    scores = Xt @ W.T
    if model.binary:
        p1 = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        resid = (y - p1)[:, None]
        curv = (p1 * (1 - p1))[:, None, None]
    else:
        prob = softmax(scores, axis=1)
        resid = np.eye(model.n_classes)[y] - prob
        curv = prob[:, :, None] * (np.eye(model.n_classes) - prob[:, None, :])
    grad = ((w[:, None] * resid).T @ Xt).ravel()
    free = slice(None) if model.binary else slice(1, None)
    info = np.einsum(
        "i,ikl,ia,ib->kalb", w[rows], curv[rows][:, free, free], Xt[rows], Xt[rows]
    )
    m = info.shape[0]
    return grad, info.reshape(m * Xt.shape[1], m * Xt.shape[1])


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("exact", [True, False])
def test_two_chunk_sizes_sum_to_the_closed_form(n_classes, exact):
    # Rows that end inside an elementwise chunk and inside a product chunk.
    n = 3 * 12288 + CHUNK_ROWS + 17
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    y = rng.integers(0, n_classes, n)
    w = rng.random(n)
    model = LogisticLogLikelihood(3, n_classes)
    theta = model.from_free(0.3 * rng.standard_normal(model.n_free))
    eta = model.linear_predictor(theta, X)
    loglik, grad, info, _ = dense_newton_terms(model, eta, Batch(X, y, w), exact)
    rows = np.arange(n) if exact else sampled_rows(n)
    expected_grad, expected_info = closed_form(model, theta, X, y, w, rows)
    expected_info *= w.sum() / w[rows].sum()
    assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-9)
    assert_allclose(info, expected_info, rtol=1e-10, atol=1e-9)
    assert_allclose(loglik, model.loglik(theta, Batch(X, y, w)), rtol=1e-13)


@pytest.mark.parametrize("per_row", [1, 3, 20])
def test_elementwise_chunks_are_whole_product_chunks(per_row):
    eta = np.zeros((50_000, per_row)) if per_row > 1 else np.zeros(50_000)
    chunks = list(eta_chunks(eta))
    assert chunks[0].start == 0 and chunks[-1].stop >= 50_000
    for chunk in chunks:
        assert chunk.start % CHUNK_ROWS == 0
        assert (chunk.stop - chunk.start) % CHUNK_ROWS == 0
