"""Linear restrictions :math:`R\\theta = q` written with the parameters' names.

A restriction is a linear equation in the parameters, written with their names
as :meth:`param_names` gives them (the labels of ``summary()``):

``"x1 = 0"``, ``"x2 = x3"``, ``"2*x1 - x2 = 1"``, ``"x1 + x2"`` (``= 0`` when there
is no ``=``), or several at once separated by commas (``"x1 = 0, x2 = x3"``) or
given as a list of such strings, as statsmodels' ``wald_test`` accepts them. Each
side is a sum of terms ``[+|-] [number [*]] name`` or ``[+|-] number``; a name may
also be followed by ``* number``. Names are matched longest first, so labels with
brackets or colons (``"coef[x0]"``, ``"1:selfLR"``) need no quoting; a name is
matched before a number, so a label that starts with digits wins over the number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _tokens(text: str, names: Sequence[str]) -> list[tuple[str, object]]:
    """``("name", index)``, ``("number", value)`` and ``("op", char)`` tokens."""
    by_length = sorted(range(len(names)), key=lambda j: -len(names[j]))
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        for j in by_length:
            if names[j] and text.startswith(names[j], i):
                tokens.append(("name", j))
                i += len(names[j])
                break
        else:
            match = _NUMBER.match(text, i)
            if match:
                tokens.append(("number", float(match.group())))
                i = match.end()
            elif text[i] in "+-*":
                tokens.append(("op", text[i]))
                i += 1
            else:
                raise ValueError(
                    f"Cannot read the restriction {text!r} at {text[i:]!r}: expected "
                    f"a parameter name (one of {list(names)}), a number, '+', '-', "
                    "'*' or '='."
                )
    return tokens


def _side(text: str, names: Sequence[str]) -> tuple[np.ndarray, float]:
    """One side of an equation as (coefficients of the names, constant)."""
    row, constant = np.zeros(len(names)), 0.0
    tokens = _tokens(text, names)
    if not tokens:
        raise ValueError(f"An empty side in the restriction {text!r}.")
    position = 0
    while position < len(tokens):
        sign = 1.0
        while position < len(tokens) and tokens[position] in (("op", "+"), ("op", "-")):
            sign *= -1.0 if tokens[position][1] == "-" else 1.0
            position += 1
        factor, name, n_factors = sign, None, 0
        # A term: numbers and at most one name, joined by '*' (or juxtaposed).
        while position < len(tokens) and tokens[position] not in (
            ("op", "+"),
            ("op", "-"),
        ):
            kind, value = tokens[position]
            position += 1
            if kind == "op":  # '*'
                continue
            if kind == "name" and name is not None:
                raise ValueError(
                    f"The restriction {text!r} multiplies two parameters: "
                    "a restriction must be linear."
                )
            if kind == "name":
                name = value
            else:
                factor *= value
            n_factors += 1
        if n_factors == 0:
            raise ValueError(f"The restriction {text!r} has an empty term.")
        if name is None:
            constant += factor
        else:
            row[name] += factor
    return row, constant


def parse_restrictions(
    restrictions: str | Sequence[str], names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``(R, q)`` of restrictions written with parameter names.

    Parameters
    ----------
    restrictions : str or sequence of str
        Equations such as ``"x1 = 0, x2 = x3"`` (commas separate them) or
        ``["x1 = 0", "x2 = x3"]``.
    names : sequence of str
        The parameters' names, in the order of the columns of ``R``.

    Returns
    -------
    R : ndarray of shape (n_restrictions, n_params)
    q : ndarray of shape (n_restrictions,)

    Raises
    ------
    ValueError
        For an equation that cannot be read, an unknown name, more than one
        ``=``, or one that names no parameter.

    Examples
    --------
    >>> R, q = parse_restrictions("b = 0, 2*a - c = 1", ["a", "b", "c"])
    >>> R.tolist(), q.tolist()
    ([[0.0, 1.0, 0.0], [2.0, 0.0, -1.0]], [0.0, 1.0])
    """
    if isinstance(restrictions, str):
        equations = restrictions.split(",")
    else:
        equations = [part for text in restrictions for part in str(text).split(",")]
    equations = [text.strip() for text in equations if text.strip()]
    if not equations:
        raise ValueError("No restriction given.")
    rows, constants = [], []
    for text in equations:
        sides = text.split("=")
        if len(sides) > 2:
            raise ValueError(f"The restriction {text!r} has more than one '='.")
        left, constant_left = _side(sides[0], names)
        right, constant_right = (
            _side(sides[1], names) if len(sides) == 2 else (0.0 * left, 0.0)
        )
        row = left - right
        if not np.any(row):
            raise ValueError(
                f"The restriction {text!r} names no parameter (or they cancel)."
            )
        rows.append(row)
        constants.append(constant_right - constant_left)
    return np.array(rows), np.array(constants)


def parameter_row(param, names: Sequence[str]) -> tuple[np.ndarray, str]:
    """One parameter, or one linear combination of parameters, as a row over
    ``names`` and its label.

    Parameters
    ----------
    param : int or str
        A position in ``names``, a name, or a combination such as ``"x1 - x2"``
        (no ``=``, no constant).
    names : sequence of str

    Returns
    -------
    row : ndarray of shape (len(names),)
    label : str

    Raises
    ------
    ValueError
        For a position out of range, or a string that is neither a name nor a
        linear combination of names.

    Examples
    --------
    >>> row, label = parameter_row("a - 2*c", ["a", "b", "c"])
    >>> row.tolist(), label
    ([1.0, 0.0, -2.0], 'a - 2*c')
    """
    names = list(names)
    row = np.zeros(len(names))
    if isinstance(param, int | np.integer) and not isinstance(param, bool):
        if not 0 <= param < len(names):
            raise ValueError(
                f"param={param} is out of range: there are {len(names)} parameters."
            )
        row[int(param)] = 1.0
        return row, names[int(param)]
    if not isinstance(param, str):
        raise ValueError(f"A parameter must be an int or a str, got {param!r}.")
    if param in names:
        row[names.index(param)] = 1.0
        return row, param
    try:
        R, q = parse_restrictions(param, names)
    except ValueError:
        raise ValueError(
            f"Unknown parameter {param!r}. Choose one of {names} (the names in "
            "summary()), an integer position, or a linear combination of names."
        ) from None
    if R.shape[0] != 1 or q[0] != 0:
        raise ValueError(
            f"{param!r} must be one linear combination of parameters, without "
            "'=' or a constant."
        )
    return R[0], param
