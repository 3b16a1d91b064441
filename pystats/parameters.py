"""Model parameters and the transforms to and from the unconstrained scale.

The transforms are Stan's (Stan Reference Manual, "Constraint Transforms"), so a point on
the unconstrained scale means the same thing to the torch engine, to pystan's
``log_prob`` and to CmdStan:

* lower bound only: ``x = lower + exp(u)``, ``log|dx/du| = u``;
* upper bound only: ``x = upper - exp(u)``, ``log|dx/du| = u``;
* both bounds: ``x = lower + (upper - lower) * inv_logit(u)``,
  ``log|dx/du| = log(upper - lower) + log_inv_logit(u) + log1p(-inv_logit(u))``;
* no bounds: identity.

Parameters are flattened in declaration order and, within an array parameter, in C
(row-major) order.  Stan flattens arrays in column-major order; the Stan engines
convert.

References
----------
Stan Development Team (2024). Stan Reference Manual, section "Constraint Transforms".
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import OptionError

__all__ = ["Parameter", "ParameterSet"]


@dataclass(frozen=True)
class Parameter:
    """One (scalar or array) model parameter.

    Parameters
    ----------
    name : str
        Name as used in ``Fit.summary()`` and in the Stan program.
    lower, upper : float
        Bounds; ``-inf`` / ``inf`` for none.
    shape : tuple of int
        ``()`` for a scalar.
    description : str
        One line shown in reports.

    Examples
    --------
    A positive parameter is ``exp(u)`` on the unconstrained scale:

    >>> import numpy as np
    >>> from pystats.parameters import Parameter
    >>> b = Parameter("b", lower=0.0, description="Gutenberg-Richter b-value")
    >>> float(b.unconstrain(1.0))
    0.0
    >>> round(float(b.constrain(np.log(2.5))), 6)
    2.5
    >>> Parameter("mu", shape=(2,)).element_names()
    ['mu[0]', 'mu[1]']
    >>> Parameter("p", lower=1.0, upper=0.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    pystats.errors.OptionError: parameter 'p': lower bound 1.0 must be below upper bound 0.0
    """

    name: str
    lower: float = -math.inf
    upper: float = math.inf
    shape: tuple[int, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise OptionError(
                f"parameter {self.name!r}: lower bound {self.lower} must be below upper "
                f"bound {self.upper}"
            )

    @property
    def size(self) -> int:
        """Number of scalar elements."""
        return int(np.prod(self.shape, dtype=int))

    def element_names(self) -> list[str]:
        """Names of the scalar elements, ``b`` or ``mu[0]``, ``mu[1]``, ... (C order)."""
        if self.shape == ():
            return [self.name]
        return [f"{self.name}[{','.join(str(i) for i in idx)}]" for idx in np.ndindex(*self.shape)]

    # -- transforms, written once for numpy and torch (both support these ufuncs) --
    def constrain(self, u: Any) -> Any:
        """Map unconstrained values ``u`` (numpy array or torch tensor) to the parameter scale.

        Extreme ``u`` map to the bounds without warnings: with one bound, ``exp(u)``
        overflows to ``inf`` for ``u`` above ~709, which gives the open end (``+inf`` for a
        lower bound only, ``-inf`` for an upper bound only), and underflows to the bound
        itself for very negative ``u``.
        """
        lo, hi = self.lower, self.upper
        lib = _lib(u)
        if math.isinf(lo) and math.isinf(hi):
            return u
        with np.errstate(over="ignore"):
            if math.isinf(hi):
                return lo + lib.exp(u)
            if math.isinf(lo):
                return hi - lib.exp(u)
        return lo + (hi - lo) * _sigmoid(u)

    def unconstrain(self, x: Any) -> Any:
        """Inverse of :meth:`constrain`; raises if ``x`` is outside the bounds."""
        lo, hi = self.lower, self.upper
        arr = np.asarray(x, dtype=float)
        if np.any(arr <= lo) or np.any(arr >= hi) or not np.all(np.isfinite(arr)):
            raise OptionError(
                f"parameter {self.name!r}: value {np.asarray(x).tolist()!r} is outside its "
                f"support ({lo}, {hi})"
            )
        if math.isinf(lo) and math.isinf(hi):
            return arr
        if math.isinf(hi):
            return np.log(arr - lo)
        if math.isinf(lo):
            return np.log(hi - arr)
        p = (arr - lo) / (hi - lo)
        return np.log(p) - np.log1p(-p)

    def log_abs_det_jacobian(self, u: Any) -> Any:
        """Elementwise ``log|dx/du|`` at unconstrained ``u`` (same type as ``u``)."""
        lo, hi = self.lower, self.upper
        lib = _lib(u)
        if math.isinf(lo) and math.isinf(hi):
            return u * 0.0
        if math.isinf(lo) or math.isinf(hi):
            return u
        # log sigmoid(u) + log sigmoid(-u) written stably
        return math.log(hi - lo) - lib.abs(u) - 2.0 * lib.log1p(lib.exp(-lib.abs(u)))

    def grad_log_abs_det_jacobian(self, u: np.ndarray) -> np.ndarray:
        """Elementwise derivative of :meth:`log_abs_det_jacobian` (numpy only)."""
        lo, hi = self.lower, self.upper
        u = np.asarray(u, dtype=float)
        if math.isinf(lo) and math.isinf(hi):
            return np.zeros_like(u)
        if math.isinf(lo) or math.isinf(hi):
            return np.ones_like(u)
        return 1.0 - 2.0 * _sigmoid(u)

    def dconstrain(self, u: np.ndarray) -> np.ndarray:
        """Elementwise ``dx/du`` (numpy), used for delta-method standard errors
        (``inf`` without a warning where it overflows)."""
        with np.errstate(over="ignore"):
            return np.exp(self.log_abs_det_jacobian(np.asarray(u, dtype=float)))


def _lib(x: Any) -> Any:
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _sigmoid(u: Any) -> Any:
    if type(u).__module__.startswith("torch"):
        import torch

        return torch.sigmoid(u)
    from scipy.special import expit

    return expit(u)


@dataclass(frozen=True)
class ParameterSet:
    """An ordered collection of :class:`Parameter` with flatten/unflatten helpers.

    The flat unconstrained vector ``u`` is what optimizers and the Laplace approximation
    work on; ``constrain(u)`` returns a dict ``name -> value`` on the parameter scale.

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.parameters import Parameter, ParameterSet
    >>> params = ParameterSet([Parameter("b", lower=0.0), Parameter("q", lower=0.0, upper=1.0)])
    >>> params.names, params.dim
    (['b', 'q'], 2)
    >>> params.unconstrain({"b": 1.0, "q": 0.5}).tolist()
    [0.0, 0.0]
    >>> {k: round(float(v), 3) for k, v in params.constrain(np.array([0.0, 2.0])).items()}
    {'b': 1.0, 'q': 0.881}
    """

    parameters: tuple[Parameter, ...]
    _index: dict[str, slice] = field(init=False, repr=False, compare=False)

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        object.__setattr__(self, "parameters", tuple(parameters))
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise OptionError(f"duplicate parameter names in {names}")
        index, start = {}, 0
        for p in self.parameters:
            index[p.name] = slice(start, start + p.size)
            start += p.size
        object.__setattr__(self, "_index", index)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(
            f"Unknown parameter name: {name}. Available parameters are {', '.join(self.names)}"
        )

    @property
    def names(self) -> list[str]:
        """Parameter names in declaration order."""
        return [p.name for p in self.parameters]

    @property
    def dim(self) -> int:
        """Length of the flat unconstrained vector."""
        return sum(p.size for p in self.parameters)

    def element_names(self) -> list[str]:
        """Names of all scalar elements in flat order."""
        return [n for p in self.parameters for n in p.element_names()]

    def split(self, u: Any) -> dict[str, Any]:
        """Split a flat vector (numpy or torch; last axis) into named, shaped pieces."""
        out = {}
        for p in self.parameters:
            piece = u[..., self._index[p.name]]
            out[p.name] = piece.reshape(tuple(piece.shape[:-1]) + tuple(p.shape))
        return out

    def constrain(self, u: Any) -> dict[str, Any]:
        """Flat unconstrained vector(s) -> dict of parameter values (numpy or torch)."""
        parts = self.split(u)
        return {p.name: p.constrain(parts[p.name]) for p in self.parameters}

    def log_abs_det_jacobian(self, u: Any) -> Any:
        """Total log-Jacobian of the transform at ``u`` (summed over the last axis)."""
        parts = self.split(u)
        total = 0.0
        for p in self.parameters:
            j = p.log_abs_det_jacobian(parts[p.name])
            total = total + j.reshape((*j.shape[: j.ndim - len(p.shape)], -1)).sum(-1)
        return total

    def grad_log_abs_det_jacobian(self, u: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`log_abs_det_jacobian` with respect to flat ``u`` (numpy)."""
        u = np.asarray(u, dtype=float)
        g = np.empty_like(u)
        for p in self.parameters:
            g[..., self._index[p.name]] = p.grad_log_abs_det_jacobian(u[..., self._index[p.name]])
        return g

    def dconstrain(self, u: np.ndarray) -> np.ndarray:
        """Elementwise ``dx/du`` for the flat vector (diagonal of the transform's Jacobian)."""
        u = np.asarray(u, dtype=float)
        d = np.empty_like(u)
        for p in self.parameters:
            d[..., self._index[p.name]] = p.dconstrain(u[..., self._index[p.name]])
        return d

    def unconstrain(self, values: Mapping[str, Any]) -> np.ndarray:
        """Dict of parameter values -> flat unconstrained vector; names every missing key."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise OptionError(
                f"missing values for parameter(s) {', '.join(missing)}; "
                f"expected {', '.join(self.names)}"
            )
        pieces = []
        for p in self.parameters:
            x = np.asarray(values[p.name], dtype=float)
            if x.shape != p.shape:
                raise OptionError(
                    f"parameter {p.name!r}: value has shape {x.shape}, expected {p.shape}"
                )
            pieces.append(np.ravel(p.unconstrain(x)))
        return np.concatenate(pieces) if pieces else np.zeros(0)

    def flatten(self, values: Mapping[str, Any]) -> np.ndarray:
        """Dict of values on the parameter scale -> flat vector (no transform)."""
        return np.concatenate([np.ravel(np.asarray(values[p.name], float)) for p in self])
