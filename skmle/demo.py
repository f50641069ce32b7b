"""``skmle demo``: fit each estimator on a dataset bundled with scikit-learn.

Each entry of :data:`DEMOS` is a function returning a title, a fitted estimator
and, optionally, the names of the features; the command prints the title and the
estimator's ``summary()``. Demos load the bundled data as NumPy arrays: pandas is
not a dependency of skmle.
"""

from __future__ import annotations

from collections.abc import Callable

from sklearn import datasets


def gaussian_on_iris():
    from skmle import GaussianMLE

    iris = datasets.load_iris()
    setosa = iris.data[iris.target == 0]
    model = GaussianMLE().fit(setosa)
    title = "GaussianMLE: the four iris measurements of Iris setosa (n=50)"
    return title, model, iris.feature_names


def linear_gaussian_on_diabetes():
    from skmle import LinearGaussianRegressor

    diabetes = datasets.load_diabetes()
    model = LinearGaussianRegressor().fit(diabetes.data, diabetes.target)
    title = (
        "LinearGaussianRegressor: disease progression after one year from ten "
        "baseline variables, diabetes data (n=442)"
    )
    return title, model, diabetes.feature_names


def laplace_on_diabetes():
    from skmle import LaplaceRegressor

    diabetes = datasets.load_diabetes()
    model = LaplaceRegressor().fit(diabetes.data, diabetes.target)
    title = (
        "LaplaceRegressor: the same diabetes regression with Laplace noise "
        "(median regression, exact LP)"
    )
    return title, model, diabetes.feature_names


def logistic_on_breast_cancer():
    from sklearn.preprocessing import StandardScaler

    from skmle import LogisticGD

    cancer = datasets.load_breast_cancer()
    X = StandardScaler().fit_transform(cancer.data[:, :10])  # the ten "mean" features
    diagnosis = cancer.target_names[cancer.target]  # "malignant" or "benign"
    model = LogisticGD().fit(X, diagnosis)
    title = (
        "LogisticGD: log-odds of a malignant tumour from the ten standardized "
        "'mean' cell-nucleus features, breast cancer data (n=569); radius, "
        "perimeter and area are nearly collinear, hence their large standard errors"
    )
    return title, model, list(cancer.feature_names[:10])


def mixture_on_iris():
    from skmle import EMGaussianMixture

    iris = datasets.load_iris()
    model = EMGaussianMixture(n_components=3, random_state=0).fit(iris.data)
    title = (
        "EMGaussianMixture: three components on the four iris measurements, "
        "species not used (n=150); standard errors with covariances held fixed"
    )
    return title, model, iris.feature_names


DEMOS: list[Callable] = [
    gaussian_on_iris,
    linear_gaussian_on_diabetes,
    laplace_on_diabetes,
    logistic_on_breast_cancer,
    mixture_on_iris,
]
"""Demos in the order ``skmle demo`` runs them."""


def run_demos(write=print) -> None:
    """Run every demo and write its title and summary."""
    for demo in DEMOS:
        title, model, *feature_names = demo()
        write(f"\n## {title}\n")
        write(str(model.summary(feature_names=next(iter(feature_names), None))))
