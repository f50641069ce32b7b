"""The summary as a table: its DataFrame and HTML forms against statsmodels'
summary, its column precision, and the statisticians' row order."""

import re
import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from skmle import LinearGaussianRegressor, LogisticGD
from skmle.inference import Summary, SummaryRow
from skmle.inference.summary import column_format


def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog[["GPA", "TUCE", "PSI"]], data.endog.to_numpy(float)


def longley():
    data = sm.datasets.longley.load_pandas()
    return data.exog, data.endog.to_numpy(float)


def statsmodels_header(result) -> list[str]:
    """The column names of statsmodels' coefficient table."""
    return [str(cell).strip() for cell in result.summary().tables[1].data[0][1:]]


def test_logistic_frame_is_statsmodels_logit_with_the_intercept_first():
    X, y = spector()
    model = LogisticGD(tol=1e-12).fit(X, y)
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    frame = model.summary().to_frame()
    assert list(frame.columns) == statsmodels_header(reference)
    assert list(frame.index) == ["intercept", "GPA", "TUCE", "PSI"]
    np.testing.assert_allclose(frame["coef"], reference.params, rtol=1e-7)
    np.testing.assert_allclose(frame["std err"], reference.bse, rtol=1e-6)
    np.testing.assert_allclose(frame["z"], reference.tvalues, rtol=1e-6)
    np.testing.assert_allclose(frame["P>|z|"], reference.pvalues, rtol=1e-5)
    interval = np.asarray(reference.conf_int())
    np.testing.assert_allclose(frame[["[0.025", "0.975]"]], interval, rtol=1e-6)
    np.testing.assert_allclose(model.params_cov_, reference.cov_params(), rtol=1e-6)
    assert frame.attrs["df_resid"] is None
    assert frame.attrs["stats"]["covariance"] == "nonrobust"


def test_a_t_table_is_statsmodels_ols_given_its_estimates_and_errors():
    """The t machinery (df_resid) on statsmodels' own OLS estimates and bse."""
    X, y = longley()
    reference = sm.OLS(y, sm.add_constant(X)).fit()
    rows = [
        SummaryRow(name, value, se)
        for name, value, se in zip(
            reference.params.index, reference.params, reference.bse, strict=True
        )
    ]
    table = Summary("OLS", rows, alpha=0.1, df_resid=reference.df_resid)
    frame = table.to_frame()
    assert list(frame.columns) == [*statsmodels_header(reference)[:4], "[0.05", "0.95]"]
    np.testing.assert_allclose(frame["t"], reference.tvalues, rtol=1e-12)
    np.testing.assert_allclose(frame["P>|t|"], reference.pvalues, rtol=1e-9)
    interval = np.asarray(reference.conf_int(alpha=0.1))
    np.testing.assert_allclose(frame[["[0.05", "0.95]"]], interval, rtol=1e-12)
    html = table._repr_html_()
    assert "<th>t</th>" in html and "<th>P&gt;|t|</th>" in html
    assert f"t, df = {reference.df_resid:g}" in html
    text = str(table)
    assert " t " in text.splitlines()[2] and f"df = {reference.df_resid:g}" in text


def test_html_shows_the_names_the_covariance_type_and_z():
    X, y = longley()
    model = LinearGaussianRegressor(cov_type="HC1").fit(X, y)
    html = model.summary()._repr_html_()
    for name in ["intercept", *X.columns]:
        assert f"<th>{name}</th>" in html
    assert "<th>covariance</th><td>HC1</td>" in html
    assert "<th>z</th>" in html and "normal (z)" in html
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert len(cells) >= 6 * (X.shape[1] + 1)
    assert html.index("<th>intercept</th>") < html.index(f"<th>{X.columns[0]}</th>")


def decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text and "e" not in text else -1


def test_each_column_has_one_precision_rule():
    X, y = longley()  # estimates from 0.03 to 3.5e6 in one column
    table = LinearGaussianRegressor().fit(X, y).summary()
    columns = table.formatted_columns()
    for column in columns:
        assert len({decimals(cell) for cell in column}) == 1, column
        assert all(("e" in cell) == ("e" in column[0]) for cell in column), (
            "one notation per column"
        )
    # enough digits: each printed value has at least 4 significant digits
    for column, values in zip(
        [columns[0], columns[1]], [table.estimates, table.std_errors], strict=True
    ):
        for cell, value in zip(column, values, strict=True):
            assert float(cell) == pytest.approx(value, rel=5e-4)
    lower, upper = columns[4], columns[5]
    assert decimals(lower[0]) == decimals(upper[0])


def test_the_precision_rule_on_the_issue_example():
    rule = column_format(np.array([59.0, 0.0123]))
    assert [rule(v) for v in (59.0, 0.0123)] == ["59.00000", "0.01230"]
    wide = column_format(np.array([1e9, 1e-3]))
    assert wide(1e9) == "1.000e+09" and wide(1e-3) == "1.000e-03"
    assert column_format(np.array([np.nan, 0.0]))(np.nan) == "nan"


def test_to_frame_without_pandas_names_the_optional_dependency(monkeypatch):
    table = Summary("t", [SummaryRow("a", 1.0, 0.5)])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas, an optional dependency"):
        table.to_frame()
    assert "<table" in table._repr_html_()  # no pandas needed


def test_frame_uses_dataframe_feature_names():
    X, y = longley()
    frame = LinearGaussianRegressor().fit(X, y).summary().to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["intercept", *X.columns]
    assert frame.index.name == "parameter"
