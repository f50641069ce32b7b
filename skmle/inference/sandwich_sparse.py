"""Sandwich meats of a sparse design, from each row's score *factors*.

A model whose rows enter through linear predictors :math:`\\eta_{ik} =
\\tilde x_i^\\top \\beta_k` (:math:`\\tilde x_i = [x_i - c, 1]`, the centre
:math:`c` of centred coordinates, the 1 where there is an intercept) has per-row
scores, in ``theta``'s order (the predictors' blocks, then the other parameters:
a scale, a dispersion, degrees of freedom),

.. math:: s_i = [a_{i1} \\tilde x_i, \\dots, a_{iK} \\tilde x_i, b_i],
   \\qquad a_{ik} = \\partial \\log p_i / \\partial \\eta_{ik},

with :math:`b_i` the (dense) scores of the other parameters. The model gives
:math:`a` and :math:`b` (its ``score_factors(theta, batch)``), and the meats
need no :math:`n \\times p` array: for ``"HC0"``

.. math::

    M_{kl} = \\tilde X^\\top \\mathrm{diag}(w\\, a_k a_l) \\tilde X, \\qquad
    M_{kb} = \\tilde X^\\top (w\\, a_k b^\\top), \\qquad
    M_{bb} = b^\\top \\mathrm{diag}(w)\\, b,

one sparse weighted Gram per pair of predictors
(:func:`skmle._sparse.weighted_gram`, the centre applied implicitly) and one
sparse product per other parameter; for ``"cluster"`` the sums
:math:`u_g = \\sum_{i \\in g} w_i s_i` are :math:`E\\, \\mathrm{diag}(w a_k)
\\tilde X` per predictor, :math:`E` the sparse :math:`G \\times n` indicator of
the groups, kept sparse (:math:`V_k = E\\,\\mathrm{diag}(w a_k) X` and
:math:`t_k = E (w a_k)`, so :math:`u_{gk} = [V_{gk} - t_{gk} c, t_{gk}]`), and
:math:`\\sum_g u_g u_g^\\top` is their sparse products with rank-one
corrections for :math:`c`. Memory is linear in the rows (vectors of length
:math:`n`, the nonzeros of :math:`X`) and quadratic in the parameters, for any
number of groups.

An estimator's information may be in other coordinates than ``theta``'s (the
intercept first, the free classes of a multinomial): :class:`RowScores` carries
the linear map ``columns`` applied to each row of scores, so that the meat of
``theta``'s scores :math:`M` becomes :math:`T^\\top M T` in the information's.
It is then whitened, :math:`G^\\top T^\\top M T G` (the dense path whitens each
row's score instead; here :math:`M` is formed first, so where the columns of
:math:`[X, 1]` are nearly collinear it keeps fewer digits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from skmle._sparse import weighted_gram
from skmle.data import Batch

Columns = Callable[[np.ndarray], np.ndarray]
"""A linear map applied to each row of a score matrix (``theta``'s coordinates
to the information's)."""

SPARSE_SCORES_MESSAGE = (
    "A sandwich covariance (cov_type other than 'nonrobust') of sparse X is "
    "summed from the per-row score factors of a linear predictor, which this "
    "estimator's scores do not give (they are an n x p dense matrix): use "
    "cov_type='nonrobust' with sparse X, or densify it with X.toarray() if it "
    "fits in memory."
)


@dataclass(frozen=True)
class RowScores:
    """The per-row scores ``columns(model.scores(theta, batch))``, which also
    sum their meats over sparse rows from ``model.score_factors``.

    Parameters
    ----------
    model : LogLikelihood
        With ``scores(theta, batch)`` and ``score_factors(theta, batch) -> (a,
        b)``: :math:`a` of shape (n, K) and :math:`b` of shape (n, m), in the
        layout of the module docstring; ``n_features``, ``fit_intercept`` and
        (optionally) ``center``.
    theta : ndarray
    columns : callable, default=None
        :math:`S \\mapsto S T`, the map to the information's coordinates (a
        column selection or any linear map of each row); None for the identity.
    """

    model: Any
    theta: np.ndarray
    columns: Columns | None = None

    def __call__(self, batch: Batch) -> np.ndarray:
        return self.mapped(self.model.scores(self.theta, batch))

    def mapped(self, rows: np.ndarray) -> np.ndarray:
        """``columns(rows)``: rows of ``theta``'s scores in the information's
        coordinates."""
        return rows if self.columns is None else self.columns(rows)

    def congruence(self, matrix: np.ndarray) -> np.ndarray:
        """:math:`T^\\top M T` of a symmetric ``matrix`` :math:`M` in ``theta``'s
        coordinates (``columns`` applied to its rows, then to those of the
        transpose)."""
        return self.mapped(self.mapped(matrix).T)

    @property
    def n_theta(self) -> int:
        return int(np.size(self.theta))

    def _layout(self, batch: Batch):
        a, b = self.model.score_factors(self.theta, batch)
        a = np.reshape(a, (batch.X.shape[0], -1))
        b = np.reshape(b, (batch.X.shape[0], -1))
        model = self.model
        return a, b, bool(model.fit_intercept), getattr(model, "center", None)

    def products(self, batch: Batch) -> np.ndarray:
        """:math:`\\sum_i w_i s_i s_i^\\top` of ``theta``'s scores over the
        (sparse) rows of ``batch``, by the sparse products of the module
        docstring."""
        a, b, intercept, center = self._layout(batch)
        X, w = batch.X, batch.sample_weight
        wa = w[:, None] * a

        def pair(k: int, j: int) -> np.ndarray:
            return weighted_gram(X, wa[:, k] * a[:, j], intercept, center)

        def cross(k: int) -> np.ndarray:
            r = wa[:, [k]] * b
            return _design_products(X.T @ r, r.sum(axis=0), intercept, center)

        q = X.shape[1] + intercept
        return _assemble(
            self.n_theta, a.shape[1], q, pair, cross, b.T @ (w[:, None] * b)
        )

    def group_sums(self, batch: Batch, codes: np.ndarray, n_groups: int) -> tuple:
        """The groups' sums of ``theta``'s scores, :math:`u_g = \\sum_{i \\in g}
        w_i s_i`, kept sparse: per predictor :math:`k` the sparse (n_groups, d)
        :math:`V_k = E\\, \\mathrm{diag}(w a_k) X`, then the (n_groups, K)
        :math:`t_k = E (w a_k)` and the (n_groups, m) :math:`E\\, \\mathrm{diag}(w)
        b`; the sums of disjoint batches add up, and :meth:`cluster_products`
        makes the meat."""
        a, b, _, _ = self._layout(batch)
        X, w = batch.X, batch.sample_weight
        n = X.shape[0]
        members = sp.csr_array((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))
        weighted = w[:, None] * a
        sums = tuple(
            sp.csr_array(members.multiply(weighted[:, k][None, :]) @ X)
            for k in range(a.shape[1])
        )
        return (*sums, members @ weighted, members @ (w[:, None] * b))

    def cluster_products(self, sums: tuple) -> np.ndarray:
        """:math:`\\sum_g u_g u_g^\\top` in ``theta``'s coordinates from
        :meth:`group_sums`: with :math:`u_g = [V_{gk} - t_{gk} c, t_{gk}]_k` and
        :math:`e_g`, every block is a sparse product and rank-one corrections
        for the centre :math:`c` (:func:`_group_block`)."""
        *V, t, e = sums
        intercept = bool(self.model.fit_intercept)
        center = getattr(self.model, "center", None)

        def pair(k: int, j: int) -> np.ndarray:
            return _group_block(V[k], t[:, k], V[j], t[:, j], intercept, center)

        def cross(k: int) -> np.ndarray:
            return _design_products(V[k].T @ e, t[:, k] @ e, intercept, center)

        q = V[0].shape[1] + intercept
        return _assemble(self.n_theta, len(V), q, pair, cross, e.T @ e)


def _assemble(size: int, K: int, q: int, pair, cross, extra) -> np.ndarray:
    """The symmetric meat in ``theta``'s order from its blocks: ``pair(k, j)``
    (q, q) of predictors :math:`k \\le j`, ``cross(k)`` (q, m) of predictor
    :math:`k` with the other parameters, and ``extra`` (m, m) of those."""
    out = np.empty((size, size))
    for k in range(K):
        rows = slice(k * q, (k + 1) * q)
        for j in range(k, K):
            block = pair(k, j)
            out[rows, j * q : (j + 1) * q] = block
            out[j * q : (j + 1) * q, rows] = block.T
        block = cross(k)
        out[rows, K * q :] = block
        out[K * q :, rows] = block.T
    out[K * q :, K * q :] = extra
    return out


def _group_block(Vk, tk, Vj, tj, intercept: bool, center) -> np.ndarray:
    """:math:`[V_k - t_k c^\\top, t_k]^\\top [V_j - t_j c^\\top, t_j]` (without
    the columns of :math:`t` when not ``intercept``), :math:`V` sparse."""
    gram = np.asarray((Vk.T @ Vj).toarray())
    right, left, corner = Vk.T @ tj, Vj.T @ tk, float(tk @ tj)
    if center is not None:
        gram -= np.outer(right, center) + np.outer(center, left)
        gram += corner * np.outer(center, center)
        right, left = right - corner * center, left - corner * center
    if not intercept:
        return gram
    return np.block([[gram, right[:, None]], [left[None, :], np.array([[corner]])]])


def _design_products(
    products: np.ndarray, totals: np.ndarray, intercept: bool, center
) -> np.ndarray:
    """:math:`[X - 1c^\\top, 1]^\\top r` from :math:`X^\\top r` (``products``,
    (d, m)) and :math:`1^\\top r` (``totals``, (m,))."""
    products, totals = np.asarray(products), np.reshape(totals, (1, -1))
    if center is not None:
        products = products - np.outer(center, totals)
    return np.vstack([products, totals]) if intercept else products


def sparse_sandwich(method: Callable) -> Callable:
    """Mark an estimator's ``_score_rows`` as returning :class:`RowScores`, so
    that ``cov_type`` other than ``"nonrobust"`` is accepted with sparse ``X``
    (see :func:`skmle._sparse.refuse_sparse_sandwich`)."""
    method.sparse_sandwich = True
    return method
