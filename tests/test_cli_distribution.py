"""``skmle fit dist``: the CLI name of DistributionMLE."""

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
    status = main(
        [
            "fit",
            "dist",
            "--data",
            str(path),
            "--param",
            "family=gamma",
            "--plot",
            str(plot),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0 and plot.exists(), err
    shape, _, scale = stats.gamma.fit(x, floc=0)
    for label, value in (("shape[x]", shape), ("scale[x]", scale)):
        line = next(row for row in out.splitlines() if row.startswith(label))
        assert float(line[len(label) :].split()[0]) == pytest.approx(value, rel=1e-4)
