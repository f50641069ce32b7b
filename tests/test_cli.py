"""The ``skmle`` command line: ``skmle fit`` and ``skmle demo``."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.mixture import GaussianMixture

from skmle.cli import available_models, main


@pytest.fixture(autouse=True)
def tracebacks_for_bugs(monkeypatch):
    """An unexpected exception in the CLI propagates in these tests (a bug is never
    hidden behind its one-line report); the tests of that report unset this."""
    monkeypatch.setenv("SKMLE_TRACEBACK", "1")


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def fit_json(capsys, *argv):
    status, out, err = run(capsys, "fit", *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def write_csv(path, text):
    path.write_text(text)
    return str(path)


def mean_rows(report):
    """The rows of a GaussianMLE report for the mean (the covariance entries
    follow them)."""
    return [p for p in report["params"] if p["name"].startswith("mean[")]


# -- skmle fit gaussian ------------------------------------------------------------------
def test_fit_gaussian_on_iris_prints_the_summary_table(capsys):
    status, out, _ = run(capsys, "fit", "gaussian", "--data", "iris")
    assert status == 0
    iris = datasets.load_iris()
    assert "GaussianMLE maximum likelihood estimates" in out
    for name, mean in zip(iris.feature_names, iris.data.mean(axis=0), strict=True):
        label = f"mean[{name}]"
        line = next(row for row in out.splitlines() if row.startswith(label))
        assert float(line[len(label) :].split()[0]) == pytest.approx(mean, rel=1e-4)


def test_fit_json_has_estimates_and_standard_errors_of_the_data(capsys):
    report = fit_json(capsys, "gaussian", "--data", "wine")
    wine = datasets.load_wine()
    n = wine.data.shape[0]
    estimates = [p["estimate"] for p in mean_rows(report)]
    errors = [p["std_err"] for p in mean_rows(report)]
    assert np.allclose(estimates, wine.data.mean(axis=0))
    # the default fit is the exact MLE: nothing is added to the variances
    np.testing.assert_allclose(errors, np.sqrt(wine.data.var(axis=0) / n), rtol=1e-12)
    assert report["model"] == "gaussian" and report["data"] == "wine"
    assert report["stats"]["n samples"] == n


def test_fit_csv_leaves_the_target_column_out_of_an_unsupervised_model(
    capsys, tmp_path
):
    rows = np.random.default_rng(0).normal(size=(30, 3))
    text = "a,b,label\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows)
    path = write_csv(tmp_path / "data.csv", text)
    report = fit_json(capsys, "gaussian", "--data", path, "--target", "label")
    values = np.loadtxt(path, delimiter=",", skiprows=1)
    assert [p["name"] for p in report["params"]] == [
        "mean[a]",
        "mean[b]",
        "covariance[a,a]",
        "covariance[b,a]",
        "covariance[b,b]",
    ]
    assert np.allclose(
        [p["estimate"] for p in mean_rows(report)], values[:, :2].mean(0)
    )
    covariance = np.cov(values[:, :2], rowvar=False, bias=True)
    assert np.allclose(
        [p["estimate"] for p in report["params"][2:]], covariance[np.tril_indices(2)]
    )


def test_solver_and_param_options_reach_the_estimator(capsys):
    report = fit_json(
        capsys,
        "gaussian",
        "--data",
        "wine",
        "--solver",
        "newton",
        "--param",
        "covariance_type='diag'",
    )
    assert report["stats"]["solver"] == "newton"
    # the gradient solvers start at the diagonal MLE: converged at once
    assert report["stats"]["converged"] is True
    assert report["stats"]["n parameters"] == 2 * 13  # means and variances
    wine = datasets.load_wine().data
    assert np.allclose([p["estimate"] for p in mean_rows(report)], wine.mean(axis=0))
    variances = [p["estimate"] for p in report["params"][13:]]
    assert np.allclose(variances, wine.var(axis=0))


def test_scale_standardises_the_features(capsys):
    report = fit_json(capsys, "gaussian", "--data", "wine", "--scale")
    n = datasets.load_wine().data.shape[0]
    assert np.allclose([p["estimate"] for p in mean_rows(report)], 0.0, atol=1e-9)
    assert np.allclose([p["std_err"] for p in mean_rows(report)], np.sqrt(1 / n))


def test_fit_plot_writes_a_png(capsys, tmp_path):
    out = tmp_path / "fit.png"
    status, _, err = run(
        capsys, "fit", "gaussian", "--data", "iris", "--plot", str(out)
    )
    assert status == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(out) in err


# -- the other models ------------------------------------------------------------------------
def test_fit_linear_on_diabetes_matches_least_squares(capsys):
    report = fit_json(capsys, "linear", "--data", "diabetes")
    diabetes = datasets.load_diabetes()
    design = np.column_stack([np.ones(len(diabetes.target)), diabetes.data])
    theta, rss, *_ = np.linalg.lstsq(design, diabetes.target, rcond=None)
    n = len(diabetes.target)
    names = [p["name"] for p in report["params"]]
    assert names == ["intercept", *diabetes.feature_names]  # intercept first
    assert np.allclose([p["estimate"] for p in report["params"]], theta)
    # Wald standard errors with the MLE variance RSS / n
    errors = np.sqrt(rss[0] / n * np.diag(np.linalg.inv(design.T @ design)))
    assert np.allclose([p["std_err"] for p in report["params"]], errors)
    loglik = -n / 2 * (np.log(2 * np.pi * rss[0] / n) + 1)
    assert report["stats"]["log-likelihood"] == pytest.approx(loglik)


def test_fit_laplace_on_a_csv_target_is_least_absolute_deviations(capsys, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 2))
    y = x @ [2.0, -1.0] + rng.laplace(size=60)
    rows = "\n".join(f"{a:.6f},{b:.6f},{c:.6f}" for (a, b), c in zip(x, y, strict=True))
    path = write_csv(tmp_path / "lad.csv", "u,v,response\n" + rows)
    report = fit_json(capsys, "laplace", "--data", path, "--target", "response")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    design = np.column_stack([data[:, :2], np.ones(60)])
    dual = optimize.linprog(
        -data[:, 2], A_eq=design.T, b_eq=np.zeros(3), bounds=(-1, 1), method="highs"
    )
    scale = -dual.fun / 60
    assert report["stats"]["log-likelihood"] == pytest.approx(
        -60 * np.log(2 * scale) - 60, rel=1e-9
    )
    assert [p["name"] for p in report["params"]] == ["intercept", "u", "v"]


def test_fit_mixture_on_iris_matches_scikit_learn(capsys):
    report = fit_json(
        capsys,
        "mixture",
        "--data",
        "iris",
        "--param",
        "n_components=2",
        "--param",
        "random_state=0",
    )
    X = datasets.load_iris().data
    reference = GaussianMixture(2, random_state=0).fit(X)
    assert report["stats"]["log-likelihood"] == pytest.approx(
        reference.score(X) * len(X), rel=1e-8
    )


def test_fit_logistic_on_a_csv_with_label_target_matches_statsmodels(capsys, tmp_path):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(200, 2))
    positive = rng.random(200) < 1 / (1 + np.exp(-(0.5 + x @ [1.5, -1.0])))
    labels = np.where(positive, "yes", "no")
    rows = "\n".join(
        f"{a:.6f},{b:.6f},{c}" for (a, b), c in zip(x, labels, strict=True)
    )
    path = write_csv(tmp_path / "labels.csv", "u,v,answer\n" + rows)
    report = fit_json(
        capsys, "logistic", "--data", path, "--target", "answer", "--param", "tol=1e-10"
    )
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1))
    logit = sm.Logit(positive.astype(float), sm.add_constant(data))
    logit = logit.fit(disp=0, method="newton", tol=1e-12)
    # the constant first, as statsmodels; "yes" sorts after "no", so it is class 1
    expected, errors = logit.params, logit.bse
    assert np.allclose([p["estimate"] for p in report["params"]], expected, rtol=1e-6)
    assert np.allclose([p["std_err"] for p in report["params"]], errors, rtol=1e-5)
    assert report["stats"]["log-likelihood"] == pytest.approx(logit.llf, rel=1e-9)


def test_fit_logistic_with_alpha_on_iris_matches_scikit_learn(capsys):
    report = fit_json(capsys, "logistic", "--data", "iris", "--param", "alpha=2.0")
    X, y = datasets.load_iris(return_X_y=True)
    # scikit-learn's C penalises (1 / 2C) ||W||^2 against the total log-loss
    reference = LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(X, y)
    loglik = -log_loss(y, reference.predict_proba(X), normalize=False)
    assert report["stats"]["log-likelihood"] == pytest.approx(loglik, rel=1e-6)


def test_separable_classes_warn_in_one_line_and_json_has_null_errors(capsys):
    argv = ["fit", "logistic", "--data", "breast_cancer", "--scale", "--json"]
    status, out, err = run(capsys, *argv)
    assert status == 0
    report = json.loads(out, parse_constant=lambda name: pytest.fail(name))
    assert all(p["std_err"] is None for p in report["params"])
    warning_lines = [line for line in err.splitlines() if "warning" in line]
    assert any("separable" in line and "alpha > 0" in line for line in warning_lines)
    assert "Traceback" not in err


def test_supervised_model_on_a_csv_needs_a_target(capsys, tmp_path):
    path = write_csv(tmp_path / "xy.csv", "a,b\n1,2\n2,3\n3,5\n")
    status, out, err = run(capsys, "fit", "linear", "--data", path)
    assert (status, out) == (2, "")
    assert (
        err
        == "skmle: error: this model needs a target: add --target COLUMN (one of a, b)\n"
    )


def test_regression_target_must_be_numeric(capsys, tmp_path):
    path = write_csv(tmp_path / "xy.csv", "a,label\n1,x\n2,y\n3,z\n")
    status, _, err = run(capsys, "fit", "linear", "--data", path, "--target", "label")
    assert status == 2
    assert "column 'label'" in err and "not numeric" in err


def test_fit_linear_plot_writes_a_png(capsys, tmp_path):
    out = tmp_path / "band.png"
    status, _, _ = run(
        capsys, "fit", "linear", "--data", "diabetes", "--plot", str(out)
    )
    assert status == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- errors: one line, exit status 2 -------------------------------------------------------
BAD_CSVS = {
    "non_numeric.csv": ("a,b\n1,2\n3,abc\n", "column 'b' of .* is not numeric"),
    "ragged.csv": ("a,b\n1,2\n3\n", "data row 2 of .* has 1 fields"),
    "empty.csv": ("", "needs a header line"),
    "header_only.csv": ("a,b\n", "needs a header line"),
    "missing.csv": ("a,b\n1,2\n3,\n", "column 'b' .* not numeric"),
    "nan.csv": ("a,b\n1,2\n3,nan\n", "missing or infinite"),
    "repeated.csv": ("a,a\n1,2\n", "repeated column names"),
}


@pytest.mark.parametrize("name", sorted(BAD_CSVS))
def test_bad_csv_is_one_line_on_stderr_and_status_2(capsys, tmp_path, name):
    text, message = BAD_CSVS[name]
    path = write_csv(tmp_path / name, text)
    status, out, err = run(capsys, "fit", "gaussian", "--data", path)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("skmle: error: ")
    assert re.search(message, err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "nowhere.csv"], "cannot read nowhere.csv"),
        (["--data", "penguins"], "unknown dataset 'penguins'"),
        (["--data", "iris", "--target", "colour"], "column 'colour' is not in"),
        (["--data", "iris", "--solver", "simplex"], "'solver' parameter"),
        (["--data", "iris", "--param", "reg_covar"], "NAME=VALUE"),
        (["--data", "iris", "--param", "reg_covar=-1"], "'reg_covar' parameter"),
    ],
)
def test_bad_options_are_one_line_on_stderr_and_status_2(capsys, argv, message):
    status, out, err = run(capsys, "fit", "gaussian", *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and message in err


def test_plot_to_an_unwritable_place_is_reported(capsys, tmp_path):
    out = tmp_path / "missing_dir" / "fit.png"
    status, _, err = run(
        capsys, "fit", "gaussian", "--data", "iris", "--plot", str(out)
    )
    assert status == 2
    assert err.startswith("skmle: error: cannot write")


# -- help, demo and the installed console script ----------------------------------------
def test_fit_help_lists_the_available_models(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name, cls in available_models().items():
        assert f"  {name:<10} {cls.__name__}\n" in out
    assert "--target COLUMN" in out and "--json" in out


def test_unknown_model_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "tree", "--data", "iris"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'tree'" in capsys.readouterr().err


def test_demo_prints_every_demo(capsys):
    from skmle.demo import DEMOS

    status, out, _ = run(capsys, "demo")
    assert status == 0
    assert out.count("## ") == len(DEMOS)
    assert "GaussianMLE maximum likelihood estimates" in out


def console_script():
    script = Path(sys.executable).parent / "skmle"
    assert script.exists(), "install skmle first: pip install -e ."
    return str(script)


def test_installed_console_script(tmp_path):
    done = subprocess.run(
        [console_script(), "fit", "gaussian", "--data", "iris", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert np.allclose(
        [p["estimate"] for p in mean_rows(report)],
        datasets.load_iris().data.mean(axis=0),
    )
    bad = write_csv(tmp_path / "bad.csv", "a,b\n1,x\n")
    failed = subprocess.run(
        [console_script(), "fit", "gaussian", "--data", bad],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines() == [
        f"skmle: error: column 'b' of {bad} is not numeric (data row 1 has 'x'); "
        "remove or encode it"
    ]


# -- hardening (issue 13, items 3 and 6) -------------------------------------------------
def assert_one_line_error(status, out, err):
    assert (status, out) == (2, "")
    assert err.startswith("skmle: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def huge_csv(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2)) * 1e200
    rows = "\n".join(f"{a:.6e},{b:.6e},{a - b:.6e}" for a, b in x)
    return write_csv(tmp_path / "huge.csv", "a,b,y\n" + rows + "\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["mixture", "--data", "iris", "--param", "weights_init={}"],
        ["linear", "--target", "y"],
        ["laplace", "--target", "y"],
        ["gaussian", "--param", "covariance_type=[1]"],
    ],
    ids=["weights_init_dict", "linear_1e200", "laplace_1e200", "list_param"],
)
def test_any_error_in_a_fit_is_one_line_with_status_2(
    capsys, tmp_path, monkeypatch, argv
):
    monkeypatch.delenv("SKMLE_TRACEBACK")
    if "--data" not in argv:
        argv = [*argv, "--data", huge_csv(tmp_path)]
    assert_one_line_error(*run(capsys, "fit", *argv))


def test_an_unexpected_exception_is_named_with_a_request_to_report_it(
    capsys, monkeypatch
):
    import skmle

    def broken_fit(self, X, y=None, sample_weight=None):
        raise ZeroDivisionError("a bug\nsecond line")

    monkeypatch.setattr(skmle.LinearGaussianRegressor, "fit", broken_fit)
    with pytest.raises(ZeroDivisionError):  # SKMLE_TRACEBACK=1: the bug propagates
        run(capsys, "fit", "linear", "--data", "diabetes")
    capsys.readouterr()
    monkeypatch.delenv("SKMLE_TRACEBACK")
    status, out, err = run(capsys, "fit", "linear", "--data", "diabetes")
    assert_one_line_error(status, out, err)
    assert "unexpected ZeroDivisionError: a bug;" in err
    assert "second line" not in err and "please report it" in err


def test_running_out_of_memory_is_one_line(capsys, monkeypatch):
    import skmle

    def greedy_fit(self, X, y=None, sample_weight=None):
        raise MemoryError("Unable to allocate 48.4 GiB for an array")

    monkeypatch.setattr(skmle.GaussianMLE, "fit", greedy_fit)
    status, out, err = run(capsys, "fit", "gaussian", "--data", "iris")
    assert_one_line_error(status, out, err)
    assert "not enough memory to fit gaussian" in err and "48.4 GiB" in err


def test_a_400_column_csv_fits_and_its_errors_list_few_columns(capsys, tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(600, 400))
    y = X @ rng.normal(size=400) + rng.normal(size=600)
    header = ",".join([f"feature_{j}" for j in range(400)] + ["y"])
    body = "\n".join(",".join(f"{v:.8f}" for v in row) for row in np.c_[X, y])
    path = write_csv(tmp_path / "wide.csv", header + "\n" + body + "\n")
    report = fit_json(capsys, "linear", "--data", path, "--target", "y")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    design = np.column_stack([np.ones(600), data[:, :400]])
    theta = np.linalg.lstsq(design, data[:, 400], rcond=None)[0]
    np.testing.assert_allclose([p["estimate"] for p in report["params"]], theta)
    status, out, err = run(capsys, "fit", "linear", "--data", path, "--target", "z")
    assert_one_line_error(status, out, err)
    assert "feature_11, ... (401 columns)" in err and "feature_12" not in err


def test_plot_into_a_directory_or_without_extension_reports_the_real_path(
    capsys, tmp_path
):
    folder = tmp_path / "figures"
    folder.mkdir()
    status, _, err = run(
        capsys, "fit", "gaussian", "--data", "iris", "--plot", str(folder)
    )
    assert status == 0
    written = folder / "gaussian.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert err.strip().endswith(f"plot written to {written}")
    status, _, err = run(
        capsys, "fit", "gaussian", "--data", "iris", "--plot", str(tmp_path / "fit")
    )
    assert status == 0
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert err.strip().endswith(f"plot written to {tmp_path / 'fit.png'}")
    assert not (tmp_path / "fit").exists()
    status, _, err = run(
        capsys, "fit", "gaussian", "--data", "iris", "--plot", str(tmp_path / "f.xyz")
    )
    assert status == 2 and "does not write .xyz files" in err and ".png" in err


def test_json_with_verbose_progress_keeps_stdout_one_json_document(capsys):
    status, out, err = run(
        capsys, "fit", "logistic", "--data", "iris", "--param", "verbose=2", "--json"
    )
    assert status == 0
    report = json.loads(out)
    assert report["model"] == "logistic"
    progress = [line for line in err.splitlines() if "iter" in line]
    assert len(progress) >= report["stats"]["iterations"] >= 1


def test_json_counts_are_integers(capsys):
    report = fit_json(capsys, "linear", "--data", "diabetes")
    stats = report["stats"]
    assert type(stats["n samples"]) is int and stats["n samples"] == 442
    assert type(stats["n parameters"]) is int and stats["n parameters"] == 12
    assert type(stats["iterations"]) is int


SECRET = "password=hunter2 and a long line of private text"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"value\n{SECRET}\n".encode(), "is not numeric (data row 1 has 'password"),
        (
            f"{SECRET}\nx\n".encode(),
            "column 'password=hunter2 and '... (48 characters) of",
        ),
        (b"a,b\n1,\xff" + SECRET.encode() + b"\n", "byte 7 is not UTF-8 text"),
        (b"a,b\n1,2\x00" + SECRET.encode() + b"\n", "a binary file"),
    ],
    ids=["long_cell", "long_header", "not_utf8", "binary"],
)
def test_errors_about_a_file_do_not_echo_its_content(
    capsys, tmp_path, content, message
):
    path = tmp_path / "private.csv"
    path.write_bytes(content)
    status, out, err = run(capsys, "fit", "gaussian", "--data", str(path))
    assert_one_line_error(status, out, err)
    assert message in err
    assert "private text" not in err and "hunter2 and a long" not in err


def test_a_semicolon_csv_is_read_and_a_wrong_delimiter_gets_a_hint(capsys, tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 2))
    y = x @ [1.0, 2.0] + rng.normal(size=30)
    rows = "\n".join(f"{a:.6f};{b:.6f};{c:.6f}" for (a, b), c in zip(x, y, strict=True))
    path = write_csv(tmp_path / "semicolon.csv", "u;v;y\n" + rows + "\n")
    report = fit_json(capsys, "linear", "--data", path, "--target", "y")
    data = np.loadtxt(path, delimiter=";", skiprows=1)
    design = np.column_stack([np.ones(30), data[:, :2]])
    theta = np.linalg.lstsq(design, data[:, 2], rcond=None)[0]
    np.testing.assert_allclose([p["estimate"] for p in report["params"]], theta)
    status, out, err = run(
        capsys, "fit", "linear", "--data", path, "--target", "y", "--delimiter", ","
    )
    assert_one_line_error(status, out, err)
    assert "is it delimited by semicolons? Try --delimiter ';'" in err


def test_delimiter_option_reads_a_tab_separated_file(capsys, tmp_path):
    values = np.random.default_rng(4).normal(size=(20, 2))
    rows = "\n".join(f"{a:.6f}\t{b:.6f}" for a, b in values)
    path = write_csv(tmp_path / "data.tsv", "a\tb\n" + rows + "\n")
    report = fit_json(capsys, "gaussian", "--data", path, "--delimiter", "tab")
    data = np.loadtxt(path, skiprows=1)
    np.testing.assert_allclose(
        [p["estimate"] for p in mean_rows(report)], data.mean(axis=0)
    )
    status, out, err = run(
        capsys, "fit", "gaussian", "--data", path, "--delimiter", "::"
    )
    assert_one_line_error(status, out, err)
    assert "--delimiter must be one character" in err


def test_a_decimal_comma_gets_a_hint(capsys, tmp_path):
    path = write_csv(tmp_path / "eu.csv", "a;b\n1,5;2,25\n3,0;4,5\n")
    status, out, err = run(capsys, "fit", "gaussian", "--data", path)
    assert_one_line_error(status, out, err)
    assert "not numeric" in err and "decimal comma" in err


def test_an_interrupted_fit_ends_in_one_line_with_status_130(capsys, monkeypatch):
    import skmle

    def interrupted_fit(self, X, y=None, sample_weight=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(skmle.GaussianMLE, "fit", interrupted_fit)
    status, out, err = run(capsys, "fit", "gaussian", "--data", "iris")
    assert (status, out, err) == (130, "", "skmle: interrupted\n")


def test_a_classifier_on_a_regression_dataset_is_refused_at_once(capsys):
    # diabetes' target is whole numbers: taken as labels it was a 214-class fit
    # that ran for minutes.
    started = time.perf_counter()
    status, out, err = run(capsys, "fit", "logistic", "--data", "diabetes")
    assert time.perf_counter() - started < 5.0
    assert status == 2 and out == ""
    assert "continuous target" in err and "linear" in err
