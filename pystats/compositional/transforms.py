"""Log-ratio transforms of compositional data (Aitchison 1986; Egozcue et al. 2003).

A composition is a row of positive parts (wt %, ppm, proportions) whose total carries no
information; the transforms map it to unconstrained real coordinates:

* :func:`closure` rescales rows to a constant sum;
* :func:`clr` (centred log-ratio, D coordinates summing to zero) and :func:`clr_inverse`;
* :func:`ilr` (isometric log-ratio, D-1 orthonormal coordinates) with the Helmert basis of
  Egozcue et al. (2003, their eq. for :math:`\\mathbf e_i`), :func:`helmert_basis`, and
  :func:`ilr_inverse` — the same basis as ``pyrolite.comp.codata.ILR``;
* :func:`alr` (additive log-ratio against one part) and :func:`alr_inverse`.

Zeros and values below detection are never handled silently: every transform raises a
:class:`~pystats.errors.DataError` naming the row and column of the first zero, negative
or missing value and what to do; :func:`replace_below_detection` performs the documented
multiplicative replacement of Martín-Fernández et al. (2003) (a value below detection set
to ``fraction`` x its detection limit, default 0.65, and the other parts of the row scaled
so that the row total is kept).

Inputs may be numpy arrays (rows are compositions) or pandas DataFrames (column names are
the parts, kept where the output has one column per part); they are never modified.

Examples
--------
>>> import numpy as np
>>> from pystats.compositional import transforms as T
>>> x = np.array([[0.2, 0.3, 0.5]])
>>> z = T.ilr(x)
>>> np.round(z, 6)
array([[-0.286707, -0.582618]])
>>> np.allclose(T.ilr_inverse(z), x)
True
>>> T.clr(np.array([[1.0, 0.0, 2.0]]))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pystats.errors.DataError: composition has a zero in row 0, column 1 ...

References
----------
Aitchison, J. (1986). The Statistical Analysis of Compositional Data. Chapman & Hall.

Egozcue, J. J., Pawlowsky-Glahn, V., Mateu-Figueras, G. and Barceló-Vidal, C. (2003).
Isometric logratio transformations for compositional data analysis. Mathematical Geology
35(3), 279-300. https://doi.org/10.1023/A:1023818214614

Martín-Fernández, J. A., Barceló-Vidal, C. and Pawlowsky-Glahn, V. (2003). Dealing with
zeros and missing values in compositional data sets using nonparametric imputation.
Mathematical Geology 35(3), 253-278.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import DataError, OptionError

__all__ = [
    "alr",
    "alr_inverse",
    "as_composition",
    "closure",
    "clr",
    "clr_inverse",
    "helmert_basis",
    "ilr",
    "ilr_inverse",
    "replace_below_detection",
]


def _frame_parts(x: Any) -> tuple[np.ndarray, list[str] | None, Any]:
    """Values (float copy, 2-D), column names and index of ``x``."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(x, pd.DataFrame):
        try:
            values = x.to_numpy(dtype=float, copy=True)
        except (TypeError, ValueError) as e:
            bad = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
            raise DataError(f"composition columns must be numbers; column(s) {bad} are not") \
                from e
        return values, [str(c) for c in x.columns], x.index
    if pd is not None and isinstance(x, pd.Series):
        return x.to_numpy(dtype=float, copy=True)[None, :], [str(c) for c in x.index], None
    try:
        values = np.array(x, dtype=float, copy=True)
    except (TypeError, ValueError) as e:
        raise DataError(f"composition must be an array of numbers, not {type(x).__name__}") \
            from e
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise DataError(f"composition must be 1-D or 2-D (rows are samples), not "
                        f"{values.ndim}-D")
    return values, None, None


def _wrap(values: np.ndarray, columns: list[str] | None, index: Any, like: Any) -> Any:
    import pandas as pd

    if isinstance(like, pd.DataFrame):
        return pd.DataFrame(values, index=index, columns=columns)
    if isinstance(like, pd.Series):
        return pd.Series(values[0], index=columns, name=like.name)
    if np.ndim(like) == 1:
        return values[0]
    return values


def _check_positive(values: np.ndarray, columns: list[str] | None, what: str) -> None:
    if values.shape[1] < 2:
        raise DataError(f"{what} needs at least 2 parts (columns), got {values.shape[1]}")
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        name = columns[c] if columns is not None else str(c)
        v = values[r, c]
        kind = ("a missing or non-finite value" if not np.isfinite(v)
                else "a zero" if v == 0 else "a negative value")
        raise DataError(
            f"composition has {kind} in row {r}, column {name} ({float(v)!r}), and "
            f"{int(bad.sum())} such value(s) in all; log-ratios need positive parts. "
            "Values below detection: replace them explicitly with "
            "pystats.compositional.replace_below_detection(x, detection_limits), or drop "
            "the part or the rows"
        )


