"""Least absolute deviations: minimise :math:`\\sum_i w_i |y_i - x_i^\\top \\beta|`.

Two solvers for the location part of Laplace regression (the scale then has a
closed form):

- :func:`least_absolute_deviations`, exact. The problem is the linear program
  whose dual is

  .. math:: \\max_d\\; y^\\top d \\quad \\text{s.t.}\\quad X^\\top d = 0,\\quad
     -w_i \\le d_i \\le w_i,

  with only ``n_features`` equality rows; the coefficients are the multipliers
  of those rows. HiGHS solves it directly for small problems. For large ones,
  Portnoy and Koenker's preprocessing ("the Gaussian hare and the Laplacian
  tortoise", 1997): an exact fit on a uniform sample of about
  :math:`n^{2/3} p^{1/2}` rows (itself solved the same way) bounds the
  residual signs of most rows by a band of a few standard errors, scaled by
  each row's leverage; the rows above and below are folded (the "globs") into
  the right-hand side :math:`X_F^\\top d_F = -X_F^\\top(w_F \\,\\mathrm{sign}(r_F))`
  and only the band enters the LP. The fit is exact when no folded row changes
  sign; the few that do are taken back into the band and the LP solved again
  (many, and the band doubles). Passes without a sample start from IRLS
  instead. A band of more than a thousand rows is solved by an interior-point
  method (:mod:`~skmle.optim.lad.interior`) that settles all but a few signs,
  HiGHS finds the vertex on those few, and the signs are checked again; every
  LP answer is accepted only with a certificate (primal and dual objectives
  equal, the dual feasible).
- :func:`subgradient_lad`: subgradient ascent on the mean of
  :math:`-|r_i|` with a decaying step, the textbook method for a non-smooth
  objective. Slow and approximate; it is there to be read, not to be used on
  large problems.

Data read in pieces
-------------------
Both solvers touch the rows only through a few sums, so they also run on data
that is never in memory at once. :func:`banded_lad` takes the rows through an
object with the methods of :class:`LADPasses` (each one pass over the data,
such as :class:`SummedPasses`; the array functions :func:`irls_sums`,
:func:`band_sums`, :func:`check_sums` compute one chunk's share) and gathers only
the band of rows near the fit. :func:`subgradient_lad_by_sums` takes one function
that returns the sums of an iterate (:func:`summed_subgradient`). :func:`select_by_passes` finds a weighted quantile (the median of ``y``,
a threshold on :math:`|r|`) exactly from histograms of the values' bits, one pass
per 11 bits, then the few rows left.

Neither knows about Laplace regression: designs, responses and weights in (arrays,
or a ``rows(part)`` callback with a sum over parts), coefficients out; for the
exact solver an intercept is a column of the design the caller builds. Exactness of a solution can be checked independently
with :func:`scipy.optimize.linprog`.

Modules: :mod:`~skmle.optim.lad.exact` (the LP, banded, the sample and IRLS
starts), :mod:`~skmle.optim.lad.folds` (:class:`Fold`: which rows are folded),
:mod:`~skmle.optim.lad.interior` (the interior-point core),
:mod:`~skmle.optim.lad.scaling` (:class:`LADScaling`),
:mod:`~skmle.optim.lad.passes` (per-part sums, :class:`SummedPasses`),
:mod:`~skmle.optim.lad.certificates` (duality gaps),
:mod:`~skmle.optim.lad.subgradient`, :mod:`~skmle.optim.lad.quantiles` and
:mod:`~skmle.optim.lad.sparse_rows` (the products that differ for a
``scipy.sparse`` design: every solver takes CSR rows, which are scaled for the
LP but never centred or densified).
"""

from skmle.optim.lad.certificates import band_duality_gap, relative_duality_gap
from skmle.optim.lad.exact import (
    BAND_WIDTH,
    DIRECT_ROWS,
    IRLS_MAX_ITER,
    IRLS_RTOL,
    LP_GAP_RTOL,
    SAMPLE_FACTOR,
    SAMPLE_ROWS,
    LADPasses,
    LADResult,
    banded_lad,
    least_absolute_deviations,
)
from skmle.optim.lad.folds import (
    Fold,
    fold_band_sums,
    fold_check_sums,
    fold_signs,
    leverage_scale,
)
from skmle.optim.lad.passes import (
    SAMPLE_SEED,
    SummedPasses,
    band_sums,
    check_sums,
    irls_sums,
    response_spread,
    weighted_median_by_passes,
)
from skmle.optim.lad.quantiles import (
    KEY_DIGITS,
    MAX_GATHER,
    float_from_key,
    key_bucket,
    key_histogram,
    select_by_passes,
    sortable_keys,
    weighted_median,
)
from skmle.optim.lad.scaling import LADScaling
from skmle.optim.lad.subgradient import (
    GROW_AFTER,
    SHRINK_AFTER,
    subgradient_lad,
    subgradient_lad_by_sums,
    subgradient_sums,
    summed_subgradient,
)

__all__ = [
    "BAND_WIDTH",
    "DIRECT_ROWS",
    "GROW_AFTER",
    "IRLS_MAX_ITER",
    "IRLS_RTOL",
    "KEY_DIGITS",
    "LP_GAP_RTOL",
    "MAX_GATHER",
    "SAMPLE_FACTOR",
    "SAMPLE_ROWS",
    "SAMPLE_SEED",
    "SHRINK_AFTER",
    "Fold",
    "LADPasses",
    "LADResult",
    "LADScaling",
    "SummedPasses",
    "band_duality_gap",
    "band_sums",
    "banded_lad",
    "check_sums",
    "float_from_key",
    "fold_band_sums",
    "fold_check_sums",
    "fold_signs",
    "irls_sums",
    "key_bucket",
    "key_histogram",
    "least_absolute_deviations",
    "leverage_scale",
    "relative_duality_gap",
    "response_spread",
    "select_by_passes",
    "sortable_keys",
    "subgradient_lad",
    "subgradient_lad_by_sums",
    "subgradient_sums",
    "summed_subgradient",
    "weighted_median",
    "weighted_median_by_passes",
]
