"""The Fisher information of logistic regression, shaped for BLAS.

For two classes the information is :math:`\\tilde X^\\top \\mathrm{diag}(w_i p_i
(1 - p_i)) \\tilde X` with :math:`\\tilde X = [X, 1]` (one column of ones with an
intercept); for :math:`K > 2` classes block :math:`(k, l)` is :math:`\\tilde X^\\top
\\mathrm{diag}(w_i p_{ik}([k = l] - p_{il})) \\tilde X`. It is also the negative
Hessian: the logistic likelihood is in its canonical link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def weighted_gram(
    X: np.ndarray,
    factor: np.ndarray,
    fit_intercept: bool,
    scratch: np.ndarray | None = None,
    *,
    nonnegative: bool = False,
) -> np.ndarray:
    """:math:`\\tilde X^\\top \\mathrm{diag}(f) \\tilde X`, with :math:`\\tilde X = [X, 1]`
    if there is an intercept, without forming :math:`\\tilde X`.

    The block of ``X`` is :math:`X^\\top S` with :math:`S = \\mathrm{diag}(f) X`; when
    ``nonnegative`` (:math:`f \\ge 0`) it is the Gram matrix of
    :math:`\\mathrm{diag}(\\sqrt f) X` instead, one symmetric rank-k update (SYRK:
    half the work of a general product, and exactly symmetric). The intercept's
    row and column are :math:`X^\\top f` and :math:`\\sum_i f_i`. ``scratch``, a
    C-contiguous buffer of ``X``'s shape, receives the scaled copy (a contiguous
    target is markedly faster to write than a column slice). A ``float32``
    ``scratch`` (with ``nonnegative``) makes the products single precision:
    twice as fast, each entry within about :math:`10^{-6}` of its own size, an
    approximation for steering Newton steps only (the result is float64).
    """
    n, d = X.shape
    out = np.empty((d + fit_intercept, d + fit_intercept))
    if scratch is None:
        scratch = np.empty((n, d))
    if nonnegative:
        root = np.sqrt(factor)
        scaled = np.multiply(X, root[:, None], out=scratch)
        out[:d, :d] = scaled.T @ scaled
        cross = root.astype(scaled.dtype) @ scaled if fit_intercept else None
    else:
        scaled = np.multiply(X, factor[:, None], out=scratch)
        out[:d, :d] = X.T @ scaled
        cross = np.ones(n) @ scaled if fit_intercept else None
    if fit_intercept:
        out[:d, d] = out[d, :d] = cross
        out[d, d] = factor.sum()
    return out


PRODUCT_COLUMNS = 2_000
"""Up to this many distinct products :math:`\\tilde x_a \\tilde x_b` per row (about
62 columns of ``X``), :func:`information_blocks` computes every block of the
multinomial information with one matrix product (:func:`pair_products`); above
it, one symmetric rank-k update per class pair."""
PRODUCT_ENTRIES = 2_000_000
"""Entries of the row-product buffer of :func:`pair_products` (16 MB)."""


def row_products(X: np.ndarray, fit_intercept: bool, out: np.ndarray) -> np.ndarray:
    """The distinct products :math:`\\tilde x_{ia} \\tilde x_{ib}`, :math:`a \\le b`,
    of each row of :math:`\\tilde X = [X, 1]` (of ``X`` without an intercept), in the
    order of ``np.triu_indices``, one product per row of ``out`` (shape
    ``(p (p + 1) / 2, n)``): :math:`Q^\\top`. Transposed, every product is one
    contiguous write of a row of ``X^T`` times a block of them (twice as fast
    as writing slices of the rows of :math:`Q`)."""
    d = X.shape[1]
    columns = np.ascontiguousarray(X.T)
    start = 0
    for a in range(d):
        stop = start + d - a
        np.multiply(columns[a:], columns[a], out=out[start:stop])
        start = stop
        if fit_intercept:
            out[start] = columns[a]
            start += 1
    if fit_intercept:
        out[start] = 1.0
    return out


def pair_products(
    X: np.ndarray,
    fit_intercept: bool,
    factors: Callable[[slice], np.ndarray],
    n_factors: int,
) -> np.ndarray:
    """:math:`G = F^\\top Q`: row :math:`j` holds the upper triangle of
    :math:`\\tilde X^\\top \\mathrm{diag}(F_{:j}) \\tilde X`.

    :math:`Q` has the distinct products of each row (:func:`row_products`), so one
    product of the factors (shape ``(n, m)``, ``m = n_factors``) with it gives all
    ``m`` weighted Gram matrices in the flops of ``m`` symmetric updates, in one
    large, fast matrix product instead of ``m`` small ones. :math:`Q` and the
    factors (``factors(rows)``, for a slice of rows) are made for a few rows at
    a time, so the memory does not grow with the rows.
    """
    n, d = X.shape
    p = d + fit_intercept
    columns = p * (p + 1) // 2
    rows = max(256, PRODUCT_ENTRIES // columns)
    buffer = np.empty((columns, min(rows, n)))
    out = np.zeros((columns, n_factors))
    for start in range(0, n, rows):
        part = slice(start, min(start + rows, n))
        size = part.stop - start
        products = row_products(X[part], fit_intercept, buffer[:, :size])
        out += products @ factors(part)
    return out.T


def information_blocks(
    X: np.ndarray,
    fit_intercept: bool,
    weight: np.ndarray,
    prob: np.ndarray | None,
    curv: np.ndarray,
    classes: Sequence[int],
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Negative Hessian of the log-likelihood in the coefficients of ``classes``.

    Block (k, l) is :math:`\\tilde X^\\top \\mathrm{diag}(w\\,p_k([k=l] -
    p_l))\\tilde X`, :math:`\\tilde X = [X, 1]` with an intercept. Each block's
    factor has one sign (:math:`w p_k (1 - p_k) \\ge 0` on the diagonal,
    :math:`-w p_k p_l \\le 0` off it), so each is a symmetric rank-k update of
    :math:`\\sqrt{|f|}\\,\\tilde X` (:func:`weighted_gram`), half the flops of a
    general product. With several classes and at most :data:`PRODUCT_COLUMNS`
    distinct row products, all :math:`m(m+1)/2` blocks come from one matrix
    product instead (:func:`pair_products`, the same flops, about 1.5 times
    faster at 20 classes and 50 features). One SYRK of the class-scaled rows
    :math:`\\sqrt{w}\\,[p_k \\tilde X]_k` would need twice the flops (it fills
    both triangles of each off-diagonal block) and was measured 2.7 times slower.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    fit_intercept : bool
    weight : ndarray of shape (n_samples,)
    prob : ndarray of shape (n_samples, K) or None
        Softmax probabilities, for the off-diagonal blocks (None for two classes).
    curv : ndarray of shape (n_samples,) or (n_samples, K)
        ``p (1 - p)`` from :func:`~skmle.models.logistic_terms.eta_terms`.
    classes : sequence of int
        Classes whose blocks to return (``[0]`` for two classes).
    scratch : ndarray of shape (n_samples, n_features), optional
        Reused for the scaled copy of ``X``.
    """
    p = X.shape[1] + fit_intercept
    if curv.ndim == 1:
        curv = curv[:, None]
    m = len(classes)
    if m > 1 and p * (p + 1) // 2 <= PRODUCT_COLUMNS:
        return _blocks_from_products(X, fit_intercept, weight, prob, curv, classes)
    info = np.empty((m * p, m * p))
    for a, k in enumerate(classes):
        info[a * p : (a + 1) * p, a * p : (a + 1) * p] = weighted_gram(
            X, weight * curv[:, k], fit_intercept, scratch, nonnegative=True
        )
        for b in range(a + 1, m):
            l = classes[b]  # noqa: E741
            factor = weight * prob[:, k] * prob[:, l]
            block = weighted_gram(X, factor, fit_intercept, scratch, nonnegative=True)
            block = np.negative(block, out=block)
            info[a * p : (a + 1) * p, b * p : (b + 1) * p] = block
            info[b * p : (b + 1) * p, a * p : (a + 1) * p] = block.T
    return info


def _blocks_from_products(X, fit_intercept, weight, prob, curv, classes):
    """:func:`information_blocks` by :func:`pair_products`."""
    p = X.shape[1] + fit_intercept
    m = len(classes)
    first, second = np.triu_indices(m)
    index = np.asarray(classes)
    diagonal = first == second

    def factors(rows: slice) -> np.ndarray:
        w = weight[rows, None]
        out = -(w * prob[rows][:, index[first]]) * prob[rows][:, index[second]]
        out[:, diagonal] = w * curv[rows][:, index]
        return out

    rows, cols = np.triu_indices(p)
    blocks = np.empty((first.size, p, p))
    upper = pair_products(X, fit_intercept, factors, first.size)
    blocks[:, rows, cols] = upper
    blocks[:, cols, rows] = upper
    info = np.empty((m, p, m, p))
    info[first, :, second, :] = blocks
    info[second, :, first, :] = blocks.transpose(0, 2, 1)
    return info.reshape(m * p, m * p)