def as_composition(x: Any, what: str = "composition") -> np.ndarray:
    """``x`` as a new 2-D float array of positive, finite parts (rows are compositions).

    Raises
    ------
    DataError
        Naming the row and column of the first zero, negative or missing value.
    """
    values, columns, _ = _frame_parts(x)
    _check_positive(values, columns, what)
    return values


def closure(x: Any, total: float = 1.0) -> Any:
    """Rows of ``x`` rescaled to sum to ``total`` (the closure operation C).

    Examples
    --------
    >>> closure([2.0, 3.0, 5.0], total=100.0).tolist()
    [20.0, 30.0, 50.0]
    """
    values, columns, index = _frame_parts(x)
    _check_positive(values, columns, "closure")
    return _wrap(total * values / values.sum(axis=1, keepdims=True), columns, index, x)


def clr(x: Any) -> Any:
    """Centred log-ratio: ``log x - mean(log x)`` per row (D coordinates summing to 0).

    Examples
    --------
    >>> import numpy as np
    >>> np.round(clr([1.0, 1.0, np.e ** 3]), 6).tolist()
    [-1.0, -1.0, 2.0]
    """
    values, columns, index = _frame_parts(x)
    _check_positive(values, columns, "clr")
    logs = np.log(values)
    return _wrap(logs - logs.mean(axis=1, keepdims=True), columns, index, x)


def clr_inverse(z: Any, total: float = 1.0) -> Any:
    """Composition (closed to ``total``) from clr coordinates (softmax of each row)."""
    values, columns, index = _frame_parts(z)
    if not np.all(np.isfinite(values)):
        raise DataError("clr coordinates must be finite")
    e = np.exp(values - values.max(axis=1, keepdims=True))
    return _wrap(total * e / e.sum(axis=1, keepdims=True), columns, index, z)


def helmert_basis(D: int) -> np.ndarray:
    """The ``(D-1, D)`` orthonormal ilr basis of Egozcue et al. (2003), in clr coordinates.

    Row ``i`` (0-based) is ``sqrt((i+1)/(i+2)) * (1/(i+1), ..., 1/(i+1), -1, 0, ..., 0)``
    with ``i+1`` leading equal entries: it contrasts part ``i+2`` with the geometric mean
    of the parts before it.  Identical to ``scipy.linalg.helmert(D)`` and to pyrolite's
    ``helmert_basis``.

    Examples
    --------
    >>> import numpy as np
    >>> V = helmert_basis(4)
    >>> np.allclose(V @ V.T, np.eye(3)), np.allclose(V.sum(axis=1), 0)
    (True, True)
    """
    if isinstance(D, bool) or not isinstance(D, int | np.integer) or D < 2:
        raise OptionError(f"D={D!r} is not allowed; use an integer >= 2")
    V = np.zeros((D - 1, D))
    for i in range(D - 1):
        k = i + 1
        V[i, :k] = 1.0 / k
        V[i, k] = -1.0
        V[i] *= np.sqrt(k / (k + 1.0))
    return V


def ilr(x: Any, basis: np.ndarray | None = None) -> Any:
    """Isometric log-ratio coordinates ``clr(x) @ basis.T`` (``D-1`` columns).

    Parameters
    ----------
    x : array-like or DataFrame
        Compositions in rows, positive parts.
    basis : ndarray, optional
        ``(D-1, D)`` orthonormal rows orthogonal to ``(1, ..., 1)``; default
        :func:`helmert_basis`.

    Returns
    -------
    ndarray or DataFrame
        Columns ``ilr1 .. ilr{D-1}`` for a DataFrame.
    """
    values, columns, index = _frame_parts(x)
    _check_positive(values, columns, "ilr")
    V = _basis(values.shape[1], basis)
    logs = np.log(values)
    z = (logs - logs.mean(axis=1, keepdims=True)) @ V.T
    names = [f"ilr{i + 1}" for i in range(z.shape[1])]
    return _wrap(z, names, index, x)


def ilr_inverse(z: Any, basis: np.ndarray | None = None, total: float = 1.0) -> Any:
    """Compositions (closed to ``total``) from ilr coordinates."""
    values, _, index = _frame_parts(z)
    if not np.all(np.isfinite(values)):
        raise DataError("ilr coordinates must be finite")
    V = _basis(values.shape[1] + 1, basis)
    out = clr_inverse(values @ V, total=total)
    return _wrap(out, None, index, z) if not isinstance(z, np.ndarray) else (
        out[0] if np.ndim(z) == 1 else out)


def _basis(D: int, basis: np.ndarray | None) -> np.ndarray:
    if basis is None:
        return helmert_basis(D)
    V = np.asarray(basis, dtype=float)
    if V.shape != (D - 1, D):
        raise OptionError(f"basis has shape {V.shape}; a composition of {D} parts needs "
                          f"({D - 1}, {D})")
    if not (np.allclose(V @ V.T, np.eye(D - 1), atol=1e-8)
            and np.allclose(V.sum(axis=1), 0.0, atol=1e-8)):
        raise OptionError("basis rows must be orthonormal and each sum to 0 (a clr basis)")
    return V


