"""``skmle fit poisson`` and ``skmle fit negbin`` on a CSV of randhie, against
statsmodels' Poisson GLM and NB2 fits of the same columns."""

import json

import numpy as np
import pytest

from skmle.cli import main

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def randhie_csv(tmp_path_factory):
    data = sm.datasets.randhie.load_pandas().data.iloc[:3000]
    path = tmp_path_factory.mktemp("counts") / "randhie.csv"
    data.to_csv(path, index=False)
    return str(path), data


@pytest.mark.parametrize("name", ["poisson", "negbin"])
def test_fit_counts_on_a_csv_equals_statsmodels(capsys, monkeypatch, randhie_csv, name):
    monkeypatch.setenv("SKMLE_TRACEBACK", "1")
    path, data = randhie_csv
    status = main(["fit", name, "--data", path, "--target", "mdvis", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    report = json.loads(out)
    # The summary lists the intercept first.
    X = sm.add_constant(data.drop(columns="mdvis").to_numpy(float), prepend=True)
    y = data["mdvis"].to_numpy(float)
    if name == "poisson":
        reference = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-13)
    else:
        reference = sm.NegativeBinomial(y, X, loglike_method="nb2").fit(
            method="newton", tol=1e-14, maxiter=100, disp=0
        )
    estimates = [p["estimate"] for p in report["params"]]
    errors = [p["std_err"] for p in report["params"]]
    np.testing.assert_allclose(estimates, reference.params, rtol=1e-6)
    np.testing.assert_allclose(errors, reference.bse, rtol=1e-6)
    assert report["stats"]["log-likelihood"] == pytest.approx(reference.llf, rel=1e-9)
