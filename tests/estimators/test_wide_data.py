"""Fits on 2,000 features: memory linear in n_samples and at most quadratic in the
number of parameters, and time within 3x of the reference computation.

Each case runs in a fresh interpreter, so that its peak resident memory
(``resource.getrusage``) is that of the fit alone, plus the data and the imports.
The references are numpy's mean and covariance for ``GaussianMLE`` and
scikit-learn's ``GaussianMixture`` for ``EMGaussianMixture``, timed in the same
process, alternating with skmle, best of the runs.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time, warnings
    import numpy as np

    case, n, d, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    X = np.random.default_rng(0).standard_normal((n, d))
    warnings.simplefilter("ignore")  # max_iter ends the EM runs on purpose

    if case == "gaussian":
        from skmle import GaussianMLE

        def ours():
            GaussianMLE().fit(X)

        def reference():
            X.mean(axis=0)
            np.cov(X, rowvar=False, bias=True)
    else:
        from sklearn.mixture import GaussianMixture
        from skmle import EMGaussianMixture

        def ours():
            EMGaussianMixture(n_components=2, max_iter=2, random_state=0).fit(X)

        def reference():
            GaussianMixture(n_components=2, max_iter=2, random_state=0).fit(X)

    def timed(function):
        start = time.perf_counter()
        function()
        return time.perf_counter() - start

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours_times = [timed(ours)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reference_times = [timed(reference)]
    for _ in range(repeats - 1):
        ours_times.append(timed(ours))
        reference_times.append(timed(reference))
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes or KiB
    print(json.dumps({
        "peak_bytes": peak * unit,
        "before_bytes": before * unit,
        "ours_s": min(ours_times),
        "reference_s": min(reference_times),
    }))
    """
)


def run_case(case, n_samples, n_features, repeats):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            case,
            str(n_samples),
            str(n_features),
            str(repeats),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# Best of at least two alternating runs: the first fit in a fresh process
# touches memory the machine has not yet backed (on this virtual machine a
# first-touch fault is several times dearer than a reuse), which the
# reference, run after it, would not pay.
@pytest.mark.slow
@pytest.mark.parametrize(
    "case, n_samples, repeats", [("gaussian", 10_000, 3), ("mixture", 2_500, 2)]
)
def test_two_thousand_features_fit_in_little_memory_and_time(case, n_samples, repeats):
    result = run_case(case, n_samples, 2_000, repeats)
    # the data are 160 MB (gaussian) or 40 MB (mixture); 4 GB is the bound, the
    # d^4 Hessian of the log-prior alone was 32 TB
    assert result["peak_bytes"] < 4 * 2**30, result
    assert result["ours_s"] < 3 * result["reference_s"], result
