"""Saving a :class:`~pystats.fit.Fit` to one NetCDF file and loading it back.

The file (HDF5-based NetCDF-4, written with the ``h5netcdf`` engine) holds

=========================  ==============================================================
group                      content
=========================  ==============================================================
``/`` (attributes)         ``pystats_format``/``pystats_format_version``; the model family,
                           class and options (JSON); method, backend, tree-depth limit;
                           the parameter definitions (names, bounds, shapes); the point
                           estimate, optimizer report, metadata, data summary and the
                           scalar data values (JSON); the data hash; the pystats version
                           that wrote the file; the names of the groups written
``posterior``              ``fit.draws`` ``(chain, draw, *shape)``
``sample_stats``           ``fit.sample_stats`` (NUTS)
``observed_data``          ``fit.data.observed``
``pystats_data``           the array entries of ``fit.data.values``
``pystats_covariance``     ``cov`` and ``cov_unconstrained``
=========================  ==============================================================

The group names follow arviz, so ``arviz.from_netcdf`` can read the draws of a saved fit
(it warns about the two ``pystats_`` groups).  JSON values keep their Python types through
tags for tuples, numpy arrays, numpy scalars and datetimes; array variables keep their
dtype through a ``pystats_dtype`` attribute.

References
----------
Rew, R. and Davis, G. (1990). NetCDF: an interface for scientific data access. IEEE
Computer Graphics and Applications, 10(4), 76-82. https://doi.org/10.1109/38.56302
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError, FitFileError, OptionError, PystatsError

if TYPE_CHECKING:
    import xarray as xr

    from .fit import Fit
    from .parameters import ParameterSet

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save_fit"]

FORMAT = "pystats.fit"
FORMAT_VERSION = 1
_ENGINE = "h5netcdf"


# ---------------------------------------------------------------------- JSON codec
class _Unserialisable(TypeError):
    def __init__(self, where: str, value: Any) -> None:
        super().__init__(where)
        self.where = where
        self.value = value


def _encode(obj: Any, where: str) -> Any:
    """``obj`` as JSON-able data; tuples, arrays, numpy scalars and datetimes are tagged."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if type(obj) in (int, float):
        return obj
    if isinstance(obj, np.generic):
        if obj.dtype.kind not in "biufU":
            raise _Unserialisable(where, obj)
        return {"__np_scalar__": obj.item(), "dtype": obj.dtype.str}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufU":
            raise _Unserialisable(where, obj)
        return {"__ndarray__": obj.tolist(), "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if not all(isinstance(k, str) for k in obj):
            raise _Unserialisable(where, obj)
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, PurePath):
        return {"__path__": str(obj)}
    if isinstance(obj, _dt.datetime):
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, _dt.date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, int | float):  # subclasses of int and float (not bool): plain value
        return int(obj) if isinstance(obj, int) else float(obj)
    raise _Unserialisable(where, obj)


def _decode_hook(d: dict[str, Any]) -> Any:
    keys = set(d)
    if keys == {"__tuple__"}:
        return tuple(d["__tuple__"])
    if keys == {"__ndarray__", "dtype", "shape"}:
        return np.array(d["__ndarray__"], dtype=np.dtype(d["dtype"])).reshape(d["shape"])
    if keys == {"__np_scalar__", "dtype"}:
        return np.dtype(d["dtype"]).type(d["__np_scalar__"])
    if keys == {"__path__"}:
        return Path(d["__path__"])
    if keys == {"__datetime__"}:
        return _dt.datetime.fromisoformat(d["__datetime__"])
    if keys == {"__date__"}:
        return _dt.date.fromisoformat(d["__date__"])
    return d


def _dumps(obj: Any, where: str) -> str:
    return json.dumps(_encode(obj, where), allow_nan=True)


def _loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode_hook)


def _dumps_or(obj: Any, where: str, error: type[PystatsError], what: str) -> str:
    try:
        return _dumps(obj, where)
    except _Unserialisable as e:
        raise error(
            f"{what} {e.where} = {e.value!r} (type {type(e.value).__name__}) cannot be saved; "
            "allowed are numbers, strings, booleans, None, lists, tuples, dicts with string "
            "keys, numpy numeric/string arrays and scalars, datetimes and paths"
        ) from None


# ---------------------------------------------------------------------- arrays
def _dataset(arrays: Mapping[str, Any], leading: tuple[str, ...] = ()) -> xr.Dataset:
    import xarray as xr

    variables = {}
    for name, value in arrays.items():
        arr = np.asarray(value)
        dims = [*leading, *(f"{name}_dim_{i}" for i in range(arr.ndim - len(leading)))]
        variables[name] = xr.Variable(dims, arr, attrs={"pystats_dtype": arr.dtype.str})
    return xr.Dataset(variables)


