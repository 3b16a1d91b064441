"""What both Stan engines share about a program: loading, hashing, data and parameters.

Both Stan engines (:mod:`pystats.backends.pystan` and :mod:`pystats.backends.cmdstan`)
read programs through :func:`load_program`; :attr:`StanProgram.hash` is the key of the
compile cache (:mod:`pystats.backends.stan_cache`) and covers the program text *and its
includes*, the engine, the engine version and the compiler options.

``#include`` lines are expanded when a program is loaded: :attr:`StanProgram.code` is one
self-contained text (httpstan's compiler takes no include path), and hashing it covers the
included files.  Each expansion is framed by begin/end
comments (``// ---- begin included file NAME ----``), so line numbers in Stan's error
messages refer to the expanded text.

The module also holds what the two engines share about a program's parameters:
:func:`parameter_layout` reads the ``parameters`` block and :func:`stan_order` maps the
flat unconstrained vector of a :class:`~pystats.parameters.ParameterSet` (C order within
arrays) to Stan's own order.  Stan serialises the unconstrained parameters variable by
variable; within a variable the *array* dimensions vary slowest (row-major) while the
elements of a ``vector``/``row_vector``/``matrix`` are column-major (Stan Reference Manual,
"Variable transforms"; checked against httpstan's ``write_array`` in the tests).  So an
``array[2, 3] real`` is already in C order, a ``matrix[2, 3]`` is not.

References
----------
Stan Development Team (2024). Stan Reference Manual, version 2.36, sections "Includes" and
"Constraint Transforms". https://mc-stan.org/docs/reference-manual/
Carpenter, B., Gelman, A., Hoffman, M. D., Lee, D., Goodrich, B., Betancourt, M.,
Brubaker, M., Guo, J., Li, P. and Riddell, A. (2017). Stan: A probabilistic programming
language. Journal of Statistical Software 76(1), 1-32. doi:10.18637/jss.v076.i01
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _checks
from ..errors import BackendError, CompilationError, OptionError

if TYPE_CHECKING:
    from ..model import Model, PreparedData
    from ..parameters import ParameterSet

__all__ = [
    "STAN_SAMPLE_STATS",
    "StanDeclaration",
    "StanProgram",
    "check_inits",
    "check_seed",
    "data_hash",
    "finite_or_minus_inf",
    "load_program",
    "parameter_layout",
    "sample_stats_from",
    "stan_data",
    "stan_order",
    "stan_programs_dir",
]

STAN_SAMPLE_STATS = {
    "lp__": "lp",
    "accept_stat__": "acceptance_rate",
    "stepsize__": "step_size",
    "treedepth__": "tree_depth",
    "n_leapfrog__": "n_steps",
    "divergent__": "diverging",
    "energy__": "energy",
}
"""Stan's sampler output columns -> the arviz names used in ``SampleResult.sample_stats``."""

_SAMPLE_STAT_DTYPES = {"tree_depth": np.int64, "n_steps": np.int64, "diverging": bool}


