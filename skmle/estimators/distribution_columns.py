"""What ``DistributionMLE`` knows about its columns: their families, their
support, the prior; and what it gives once fitted: frozen ``scipy.stats``
distributions, log-densities and draws."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skmle.data import rowwise
from skmle.estimators.density import LogDensityMixin
from skmle.models.distributions import FAMILIES

PRIOR_FAMILIES = {
    "bernoulli": "Beta(a, b)",
    "binomial": "Beta(a, b)",
    "poisson": "Gamma(shape, rate)",
}
"""The families with a conjugate prior, and the prior's name."""


class FamilyColumnsMixin:
    """The ``family``, ``n_trials`` and ``prior`` hyperparameters, resolved for
    the columns of ``X``."""

    # -- families ------------------------------------------------------------------
    def _family_names(self, n_features: int) -> list[str]:
        names = (
            [self.family] * n_features
            if isinstance(self.family, str)
            else list(self.family)
        )
        if len(names) != n_features:
            raise ValueError(
                f"family has {len(names)} names but X has {n_features} columns: give "
                "one family for all columns, or one per column."
            )
        for name in names:
            if name not in FAMILIES:
                raise ValueError(
                    f"Unknown family {name!r}; choose from {sorted(FAMILIES)}."
                )
        if "binomial" in names and self.n_trials is None:
            raise ValueError(
                "family='binomial' needs the number of trials: set n_trials."
            )
        return names

    def _families(self, X: np.ndarray) -> list:
        """The family objects of ``X``'s columns; the Gaussian and log-normal sums
        are centred on the median of the first rows."""
        families = []
        for j, name in enumerate(self._family_names(X.shape[1])):
            if name == "binomial":
                families.append(FAMILIES[name](self.n_trials))
            elif name in ("gaussian", "lognormal"):
                column = X[:, j] if name == "gaussian" else np.log(X[:, j])
                families.append(FAMILIES[name](float(np.median(column))))
            else:
                families.append(FAMILIES[name]())
        return families

    def _checked_prior(self, names):
        if self.prior is None:
            return None
        prior = tuple(float(v) for v in self.prior)
        if len(prior) != 2 or not all(v > 0 for v in prior):
            raise ValueError(f"prior must be two positive numbers, got {self.prior!r}.")
        if any(name not in PRIOR_FAMILIES for name in names):
            raise ValueError(
                f"prior is for the families {sorted(PRIOR_FAMILIES)}, got {names}; "
                "set prior=None."
            )
        return prior

    def _check_support(self, X):
        for j, name in enumerate(self._family_names(X.shape[1])):
            family = (
                FAMILIES[name](self.n_trials)
                if name == "binomial"
                else FAMILIES[name]()
            )
            family.check(X[:, j])


class FittedDistributionsMixin(LogDensityMixin):
    """``frozen_distributions``, ``score_samples`` (and ``score``) and ``sample``
    of a fitted ``DistributionMLE``."""

    def frozen_distributions(self) -> list:
        """The fitted distribution of each column as a frozen ``scipy.stats`` object.

        Returns
        -------
        list of scipy.stats frozen distributions, one per column
        """
        check_is_fitted(self)
        model = self.model_
        return [
            f.frozen(f.natural(phi))
            for f, phi in zip(model.families, model.split(self.theta_), strict=True)
        ]

    @rowwise
    def score_samples(self, X):
        """Log-density (log-mass for discrete families) of each row, the sum over
        its columns; :math:`-\\infty` outside the support.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_for_scoring(X)
        model = self.model_
        total = np.zeros(X.shape[0])
        for j, (family, phi) in enumerate(
            zip(model.families, model.split(self.theta_), strict=True)
        ):
            inside = family.in_support(X[:, j])
            with np.errstate(all="ignore"):
                values = family.loglik_obs(
                    np.where(inside, X[:, j], family_safe_value(family)), phi
                )
            total += np.where(inside, values, -np.inf)
        return total

    def sample(self, n_samples=1, random_state=None):
        """Draw rows from the fitted distributions (columns independent).

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        if not (isinstance(n_samples, Integral) and n_samples >= 1):
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        rng = check_random_state(random_state)
        return np.column_stack(
            [
                d.rvs(size=n_samples, random_state=rng)
                for d in self.frozen_distributions()
            ]
        ).astype(float)


def family_safe_value(family) -> float:
    """A value inside every support, to evaluate rows outside it without warnings."""
    return 0.5 if family.name == "beta" else 1.0