def _arrays(ds: xr.Dataset) -> dict[str, np.ndarray]:
    out = {}
    for name, var in ds.data_vars.items():
        arr = np.asarray(var.values)
        dtype = var.attrs.get("pystats_dtype")
        if dtype is not None and arr.dtype.str != dtype:
            arr = arr.astype(np.dtype(dtype))
        out[str(name)] = arr
    return out


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    return {
        name: {"zlib": True, "complevel": 4}
        for name, var in ds.data_vars.items()
        if var.dtype.kind in "biuf" and var.ndim > 0
    }


# ---------------------------------------------------------------------- save
def _constructor_options(model: Any) -> dict[str, Any]:
    """The keyword arguments that rebuild ``model``.

    ``model.init_options`` (the arguments as the user passed them) when the model keeps
    them, else the validated ``model.options``.
    """
    given = getattr(model, "init_options", None)
    return dict(model.options if given is None else given)


def _encode_options(model: Any) -> dict[str, Any]:
    """JSON-able constructor options of ``model``, checked to rebuild an equal model."""
    cls = type(model)
    options = {}
    for key, value in _constructor_options(model).items():
        try:
            options[key] = _encode(value, key)
        except _Unserialisable as e:
            raise OptionError(
                f"model option {key!r} = {value!r} (type {type(value).__name__}) is not "
                "JSON-serialisable, so the fit cannot be saved; use numbers, strings, "
                "booleans, None, lists, tuples, dicts or numpy arrays"
                + ("" if e.where == key else f" (offending element {e.where})")
            ) from None
    # Check now, while the user can still act, that load() will rebuild the same model.
    text = json.dumps(options, allow_nan=True)
    try:
        rebuilt = cls(**_loads(text))
        same = _dumps(dict(rebuilt.options), "options") == _dumps(dict(model.options), "options")
    except (PystatsError, _Unserialisable, TypeError, ValueError) as e:
        raise OptionError(
            f"{cls.__name__}(**options) cannot rebuild this model from its saved options "
            f"({type(e).__name__}: {e}), so a saved fit could not be loaded; the family's "
            "option validation must accept its own output (or the model must keep "
            "'init_options')"
        ) from e
    if not same:
        raise OptionError(
            f"{cls.__name__}(**options) rebuilds a model with different options from the "
            "saved ones, so a saved fit would not load as the same model"
        )
    return options


def _root_attrs(fit: Fit) -> dict[str, Any]:
    import pystats

    model = fit.model
    cls = type(model)
    family = getattr(cls, "family", None)
    if family is None:
        raise OptionError(
            f"model class {cls.__name__} has no 'family' name, so a saved fit could not be "
            "rebuilt; set the class attribute 'family'"
        )
    options = _encode_options(model)
    definition = [
        {
            "name": p.name,
            "lower": p.lower,
            "upper": p.upper,
            "shape": list(p.shape),
            "description": p.description,
        }
        for p in fit.parameters
    ]
    values = {k: v for k, v in fit.data.values.items() if not isinstance(v, np.ndarray)}
    point = None if fit.point is None else dict(fit.point)
    return {
        "pystats_format": FORMAT,
        "pystats_format_version": FORMAT_VERSION,
        "pystats_version": getattr(pystats, "__version__", "unknown"),
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "family": str(family),
        "model_class": f"{cls.__module__}:{cls.__qualname__}",
        "model_repr": repr(model),
        "options": json.dumps(options, allow_nan=True),
        "method": fit.method,
        "backend": fit.backend,
        "max_tree_depth": int(fit.max_tree_depth),
        "parameters": json.dumps(definition, allow_nan=True),
        "point": _dumps_or(point, "point", PystatsError, "point estimate"),
        "optimizer": _dumps_or(dict(fit.optimizer), "optimizer", PystatsError, "optimizer entry"),
        "metadata": _dumps_or(dict(fit.metadata), "metadata", PystatsError, "metadata entry"),
        "data_summary": _dumps_or(dict(fit.data.summary), "summary", DataError, "data"),
        "data_scalars": _dumps_or(values, "values", DataError, "data"),
        "data_order": json.dumps(list(fit.data.values)),
        "data_hash": fit.data.hash,
    }