# ---------------------------------------------------------------------------- programs
@dataclass(frozen=True)
class StanProgram:
    """A Stan program ready to compile.

    Attributes
    ----------
    name : str
        File name of the program (``"gutenberg_richter.stan"``).
    code : str
        Program text with every ``#include`` expanded in place.
    source_hash : str
        SHA-256 of :attr:`code` (so of the program and its includes): identifies the
        program in fit metadata, independent of the engine.
    hash : str
        SHA-256 of :attr:`code`, :attr:`engine`, :attr:`engine_version` and
        :attr:`compiler_options`: the compile-cache key.
    includes : tuple of str
        Included file names, in the order they were first included.
    origin : str
        Where the program was read from: ``"pystats.stan:<name>"`` or a file path.
    engine, engine_version : str
        Engine the hash is keyed for (empty when loaded without one).
    compiler_options : str
        Canonical JSON of the compiler options in the hash (``"{}"`` for none).

    Examples
    --------
    >>> from pystats.backends.stan_program import load_program
    >>> program = load_program("gr_binned.stan")
    >>> program.name, program.origin
    ('gr_binned.stan', 'pystats.stan:gr_binned.stan')
    >>> a = program.for_engine("pystan", "4.13.0")
    >>> b = program.for_engine("cmdstan", "2.36.0")
    >>> a.source_hash == b.source_hash, a.hash == b.hash
    (True, False)
    """

    name: str
    code: str
    source_hash: str
    hash: str
    includes: tuple[str, ...] = ()
    origin: str = ""
    engine: str = ""
    engine_version: str = ""
    compiler_options: str = "{}"

    def for_engine(
        self,
        engine: str,
        engine_version: str,
        compiler_options: Mapping[str, Any] | None = None,
    ) -> StanProgram:
        """The same program with :attr:`hash` keyed for another engine / options."""
        options = _canonical_options(compiler_options)
        return replace(
            self,
            engine=engine,
            engine_version=engine_version,
            compiler_options=options,
            hash=_compile_hash(self.code, engine, engine_version, options),
        )


def _canonical_options(options: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(options or {}), sort_keys=True, default=str)


def _compile_hash(code: str, engine: str, engine_version: str, options: str) -> str:
    h = hashlib.sha256()
    for part in (code, engine, engine_version, options):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


_INCLUDE = re.compile(
    r'^[ \t]*#include[ \t]+(?:"(?P<q>[^"]+)"|<(?P<a>[^>]+)>|(?P<b>[^\s/]+))[ \t]*(?://.*)?$',
    re.MULTILINE,
)


def stan_programs_dir() -> Any:
    """The folder of shipped Stan programs, as an ``importlib.resources`` Traversable.

    In an installed wheel the programs are package data at ``pystats/stan/``.  In an
    editable install (or a source checkout) they are the repository's top-level ``stan/``
    folder, which deliberately has no ``__init__.py``: a regular package named ``stan``
    there would shadow pystan's ``stan`` module whenever the repository root is on
    ``sys.path``.
    """
    installed = importlib.resources.files("pystats").joinpath("stan")
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "stan"


def load_program(
    ref: str | os.PathLike[str] | StanProgram,
    *,
    engine: str = "",
    engine_version: str = "",
    compiler_options: Mapping[str, Any] | None = None,
) -> StanProgram:
    """Read a Stan program, expand its ``#include`` lines and hash it.

    Parameters
    ----------
    ref : str, path-like or StanProgram
        A relative ``str`` names a file of the resource package ``pystats.stan`` (what
        :meth:`Model.stan_program` returns); a :class:`pathlib.Path` (or other path-like,
        or an absolute ``str``) is a file anywhere.  Includes are looked up next to the
        program, in the same place.  A :class:`StanProgram` is re-keyed for ``engine``.
    engine, engine_version : str
        Engine name and version, part of :attr:`StanProgram.hash`.
    compiler_options : mapping, optional
        Compiler options, part of :attr:`StanProgram.hash`.

    Returns
    -------
    StanProgram

    Raises
    ------
    OptionError
        If the program file does not exist (the message lists the shipped programs).
    CompilationError
        If an included file is missing or includes form a cycle.
    """
    if isinstance(ref, StanProgram):
        return ref.for_engine(engine, engine_version, compiler_options)
    if isinstance(ref, str) and not os.path.isabs(ref):
        root: Any = stan_programs_dir()
        name = ref
        origin = f"pystats.stan:{ref}"
        if not root.joinpath(ref).is_file():
            shipped = sorted(p.name for p in root.iterdir() if p.name.endswith(".stan"))
            raise OptionError(
                f"Stan program {ref!r} is not in the package pystats.stan; shipped programs "
                f"are {', '.join(shipped) or '(none)'} (pass a pathlib.Path for a file "
                "elsewhere)"
            )
    else:
        path = Path(ref).expanduser().resolve()
        if not path.is_file():
            raise OptionError(f"Stan program file {str(path)!r} does not exist")
        root, name, origin = path.parent, path.name, str(path)
    includes: list[str] = []
    code = _expand(root, name, origin, includes, ())
    source_hash = hashlib.sha256(code.encode()).hexdigest()
    options = _canonical_options(compiler_options)
    return StanProgram(
        name=name,
        code=code,
        source_hash=source_hash,
        hash=_compile_hash(code, engine, engine_version, options),
        includes=tuple(includes),
        origin=origin,
        engine=engine,
        engine_version=engine_version,
        compiler_options=options,
    )


