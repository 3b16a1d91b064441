"""The PyTorch engine: the family's torch likelihood with autograd gradients and Hessians."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..errors import BackendUnavailableError, OptionError
from .base import Backend, LogDensity
from .threads import current_fit_threads

if TYPE_CHECKING:
    from ..model import Model, PreparedData
    from ..parameters import ParameterSet

__all__ = ["TorchBackend", "TorchLogDensity", "resolve_device", "to_tensors"]

DEVICES = ("cpu", "cuda", "auto")
"""Device names of ``device=`` (plus ``"cuda:N"`` and a ``torch.device`` of type cpu or cuda)."""

_DEVICE_ALLOWED = "'cpu', 'cuda', 'cuda:N' (N = 0, 1, ...), 'auto' or a torch.device of those"

VMAP_HESSIAN_MAX = 5_000_000
"""Largest ``data entries x parameters`` for a vmapped Hessian: its memory grows with both;
larger problems take the row loop (no slower there: the operations are large already)."""
BATCH_ROWS = 128
"""Rows per torch call of :meth:`TorchLogDensity.values` for batched likelihoods."""


def resolve_device(device: Any) -> Any:
    """Turn ``"cpu" | "cuda" | "cuda:N" | "auto"`` (or a ``torch.device``) into a ``torch.device``.

    The one reader of ``device=`` in pystats: ``fit(device=...)`` (the torch backend) and
    the likelihood functions of :mod:`pystats.etas` use it.  ``auto`` picks CUDA when
    available, else the CPU.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"``, or a ``torch.device`` of type
        ``cpu`` or ``cuda``.

    Returns
    -------
    torch.device

    Raises
    ------
    OptionError
        For anything else (the message names the value and what is allowed).
    BackendUnavailableError
        When CUDA, or CUDA device ``N``, is asked for and not available.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("tpu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pystats.errors.OptionError: device='tpu' is not allowed; use 'cpu', 'cuda', 'cuda:N' ...
    """
    import torch

    if isinstance(device, torch.device):
        kind, index = device.type, device.index
    elif isinstance(device, str) and device in DEVICES:
        kind, index = device, None
    elif (isinstance(device, str) and device.startswith("cuda:")
          and device[5:].isdigit() and device[5:].isascii()):
        kind, index = "cuda", int(device[5:])
    else:
        kind, index = "", None
    if kind not in DEVICES:
        raise OptionError(f"device={device!r} is not allowed; use {_DEVICE_ALLOWED}")
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise BackendUnavailableError(
            f"device={device!r} was requested but torch.cuda.is_available() is False "
            f"(torch {torch.__version__}); use device='cpu' or 'auto'"
        )
    if index is not None and index >= torch.cuda.device_count():
        raise BackendUnavailableError(
            f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA "
            "device(s) are visible; use 'cuda' or 'cuda:N' with N below that"
        )
    return torch.device("cuda", index) if index is not None else torch.device("cuda")


def to_tensors(values: dict[str, Any], device: Any) -> dict[str, Any]:
    """Arrays -> torch tensors on ``device`` (floats as float64, ints as int64, bools as bool).

    Python scalars and strings are passed through unchanged.
    """
    import torch

    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "f":
                out[k] = torch.as_tensor(np.array(v, dtype=np.float64), device=device)
            elif v.dtype.kind in "iu":
                out[k] = torch.as_tensor(np.array(v, dtype=np.int64), device=device)
            elif v.dtype.kind == "b":
                out[k] = torch.as_tensor(np.array(v), device=device)
            else:
                out[k] = v
        else:
            out[k] = v
    return out


class TorchLogDensity(LogDensity):
    """``log p(data | theta) [+ log p(theta)] [+ log|J|]`` at unconstrained ``u``, in torch.

    Gradients come from autograd; :meth:`hessian` is the exact autograd Hessian.  Inside
    ``Model.fit`` the number of torch threads follows the fit's policy
    (:mod:`pystats.backends.threads`), re-checked after each evaluation.

    Examples
    --------
    The gradient of the log likelihood vanishes at the closed-form MLE:

    >>> import numpy as np, pystats
    >>> from pystats.backends import TorchBackend
    >>> from pystats.gr.distributions import simulate_gr
    >>> model = pystats.GutenbergRichter(mc=2.0)
    >>> m = simulate_gr(500, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> mle = model.fit(m)
    >>> density = TorchBackend().log_density(model, mle.data, include_prior=False)
    >>> u = mle.parameters.unconstrain(mle.point)
    >>> lp, grad = density.value_and_grad(u, jacobian=False)
    >>> bool(np.all(np.abs(grad) < 1e-6))
    True
    """

    def __init__(
        self,
        model: Model,
        data: PreparedData,
        params: ParameterSet,
        *,
        include_prior: bool,
        device: Any,
    ) -> None:
        self.model = model
        self.params = params
        self.include_prior = include_prior
        self.device = device
        self.dim = params.dim
        self._threads = current_fit_threads()
        if self._threads is not None:
            self._threads.activate()
        self.tensors = to_tensors(dict(data.values), device)
        self._data = data

    @property
    def info(self) -> dict[str, Any]:
        """Fit metadata: ``torch_threads``, the most intra-op threads the fit used."""
        if self._threads is None or not self._threads.used:
            return {}
        return {"torch_threads": max(self._threads.used)}

    def _log_density(self, u: Any, jacobian: bool) -> Any:
        theta = self.params.constrain(u)
        out = self.model.log_likelihood_torch(theta, self.tensors)
        if self.include_prior:
            out = out + self.model.log_prior_torch(theta, self.tensors)
        if jacobian:
            out = out + self.params.log_abs_det_jacobian(u)
        return out

    def value_and_grad(self, u: np.ndarray, jacobian: bool) -> tuple[float, np.ndarray]:
        import torch

        if self._threads is not None:
            self._threads.tick()
        ut = torch.tensor(np.asarray(u, dtype=np.float64), device=self.device, requires_grad=True)
        value = self._log_density(ut, jacobian)
        if not bool(torch.isfinite(value)):
            return -np.inf, np.zeros(self.dim)
        (grad,) = torch.autograd.grad(value, ut)
        g = grad.detach().cpu().numpy()
        if not np.all(np.isfinite(g)):
            return -np.inf, np.zeros(self.dim)
        return float(value.detach().cpu()), g

    def values(self, us: np.ndarray, jacobian: bool) -> np.ndarray:
        """Log density at each row of ``us``; in batches of :data:`BATCH_ROWS` rows per torch
        call when the model's likelihood and prior broadcast over a leading axis
        (:attr:`~pystats.model.Model.batched_torch_likelihood`), else row by row."""
        import torch

        if not getattr(self.model, "batched_torch_likelihood", False):
            return super().values(us, jacobian)
        us = np.asarray(us, dtype=float)
        if us.ndim != 2 or us.shape[1] != self.dim:
            raise OptionError(f"us has shape {us.shape}; expected (n, {self.dim})")
        out = np.empty(us.shape[0])
        with torch.no_grad():
            for i in range(0, us.shape[0], BATCH_ROWS):
                ut = torch.as_tensor(us[i:i + BATCH_ROWS], device=self.device)
                out[i:i + BATCH_ROWS] = self._log_density(ut, jacobian).cpu().numpy()
        return np.where(np.isfinite(out), out, -np.inf)

    def hessian(self, u: np.ndarray, jacobian: bool) -> np.ndarray:
        """Exact autograd Hessian at ``u``.

        Both ways build the gradient's graph once and take the rows as backward passes
        through it.  For a model with :attr:`~pystats.model.Model.batched_torch_likelihood`
        and at most :data:`VMAP_HESSIAN_MAX` data entries x parameters, all rows in one
        vmapped pass (``is_grads_batched``; Miyagi day 1 aftershock GP, 33 parameters: 36 ms
        against 50 ms for ``torch.autograd.functional.hessian(vectorize=True)`` and 300 ms
        row by row); otherwise, or when vmap lacks an operation, one pass per row, which is
        also faster for large data (1e5 aftershock events: 1.2 s CPU row by row, 2.4 s in
        vmapped chunks of 12 rows).  Both give the same matrix (tested).  A model whose
        :meth:`~pystats.model.Model.log_likelihood_jets_torch` gives the likelihood's
        derivatives takes neither: autograd then runs through a quadratic with them
        (ETAS at 1e6 events: 6.9 s CPU and +0.4 GB against 10.1 s and +1.1 GB, loaded).
        """
        import torch

        ut = torch.tensor(np.asarray(u, dtype=np.float64), device=self.device,
                          requires_grad=True)
        h = self._hessian_from_jets(ut, jacobian)
        structure = self._structure() if h is None else None
        if structure is not None:
            h = self._hessian_coloured(ut, jacobian, *structure)
        elif h is None and getattr(self.model, "batched_torch_likelihood", False) and self.dim:
            entries = sum(int(t.numel()) for t in self.tensors.values() if torch.is_tensor(t))
            try:
                if entries * self.dim <= VMAP_HESSIAN_MAX:
                    h = self._hessian_rows(ut, jacobian, self.dim)
            except (RuntimeError, NotImplementedError):
                h = None
        if h is None:
            h = self._hessian_rows(ut, jacobian, 0)
        h = h.detach().cpu().numpy()
        return 0.5 * (h + h.T)

    def _structure(self) -> tuple[Any, ...] | None:
        """The model's :meth:`~pystats.model.Model.hessian_structure`, checked once: ``(colours,
        direct, pattern, n_colours, transform, inverse)`` (the last two ``None`` when the
        pattern holds in the parameters themselves) or ``None`` (none given, or not
        recoverable: then the dense Hessian is taken)."""
        if not hasattr(self, "_structure_cache"):
            self._structure_cache = None
            given = self.model.hessian_structure(self._data) if self._data is not None else None
            if given is not None:
                pattern = np.asarray(given[0], dtype=bool)
                colours = np.asarray(given[1], dtype=np.intp)
                transform = inverse = None
                if len(given) > 2 and given[2] is not None:
                    transform = np.asarray(given[2], dtype=float)
                    if transform.shape == (self.dim, self.dim):
                        inverse = np.linalg.inv(transform)
                usable = transform is None or inverse is not None
                if usable and pattern.shape == (self.dim, self.dim) \
                        and colours.shape == (self.dim,):
                    pattern = pattern | pattern.T | np.eye(self.dim, dtype=bool)
                    n_col = int(colours.max()) + 1 if colours.size else 0
                    onehot = np.zeros((self.dim, n_col))
                    onehot[np.arange(self.dim), colours] = 1.0
                    count = (pattern.astype(float) @ onehot)[:, colours]
                    direct = pattern & (count == 1)  # H[i, j] read in row i, column colour(j)
                    if np.all(~pattern | direct | direct.T) and n_col < self.dim:
                        self._structure_cache = (colours, direct, pattern, n_col, transform,
                                                 inverse)
        return self._structure_cache

    def _hessian_coloured(self, ut: Any, jacobian: bool, colours: np.ndarray,
                          direct: np.ndarray, pattern: np.ndarray, n_col: int,
                          transform: np.ndarray | None = None,
                          inverse: np.ndarray | None = None) -> Any:
        """The exact Hessian from one Hessian-vector product per colour (the products with
        the sum of each colour's unit vectors), each entry read where its column is the only
        one of its colour in the row (or, by symmetry, in the column).  With a
        ``transform`` ``T`` (the pattern holds in ``w = T u``): the products are
        ``A^T H_u A v`` with ``A = T^{-1}``, and ``H_u = T^T H_w T``."""
        import torch

        value = self._log_density(ut, jacobian)
        (grad,) = torch.autograd.grad(value, ut, create_graph=True)
        if not grad.requires_grad:
            return torch.zeros(self.dim, self.dim, dtype=ut.dtype, device=ut.device)
        col = torch.as_tensor(colours, device=ut.device)
        products = []
        for c in range(n_col):
            v = (col == c).to(ut.dtype)
            if inverse is not None:
                v = torch.as_tensor(inverse, dtype=ut.dtype, device=ut.device) @ v
            (hv,) = torch.autograd.grad(grad, ut, grad_outputs=v, retain_graph=True,
                                        allow_unused=True, materialize_grads=True)
            products.append(hv)
        b = torch.stack(products, 1).detach().cpu().numpy()
        if inverse is not None:
            b = inverse.T @ b
        b = b[:, colours]  # b[i, j] = (H v_c(j))_i
        h = np.where(direct, b, np.where(direct.T, b.T, 0.0))
        both = direct & direct.T
        h[both] = 0.5 * (b + b.T)[both]
        h = np.where(pattern, h, 0.0)
        if transform is not None:
            h = transform.T @ h @ transform
        return torch.as_tensor(h)

    def _hessian_from_jets(self, ut: Any, jacobian: bool) -> Any:
        """The Hessian from the model's :meth:`~pystats.model.Model.log_likelihood_jets_torch`
        (``None`` when it gives none): autograd through the quadratic with its value,
        gradient and Hessian in the constrained parameters, plus prior and Jacobian."""
        import torch

        theta = self.params.constrain(ut.detach())
        jets = self.model.log_likelihood_jets_torch(theta, self.tensors)
        if jets is None:
            return None
        _, g, hc = jets
        names = self.params.names

        def quadratic(u: Any, jac: bool) -> Any:
            th = self.params.constrain(u)
            x = torch.cat([torch.as_tensor(th[n]).reshape(-1) for n in names])
            d = x - x.detach()
            out = (g * d).sum() + 0.5 * (d @ (hc @ d))
            if self.include_prior:
                out = out + self.model.log_prior_torch(th, self.tensors)
            if jac:
                out = out + self.params.log_abs_det_jacobian(u)
            return out

        return self._hessian_rows(ut, jacobian, 0, quadratic)

    def _hessian_rows(self, ut: Any, jacobian: bool, chunk: int, fn: Any = None) -> Any:
        """Hessian rows from one gradient graph: vmapped in chunks of ``chunk`` rows, or
        (``chunk == 0``) one backward pass per row (of ``fn``, default the log density)."""
        import torch

        value = (fn or self._log_density)(ut, jacobian)
        (grad,) = torch.autograd.grad(value, ut, create_graph=True)
        if not grad.requires_grad:  # gradient constant in u: the Hessian is zero
            return torch.zeros(self.dim, self.dim, dtype=ut.dtype, device=ut.device)
        eye = torch.eye(self.dim, dtype=ut.dtype, device=ut.device)
        rows = []
        step = chunk if chunk > 0 else 1
        for i in range(0, self.dim, step):
            if chunk > 0:
                (block,) = torch.autograd.grad(grad, ut, grad_outputs=eye[i:i + step],
                                               retain_graph=True, is_grads_batched=True,
                                               allow_unused=True, materialize_grads=True)
            else:
                (row,) = torch.autograd.grad(grad, ut, grad_outputs=eye[i],
                                             retain_graph=True, allow_unused=True,
                                             materialize_grads=True)
                block = row[None]
            rows.append(block)
        return torch.cat(rows, 0)


class TorchBackend(Backend):
    """Optimisation and Laplace approximation on the family's PyTorch likelihood.

    Examples
    --------
    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(500, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> fit = pystats.GutenbergRichter(mc=2.0).fit(m, method="map", backend="torch", seed=1)
    >>> fit.backend, round(float(fit.estimate("b")), 1)
    ('torch', 1.0)
    """

    name: ClassVar[str] = "torch"
    capabilities: ClassVar[frozenset[str]] = frozenset({"optimize", "laplace"})

    @classmethod
    def check_available(cls) -> None:
        try:
            import torch  # noqa: F401
        except ImportError as e:
            raise BackendUnavailableError(
                "the torch backend needs PyTorch (pip install torch==2.13.0 for the CPU build)"
            ) from e

    def log_density(
        self, model: Model, data: PreparedData, *, include_prior: bool, device: str = "cpu"
    ) -> LogDensity:
        return TorchLogDensity(
            model,
            data,
            model.parameters(data),
            include_prior=include_prior,
            device=resolve_device(device),
        )
