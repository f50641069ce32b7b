"""The public face of an estimator's log-likelihood, for tools built beside it.

:class:`LikelihoodFunctionMixin` gives every skmle estimator a few public methods
that expose what the fit maximises without fitting: the log-likelihood bound to
data as a function of the flat parameter vector ``theta``, the solver's starting
point, and the names and positions in ``theta`` of the parameters that
``summary()`` reports. :func:`~skmle.check_gradient`, :mod:`skmle.plotting` and
:func:`~skmle.inference.profile_likelihood` use these and the documented fitted
attributes only, never the estimator's private hooks; so can a user's own tool.

None of these methods changes the estimator: the function is built on a clone.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from skmle.models.objective import Objective


class LikelihoodFunctionMixin:
    """Public access to an estimator's log-likelihood as a function of ``theta``.

    Inherited by :class:`~skmle.GradientAscentMixin`, hence by every skmle
    estimator. The methods read the estimator's hyperparameters (and, for
    :meth:`param_blocks` and :meth:`param_names`, its fitted attributes); they
    never modify the estimator.
    """

    def loglik_function(self, X, y=None, sample_weight=None) -> Objective:
        """The objective the solvers maximise, bound to data, as a function of theta.

        The data are validated as ``fit`` validates them and the model is built
        for these hyperparameters, on a clone: the estimator itself (fitted or
        not) is left unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Also a Dask array or :func:`skmle.chunked` data.
        y : array-like of shape (n_samples,), default=None
            Targets, for the supervised estimators.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        Objective
            ``value(theta)`` and ``value_and_grad(theta)`` give the mean (per unit
            of sample weight) log-likelihood plus log-prior and its gradient,
            ``hessian(theta)`` its Hessian when ``has_hessian``, ``loglik(theta)``
            the total log-likelihood without prior; ``total_weight`` is the sum
            of the weights and ``model.n_params`` the length of ``theta``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import GaussianMLE
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> model = GaussianMLE().fit(X)
        >>> function = model.loglik_function(X)
        >>> bool(np.isclose(function.loglik(model.theta_), model.loglik_))
        True
        """
        return clone(self)._objective_for_data(X, y, sample_weight)

    def initial_params(self, X, y=None, sample_weight=None) -> np.ndarray:
        """The point where the generic solvers start on these data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_params,)
            A flat parameter vector, as ``theta_`` after a fit.

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import LinearGaussianRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -1.0] + 3.0 + rng.normal(size=50)
        >>> LinearGaussianRegressor().initial_params(X, y).shape
        (4,)
        """
        work = clone(self)
        objective = work._objective_for_data(X, y, sample_weight)
        return np.asarray(work._initial_theta(objective), dtype=float)

    def param_blocks(self) -> dict[str, np.ndarray]:
        """The parameters with standard errors, as positions in ``theta_``.

        Returns
        -------
        dict of str to ndarray of int
            ``{name: indices into theta_}`` in the order of ``summary()`` (the
            intercept first); each name has the fitted attributes ``<name>_``
            and ``<name>_se_``. Empty for an estimator without standard errors.
            A block that is a function of ``theta_`` rather than entries of it
            (GaussianMLE's covariance, whose ``theta_`` holds the precision's
            Cholesky factor) is reported by ``summary()`` and
            :meth:`param_names` but not listed here, after the blocks that are.

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import LinearGaussianRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -1.0] + 3.0 + rng.normal(size=50)
        >>> model = LinearGaussianRegressor().fit(X, y)
        >>> {name: idx.tolist() for name, idx in model.param_blocks().items()}
        {'intercept': [2], 'coef': [0, 1]}
        """
        check_is_fitted(self)
        return {
            name: np.atleast_1d(np.asarray(indices, dtype=int))
            for name, indices in self._reported_blocks().items()
            if name not in self._derived_blocks
        }

    def param_names(self, feature_names=None) -> list[str]:
        """The labels of the parameters in ``summary()``, in its order.

        The order of the rows of ``summary()`` and of ``params_cov_``: the
        intercept first (as statsmodels, R and Stata print it), then the other
        blocks.

        Parameters
        ----------
        feature_names : sequence of str, default=None
            One name per feature, as for ``summary()``; by default
            ``feature_names_in_``, else ``x0, x1, ...``.

        Returns
        -------
        list of str
            One label per reported parameter, block after block.

        Examples
        --------
        >>> import numpy as np
        >>> from skmle import LinearGaussianRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -1.0] + 3.0 + rng.normal(size=50)
        >>> LinearGaussianRegressor().fit(X, y).param_names()
        ['intercept', 'x0', 'x1']
        """
        check_is_fitted(self)
        feature_names = self._check_feature_names_arg(feature_names)
        names = []
        for block in self._reported_blocks():
            size = self._block_estimates(block).size
            names += self._parameter_labels(block, size, feature_names)
        return names
