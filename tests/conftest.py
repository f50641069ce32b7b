import os

# scikit-learn skips its array-API check unless SciPy's array API support is on,
# and SciPy reads this only at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