def _part_index(ref: int | str, columns: list[str] | None, D: int) -> int:
    if isinstance(ref, str):
        if columns is None or ref not in columns:
            raise OptionError(f"reference={ref!r} is not a part; the parts are "
                              f"{', '.join(columns) if columns else list(range(D))}")
        return columns.index(ref)
    if isinstance(ref, bool) or not isinstance(ref, int | np.integer) or not -D <= ref < D:
        raise OptionError(f"reference={ref!r} is not allowed; use a part name or an index "
                          f"in [{-D}, {D - 1}]")
    return int(ref) % D


def alr(x: Any, reference: int | str = -1) -> Any:
    """Additive log-ratio ``log(x_j / x_reference)`` for every other part ``j``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(alr([1.0, 2.0, 4.0]), 6).tolist()
    [-1.386294, -0.693147]
    """
    values, columns, index = _frame_parts(x)
    _check_positive(values, columns, "alr")
    k = _part_index(reference, columns, values.shape[1])
    logs = np.log(values)
    out = np.delete(logs - logs[:, [k]], k, axis=1)
    names = None if columns is None else [c for i, c in enumerate(columns) if i != k]
    return _wrap(out, names, index, x)


def alr_inverse(z: Any, reference: int = -1, total: float = 1.0) -> Any:
    """Compositions (closed to ``total``) from alr coordinates; the reference part is
    inserted at position ``reference`` of the result."""
    values, _, index = _frame_parts(z)
    if not np.all(np.isfinite(values)):
        raise DataError("alr coordinates must be finite")
    D = values.shape[1] + 1
    k = _part_index(reference, None, D)
    full = np.insert(values, k, 0.0, axis=1)
    out = clr_inverse(full, total=total)
    if isinstance(z, np.ndarray) or not hasattr(z, "columns"):
        return out[0] if np.ndim(z) == 1 else out
    return _wrap(out, None, index, z)


def replace_below_detection(
    x: Any,
    detection_limits: float | Sequence[float] | Mapping[str, float] | np.ndarray,
    *,
    fraction: float = 0.65,
) -> Any:
    """Multiplicative replacement of zeros and values below detection.

    A value that is zero, negative (the usual ``-DL`` coding of "below detection"), missing
    (NaN) or below its part's detection limit is set to ``fraction * DL``; the other parts
    of the row are multiplied by ``(total - sum of replacements) / (total - sum of
    replaced originals)`` with ``total`` the row sum, so ratios among measured parts are
    kept (Martín-Fernández et al. 2003).  A new object is returned; ``x`` is not modified.

    Parameters
    ----------
    x : array-like or DataFrame
    detection_limits : float, sequence, ndarray or mapping part -> limit
        Positive detection limit(s), in the units of ``x``; a mapping needs a DataFrame.
    fraction : float
        In (0, 1]; 0.65 is Martín-Fernández et al.'s recommendation.

    Examples
    --------
    >>> import numpy as np
    >>> out = replace_below_detection(np.array([[0.0, 40.0, 60.0]]), 0.1)
    >>> np.round(out, 4).tolist(), float(out.sum())
    ([[0.065, 39.974, 59.961]], 100.0)
    """
    values, columns, index = _frame_parts(x)
    D = values.shape[1]
    if isinstance(detection_limits, Mapping):
        if columns is None:
            raise OptionError("detection_limits as a mapping needs a DataFrame with named parts")
        unknown = set(detection_limits) - set(columns)
        if unknown:
            raise OptionError(f"detection_limits names unknown part(s) {sorted(unknown)}")
        dl = np.array([detection_limits.get(c, np.nan) for c in columns], dtype=float)
    else:
        dl = np.broadcast_to(np.asarray(detection_limits, dtype=float), (D,)).copy()
    given = ~np.isnan(dl)
    if np.any(dl[given] <= 0) or not np.all(np.isfinite(dl[given])):
        raise OptionError(f"detection_limits must be positive finite numbers, got {dl.tolist()}")
    if not (0 < fraction <= 1):
        raise OptionError(f"fraction={fraction!r} is not allowed; use a number in (0, 1]")
    low = ~np.isfinite(values) | (values <= 0) | (given & (values < np.where(given, dl, 0)))
    undefined = low & ~given[None, :]
    if undefined.any():
        r, c = map(int, np.argwhere(undefined)[0])
        name = columns[c] if columns is not None else str(c)
        raise DataError(f"row {r}, column {name} is zero, negative or missing but no detection "
                        "limit is given for that part")
    out = values.copy()
    for r in np.flatnonzero(low.any(axis=1)):
        m = low[r]
        originals = np.where(np.isfinite(values[r]) & (values[r] > 0), values[r], 0.0)
        total = originals.sum()
        repl = fraction * dl[m]
        keep = total - originals[m].sum()
        if keep <= 0:
            raise DataError(f"row {r} has no part above detection")
        out[r, ~m] = values[r, ~m] * (total - repl.sum()) / keep
        out[r, m] = repl
    return _wrap(out, columns, index, x)