def _expand(root: Any, name: str, origin: str, seen: list[str], stack: tuple[str, ...]) -> str:
    if name in stack:
        raise CompilationError(
            f"#include cycle in {origin}: {' -> '.join([*stack, name])}"
        )
    entry = root.joinpath(name)
    if not entry.is_file():
        raise CompilationError(
            f"{stack[-1] if stack else origin}: #include {name!r} not found next to the "
            f"program ({origin})"
        )
    text = entry.read_text(encoding="utf-8")

    def substitute(match: re.Match[str]) -> str:
        inc = match.group("q") or match.group("a") or match.group("b")
        if inc not in seen:
            seen.append(inc)
        body = _expand(root, inc, origin, seen, (*stack, name))
        return (
            f"// ---- begin included file {inc} ----\n{body.rstrip()}\n"
            f"// ---- end included file {inc} ----"
        )

    return _INCLUDE.sub(substitute, text)


# ---------------------------------------------------------------------------- data
def stan_data(model: Model, data: PreparedData, include_prior: bool) -> dict[str, Any]:
    """The Stan data dict of ``model`` for ``data``, as plain JSON-ready Python values.

    ``model.stan_data(data)`` plus ``include_prior`` (1, or 0 for a likelihood-only
    program).  numpy arrays become nested lists (natural index order, which both pystan
    and CmdStan read correctly for arrays, vectors and matrices), numpy scalars become
    Python scalars and booleans become 0/1.  The caller's objects are not modified.
    """
    raw = dict(model.stan_data(data))
    raw["include_prior"] = 1 if include_prior else 0
    return {str(k): _plain(v, str(k)) for k, v in raw.items()}


def _plain(value: Any, name: str) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            value = value.astype(np.int64)
        if value.dtype.kind not in "iuf":
            raise OptionError(
                f"Stan data {name!r} has dtype {value.dtype}; only numbers are allowed"
            )
        return value.tolist()
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v, name) for v in value]
    if isinstance(value, int | float):
        return value
    raise OptionError(
        f"Stan data {name!r} has type {type(value).__name__}; use numbers or arrays of numbers"
    )


def data_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 of a plain Stan data dict (exact: floats are written with ``repr``)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class StanDeclaration:
    """One declaration of a Stan ``parameters`` block.

    Attributes
    ----------
    name : str
    stan_type : str
        Base type: ``real``, ``vector``, ``row_vector``, ``matrix``, or another Stan type.
    array_dims : int
        Number of leading array dimensions.
    constraint : str
        Text between ``<`` and ``>`` (empty if none).

    Examples
    --------
    >>> from pystats.backends.stan_program import parameter_layout
    >>> code = "parameters { real<lower=0> b; array[2] vector[3] mu; }"
    >>> [(d.name, d.stan_type, d.array_dims, d.constraint) for d in parameter_layout(code)]
    [('b', 'real', 0, 'lower=0'), ('mu', 'vector', 1, '')]
    >>> parameter_layout(code)[1].container_dims
    1
    """

    name: str
    stan_type: str
    array_dims: int
    constraint: str = ""

    @property
    def container_dims(self) -> int:
        """Dimensions of the vector/matrix type itself (0 for ``real``)."""
        return {"real": 0, "vector": 1, "row_vector": 1, "matrix": 2}.get(self.stan_type, -1)


def _strip_comments(code: str) -> str:
    code = re.sub(r"/\*.*?\*/", " ", code, flags=re.DOTALL)
    return re.sub(r"(//|#).*", "", code)


