"""``skmle fit dist``: the CLI name of DistributionMLE."""

import json

import numpy as np
import pytest
from scipy import stats

from skmle.cli import main


def test_fit_distribution_gamma_on_a_csv(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SKMLE_TRACEBACK", "1")
    x = np.random.default_rng(0).gamma(2.0, 1.5, 200)
    path = tmp_path / "x.csv"
    path.write_text("x\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    plot = tmp_path / "fit.png"
    argv = ["fit", "dist", "--data", str(path), "--param", "family=gamma"]
    status = main([*argv, "--plot", str(plot)])
    out, err = capsys.readouterr()
    assert status == 0 and plot.exists(), err
    assert "shape[x]" in out and "DistributionMLE" in out
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    estimates = {p["name"]: p["estimate"] for p in report["params"]}
    shape, _, scale = stats.gamma.fit(x, floc=0)
    assert estimates["shape[x]"] == pytest.approx(shape, rel=1e-7)
    assert estimates["scale[x]"] == pytest.approx(scale, rel=1e-7)
