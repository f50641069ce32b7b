"""From the information at the optimum to covariances and standard errors.

Every estimator reaches its standard errors by one path: it names an
:class:`Information` (the observed or Fisher information of some coordinates
:math:`\\phi` at the optimum), the linear map :math:`J` from those coordinates to
the parameters it reports, and the blocks of the reported vector; then

.. math:: \\operatorname{Cov}(\\hat\\beta) = J\\, I(\\hat\\phi)^{-1} J^\\top,
   \\qquad \\mathrm{se}(\\hat\\beta_j) = \\sqrt{[J I^{-1} J^\\top]_{jj}},

or, with a meat :math:`M` of per-row scores (:mod:`skmle.inference.sandwich`),
the sandwich :math:`J I^{-1} M I^{-1} J^\\top`.

The information is held as a scaled triangular factor,
:math:`I = c\\, D^{-1} R^\\top R\\, D^{-1}` with :math:`D` diagonal, so the
covariance is :math:`c^{-1} (D R^{-1})(D R^{-1})^\\top` and no inverse is formed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from skmle._linalg import PIVOT_RTOL
from skmle.inference.sandwich import ScoreMeat

SMALL = 16
"""Up to this many parameters the factorisations go through NumPy's LAPACK
wrappers, whose call costs a few microseconds against SciPy's ten to twenty: a
one-parameter fit (a distribution's rate) spends more on the wrappers than on
the arithmetic."""


def _upper_cholesky(matrix: np.ndarray) -> np.ndarray:
    """The upper Cholesky factor :math:`R` of the symmetric ``matrix``,
    :math:`A = R^\\top R`; ``matrix`` may be overwritten."""
    if matrix.shape[0] <= SMALL:
        return np.linalg.cholesky(matrix).T
    # The lower factor of the symmetric matrix's Fortran view is R^T in place:
    # no copy of a matrix of order 4,000 (``matrix`` is overwritten).
    return linalg.cholesky(matrix.T, lower=True, overwrite_a=True).T


def _solve_transposed(r: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """:math:`R^{-\\top} B` for an upper triangular :math:`R` (a small one by
    LAPACK's general solver, which keeps it backward stable)."""
    if r.shape[0] <= SMALL:
        return np.linalg.solve(r.T, rhs)
    return linalg.solve_triangular(r, rhs, trans="T")


class SingularInformation(np.linalg.LinAlgError):
    """The information is singular to working precision: the maximum is not unique
    and the Wald covariance does not exist."""


Transform = np.ndarray | Callable[[np.ndarray], np.ndarray]
"""A linear map :math:`J`: a matrix, or a function applying it to each column of a
matrix (cheaper when :math:`J` has structure)."""


@dataclass(frozen=True)
class Information:
    """Information :math:`I = c\\, D^{-1} R^\\top R\\, D^{-1}`, positive definite.

    Parameters
    ----------
    r : ndarray of shape (p, p)
        Upper triangular.
    scale : ndarray of shape (p,)
        The diagonal of :math:`D`.
    multiplier : float
        :math:`c > 0`.
    """

    r: np.ndarray
    scale: np.ndarray
    multiplier: float = 1.0

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> Information:
        """By the Cholesky factor of the Jacobi-scaled ``matrix`` (unit diagonal, so
        the pivots do not depend on the parameters' units).

        Raises
        ------
        SingularInformation
            When ``matrix`` is not positive definite to working precision.
        """
        matrix = np.asarray(matrix, dtype=float)
        diagonal = np.diag(matrix)
        if matrix.size and not np.all(diagonal > 0):
            raise SingularInformation("the information has a zero diagonal entry")
        scale = 1.0 / np.sqrt(diagonal)
        scaled = matrix * scale[:, None]
        scaled *= scale  # no outer product of the order of the matrix
        try:
            r = _upper_cholesky(scaled)
        except np.linalg.LinAlgError as error:
            raise SingularInformation(str(error)) from None
        return cls.from_triangular(r, scale)

    @classmethod
    def from_hessian(cls, hessian: np.ndarray) -> Information:
        """The observed information :math:`-H` of a log-likelihood's Hessian."""
        return cls.from_matrix(-np.asarray(hessian, dtype=float))

    @classmethod
    def from_triangular(
        cls, r: np.ndarray, scale: np.ndarray | None = None, multiplier: float = 1.0
    ) -> Information:
        """From a factor already at hand (a QR of the design, say).

        Raises
        ------
        SingularInformation
            When a squared pivot of :math:`R` is below :data:`PIVOT_RTOL` times the
            largest.
        """
        r = np.asarray(r, dtype=float)
        scale = np.ones(r.shape[0]) if scale is None else np.asarray(scale, float)
        pivots = np.abs(np.diag(r))
        if pivots.size and not (
            np.all(np.isfinite(r))
            and np.min(pivots) ** 2 > PIVOT_RTOL * np.max(pivots) ** 2
        ):
            raise SingularInformation("the information is singular")
        if not multiplier > 0:
            raise SingularInformation(f"the information is scaled by {multiplier}")
        return cls(r, scale, float(multiplier))

    @property
    def n_params(self) -> int:
        return self.r.shape[0]

    def covariance_factor(self, transform: Transform | None = None) -> np.ndarray:
        """:math:`J G = J D R^{-1} / \\sqrt c`, whose rows' inner products are the
        covariance of the reported parameters."""
        row_scale = self.scale / np.sqrt(self.multiplier)
        if self.n_params <= SMALL:
            half = _solve_transposed(self.r, np.diag(row_scale)).T
        else:
            # R^{-1} by LAPACK's trtri (a third of the flops of solving for
            # the identity, and no dense right-hand side), its rows scaled in
            # place: at 4,000 parameters each dense temporary cost more than
            # the arithmetic.
            half, status = lapack.dtrtri(self.r, lower=0)
            if status != 0:  # pragma: no cover - from_triangular checked the pivots
                raise SingularInformation("the triangular factor is singular")
            half *= row_scale[:, None]
        return apply_transform(transform, half)

    def whiten(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` times :math:`G = D R^{-1} / \\sqrt c`, for which :math:`I^{-1}
        = G G^\\top`: one triangular solve.

        Scores whitened row by row give the sandwich's middle :math:`G^\\top M G
        = \\sum_i w_i (G^\\top s_i)(G^\\top s_i)^\\top` without forming :math:`M`,
        whose entries can be many orders apart (raw, uncentred columns).
        """
        rows = np.asarray(rows, dtype=float)
        solved = _solve_transposed(self.r, (rows * self.scale).T)
        return solved.T / np.sqrt(self.multiplier)

    def covariance(
        self, transform: Transform | None = None, meat: np.ndarray | None = None
    ) -> np.ndarray:
        """:math:`J I^{-1} J^\\top`, or the sandwich :math:`J I^{-1} M I^{-1}
        J^\\top` with ``meat`` :math:`M` (``J`` the identity when ``transform``
        is None)."""
        factor = self.covariance_factor(transform)
        return ReportedCovariance(factor, self._middle(meat)).matrix()

    def variances(
        self, transform: Transform | None = None, meat: np.ndarray | None = None
    ) -> np.ndarray:
        """The diagonal of :meth:`covariance`, without forming the whole matrix."""
        factor = self.covariance_factor(transform)
        return ReportedCovariance(factor, self._middle(meat)).variances()

    def _middle(self, meat: np.ndarray | None) -> np.ndarray | None:
        """:math:`G^\\top M G`, or None without a meat."""
        if meat is None:
            return None
        half = self.covariance_factor(None)
        return half.T @ np.asarray(meat, dtype=float) @ half


def apply_transform(transform: Transform | None, columns: np.ndarray) -> np.ndarray:
    """:math:`J` applied to each column of ``columns`` (``columns`` itself when
    ``transform`` is None)."""
    if transform is None:
        return columns
    if callable(transform):
        return np.asarray(transform(columns))
    return np.asarray(transform) @ columns


class ReportedCovariance:
    """The covariance :math:`(JG)\\, B\\, (JG)^\\top` of reported parameters,
    formed only when asked for.

    Its diagonal (the squared standard errors) costs :math:`O(m p)` from the
    factor :math:`JG` (``m`` reported parameters, ``p`` coordinates), the whole
    matrix :math:`O(m^2 p)`: many seconds for thousands of parameters, so
    :meth:`matrix` forms it on the first call (and then keeps only it).

    Parameters
    ----------
    factor : ndarray of shape (m, p) or None
        :math:`JG`, with :math:`I^{-1} = G G^\\top`.
    middle : ndarray of shape (p, p), default=None
        The sandwich's :math:`B = G^\\top M G`; None for the identity (the
        inverse information).
    matrix : ndarray of shape (m, m), default=None
        The covariance itself, when it is already known (NaN where undefined).
    """

    def __init__(self, factor=None, middle=None, matrix=None):
        self._factor, self._middle, self._matrix = factor, middle, matrix

    @classmethod
    def undefined(cls, size: int) -> ReportedCovariance:
        """NaN everywhere, for ``size`` parameters."""
        return cls(matrix=np.full((size, size), np.nan))

    def variances(self) -> np.ndarray:
        """The diagonal, without forming the matrix."""
        if self._matrix is not None:
            return np.diag(self._matrix).copy()
        factor = self._factor
        left = factor if self._middle is None else factor @ self._middle
        return np.einsum("ij,ij->i", left, factor)

    def matrix(self) -> np.ndarray:
        """The whole covariance, formed on the first call."""
        if self._matrix is None:
            factor = self._factor
            if self._middle is None:
                covariance = factor @ factor.T
            else:
                covariance = factor @ self._middle @ factor.T
                covariance = (covariance + covariance.T) / 2.0
            self._matrix, self._factor, self._middle = covariance, None, None
        return self._matrix


@dataclass(frozen=True)
class WaldSpec:
    """What an estimator hands to inference after a fit.

    Attributes
    ----------
    information : Information, callable returning one, or None
        A callable is called by :func:`reported_covariance`, so that the
        :class:`SingularInformation` it may raise becomes NaN errors with
        ``singular_message``. None when the standard errors are undefined (for
        example on separable data): they are then NaN, without a warning.
    blocks : mapping of str to index array
        Reported parameter blocks (``"coef"``, ``"intercept"``, ...) as positions
        in the reported vector :math:`J\\phi`.
    transform : Transform or None
        :math:`J`; None for the identity.
    singular_message : str
        The warning when the information is singular.
    meat : callable, or None
        For a sandwich covariance (:mod:`skmle.inference.sandwich`):
        ``meat(whiten=whiten)`` returns the :class:`ScoreMeat` of the per-row scores (in
        the coordinates of ``information``) whitened by ``whiten``, the
        information's :meth:`Information.whiten`; None for the inverse
        information.
    """

    information: Information | Callable[[], Information] | None
    blocks: Mapping[str, np.ndarray]
    transform: Transform | None = None
    singular_message: str = (
        "The observed information is singular at the fitted parameters (the "
        "maximum is not unique): standard errors are undefined and set to NaN."
    )
    meat: Callable[[Callable[[np.ndarray], np.ndarray]], ScoreMeat] | None = None

    @property
    def positions(self) -> np.ndarray:
        """The reported positions of every block, block after block."""
        parts = [np.asarray(idx, dtype=int).ravel() for idx in self.blocks.values()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=int)


def reported_covariance(spec: WaldSpec, *, stacklevel: int = 2) -> ReportedCovariance:
    """The covariance of the reported parameters of ``spec``'s blocks, in the
    order of :attr:`WaldSpec.positions`: :math:`J I^{-1} J^\\top`, or the
    sandwich :math:`J I^{-1} M I^{-1} J^\\top` when ``spec`` has a meat.

    NaN everywhere, with ``spec``'s warning, when the information is singular
    (silently when ``spec.information`` is None).
    """
    positions = spec.positions
    if spec.information is None:
        return ReportedCovariance.undefined(positions.size)
    covariance = None
    try:
        information = spec.information
        if callable(information):
            information = information()
        meat = None if spec.meat is None else spec.meat(whiten=information.whiten)
        if meat is not None and not np.isfinite(meat.factor):
            warnings.warn(meat.undefined_message, UserWarning, stacklevel + 1)
            return ReportedCovariance.undefined(positions.size)
        factor = information.covariance_factor(
            lambda half: in_order(apply_transform(spec.transform, half), positions)
        )
        covariance = ReportedCovariance(
            factor, None if meat is None else meat.corrected()
        )
    except SingularInformation:
        pass
    if covariance is None or not np.all(np.isfinite(covariance.variances())):
        warnings.warn(spec.singular_message, UserWarning, stacklevel=stacklevel + 1)
        return ReportedCovariance.undefined(positions.size)
    return covariance


def in_order(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``rows[positions]``, or ``rows`` itself when that is every row in order
    (no copy of a factor of order 4,000)."""
    if positions.size == rows.shape[0] and np.array_equal(
        positions, np.arange(rows.shape[0])
    ):
        return rows
    return rows[positions]


def split_blocks(spec: WaldSpec, variances: np.ndarray) -> dict[str, np.ndarray]:
    """The standard errors of each block from the variances of
    :func:`reported_covariance`, in its order."""
    se = np.sqrt(np.maximum(variances, 0.0))
    bounds = np.cumsum([0] + [np.size(idx) for idx in spec.blocks.values()])
    return {
        name: se[start:stop]
        for name, start, stop in zip(spec.blocks, bounds[:-1], bounds[1:], strict=True)
    }


def block_standard_errors(
    spec: WaldSpec, *, stacklevel: int = 2
) -> dict[str, np.ndarray]:
    """Standard errors of each block of ``spec``; NaN, with ``spec``'s warning,
    when the information is singular."""
    covariance = reported_covariance(spec, stacklevel=stacklevel + 1)
    return split_blocks(spec, covariance.variances())


def covariance_from_hessian(hessian: np.ndarray) -> np.ndarray:
    """Inverse observed information :math:`(-H)^{-1}`.

    Raises ``numpy.linalg.LinAlgError`` (:class:`SingularInformation`) when
    :math:`-H` is not positive definite (the maximum is not unique, so the Wald
    covariance does not exist).
    """
    return Information.from_hessian(hessian).covariance()