def _parameters_block(code: str) -> str | None:
    for m in re.finditer(r"\b(transformed\s+)?parameters\s*\{", code):
        if m.group(1) is None:
            depth, start = 1, m.end()
            for i in range(start, len(code)):
                if code[i] == "{":
                    depth += 1
                elif code[i] == "}":
                    depth -= 1
                    if depth == 0:
                        return code[start:i]
            raise BackendError("unbalanced braces in the parameters block of the Stan program")
    return None


def _top_level_split(text: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([<{":
            depth += 1
        elif ch in ")]>}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _bracketed(text: str, pos: int, open_: str, close: str) -> tuple[str, int]:
    """Content of the bracket opening at ``text[pos]`` and the index after it."""
    depth = 0
    for i in range(pos, len(text)):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return text[pos + 1 : i], i + 1
    raise BackendError(f"unbalanced {open_}{close} in Stan declaration {text.strip()!r}")


def parameter_layout(code: str) -> list[StanDeclaration]:
    """Declarations of the ``parameters`` block of a Stan program, in order.

    A small reader for the declarations pystats' programs use (``real``, ``vector``,
    ``row_vector``, ``matrix``, optionally inside ``array[...]`` and with ``<lower=,
    upper=>``); other types are returned with their name so callers can reject them.

    Parameters
    ----------
    code : str
        Program text (includes expanded).

    Returns
    -------
    list of StanDeclaration
    """
    block = _parameters_block(_strip_comments(code))
    if block is None:
        return []
    out = []
    for stmt in block.split(";"):
        s = " ".join(stmt.split())
        if not s:
            continue
        array_dims = 0
        pos = 0
        m = re.match(r"array\s*\[", s)
        if m:
            inner, pos = _bracketed(s, m.end() - 1, "[", "]")
            array_dims = len(_top_level_split(inner, ","))
        m = re.compile(r"\s*([A-Za-z_]\w*)").match(s, pos)
        if not m:
            raise BackendError(f"cannot read the Stan parameter declaration {s!r}")
        stan_type, pos = m.group(1), m.end()
        constraint = ""
        rest = s[pos:].lstrip()
        if rest.startswith("<"):
            constraint, end = _bracketed(rest, 0, "<", ">")
            rest = rest[end:].lstrip()
        if rest.startswith("["):  # container sizes: vector[K], matrix[R, C]
            _, end = _bracketed(rest, 0, "[", "]")
            rest = rest[end:].lstrip()
        m = re.match(r"([A-Za-z_]\w*)\s*(\[.*\])?\s*$", rest)
        if not m:
            raise BackendError(f"cannot read the Stan parameter declaration {s!r}")
        if m.group(2):  # pre-2.33 syntax: real x[N, M]
            array_dims += len(_top_level_split(m.group(2)[1:-1], ","))
        out.append(StanDeclaration(m.group(1), stan_type, array_dims, constraint.strip()))
    return out


def stan_order(params: ParameterSet, layout: Sequence[StanDeclaration]) -> np.ndarray:
    """Where each element of the pystats flat vector sits in Stan's unconstrained vector.

    Returns ``index`` with ``u_stan[index] = u`` (and ``grad = grad_stan[index]``), where
    ``u`` is in pystats order (declaration order, C order within arrays).

    Raises
    ------
    BackendError
        If the declarations do not match ``params`` (names, order, number of dimensions)
        or use a type or transform (``offset``/``multiplier``, ``simplex``, ...) that a
        :class:`~pystats.parameters.ParameterSet` cannot express.
    """
    names = [d.name for d in layout]
    if names != params.names:
        raise BackendError(
            f"the Stan program declares parameters {names} but the model's parameters() "
            f"are {params.names}; they must match in name and order"
        )
    pieces, start = [], 0
    for decl, p in zip(layout, params, strict=True):
        if decl.container_dims < 0:
            raise BackendError(
                f"parameter {p.name!r} has Stan type {decl.stan_type!r}; pystats supports "
                "real, vector, row_vector and matrix (optionally in arrays) with lower/upper "
                "bounds"
            )
        if re.search(r"\b(offset|multiplier)\b", decl.constraint):
            raise BackendError(
                f"parameter {p.name!r} uses <{decl.constraint}>; offset/multiplier transforms "
                "are not supported by pystats' ParameterSet"
            )
        ndim = decl.array_dims + decl.container_dims
        if ndim != len(p.shape):
            raise BackendError(
                f"parameter {p.name!r} has {ndim} dimension(s) in the Stan program but shape "
                f"{p.shape} in parameters()"
            )
        idx = np.arange(p.size).reshape(p.shape)
        a = decl.array_dims
        axes = [*range(a), *reversed(range(a, ndim))]  # array dims row-major, container col-major
        pieces.append(start + np.transpose(idx, axes).ravel())
        start += p.size
    stan_seq = np.concatenate(pieces) if pieces else np.zeros(0, dtype=int)
    index = np.empty_like(stan_seq)
    index[stan_seq] = np.arange(stan_seq.size)
    return index


# ---------------------------------------------------------------------------- inits, stats
def check_inits(
    inits: Sequence[Mapping[str, Any]] | None, params: ParameterSet, chains: int
) -> list[dict[str, Any]] | None:
    """Validate per-chain initial values (constrained scale) and return plain copies.

    Each dict may hold a subset of the parameters (Stan draws the others at random) and
    may be ``None`` (all drawn); unknown names, wrong shapes and values outside the bounds
    raise :class:`OptionError`.  Returns ``None`` when no chain has any initial value.
    """
    if inits is None:
        return None
    if isinstance(inits, Mapping) or len(inits) != chains:
        raise OptionError(
            f"inits must be a list of {chains} dicts (one per chain); got "
            f"{type(inits).__name__} of length {len(inits)}"
        )
    out = []
    for chain, init in enumerate(inits):
        init = {} if init is None else init
        if not isinstance(init, Mapping):
            raise OptionError(
                f"inits[{chain}] is a {type(init).__name__}; use a dict of parameter values"
            )
        unknown = sorted(set(init) - set(params.names))
        if unknown:
            raise OptionError(
                f"inits[{chain}] has unknown parameter(s) {', '.join(unknown)}; parameters "
                f"are {', '.join(params.names)}"
            )
        plain = {}
        for name, value in init.items():
            p = params[name]
            arr = np.asarray(value, dtype=float)
            if arr.shape != p.shape:
                raise OptionError(
                    f"inits[{chain}][{name!r}] has shape {arr.shape}, expected {p.shape}"
                )
            p.unconstrain(arr)  # raises OptionError outside the support
            plain[name] = arr.tolist()
        out.append(plain)
    return out if any(out) else None


def sample_stats_from(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename Stan's sampler columns (``lp__``, ...) to arviz names with arviz dtypes.

    ``columns`` maps Stan names to ``(chain, draw)`` arrays; missing columns raise.
    """
    missing = [k for k in STAN_SAMPLE_STATS if k not in columns]
    if missing:
        raise BackendError(f"sampler output lacks column(s) {', '.join(missing)}")
    out = {}
    for stan_name, name in STAN_SAMPLE_STATS.items():
        arr = np.asarray(columns[stan_name], dtype=float)
        dtype = _SAMPLE_STAT_DTYPES.get(name)
        out[name] = arr.astype(dtype) if dtype is not None else arr
    return out


def check_seed(seed: int) -> int:
    """Stan seeds are unsigned 32-bit integers."""
    if seed is None:
        raise OptionError("seed=None is not allowed here; use an integer in [0, 2**32 - 1]")
    return _checks.seed(seed)


def finite_or_minus_inf(value: float) -> float:
    """Stan may return NaN where the density is undefined; report it as ``-inf``."""
    value = float(value)
    return -math.inf if math.isnan(value) else value
