"""The ``summary()`` table: estimates, standard errors, Wald tests and intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real

import numpy as np
from scipy import stats


def check_alpha(alpha) -> float:
    """``alpha`` of a central ``1 - alpha`` interval, checked to lie in (0, 1).

    Parameters
    ----------
    alpha : float
        A real number (Python or NumPy) strictly between 0 and 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``alpha`` is not a real number in (0, 1).

    Examples
    --------
    >>> from skmle.inference import check_alpha
    >>> check_alpha(0.05)
    0.05
    """
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(
            "alpha must be a number strictly between 0 and 1 (the intervals are "
            f"central 1 - alpha intervals, e.g. alpha=0.05 for 95%), got {alpha!r}."
        )
    return float(alpha)


@dataclass
class SummaryRow:
    name: str
    estimate: float
    std_err: float


@dataclass
class Summary:
    """A fitted model's coefficient table and fit statistics.

    ``str(summary)`` is a fixed-width table: for each parameter its estimate,
    standard error, Wald statistic :math:`z = \\hat\\theta / \\mathrm{se}`, two-sided
    p-value :math:`2\\,\\Phi(-|z|)` and the ``1 - alpha`` confidence interval
    :math:`\\hat\\theta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`; the fit statistics follow.
    """

    title: str
    rows: list[SummaryRow]
    stats: dict[str, object] = field(default_factory=dict)
    alpha: float = 0.05
    df_resid: float | None = None
    """Degrees of freedom of Student's t for the tests and intervals; ``None``
    (the default) uses the standard normal, as a likelihood's Wald tests do."""

    def __post_init__(self):
        self.alpha = check_alpha(self.alpha)

    @property
    def estimates(self) -> np.ndarray:
        return np.array([r.estimate for r in self.rows])

    @property
    def std_errors(self) -> np.ndarray:
        return np.array([r.std_err for r in self.rows])

    @property
    def z(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.estimates / self.std_errors

    @property
    def reference_distribution(self):
        """The distribution of the Wald statistic under the null: the standard
        normal, or Student's t with ``df_resid`` degrees of freedom."""
        if self.df_resid is None:
            return stats.norm
        return stats.t(self.df_resid)

    @property
    def p_values(self) -> np.ndarray:
        return 2.0 * self.reference_distribution.sf(np.abs(self.z))

    @property
    def conf_int(self) -> np.ndarray:
        """Array of shape (n_params, 2): lower and upper Wald limits."""
        quantile = self.reference_distribution.ppf(1.0 - self.alpha / 2.0)
        half = quantile * self.std_errors
        return np.column_stack([self.estimates - half, self.estimates + half])

    def to_dict(self) -> dict[str, object]:
        """The table and statistics as plain Python types (for JSON)."""
        params = [
            {
                "name": row.name,
                "estimate": float(row.estimate),
                "std_err": float(row.std_err),
                "z": float(z),
                "p_value": float(p),
                "ci_lower": float(lo),
                "ci_upper": float(hi),
            }
            for row, z, p, (lo, hi) in zip(
                self.rows, self.z, self.p_values, self.conf_int, strict=True
            )
        ]
        stats_ = {key: _plain_stat(key, value) for key, value in self.stats.items()}
        return {"title": self.title, "params": params, "stats": stats_}

    def __str__(self) -> str:
        level = f"{100 * (1 - self.alpha):g}%"
        name_width = max([len(r.name) for r in self.rows] + [9])
        stat = "z" if self.df_resid is None else "t"
        header = (
            f"{'parameter':<{name_width}} {'estimate':>12} {'std err':>11} "
            f"{stat:>9} {'P>|' + stat + '|':>8}   {level + ' conf. int.':>25}"
        )
        rule = "=" * len(header)
        lines = [self.title, rule, header, "-" * len(header)]
        for row, z, p, (lo, hi) in zip(
            self.rows, self.z, self.p_values, self.conf_int, strict=True
        ):
            lines.append(
                f"{row.name:<{name_width}} {row.estimate:>12.5g} {row.std_err:>11.4g} "
                f"{z:>9.3f} {p:>8.3f}   [{lo:>11.5g}, {hi:>11.5g}]"
            )
        lines.append(rule)
        items = [f"{key}: {_format_stat(value)}" for key, value in self.stats.items()]
        for i in range(0, len(items), 2):
            lines.append(
                "   ".join(f"{item:<38}" for item in items[i : i + 2]).rstrip()
            )
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython
        printer.text(str(self))


COUNT_STATS = frozenset({"n samples", "n parameters", "iterations"})
"""Statistics that are counts: whole numbers become ``int`` in ``to_dict()``."""


def _plain_stat(key: str, value: object) -> object:
    """A statistic as a plain Python value; a whole-number count as an ``int``
    (``n samples`` is the total sample weight, a float, but whole without
    weights)."""
    if isinstance(value, np.generic):
        value = value.item()
    if key in COUNT_STATS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _format_stat(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)