def save_fit(fit: Fit, path: str | os.PathLike[str]) -> Path:
    """Write ``fit`` to one NetCDF file at ``path`` (overwritten atomically).

    Parameters
    ----------
    fit : Fit
        The fit to save; it is not modified.
    path : str or path-like
        Destination, conventionally ``*.nc``.  Parent folders must exist.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OptionError
        If a model option is not JSON-serialisable (the message names it).
    DataError
        If a data summary or scalar data value cannot be stored.
    """
    import xarray as xr

    path = Path(path)
    attrs = _root_attrs(fit)  # every check before touching the disk
    groups: list[tuple[str, xr.Dataset]] = []
    if fit.draws:
        groups.append(("posterior", _dataset(fit.draws, ("chain", "draw"))))
    if fit.sample_stats:
        groups.append(("sample_stats", _dataset(fit.sample_stats, ("chain", "draw"))))
    if fit.data.observed:
        groups.append(("observed_data", _dataset(fit.data.observed)))
    arrays = {k: v for k, v in fit.data.values.items() if isinstance(v, np.ndarray)}
    if arrays:
        groups.append(("pystats_data", _dataset(arrays)))
    cov = {k: getattr(fit, k) for k in ("cov", "cov_unconstrained") if getattr(fit, k) is not None}
    if cov:
        groups.append(
            (
                "pystats_covariance",
                xr.Dataset({k: xr.Variable(("row", "column"), v) for k, v in cov.items()}),
            )
        )
    attrs["groups"] = json.dumps([name for name, _ in groups])

    def write(tmp: Path) -> None:
        xr.Dataset(attrs=attrs).to_netcdf(tmp, mode="w", engine=_ENGINE)
        for name, ds in groups:
            ds.to_netcdf(tmp, mode="a", group=name, engine=_ENGINE, encoding=_encoding(ds))

    return write_atomic(path, write)


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it onto ``path``
    (``os.replace``): a reader never sees a half-written file, and a failed write leaves
    the old file as it was.  Used by every ``save`` of the package."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


# ---------------------------------------------------------------------- load
RESULT_FORMATS: dict[str, str] = {
    "pystats.processes": "pystats.compositional.processes:ProcessesResult",
}
"""Other saved results ``pystats.load`` reads: ``pystats_format`` -> ``"module:Class"``;
the class's ``from_file(path)`` reads the file (its ``save`` writes it)."""

_READ_ERRORS = (OSError, RuntimeError, KeyError, IndexError, TypeError, ValueError,
                AttributeError, UnicodeDecodeError)
"""What h5py, h5netcdf, xarray and json raise on damaged content (turned into FitFileError)."""

_MISSING = object()


def _not_a_fit(path: Path, why: str) -> FitFileError:
    return FitFileError(f"{str(path)!r} is not a pystats fit file: {why}")


def _damaged(path: Path, why: str) -> FitFileError:
    return FitFileError(f"{str(path)!r} is a damaged pystats fit file: {why}")


def _read_layout(path: Path) -> tuple[dict[str, Any], set[str]]:
    import h5netcdf

    try:
        with h5netcdf.File(path, "r") as f:
            return dict(f.attrs), set(f.groups)
    except _READ_ERRORS as e:
        raise _not_a_fit(path, f"it cannot be read as NetCDF-4/HDF5 ({_cause(e)})") from e


def _cause(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


def _attr(path: Path, attrs: Mapping[str, Any], name: str, kind: type | tuple[type, ...],
          what: str, *, tagged: bool = True, default: Any = _MISSING) -> Any:
    """Root attribute ``name`` decoded from JSON, checked to be a ``kind`` (``what``)."""
    if name not in attrs:
        if default is not _MISSING:
            return default
        raise _damaged(path, f"attribute {name!r} is missing")
    text = str(attrs[name])
    try:
        value = _loads(text) if tagged else json.loads(text)
    except _READ_ERRORS as e:
        raise _damaged(path, f"attribute {name!r} is not valid JSON ({_cause(e)})") from e
    if not isinstance(value, kind):
        raise _damaged(
            path, f"attribute {name!r} holds {type(value).__name__} {text[:60]!r}, not {what}"
        )
    return value


def _text_attr(path: Path, attrs: Mapping[str, Any], name: str) -> str:
    if name not in attrs:
        raise _damaged(path, f"attribute {name!r} is missing")
    value = attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str) or not value:
        raise _damaged(path, f"attribute {name!r} = {value!r:.60} is not a non-empty string")
    return value


def _int_attr(path: Path, attrs: Mapping[str, Any], name: str, default: int) -> int:
    value = attrs.get(name, default)
    try:
        number = int(str(value))
    except ValueError:
        raise _damaged(path, f"attribute {name!r} = {value!r:.60} is not an integer") from None
    return number


