"""The ``summary()`` table: estimates, standard errors, Wald tests and intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from html import escape
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

    For each parameter: its estimate, standard error, Wald statistic
    :math:`z = \\hat\\theta / \\mathrm{se}`, two-sided p-value :math:`2\\,\\Phi(-|z|)`
    and the ``1 - alpha`` confidence interval
    :math:`\\hat\\theta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`; with ``df_resid``,
    Student's t with ``df_resid`` degrees of freedom in place of the normal
    (the statistic is then headed ``t``). The fit statistics follow, the
    covariance type (``stats["covariance"]``) among them.

    Four forms: ``str(summary)``, a fixed-width table; :meth:`to_frame`, a
    pandas DataFrame (pandas is optional); ``_repr_html_``, the table a
    notebook shows; :meth:`to_dict`, plain types for JSON. The columns are named
    as statsmodels names them (``coef``, ``std err``, ``z`` or ``t``,
    ``P>|z|`` or ``P>|t|``, ``[0.025``, ``0.975]``), and each printed column
    follows one precision rule (:meth:`formatted_columns`).

    Examples
    --------
    >>> from skmle.inference import Summary, SummaryRow
    >>> table = Summary("demo", [SummaryRow("intercept", 59.0, 12.5),
    ...                          SummaryRow("x", 0.0123, 0.004)])
    >>> table.column_names
    ['coef', 'std err', 'z', 'P>|z|', '[0.025', '0.975]']
    >>> table.formatted_columns()[1]
    ['12.500000', '0.004000']
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
    def names(self) -> list[str]:
        """The parameters' labels, the rows of the table."""
        return [r.name for r in self.rows]

    @property
    def z(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.estimates / self.std_errors

    @property
    def statistic_name(self) -> str:
        """``"z"`` for the normal reference, ``"t"`` for Student's t."""
        return "z" if self.df_resid is None else "t"

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

    @property
    def column_names(self) -> list[str]:
        """The columns of :meth:`to_frame` and the HTML table, named as in
        statsmodels' ``summary()``: ``coef``, ``std err``, ``z`` (or ``t``),
        ``P>|z|`` (or ``P>|t|``), ``[0.025`` and ``0.975]`` (for ``alpha=0.05``)."""
        stat = self.statistic_name
        lower, upper = _bounds_labels(self.alpha)
        return ["coef", "std err", stat, f"P>|{stat}|", lower, upper]

    def _columns(self) -> list[np.ndarray]:
        interval = self.conf_int
        return [
            self.estimates,
            self.std_errors,
            self.z,
            self.p_values,
            interval[:, 0],
            interval[:, 1],
        ]

    def formatted_columns(self) -> list[list[str]]:
        """Each column of the table as strings, one rule per column.

        The estimates, the standard errors and the two interval bounds (one
        rule for both) each get a common number of decimals, enough for 4
        significant digits of the column's smallest non-zero magnitude (fixed
        notation, decimal points aligned, as statsmodels' ``float_format``), or
        scientific notation with 4 significant digits when that would need more
        than 8 decimals or the column spans more than 7 orders of magnitude; the
        statistic and the p-value have 3 decimals, as in statsmodels.
        """
        coef, se, stat, p, lower, upper = self._columns()
        bounds = column_format(np.concatenate([lower, upper]))
        return [
            [column_format(coef)(v) for v in coef],
            [column_format(se)(v) for v in se],
            [_fixed(v, 3) for v in stat],
            [_fixed(v, 3) for v in p],
            [bounds(v) for v in lower],
            [bounds(v) for v in upper],
        ]

    def to_dict(self) -> dict[str, object]:
        """The table and statistics as plain Python types (for JSON); the counts
        among the statistics (:data:`COUNT_STATS`) as integers."""
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
        result = {"title": self.title, "params": params, "stats": stats_}
        result["df_resid"] = None if self.df_resid is None else float(self.df_resid)
        return result

    def to_frame(self):
        """The coefficient table as a :class:`pandas.DataFrame`.

        One row per parameter (the index holds the names) and the columns of
        :attr:`column_names`, as statsmodels' ``summary().tables[1]``, with the
        numbers unrounded. ``frame.attrs`` holds the title, ``alpha``,
        ``df_resid`` (None for z tests) and the fit statistics (covariance type
        included).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ImportError
            When pandas is not installed (it is an optional dependency).
        """
        try:
            import pandas as pd
        except ImportError as error:  # pragma: no cover - pandas is in the test extra
            raise ImportError(
                "Summary.to_frame() needs pandas, an optional dependency of skmle: "
                "pip install pandas (str(summary), summary.to_dict() and the "
                "notebook's HTML table work without it)."
            ) from error
        data = dict(zip(self.column_names, self._columns(), strict=True))
        frame = pd.DataFrame(data, index=pd.Index(self.names, name="parameter"))
        frame.attrs.update(
            title=self.title,
            alpha=self.alpha,
            df_resid=self.df_resid,
            stats=dict(self.stats),
        )
        return frame

    def _repr_html_(self) -> str:
        """The table for Jupyter: the coefficients, then the statistics, the
        covariance type and the reference distribution (normal, or t with its
        degrees of freedom); no pandas needed."""
        cells = self.formatted_columns()
        head = "".join(f"<th>{escape(c)}</th>" for c in self.column_names)
        body = []
        for i, name in enumerate(self.names):
            values = "".join(f"<td>{escape(column[i])}</td>" for column in cells)
            body.append(f"<tr><th>{escape(name)}</th>{values}</tr>")
        stats_rows = "".join(
            f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>"
            for key, value in self._stat_items()
        )
        return (
            '<div class="skmle-summary">'
            '<table class="skmle-summary-coef" style="text-align:right">'
            f"<caption>{escape(self.title)}</caption>"
            f"<thead><tr><th></th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
            f'<table class="skmle-summary-stats">{stats_rows}</table></div>'
        )

    def _stat_items(self) -> list[tuple[str, str]]:
        """The fit statistics as text, then the reference distribution."""
        items = [(key, _format_stat(value)) for key, value in self.stats.items()]
        if self.df_resid is None:
            items.append(("tests and intervals", "normal (z)"))
        else:
            items.append(("tests and intervals", f"t, df = {self.df_resid:g}"))
        return items

    def __str__(self) -> str:
        level = f"{100 * (1 - self.alpha):g}%"
        cells = self.formatted_columns()
        name_width = max([len(r.name) for r in self.rows] + [9])
        widths = [max([len(v) for v in column] + [8]) for column in cells]
        stat = self.statistic_name
        interval_width = widths[4] + widths[5] + 4
        header = (
            f"{'parameter':<{name_width}} {'estimate':>{widths[0]}} "
            f"{'std err':>{widths[1]}} {stat:>{widths[2]}} "
            f"{'P>|' + stat + '|':>{widths[3]}}   "
            f"{level + ' conf. int.':>{interval_width}}"
        )
        rule = "=" * len(header)
        lines = [self.title, rule, header, "-" * len(header)]
        for i, row in enumerate(self.rows):
            values = [column[i] for column in cells]
            lines.append(
                f"{row.name:<{name_width}} {values[0]:>{widths[0]}} "
                f"{values[1]:>{widths[1]}} {values[2]:>{widths[2]}} "
                f"{values[3]:>{widths[3]}}   "
                f"[{values[4]:>{widths[4]}}, {values[5]:>{widths[5]}}]"
            )
        lines.append(rule)
        items = [f"{key}: {value}" for key, value in self._stat_items()]
        for i in range(0, len(items), 2):
            lines.append(
                "   ".join(f"{item:<38}" for item in items[i : i + 2]).rstrip()
            )
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython
        printer.text(str(self))


COUNT_STATS = frozenset({"n samples", "n parameters", "iterations"})
"""Statistics that are counts: whole numbers become ``int`` in ``to_dict()``."""

SIGNIFICANT = 4
"""Significant digits of the smallest magnitude of a column (see
:meth:`Summary.formatted_columns`)."""
MAX_DECIMALS = 8
MAX_SPAN = 1e7


def column_format(values: np.ndarray) -> Callable[[float], str]:
    """One formatting rule for a column of numbers (see
    :meth:`Summary.formatted_columns`).

    Parameters
    ----------
    values : ndarray
        The column; NaN and infinite entries are printed as ``nan``/``inf``
        and do not enter the rule.

    Returns
    -------
    callable
        ``format(value) -> str``.

    Examples
    --------
    >>> from skmle.inference.summary import column_format
    >>> rule = column_format(np.array([59.0, 0.0123]))
    >>> [rule(v) for v in (59.0, 0.0123)]
    ['59.00000', '0.01230']
    """
    magnitudes = np.abs(np.asarray(values, dtype=float))
    magnitudes = magnitudes[np.isfinite(magnitudes) & (magnitudes > 0)]
    if magnitudes.size == 0:
        return partial(_fixed, decimals=SIGNIFICANT)
    smallest, largest = magnitudes.min(), magnitudes.max()
    decimals = max(0, SIGNIFICANT - 1 - int(np.floor(np.log10(smallest))))
    if decimals > MAX_DECIMALS or largest > MAX_SPAN * smallest:
        return _scientific
    return partial(_fixed, decimals=decimals)


def _fixed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if np.isfinite(value) else str(float(value))


def _scientific(value: float) -> str:
    return f"{value:.{SIGNIFICANT - 1}e}" if np.isfinite(value) else str(float(value))


def _bounds_labels(alpha: float) -> tuple[str, str]:
    """statsmodels' interval headers, ``[0.025`` and ``0.975]`` for 5%."""
    return f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"


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
