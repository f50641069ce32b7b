"""The argument parser of the ``skmle`` command and the models it names."""

from __future__ import annotations

import argparse

from skmle.cli.data import DATASETS

MODELS = {
    "gaussian": "GaussianMLE",
    "dist": "DistributionMLE",
    "linear": "LinearGaussianRegressor",
    "laplace": "LaplaceRegressor",
    "student_t": "StudentTRegressor",
    "t": "StudentTRegressor",
    "logistic": "LogisticGD",
    "mixture": "EMGaussianMixture",
    "poisson": "PoissonMLERegressor",
    "negbin": "NegativeBinomialRegressor",
    "network": "MLPClassifierMLE",
}
"""Command-line model names and the skmle classes they stand for."""


def available_models() -> dict[str, type]:
    """The command-line names of the estimators this version of skmle has."""
    import skmle

    return {
        name: getattr(skmle, cls) for name, cls in MODELS.items() if hasattr(skmle, cls)
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skmle",
        description="Maximum likelihood estimation, the scikit-learn way.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo", help="fit every estimator on bundled datasets and print summaries"
    )
    models = available_models()
    model_lines = "\n".join(
        f"  {name:<10} {cls.__name__}" for name, cls in models.items()
    )
    fit = commands.add_parser(
        "fit",
        help="fit one model to a bundled dataset or a CSV file and print its summary",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fit one model by maximum likelihood and print its summary table\n"
            "(estimates, standard errors, z, p-values, intervals, log-likelihood,\n"
            f"AIC, BIC).\n\nmodels:\n{model_lines}"
        ),
        epilog=(
            "examples:\n"
            "  skmle fit gaussian --data iris\n"
            "  skmle fit linear --data diabetes --json\n"
            "  skmle fit linear --data prices.csv --target price --plot fit.png"
        ),
    )
    fit.add_argument(
        "model",
        choices=list(models),
        metavar="MODEL",
        help="one of " + ", ".join(models),
    )
    fit.add_argument(
        "--data",
        required=True,
        metavar="NAME|FILE.csv",
        help=f"a dataset bundled with scikit-learn ({', '.join(DATASETS)}) or a CSV "
        "file with a header line and numeric columns",
    )
    fit.add_argument(
        "--target",
        metavar="COLUMN",
        help="the column to predict (default: the bundled dataset's target; required "
        "for a CSV with a supervised model; left out of the features otherwise)",
    )
    fit.add_argument(
        "--solver",
        metavar="S",
        help="the estimator's solver: closed_form, newton, lbfgs or gd; lp (laplace); "
        "em (mixture). Default: the model's fastest exact one",
    )
    fit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set another hyperparameter, e.g. --param n_components=3 (repeatable)",
    )
    fit.add_argument(
        "--scale",
        action="store_true",
        help="standardise the features (zero mean, unit variance) before fitting",
    )
    fit.add_argument(
        "--delimiter",
        metavar="CHAR",
        help="the CSV file's delimiter (tab for a tab); default: the one of , ; tab "
        "| that its header line uses most",
    )
    fit.add_argument(
        "--plot",
        metavar="OUT.png|DIR",
        help="also save a figure: predictive band (regressors), mixture ellipses, "
        "profile likelihood (gaussian) or convergence curve (logistic); into "
        "DIR/MODEL.png for a directory, OUT.png when OUT has no extension; needs "
        "matplotlib",
    )
    fit.add_argument(
        "--json", action="store_true", help="print the summary as JSON instead"
    )
    return parser