def _model_class(path: Path, family: str, where: str) -> type:
    from .model import family_class

    module = where.split(":", 1)[0]
    if module.split(".", 1)[0] == "pystats" and module not in sys.modules:
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise FitFileError(
                f"{str(path)!r} holds a fit of model family {family!r} whose module "
                f"{module!r} cannot be imported: {e}"
            ) from e
    try:
        return family_class(family)
    except OptionError as e:
        raise FitFileError(
            f"{str(path)!r} holds a fit of model family {family!r}, which is not available "
            f"in this session (class {where}); import the module that defines it first"
        ) from e


def _parameters(path: Path, definition: list[Any]) -> ParameterSet:
    from .parameters import Parameter, ParameterSet

    out = []
    for i, d in enumerate(definition):
        try:
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                raise TypeError("not a mapping with a 'name'")
            shape = d["shape"]
            if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
            ):
                raise TypeError(f"shape {shape!r} is not a list of sizes")
            out.append(Parameter(name=d["name"], lower=float(d["lower"]),
                                 upper=float(d["upper"]), shape=tuple(shape),
                                 description=str(d.get("description", ""))))
        except (PystatsError, *_READ_ERRORS) as e:
            raise _damaged(
                path, f"attribute 'parameters', entry {i} ({str(d)[:80]}): {_cause(e)}"
            ) from e
    try:
        return ParameterSet(out)
    except (PystatsError, *_READ_ERRORS) as e:
        raise _damaged(path, f"attribute 'parameters': {_cause(e)}") from e


