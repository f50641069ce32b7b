import os

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so that CI is repeatable; a
# new failure found while developing is reproduced from its printed example.
settings.register_profile("skmle", derandomize=True, deadline=None)
settings.load_profile("skmle")

# scikit-learn skips its array-API check unless SciPy's array API support is on,
# and SciPy reads this only at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


@pytest.fixture(scope="module")
def client():
    """A ``dask.distributed`` client of three worker processes on loopback."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=3,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            memory_limit="768MiB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
