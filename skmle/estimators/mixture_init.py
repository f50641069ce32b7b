"""Starting points of EM for :class:`~skmle.EMGaussianMixture`: the user's
``weights_init``/``means_init``/``precisions_init`` validated, random starting
responsibilities, and the check that the rows' spread fits float64."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.utils import check_array

from skmle.models.mixture_stats import (
    MixtureParams,
    m_step,
    pack,
    precision_cholesky_from_precisions,
)

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")


def initial_responsibilities(
    X, w, rng, n_components: int, init_params: str
) -> np.ndarray:
    """Starting responsibilities (n_samples, n_components) of the rows ``X`` with
    weights ``w``, drawn as ``init_params`` says."""
    n, K = X.shape[0], n_components
    # Equal weights draw exactly what scikit-learn draws without weights.
    weighted = not np.all(w == w[0])
    sample_weight = w if weighted else None
    resp = np.zeros((n, K))
    if init_params == "kmeans":
        labels = (
            KMeans(n_clusters=K, n_init=1, random_state=rng)
            .fit(X, sample_weight=sample_weight)
            .labels_
        )
        resp[np.arange(n), labels] = 1.0
    elif init_params == "k-means++":
        _, indices = kmeans_plusplus(
            X, K, random_state=rng, sample_weight=sample_weight
        )
        resp[indices, np.arange(K)] = 1.0
    elif init_params == "random":
        resp = rng.uniform(size=(n, K))
        resp /= resp.sum(axis=1)[:, None]
    else:
        p = w / w.sum() if weighted else None
        indices = rng.choice(n, size=K, replace=False, p=p)
        resp[indices, np.arange(K)] = 1.0
    return resp


def checked_inits(
    weights_init, means_init, precisions_init, n_components, n_features, covariance_type
):
    """The user's initial weights, means and precisions, validated (or None)."""
    K, d, ct = n_components, n_features, covariance_type
    weights = means = precisions = None
    if weights_init is not None:
        weights = _init_array(weights_init, "weights_init", ensure_2d=False)
        _check_shape(weights, (K,), "weights_init")
        if np.any(weights < 0) or np.any(weights > 1):
            raise ValueError(
                "weights_init must lie in [0, 1], got values from "
                f"{weights.min():.5g} to {weights.max():.5g}."
            )
        if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8):
            raise ValueError(f"weights_init must sum to 1, got {weights.sum():.10g}.")
    if means_init is not None:
        means = _init_array(means_init, "means_init")
        _check_shape(means, (K, d), "means_init")
    if precisions_init is not None:
        precisions = _init_array(
            precisions_init, "precisions_init", ensure_2d=False, allow_nd=True
        )
        shape = {
            "full": (K, d, d),
            "tied": (d, d),
            "diag": (K, d),
            "spherical": (K,),
        }
        _check_shape(precisions, shape[ct], "precisions_init")
        _check_positive_definite(precisions, ct)
    return weights, means, precisions


MAX_SPREAD = 1e150
"""Largest ``max |x - mean|`` EM accepts: squares of larger deviations, summed over
rows and features, overflow float64."""


def _spread(X, location) -> float:
    """``max |x - location|`` over the rows of ``X`` (inf if it overflows)."""
    if X.shape[0] == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        spread = max(
            float(np.max(X.max(axis=0) - location)),
            float(np.max(location - X.min(axis=0))),
        )
    return spread if np.isfinite(spread) else np.inf


def _init_array(value, name: str, **options) -> np.ndarray:
    """``check_array`` for a user's start, with any failure a ValueError naming it."""
    try:
        return check_array(value, dtype=np.float64, **options)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be an array of numbers ({error}); got {type(value).__name__}."
        ) from None


def _check_shape(array, shape, name):
    if array.shape != shape:
        raise ValueError(f"{name} should have shape {shape}, got {array.shape}.")


def _check_positive_definite(precisions, covariance_type):
    if covariance_type in ("diag", "spherical"):
        if np.any(precisions <= 0):
            raise ValueError(
                f"precisions_init must be positive for covariance_type="
                f"{covariance_type!r}."
            )
        return
    matrices = np.reshape(precisions, (-1, *precisions.shape[-2:]))
    symmetric = np.allclose(matrices, np.swapaxes(matrices, -1, -2))
    if not symmetric or np.any(np.linalg.eigvalsh(matrices) <= 0):
        raise ValueError(
            "precisions_init must be symmetric and positive definite for "
            f"covariance_type={covariance_type!r}."
        )


def initial_factors(precisions, covariance_type: str) -> np.ndarray:
    """Precision factors (scikit-learn's convention) of validated ``precisions_init``."""
    try:
        return precision_cholesky_from_precisions(precisions, covariance_type)
    except np.linalg.LinAlgError:
        # eigvalsh found them positive, but too close to singular for a Cholesky
        # factor in float64
        raise ValueError(
            "precisions_init must be positive definite; they are singular "
            "to working precision. Pass better conditioned precisions."
        ) from None


def check_spread(objective, location) -> None:
    """Raise ``ValueError`` when a row lies farther than :data:`MAX_SPREAD` from
    ``location``: beyond it squared distances and variances overflow float64."""
    too_far = objective.sum_batches(
        lambda b: int(not _spread(b.X, location) <= MAX_SPREAD)
    )
    if too_far:
        raise ValueError(
            "The values of X spread over more than 1e150 around their mean: "
            "squared distances and covariances overflow float64. Rescale X, "
            "for example with sklearn.preprocessing.StandardScaler."
        )


def check_n_samples(objective, n_components: int) -> None:
    """Raise ``ValueError`` when fewer rows than components have a positive weight."""
    n_positive = int(objective.sum_batches(lambda b: np.count_nonzero(b.sample_weight)))
    if n_positive < n_components:
        raise ValueError(
            f"Expected n_samples >= n_components but got n_components = "
            f"{n_components}, n_samples = {n_positive} (rows with a positive "
            "sample_weight). Use fewer components or more data."
        )


def start_theta(weights, means, precisions, stats, covariance_type, reg_covar):
    """``theta`` of the start: the user's validated weights, means and precisions
    where given, the rest from the M-step of the starting statistics ``stats``
    (None when the user gave all three)."""
    if stats is not None:
        params, _ = m_step(stats, covariance_type, reg_covar)
        weights = params.weights if weights is None else weights
        means = params.means if means is None else means
        chol = params.precisions_cholesky
    if precisions is not None:
        chol = initial_factors(precisions, covariance_type)
    return pack(MixtureParams(weights, means, chol), covariance_type)