def _check_arrays(path: Path, group: str, arrays: Mapping[str, np.ndarray],
                  lead: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """Numeric arrays sharing the leading ``(chain, draw)`` axes; returns those axes."""
    for name, arr in arrays.items():
        if arr.dtype.kind not in "biuf":
            raise _damaged(path, f"group {group!r}: variable {name!r} holds {arr.dtype} "
                                 "values, not numbers")
        if arr.ndim < 2 or (lead is not None and arr.shape[:2] != lead):
            want = "(chain, draw, ...)" if lead is None else f"{lead} + the parameter's shape"
            raise _damaged(path, f"group {group!r}: variable {name!r} has shape {arr.shape}, "
                                 f"not {want}")
        lead = arr.shape[:2]
    return lead


def _check_fit_parts(path: Path, method: str, parameters: ParameterSet,
                     point: Mapping[str, Any] | None, draws: Mapping[str, np.ndarray],
                     sample_stats: Mapping[str, np.ndarray],
                     cov: Mapping[str, np.ndarray]) -> None:
    """``method`` is known; the estimates have the shapes of the parameter definitions."""
    from .model import METHODS

    if method not in METHODS:
        raise _damaged(path, f"attribute 'method' = {method!r} is not one of "
                             f"{', '.join(METHODS)}")
    for p in parameters:
        if point is not None and p.name in point and np.shape(point[p.name]) != p.shape:
            raise _damaged(path, f"attribute 'point': {p.name!r} has shape "
                                 f"{np.shape(point[p.name])}, not {p.shape}")
    lead = _check_arrays(path, "posterior", draws, None)
    _check_arrays(path, "sample_stats", sample_stats, lead)
    if draws:
        for p in parameters:
            if p.name not in draws:
                raise _damaged(path, f"group 'posterior' lacks parameter {p.name!r}")
            if draws[p.name].shape[2:] != p.shape:
                raise _damaged(path, f"group 'posterior': variable {p.name!r} has shape "
                                     f"{draws[p.name].shape}, not (chain, draw) + {p.shape}")
    for name, matrix in cov.items():
        if matrix.dtype.kind not in "biuf" or matrix.shape != (parameters.dim,) * 2:
            raise _damaged(path, f"group 'pystats_covariance': {name!r} has shape "
                                 f"{matrix.shape} ({matrix.dtype}), not {parameters.dim} x "
                                 f"{parameters.dim} numbers")


def load(path: str | os.PathLike[str]) -> Any:
    """Load a fit written by :meth:`Fit.save` (``pystats.load``).

    Files of the other result kinds in :data:`RESULT_FORMATS` (by their
    ``pystats_format`` attribute) are read by their class's ``from_file``.

    The model is rebuilt from its family name and options, the data from the stored
    values, so the returned fit summarises, predicts and reports like the original.

    Parameters
    ----------
    path : str or path-like
        A file written by :meth:`Fit.save`.

    Returns
    -------
    Fit

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    FitFileError
        (a :class:`~pystats.errors.DataError`) If the file is not a pystats fit, is
        truncated or damaged (the message names the file and the attribute, group or array
        at fault), was written by a newer format version, its model family is not
        available, or its data do not match the stored hash.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    try:
        return _load(path)
    except PystatsError:
        raise
    except _READ_ERRORS as e:  # anything the checks above did not foresee
        raise _damaged(path, _cause(e)) from e


def _load(path: Path) -> Any:
    import xarray as xr

    from .fit import Fit
    from .model import PreparedData

    attrs, groups = _read_layout(path)
    kind = attrs.get("pystats_format")
    if isinstance(kind, str) and kind in RESULT_FORMATS:
        module, name = RESULT_FORMATS[kind].split(":")
        return getattr(importlib.import_module(module), name).from_file(path)
    if attrs.get("pystats_format") != FORMAT:
        raise _not_a_fit(
            path, f"attribute pystats_format is {attrs.get('pystats_format')!r}, not {FORMAT!r}"
        )
    version = _int_attr(path, attrs, "pystats_format_version", -1)
    if not 1 <= version <= FORMAT_VERSION:
        raise _not_a_fit(
            path,
            f"format version {version} is not supported (this pystats reads 1..{FORMAT_VERSION})",
        )
    written = _attr(path, attrs, "groups", list, "a list of group names", default=None)
    if written is not None:
        lost = [g for g in written if g not in groups]
        if lost:
            raise _damaged(path, f"group(s) {', '.join(map(repr, lost))} missing (the file "
                                 f"was written with {', '.join(map(repr, written))})")

    def group(name: str) -> dict[str, np.ndarray]:
        if name not in groups:
            return {}
        try:
            with warnings.catch_warnings():
                # h5netcdf's note on variables without dimensions (only in damaged files)
                warnings.filterwarnings("ignore", message=".*phony_dims", category=UserWarning)
                with xr.open_dataset(path, group=name, engine=_ENGINE) as ds:
                    return _arrays(ds.load())
        except _READ_ERRORS as e:
            raise _damaged(path, f"group {name!r} cannot be read ({_cause(e)})") from e

    family = _text_attr(path, attrs, "family")
    model_class = _text_attr(path, attrs, "model_class")
    method = _text_attr(path, attrs, "method")
    backend = _text_attr(path, attrs, "backend")
    max_tree_depth = _int_attr(path, attrs, "max_tree_depth", 10)
    options = _attr(path, attrs, "options", dict, "a mapping of option names to values")
    definition = _attr(path, attrs, "parameters", list, "a list of parameter definitions",
                       tagged=False)
    point = _attr(path, attrs, "point", (dict, type(None)), "a mapping or null")
    optimizer = _attr(path, attrs, "optimizer", dict, "a mapping")
    metadata = _attr(path, attrs, "metadata", dict, "a mapping")
    summary = _attr(path, attrs, "data_summary", dict, "a mapping")
    scalars = _attr(path, attrs, "data_scalars", dict, "a mapping")
    order = _attr(path, attrs, "data_order", list, "a list of names", tagged=False,
                  default=[])
    data_hash = _text_attr(path, attrs, "data_hash")

    cls = _model_class(path, family, model_class)
    try:
        model = cls(**options)
    except (PystatsError, TypeError, ValueError) as e:
        raise _damaged(
            path, f"attribute 'options' ({str(attrs['options'])[:80]}) no longer builds a "
            f"{cls.__name__}: {_cause(e)}"
        ) from e

    values = {**group("pystats_data"), **scalars}
    absent = [str(k) for k in order if k not in values]
    if absent:
        raise _damaged(path, f"data value(s) {', '.join(absent)} missing (group "
                             "'pystats_data' or attribute 'data_scalars')")
    values = {k: values[k] for k in dict.fromkeys([*order, *values])}
    data = PreparedData(values=values, observed=group("observed_data"), summary=summary)
    if data.hash != data_hash:
        raise _damaged(path, f"the stored data do not match the stored data hash {data_hash}")
    parameters = _parameters(path, definition)
    draws, sample_stats = group("posterior"), group("sample_stats")
    cov = group("pystats_covariance")
    _check_fit_parts(path, method, parameters, point, draws, sample_stats, cov)
    if max_tree_depth < 1:
        raise _damaged(path, f"attribute 'max_tree_depth' = {max_tree_depth} is not >= 1")
    return Fit(
        model=model,
        data=data,
        method=method,
        backend=backend,
        parameters=parameters,
        point=point,
        cov=cov.get("cov"),
        cov_unconstrained=cov.get("cov_unconstrained"),
        draws=draws,
        sample_stats=sample_stats,
        optimizer=optimizer,
        max_tree_depth=max_tree_depth,
        metadata=metadata,
    )
