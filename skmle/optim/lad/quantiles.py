"""Exact weighted quantiles of values reached only through sums over parts of the data.

A float's 64-bit sort key (:func:`sortable_keys`) is examined 11 bits per pass: a
histogram of the next digit over all rows (:func:`key_histogram`, summed part by
part) fixes it, and once few rows are left they are gathered and sorted
(:func:`select_by_passes`). :func:`weighted_median` is the in-memory answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

KEY_DIGITS = (11, 11, 11, 11, 11, 9)
"""Bits of a value's 64-bit sort key examined by each pass of :func:`select_by_passes`."""

MAX_GATHER = 50_000
""":func:`select_by_passes` fetches the rows left once at most this many remain."""


def sortable_keys(values: np.ndarray) -> np.ndarray:
    """Unsigned 64-bit keys that sort like the float64 ``values``.

    The sign bit is flipped for positive numbers and every bit for negative
    ones, so that comparing keys as integers compares the numbers.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    negative = (bits >> np.uint64(63)).astype(bool)
    return np.where(negative, ~bits, bits | np.uint64(1 << 63))


def float_from_key(key: int) -> float:
    """Inverse of :func:`sortable_keys` for one key."""
    key = np.uint64(key)
    bits = key ^ np.uint64(1 << 63) if key >> np.uint64(63) else ~key
    return float(np.array(bits, dtype=np.uint64).view(np.float64))


def _digit_bits(level: int) -> tuple[int, int]:
    """(bits above the digit, width of the digit) at ``level``."""
    return sum(KEY_DIGITS[:level]), KEY_DIGITS[level]


def key_histogram(
    values: np.ndarray, masses: np.ndarray, prefix: int, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mass and count of the values whose key starts with ``prefix``, by next digit.

    ``prefix`` holds the top bits of the key fixed by the previous ``level``
    passes (see :data:`KEY_DIGITS`); values of zero mass are left out.
    """
    high, width = _digit_bits(level)
    keys = sortable_keys(values)
    keep = masses > 0
    if level > 0:
        keep &= (keys >> np.uint64(64 - high)) == np.uint64(prefix)
    digits = (keys[keep] >> np.uint64(64 - high - width)) & np.uint64((1 << width) - 1)
    digits = digits.astype(np.intp)
    return (
        np.bincount(digits, masses[keep], minlength=1 << width),
        np.bincount(digits, minlength=1 << width),
    )


def key_bucket(
    values: np.ndarray, masses: np.ndarray, prefix: int, level: int
) -> np.ndarray:
    """Boolean mask of the values of positive mass whose key starts with ``prefix``."""
    high = sum(KEY_DIGITS[:level])
    keep = masses > 0
    if level == 0:
        return keep
    return keep & ((sortable_keys(values) >> np.uint64(64 - high)) == np.uint64(prefix))


def select_by_passes(
    histogram: Callable[[int, int], tuple[np.ndarray, np.ndarray]],
    gather: Callable[[int, int], tuple[np.ndarray, np.ndarray]] | None,
    target: float,
    *,
    max_gather: int = MAX_GATHER,
) -> float:
    """The smallest value ``v`` whose mass at or below it reaches ``target``.

    The lower weighted quantile, found from sums: ``histogram(prefix, level)``
    returns :func:`key_histogram` summed over all the data, and ``gather(prefix,
    level)`` the values and masses of the rows whose key starts with ``prefix``
    (the rows :func:`key_bucket` marks). Each histogram fixes the next 11 bits of
    the answer's key (a radix selection, exact with any ties); once at most
    ``max_gather`` rows are left, they are gathered and sorted. With ``gather``
    None, the answer is rounded up to the largest value whose key starts with
    the 22 bits found by two passes: a value with at least ``target`` mass at or
    below it, less than 0.1% (relative) above the exact one.
    """
    prefix, level, below, remaining = 0, 0, 0.0, None
    while True:
        if gather is not None and remaining is not None and remaining <= max_gather:
            values, masses = gather(prefix, level)
            order = np.argsort(values, kind="stable")
            cumulative = below + np.cumsum(masses[order])
            index = min(int(np.searchsorted(cumulative, target)), len(order) - 1)
            return float(values[order][index])
        if level == len(KEY_DIGITS) or (gather is None and level == 2):
            free = 64 - sum(KEY_DIGITS[:level])
            return float_from_key((prefix << free) | ((1 << free) - 1))
        mass, count = histogram(prefix, level)
        cumulative = below + np.cumsum(mass)
        digit = int(np.searchsorted(cumulative, target))
        if digit >= len(mass):  # rounding left the total short of target
            digit = int(np.flatnonzero(count)[-1])
        below = float(cumulative[digit] - mass[digit])
        remaining = int(count[digit])
        prefix = (prefix << KEY_DIGITS[level]) | digit
        level += 1


def weighted_median(values: np.ndarray, sample_weight: np.ndarray) -> float:
    """The lower weighted median: the smallest ``v`` with half the weight at or below it."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(sample_weight[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])
