"""The liquid-iron equation-of-state family: :class:`LiquidIronEOS`.

See ``models/liquid_iron_eos.md`` for the equations, units, priors and validation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._checks import check_prob
from ..cli_spec import Argument, CommandLine
from ..constraints import Booleans, Interval, Mappings, Option, Pair, StrOptions
from ..errors import DataError, OptionError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from . import anderson_ahrens as aa
from . import forward as fw
from .data import read_eos_table

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

__all__ = ["EOS_PARAMETERS", "LiquidIronEOS", "compare_isotherms"]

EOS_PARAMETERS = ("V0", "K0", "K0p", "gamma0", "q", "e0", "g")
"""The EOS parameters, in the order of the Stan program."""

DEFAULT_PRIORS: dict[str, tuple[str, float, float]] = {
    "V0": ("lognormal", math.log(7.95), 0.05),
    "K0": ("lognormal", math.log(85.0), 0.3),
    "K0p": ("normal", 5.5, 1.5),
    "gamma0": ("lognormal", math.log(1.8), 0.3),
    "q": ("normal", 0.7, 0.7),
    "e0": ("lognormal", math.log(1.0e-4), 0.7),
    "g": ("normal", -0.5, 1.0),
}
"""Prior of each EOS parameter: (family, location, scale); reasons in the model card."""

_BOUNDS = {"V0": (6.5, 9.5), "K0": (20.0, 300.0), "K0p": (1.0, 15.0),
           "gamma0": (0.2, 5.0), "q": (-3.0, 5.0), "e0": (0.0, math.inf),
           "g": (-5.0, 5.0)}
"""Physical ranges of the EOS parameters (wide against the priors, which are truncated to
them): bounded so that an optimizer's first unit step on the unconstrained scale stays where
the EOS is defined (with ``V0`` on the log scale, L-BFGS's first step changed it by a factor
e and every start stalled)."""
_DESCRIPTIONS = {
    "V0": "molar volume at 1 bar and T0 (cm^3/mol)",
    "K0": "isothermal bulk modulus at 1 bar and T0 (GPa)",
    "K0p": "pressure derivative of K0",
    "gamma0": "Grüneisen parameter at V0",
    "q": "exponent of gamma = gamma0 (V/V0)^q",
    "e0": "heat-capacity coefficient e0 of E = 3nR(T + e0 (V/V0)^g T^2) (1/K)",
    "g": "volume exponent of e0",
}
PREM_CMB_PRESSURE = 135.751
"""Pressure at PREM's core–mantle boundary, GPa (Dziewonski & Anderson 1981)."""


def _prem_table(prem: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(prem, pd.DataFrame):
        df = prem.copy()
    else:
        path = Path(prem)
        if not path.is_file():
            raise DataError(f"PREM file {str(path)!r} does not exist")
        df = pd.read_csv(path, comment="#")
    need = ("pressure_GPa", "density_g_cm3", "vp_km_s")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"the PREM table has no column(s) {', '.join(missing)}; it needs "
                        f"{', '.join(need)} (as ../shared/data/eos/prem_outer_core.csv)")
    return df


class LiquidIronEOS(Model):
    """Equation of state of liquid iron (Kuwayama et al. 2020 form), fitted to P–V–T,
    sound-speed, shock-Hugoniot and 1-bar density data with errors in all variables.

    ``P(V, T) = P_ref(V) + γ(V)/V [E(V, T) − E(V, T0)]`` with a Vinet (or BM3) isotherm
    ``P_ref`` at ``T0``, ``γ = γ0 (V/V0)^q`` and ``E = 3nR (T + e0 (V/V0)^g T²)``
    (:mod:`pystats.eos.forward`).

    Parameters
    ----------
    isotherm : {"vinet", "bm3"}
        Form of the reference isotherm.
    T0 : float
        Reference temperature (K), default 1811 (the melting point of iron at 1 bar).
    pressure_scale : bool
        Fit a relative pressure-scale error ``s_d`` per static data set (``P_obs = P (1 +
        s_d)``), prior ``N(0, pressure_scale_sd)``.
    pressure_scale_sd : float
        Prior standard deviation of the pressure scales (default 0.02: 2 %).
    priors : dict, optional
        Replace priors: name -> ``(location, scale)`` (log-location for the lognormal
        ones: ``V0``, ``K0``, ``gamma0``, ``e0``; mean for the normal ones).
    hugoniot_reference_energy : float
        ``E(V0, T0)`` above the shocks' initial state (J/mol); default 72.4 kJ/mol, the
        enthalpy of liquid iron at 1809 K above bcc iron at 298 K (NIST-JANAF).
    rho_initial : float
        Density of the shocks' initial state (g/cm³), default 7.873.
    errors : {"profile", "marginal", "latent"}
        Errors in variables.  Both closed-form options linearise the EOS at the observed
        state and use the same quadratic form ``dᵀC(θ)⁻¹d`` with ``C`` the observation
        errors plus the state errors propagated through the EOS's slopes
        (``liquid_iron_eos.stan``); they differ in the normaliser.  ``"profile"`` (default):
        the true states are profiled out (maximised), leaving each observation's own,
        θ-free normal constant (the effective-variance method of Orear 1982; Deming/York
        regression): consistent for *classical* errors, true states fixed and observations
        scattered around them, as for measured pressures, temperatures and densities.
        ``"marginal"``: the states are integrated out under flat priors, normaliser
        ``−½ log det 2πC(θ)``: exact for *Berkson* errors (true state scattered around the
        recorded one); with classical errors its θ-dependent normaliser biases the
        estimates by about one posterior sd here (model card, section 3).  ``"latent"``:
        one latent true state per observation with a flat prior, sampled non-centred
        (``liquid_iron_eos_latent.stan``; about 100 times slower under NUTS; needed for
        sound speeds at a temperature without a density; the marginal's errors model).
    reference : dict, optional
        Parameter values (the seven EOS parameters) for the forward methods
        (:meth:`density`, :meth:`sound_speed`, :meth:`adiabat`, ...); set by the
        published constructors such as :meth:`kuwayama2020`.
    form : {"kuwayama2020", "anderson_ahrens1994"}
        Form of the EOS.  ``"kuwayama2020"`` (default): the Mie–Grüneisen form above,
        fitted by every method.  ``"anderson_ahrens1994"``: the Anderson & Ahrens (1994)
        E–V–S form with their published parameters (:mod:`pystats.eos.anderson_ahrens`),
        **forward only** (:meth:`density`, :meth:`sound_speed`, :meth:`state`,
        :meth:`adiabat`, :meth:`hugoniot`); made by :meth:`anderson_ahrens1994`.

    Notes
    -----
    Data: one tidy table (:func:`pystats.eos.data.read_eos_table`).  With
    ``errors="latent"`` the latent true states (``V_static``, ``T_static``, ``V_shock``) are
    parameters with flat priors; by default they are profiled out (effective variance).
    ``fit.predict(P=..., T=...)`` gives ρ, K_S, V_P, α, γ with intervals;
    ``fit.predict(T_cmb=(4000, 300), prem=path)`` the outer-core adiabat against PREM
    with density and velocity differences (:meth:`predict`).

    Examples
    --------
    >>> import pystats
    >>> eos = pystats.LiquidIronEOS.kuwayama2020()
    >>> round(float(eos.density(135.751, 4000.0)), 3)   # g/cm3 at the CMB, 4000 K
    10.718
    >>> round(float(eos.sound_speed(135.751, 4000.0)), 3)  # km/s
    7.776
    """

    family: ClassVar[str] = "liquid_iron_eos"
    options_spec: ClassVar[dict[str, Option]] = {
        "isotherm": Option("vinet", [StrOptions(("vinet", "bm3"))]),
        "T0": Option(1811.0, [Interval(Real, 0, None, closed="neither")]),
        "pressure_scale": Option(False, [Booleans()]),
        "pressure_scale_sd": Option(0.02, [Interval(Real, 0, None, closed="neither")]),
        "priors": Option(None, [None, Mappings()],
                         allowed="None or a dict name -> (location, scale)"),
        "hugoniot_reference_energy": Option(fw.ENTHALPY_LIQUID_1809K, [Interval(Real)]),
        "rho_initial": Option(fw.RHO_SOLID_298K, [Interval(Real, 0, None, closed="neither")]),
        "errors": Option("profile", [StrOptions(("profile", "marginal", "latent"))]),
        "reference": Option(None, [None, Mappings()],
                            allowed="None or a dict of the seven EOS parameter values"),
        "form": Option("kuwayama2020", [StrOptions(("kuwayama2020", "anderson_ahrens1994"))]),
    }
    cli: ClassVar[CommandLine] = CommandLine(
        name="iron-eos", title="Liquid-iron EOS", help="liquid-iron equation of state",
        read="pystats.eos.data:read_eos_table",
        fit=(
            Argument("--isotherm", choices=("vinet", "bm3"), help="reference isotherm"),
            Argument("--pressure-scale", action="store_true",
                     help="fit a pressure-scale error per static data set"),
        ),
        predict=(
            Argument("--P", type=float, action="append", keyword="P",
                     help="pressure (GPa); repeat for several"),
            Argument("--T", type=float, action="append", keyword="T",
                     help="temperature (K); one, or one per --P"),
            Argument("--T-cmb", type=float, keyword="T_cmb",
                     help="core-mantle-boundary temperature (K) of the outer-core adiabat"),
            Argument("--T-cmb-sd", type=float, keyword="T_cmb_sd",
                     help="standard deviation of its normal prior (K)"),
            Argument("--prem", help="PREM outer-core CSV (pressure_GPa, density_g_cm3, "
                     "vp_km_s)"),
        ),
    )

    # ------------------------------------------------------------------ options
    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        priors = dict(DEFAULT_PRIORS)
        for name, value in (options["priors"] or {}).items():
            if name not in DEFAULT_PRIORS:
                raise OptionError(f"priors has unknown parameter {name!r}; allowed: "
                                  + ", ".join(EOS_PARAMETERS))
            pair = Pair(Interval(Real), Interval(Real, 0, None, closed="neither"))
            loc, scale = pair.convert(f"priors[{name!r}]", value)
            priors[name] = (priors[name][0], loc, scale)
        options["_priors"] = priors
        ref = options["reference"]
        if options["form"] == "anderson_ahrens1994":
            if ref is not None:
                raise OptionError(
                    "reference=... is not allowed with form='anderson_ahrens1994', whose "
                    "parameters are the published ones; use reference=None")
            if options["T0"] != 1811.0:
                raise OptionError(
                    f"T0={options['T0']!r} is not allowed with form='anderson_ahrens1994', "
                    "whose reference temperature is 1811 K; use T0=1811.0")
        if ref is not None:
            missing = [k for k in EOS_PARAMETERS if k not in ref]
            if missing:
                raise OptionError(f"reference lacks {', '.join(missing)}; it needs all of "
                                  + ", ".join(EOS_PARAMETERS))
            for k in EOS_PARAMETERS:
                Interval(Real).convert(f"reference[{k!r}]", ref[k])
        return options

    # ------------------------------------------------------------------ constructors
    @classmethod
    def kuwayama2020(cls, **options: Any) -> LiquidIronEOS:
        """Kuwayama et al. (2020, PRL 124, 165701) parameters: V0 7.94 cm³/mol at 1811 K,
        K_T0 82.1 GPa, K' 5.80, γ0 2.02, q 0.63, e0 0.68e-4 /K, g −1.0 (Vinet)."""
        p = fw.EOSParameters.kuwayama2020()
        ref = {k: float(getattr(p, k)) for k in EOS_PARAMETERS}
        return cls(reference=ref, T0=p.T0, **options)

    @classmethod
    def matsumura2021(cls, **options: Any) -> LiquidIronEOS:
        """Matsumura et al. (2021) point values as transcribed in the public ``corefe``
        code (:meth:`pystats.eos.forward.EOSParameters.matsumura2021`; T0 = 2000 K)."""
        p = fw.EOSParameters.matsumura2021()
        ref = {k: float(getattr(p, k)) for k in EOS_PARAMETERS}
        return cls(reference=ref, T0=p.T0, **options)

    @classmethod
    def anderson_ahrens1994(cls, **options: Any) -> LiquidIronEOS:
        """Anderson & Ahrens (1994, JGR 99, 4273) EOS: fourth-order Birch–Murnaghan
        principal isentrope (ρ0 7019 kg/m³ at 1811 K, K_S 109.7 GPa, K_S' 4.661, K_S''
        −0.043 /GPa) with their Grüneisen law and heat capacity
        (:meth:`pystats.eos.anderson_ahrens.AndersonAhrensParameters.anderson_ahrens1994`,
        values as transcribed in BurnMan).  Forward only: ``fit`` raises
        :class:`~pystats.errors.OptionError`.

        Examples
        --------
        >>> import pystats
        >>> eos = pystats.LiquidIronEOS.anderson_ahrens1994()
        >>> round(float(eos.density(1e-4, 1811.0)), 4)   # g/cm3: their 7019 kg/m3
        7.019
        >>> round(float(eos.state(0.0, 1811.0)["K_S"]), 3)  # GPa: their K_S (at P = 0)
        109.7
        """
        return cls(form="anderson_ahrens1994", **options)

    @property
    def _forward(self) -> Any:
        """The module of forward functions of this model's form."""
        return aa if self.options["form"] == "anderson_ahrens1994" else fw

    def eos_parameters(self, values: Mapping[str, Any] | None = None
                       ) -> fw.EOSParameters | aa.AndersonAhrensParameters:
        """:class:`~pystats.eos.forward.EOSParameters` from ``values`` (default: the
        ``reference`` option) with this model's ``T0`` and isotherm; with
        ``form="anderson_ahrens1994"`` (no ``values``) the published
        :class:`~pystats.eos.anderson_ahrens.AndersonAhrensParameters`."""
        if self.options["form"] == "anderson_ahrens1994":
            if values is not None:
                raise OptionError("form='anderson_ahrens1994' has only its published "
                                  "parameters; parameter values are for form='kuwayama2020'")
            return aa.AndersonAhrensParameters.anderson_ahrens1994()
        if values is None:
            values = self.options["reference"]
            if values is None:
                raise OptionError(
                    "this LiquidIronEOS has no reference parameter values; use a published "
                    "set (LiquidIronEOS.kuwayama2020()), pass reference={...}, or predict "
                    "from a fit (fit.predict(P=..., T=...))"
                )
        return fw.EOSParameters.from_mapping(values, T0=self.options["T0"],
                                             isotherm=self.options["isotherm"])

    # forward methods on the reference parameters
    def density(self, P: Any, T: Any) -> np.ndarray:
        """Density (g/cm³) at pressure ``P`` (GPa) and temperature ``T`` (K)."""
        return self._forward.density(P, T, self.eos_parameters())

    def sound_speed(self, P: Any, T: Any) -> np.ndarray:
        """Bulk sound speed ``√(K_S/ρ)`` (km/s) at ``P`` (GPa), ``T`` (K)."""
        return self._forward.sound_speed(P, T, self.eos_parameters())

    def state(self, P: Any, T: Any) -> dict[str, np.ndarray]:
        """Every derived quantity at ``P``, ``T`` (:func:`pystats.eos.forward.state`, or
        :func:`pystats.eos.anderson_ahrens.state`)."""
        p = self.eos_parameters()
        return self._forward.state(self._forward.volume(P, T, p), T, p)

    def adiabat(self, T_cmb: float, pressures: Any = None) -> dict[str, np.ndarray]:
        """The adiabat through (135.751 GPa, ``T_cmb``) at ``pressures`` (default: the
        outer core, 135.751–328.85 GPa in 24 steps)."""
        if pressures is None:
            pressures = np.linspace(PREM_CMB_PRESSURE, 328.85, 24)
        return self._forward.adiabat(T_cmb, self.eos_parameters(), pressures)

    def hugoniot(self, rho: Any) -> dict[str, np.ndarray]:
        """The principal Hugoniot state at densities ``rho`` (g/cm³)."""
        p = self.eos_parameters()
        return self._forward.hugoniot(
            fw.MOLAR_MASS_FE / np.asarray(rho, dtype=float), p,
            rho_initial=self.options["rho_initial"],
            energy_reference=self.options["hugoniot_reference_energy"])

    # ------------------------------------------------------------------ data
    def prepare(self, data: Any) -> PreparedData:
        """Check the tidy table (:func:`pystats.eos.data.read_eos_table`) and split it into
        static, shock and 1-bar observations."""
        if self.options["form"] == "anderson_ahrens1994":
            raise OptionError(
                "form='anderson_ahrens1994' is forward only (no Stan program for the "
                "Anderson & Ahrens form): use its forward methods (density, sound_speed, "
                "state, adiabat, hugoniot), or fit the Kuwayama form, "
                "form='kuwayama2020' (LiquidIronEOS())")
        df = read_eos_table(data)
        kind = df["kind"].to_numpy()
        has_t = df["T_K"].notna().to_numpy()
        static = ((kind == "density") | ((kind == "sound_speed") & has_t))
        shock = (kind == "hugoniot") | ((kind == "sound_speed") & ~has_t)
        one = kind == "density_1bar"
        s, h, o = df[static], df[shock], df[one]
        if self.options["errors"] != "latent":
            no_rho = np.flatnonzero((static | shock) & df["rho_g_cm3"].isna().to_numpy())
            if no_rho.size:
                i = int(no_rho[0])
                raise DataError(
                    f"row {i} (kind {kind[i]!r}, dataset {df['dataset'].iloc[i]!r}) has no "
                    f"'rho_g_cm3': errors={self.options['errors']!r} linearises the EOS "
                    "around the observed density, so every static and shock row needs one; use "
                    "LiquidIronEOS(errors='latent') for rows without a density")
        datasets = list(dict.fromkeys(s["dataset"]))
        scale_idx = (np.array([datasets.index(d) + 1 for d in s["dataset"]], dtype=int)
                     if self.options["pressure_scale"] else np.zeros(len(s), dtype=int))

        def col(frame: Any, name: str) -> np.ndarray:
            return np.nan_to_num(frame[name].to_numpy(float), nan=1.0)

        values = {
            "N_s": len(s), "P_s": col(s, "P_GPa"), "P_s_sd": col(s, "P_sd"),
            "T_s": col(s, "T_K"), "T_s_sd": col(s, "T_sd"),
            "s_has_rho": s["rho_g_cm3"].notna().to_numpy(int), "rho_s": col(s, "rho_g_cm3"),
            "rho_s_sd": col(s, "rho_sd"), "s_has_vp": s["vp_km_s"].notna().to_numpy(int),
            "vp_s": col(s, "vp_km_s"), "vp_s_sd": col(s, "vp_sd"), "s_scale": scale_idx,
            "N_h": len(h), "P_h": col(h, "P_GPa"), "P_h_sd": col(h, "P_sd"),
            "h_has_rho": h["rho_g_cm3"].notna().to_numpy(int), "rho_h": col(h, "rho_g_cm3"),
            "rho_h_sd": col(h, "rho_sd"), "h_has_vp": h["vp_km_s"].notna().to_numpy(int),
            "vp_h": col(h, "vp_km_s"), "vp_h_sd": col(h, "vp_sd"),
            "N_1": len(o), "T_1": col(o, "T_K"), "rho_1": col(o, "rho_g_cm3"),
            "rho_1_sd": col(o, "rho_sd"),
            "D": len(datasets) if self.options["pressure_scale"] else 0,
        }
        if self.options["errors"] == "latent":
            values.update(self._latent_centres(values))
        order = np.concatenate([np.flatnonzero(static), np.flatnonzero(shock),
                                np.flatnonzero(one)])
        observed = {"P_GPa": df["P_GPa"].to_numpy(float)[order],
                    "rho_g_cm3": df["rho_g_cm3"].to_numpy(float)[order],
                    "vp_km_s": df["vp_km_s"].to_numpy(float)[order],
                    "T_K": df["T_K"].to_numpy(float)[order]}
        summary = {
            "n_observations": len(df), "n_static": len(s), "n_shock": len(h),
            "n_1bar": len(o),
            "datasets": {d: int((df["dataset"] == d).sum()) for d in dict.fromkeys(df["dataset"])},
            "static_datasets": datasets,
            "kinds": [str(k) for k in kind[order]],
            "dataset_of_row": [str(d) for d in df["dataset"].to_numpy()[order]],
            "rho_sd": df["rho_sd"].to_numpy(float)[order].tolist(),
            "P_sd": df["P_sd"].to_numpy(float)[order].tolist(),
        }
        return PreparedData(values, observed=observed, summary=summary)

    def _hugoniot_kwargs(self) -> dict[str, float]:
        return {"rho_initial": self.options["rho_initial"],
                "energy_reference": self.options["hugoniot_reference_energy"]}

    def _latent_centres(self, v: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Starting volumes of the Newton/secant solutions and the scales of the latent
        states (near their conditional posterior standard deviations, from the Kuwayama
        2020 EOS): ``s = (1/a² + 1/b²)^(-1/2)`` with ``a`` the volume error implied by
        the pressure error (``σ_P V / K_T``, or ``σ_P / |dP_H/dV|`` on the Hugoniot) and
        ``b`` that of the density error (``V σ_ρ/ρ``; none without a density)."""
        p = fw.EOSParameters.kuwayama2020()
        p = fw.EOSParameters(**{**p.as_dict(), "T0": self.options["T0"],
                                "isotherm": self.options["isotherm"]})
        P_s = np.asarray(v["P_s"], dtype=float)
        T_s = np.asarray(v["T_s"], dtype=float)
        c_vs = np.nan_to_num(fw.volume(P_s, T_s, p), nan=0.8 * p.V0)
        a = np.asarray(v["P_s_sd"]) * c_vs / fw.bulk_modulus_t(c_vs, T_s, p)
        b = np.where(np.asarray(v["s_has_rho"]) == 1,
                     c_vs * np.asarray(v["rho_s_sd"]) / np.asarray(v["rho_s"]), np.inf)
        s_vs = 1 / np.sqrt(1 / a**2 + 1 / b**2)
        kw = self._hugoniot_kwargs()
        P_h = np.asarray(v["P_h"], dtype=float)
        c_vh = fw.hugoniot_volume(P_h, p, **kw)
        dv = 1e-5 * c_vh
        slope = np.abs(fw.hugoniot(c_vh + dv, p, **kw)["P"]
                       - fw.hugoniot(c_vh - dv, p, **kw)["P"]) / (2 * dv)
        a = np.asarray(v["P_h_sd"]) / slope
        b = np.where(np.asarray(v["h_has_rho"]) == 1,
                     c_vh * np.asarray(v["rho_h_sd"]) / np.asarray(v["rho_h"]), np.inf)
        s_vh = 1 / np.sqrt(1 / a**2 + 1 / b**2)
        return {"c_Vs": c_vs, "s_Vs": s_vs, "s_Ts": np.asarray(v["T_s_sd"], dtype=float),
                "c_Vh": c_vh, "s_Vh": s_vh}

    def latent_states(self, draws: Mapping[str, Any], data: PreparedData
                      ) -> dict[str, np.ndarray]:
        """``V_static``, ``T_static``, ``V_shock`` from the draws (non-centred: ``T =
        T_obs + σ_T z_T``, ``V = V(P_obs/(1 + s_d), T; θ) + s z_V`` for static points,
        ``V = V_H(P_obs; θ) + s z_V`` for shock points)."""
        v = data.values
        p = self.eos_parameters({k: np.asarray(draws[k], dtype=float)[..., None]
                                 for k in EOS_PARAMETERS})
        T = v["T_s"] + v["s_Ts"] * np.asarray(draws["z_T_static"], dtype=float)
        P = np.asarray(v["P_s"], dtype=float)
        if v["D"]:
            idx = np.asarray(v["s_scale"]) - 1
            P = P / (1 + np.asarray(draws["pressure_scale"], dtype=float)[..., idx])
        V_s = fw.volume(P, T, p) + v["s_Vs"] * np.asarray(draws["z_V_static"], dtype=float)
        V_h = (fw.hugoniot_volume(np.asarray(v["P_h"], dtype=float), p,
                                  **self._hugoniot_kwargs())
               + v["s_Vh"] * np.asarray(draws["z_V_shock"], dtype=float))
        shape = np.shape(draws["V0"])
        return {"V_static": np.broadcast_to(V_s, (*shape, int(v["N_s"]))),
                "T_static": np.broadcast_to(T, (*shape, int(v["N_s"]))),
                "V_shock": np.broadcast_to(V_h, (*shape, int(v["N_h"])))}

    def parameters(self, data: PreparedData) -> ParameterSet:
        """The seven EOS parameters, then the standardised latent states ``z_V_static``,
        ``z_T_static`` (one per static point), ``z_V_shock`` (one per shock point) and
        ``pressure_scale`` (one per static data set, when fitted).  The states are
        ``centre + scale * z`` with data-fixed centres and scales (:meth:`latent_states`;
        derived quantities ``V_static``, ``T_static``, ``V_shock``)."""
        v = data.values
        eos = [Parameter(k, lower=_BOUNDS[k][0], upper=_BOUNDS[k][1],
                         description=_DESCRIPTIONS[k]) for k in EOS_PARAMETERS]
        scales = ([Parameter("pressure_scale", shape=(int(v["D"]),),
                             description="relative pressure-scale error of each static data "
                             "set")] if v["D"] else [])
        if self.options["errors"] != "latent":
            return ParameterSet([*eos, *scales])
        return ParameterSet([
            *eos,
            Parameter("z_V_static", shape=(int(v["N_s"]),),
                      description="latent molar volume of each static point, standardised"),
            Parameter("z_T_static", shape=(int(v["N_s"]),),
                      description="latent temperature of each static point, standardised"),
            Parameter("z_V_shock", shape=(int(v["N_h"]),),
                      description="latent molar volume of each shock point, standardised"),
        ] + ([Parameter("pressure_scale", shape=(int(v["D"]),),
                        description="relative pressure-scale error of each static data set")]
             if v["D"] else []))  # last in the Stan program: a zero-size one is left out

    def stan_program(self) -> str:
        """``liquid_iron_eos.stan`` (``errors="profile"`` or ``"marginal"``) or
        ``liquid_iron_eos_latent.stan``."""
        if self.options["errors"] == "latent":
            return "liquid_iron_eos_latent.stan"
        return "liquid_iron_eos.stan"

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The data block of ``liquid_iron_eos.stan``."""
        o = self.options
        v = dict(data.values)
        if o["errors"] != "latent":
            for k in ("s_has_rho", "h_has_rho"):
                v.pop(k)
        out: dict[str, Any] = {k: (np.asarray(x).tolist() if isinstance(x, np.ndarray) else x)
                               for k, x in v.items()}
        out.update(
            bm3=int(o["isotherm"] == "bm3"), T0=float(o["T0"]), r=3 * fw.GAS_CONSTANT,
            molar_mass=fw.MOLAR_MASS_FE, V00=fw.MOLAR_MASS_FE / o["rho_initial"],
            e_ref=float(o["hugoniot_reference_energy"]), scale_sd=float(o["pressure_scale_sd"]),
            prior=[[o["_priors"][k][1], o["_priors"][k][2]] for k in EOS_PARAMETERS],
        )
        if o["errors"] != "latent":
            out["use_profile"] = int(o["errors"] == "profile")
        return out

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """Kuwayama et al. (2020) values jittered (0.3 % for ``V0``, which 1-bar data
        pin to ~0.1 %; 3–5 % for the others); latent states near their centres."""
        v = data.values
        base = fw.EOSParameters.kuwayama2020()
        jitter = {"V0": 0.003, "K0": 0.03, "K0p": 0.03, "gamma0": 0.03, "q": 0.05,
                  "e0": 0.05, "g": 0.05}
        init = {k: float(getattr(base, k)) * (1 + jitter[k] * rng.standard_normal())
                for k in EOS_PARAMETERS}
        init["K0p"] = max(init["K0p"], 1.5)
        if self.options["errors"] != "latent":
            if v["D"]:
                init["pressure_scale"] = np.zeros(int(v["D"]))
            return init
        init.update(z_V_static=0.3 * rng.standard_normal(int(v["N_s"])),
                    z_T_static=0.3 * rng.standard_normal(int(v["N_s"])),
                    z_V_shock=0.3 * rng.standard_normal(int(v["N_h"])))
        if v["D"]:
            init["pressure_scale"] = np.zeros(int(v["D"]))
        return init

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """``rho0`` (g/cm³) and ``KS0`` (GPa) at 1 bar and ``T0``; the latent states
        ``V_static``, ``T_static``, ``V_shock``."""
        p = self.eos_parameters({k: draws[k] for k in EOS_PARAMETERS})
        s = fw.state(np.asarray(draws["V0"], dtype=float), self.options["T0"], p)
        out = {"rho0": fw.MOLAR_MASS_FE / np.asarray(draws["V0"]), "KS0": s["K_S"]}
        if "z_V_static" in draws:
            out.update(self.latent_states(draws, data))
        return out

    def pointwise_log_likelihood(
        self, draws: Mapping[str, np.ndarray], data: PreparedData
    ) -> dict[str, np.ndarray]:
        """Log likelihood of each observation (row of the table, in the order of
        ``fit.data.observed``: static, shock, 1 bar) for each draw, in NumPy: the same
        terms as the Stan program (the tests check the two agree), for PSIS-LOO.  Named
        ``rho_g_cm3`` after the observed vector with one element per row."""
        from scipy.stats import norm

        v = data.values
        p = self.eos_parameters({k: np.asarray(draws[k], dtype=float)[..., None]
                                 for k in EOS_PARAMETERS})
        if self.options["errors"] != "latent":
            return {"rho_g_cm3": self._marginal_log_likelihood(draws, data, p)}
        parts = []
        lat = self.latent_states(draws, data)
        if v["N_s"]:
            V, T = lat["V_static"], lat["T_static"]
            st = fw.state(V, T, p)
            Pm = st["P"]
            if v["D"]:
                idx = np.asarray(v["s_scale"]) - 1
                Pm = Pm * (1 + np.asarray(draws["pressure_scale"], dtype=float)[..., idx])
            ll = norm.logpdf(v["P_s"], Pm, v["P_s_sd"]) + norm.logpdf(v["T_s"], T, v["T_s_sd"])
            ll = ll + np.where(np.asarray(v["s_has_rho"]) == 1,
                               norm.logpdf(v["rho_s"], st["rho"], v["rho_s_sd"]), 0.0)
            ll = ll + np.where(np.asarray(v["s_has_vp"]) == 1,
                               norm.logpdf(v["vp_s"], st["V_P"], v["vp_s_sd"]), 0.0)
            parts.append(ll)
        if v["N_h"]:
            h = fw.hugoniot(lat["V_shock"], p, rho_initial=self.options["rho_initial"],
                            energy_reference=self.options["hugoniot_reference_energy"])
            ll = norm.logpdf(v["P_h"], h["P"], v["P_h_sd"])
            ll = ll + np.where(np.asarray(v["h_has_rho"]) == 1,
                               norm.logpdf(v["rho_h"], h["rho"], v["rho_h_sd"]), 0.0)
            ll = ll + np.where(np.asarray(v["h_has_vp"]) == 1,
                               norm.logpdf(v["vp_h"], h["V_P"], v["vp_h_sd"]), 0.0)
            parts.append(np.nan_to_num(ll, nan=-np.inf))
        if v["N_1"]:
            rho = fw.density(1e-4, np.asarray(v["T_1"], dtype=float), p)
            parts.append(norm.logpdf(v["rho_1"], rho, v["rho_1_sd"]))
        shape = np.shape(draws["V0"])
        # NaN: the NumPy solvers found no state where Stan's Newton steps did (a draw at
        # the edge of the EOS's domain); counted as impossible
        parts = [np.nan_to_num(np.broadcast_to(a, (*shape, np.shape(a)[-1])), nan=-np.inf)
                 for a in parts]
        return {"rho_g_cm3": np.concatenate(parts, axis=-1)}

    def _marginal_log_likelihood(self, draws: Mapping[str, np.ndarray], data: PreparedData,
                                 p: fw.EOSParameters) -> np.ndarray:
        """Pointwise log likelihood of ``errors="marginal"`` or ``"profile"`` (the terms of
        ``liquid_iron_eos.stan``): each static or shock row's (P, V_P) is normal around
        the model at the observed state with the state errors propagated to first order."""
        from scipy.stats import norm

        v = data.values
        M = fw.MOLAR_MASS_FE
        profile = self.options["errors"] == "profile"
        parts = []
        if v["N_s"]:
            rho = np.asarray(v["rho_s"], dtype=float)
            V, T = M / rho, np.asarray(v["T_s"], dtype=float)
            sV, sT = V * np.asarray(v["rho_s_sd"]) / rho, np.asarray(v["T_s_sd"], dtype=float)
            sc = 1.0
            if v["D"]:
                idx = np.asarray(v["s_scale"]) - 1
                sc = 1 + np.asarray(draws["pressure_scale"], dtype=float)[..., idx]

            def vp(Vx: Any, Tx: Any) -> Any:
                return fw.state(Vx, Tx, p)["V_P"]

            hv, ht = 1e-4 * V, 1e-4 * T
            state = (_log_normal_constant(v["rho_s_sd"]) + _log_normal_constant(sT)
                     if profile else np.log(V / rho))
            parts.append(state + _ev_logpdf(
                v["P_s"], sc * fw.pressure(V, T, p), v["P_s_sd"],
                -sc * fw.bulk_modulus_t(V, T, p) / V * sV, sc * fw.dPdT(V, T, p) * sT,
                np.asarray(v["s_has_vp"]) == 1, v["vp_s"], vp(V, T), v["vp_s_sd"],
                (vp(V + hv, T) - vp(V - hv, T)) / (2 * hv) * sV,
                (vp(V, T + ht) - vp(V, T - ht)) / (2 * ht) * sT, profile=profile))
        if v["N_h"]:
            rho = np.asarray(v["rho_h"], dtype=float)
            V = M / rho
            sV = V * np.asarray(v["rho_h_sd"]) / rho
            hv = 1e-4 * V
            kw = self._hugoniot_kwargs()
            h0, hp, hm = (fw.hugoniot(x, p, **kw) for x in (V, V + hv, V - hv))
            zero = np.zeros_like(V)
            slope = fw.hugoniot_slope(V, p, **kw)
            state = _log_normal_constant(v["rho_h_sd"]) if profile else np.log(V / rho)
            parts.append(state + _ev_logpdf(
                v["P_h"], h0["P"], v["P_h_sd"], slope * sV, zero,
                np.asarray(v["h_has_vp"]) == 1, v["vp_h"], h0["V_P"], v["vp_h_sd"],
                (hp["V_P"] - hm["V_P"]) / (2 * hv) * sV, zero, profile=profile))
        if v["N_1"]:
            # the Stan program's 3 Newton steps in log V from the observed volume (the
            # bracketing solver of fw.volume can miss the root at hot 1-bar states of
            # draws far from Kuwayama's, where these steps converge)
            T1 = np.asarray(v["T_1"], dtype=float)
            V = M / np.asarray(v["rho_1"], dtype=float)
            with np.errstate(invalid="ignore", over="ignore"):
                for _ in range(3):
                    V = V * np.exp((fw.pressure(V, T1, p) - 1e-4) / fw.bulk_modulus_t(V, T1, p))
            parts.append(norm.logpdf(v["rho_1"], M / V, v["rho_1_sd"]))
        shape = np.shape(draws["V0"])
        parts = [np.nan_to_num(np.broadcast_to(a, (*shape, np.shape(a)[-1])), nan=-np.inf)
                 for a in parts]
        return np.concatenate(parts, axis=-1)

    def _marginal_fitted_values(self, fit: Fit, p: fw.EOSParameters
                                ) -> dict[str, np.ndarray]:
        """Fitted values of ``errors="profile"``/``"marginal"``: ``P`` at the observed state
        (density, temperature), ``rho`` at the observed pressure (and temperature, or on the
        Hugoniot), ``vp`` at the observed state; posterior means."""
        v = fit.data.values
        M = fw.MOLAR_MASS_FE
        out_p, out_rho, out_vp = [], [], []
        with np.errstate(invalid="ignore"):
            if v["N_s"]:
                V, T = M / np.asarray(v["rho_s"], dtype=float), np.asarray(v["T_s"], float)
                st = fw.state(V, T, p)
                out_p.append(np.nanmean(st["P"], 0))
                out_rho.append(np.nanmean(fw.density(np.asarray(v["P_s"], float), T, p), 0))
                out_vp.append(np.nanmean(st["V_P"], 0))
            if v["N_h"]:
                kw = self._hugoniot_kwargs()
                h = fw.hugoniot(M / np.asarray(v["rho_h"], dtype=float), p, **kw)
                out_p.append(np.nanmean(h["P"], 0))
                out_rho.append(np.nanmean(
                    M / fw.hugoniot_volume(np.asarray(v["P_h"], float), p, **kw), 0))
                out_vp.append(np.nanmean(h["V_P"], 0))
            if v["N_1"]:
                T1 = np.asarray(v["T_1"], dtype=float)
                out_p.append(np.full(T1.shape, 1e-4))
                out_rho.append(np.nanmean(fw.density(1e-4, T1, p), 0))
                out_vp.append(np.nanmean(fw.sound_speed(1e-4, T1, p), 0))
        return {"P": np.concatenate(out_p), "rho": np.concatenate(out_rho),
                "vp": np.concatenate(out_vp)}

    # ------------------------------------------------------------------ predictions
    def _draw_parameters(self, fit: Fit, max_draws: int = 1000) -> fw.EOSParameters:
        try:
            vals = {k: np.asarray(fit.variable(k), dtype=float) for k in EOS_PARAMETERS}
        except KeyError:
            vals = {k: np.atleast_1d(np.asarray(fit.estimate(k), dtype=float))
                    for k in EOS_PARAMETERS}
        n = next(iter(vals.values())).shape[0]
        idx = np.unique(np.linspace(0, n - 1, min(n, max_draws)).round().astype(int))
        return self.eos_parameters({k: a[idx][:, None] for k, a in vals.items()})

    def predict(self, fit: Fit, P: Any = None, T: Any = None, T_cmb: Any = None,
                T_cmb_sd: float | None = None, prem: Any = None,
                prob: float = 0.9, magnitudes: Any = None) -> pd.DataFrame:
        """Thermoelastic properties at ``(P, T)``, or the outer-core adiabat against PREM.

        Parameters
        ----------
        fit : Fit
        P, T : array_like, optional
            Pressures (GPa) and temperatures (K), broadcast together.
        T_cmb : float, optional
            Instead of ``P``/``T``: the core–mantle-boundary temperature (K) of the adiabat;
            with ``T_cmb_sd`` it has a normal prior, one temperature drawn per EOS draw.
        prem : path or DataFrame, optional
            PREM outer core (``pressure_GPa``, ``density_g_cm3``, ``vp_km_s``); the adiabat
            is evaluated at its pressures (default: 24 pressures from the CMB to the ICB)
            and compared with it.
        prob : float
            Mass of the equal-tailed intervals (default 0.9).
        magnitudes : None
            Not used (the command line passes it to every family); anything else is an
            :class:`OptionError`.

        Returns
        -------
        pandas.DataFrame
            One row per point: ``P_GPa``, ``T_K`` (the mean on an adiabat), and ``rho``,
            ``K_S``, ``V_P``, ``alpha``, ``gamma``, ``T`` each with ``_lower``/``_upper``;
            with ``prem`` also ``rho_prem``, ``vp_prem``, ``density_excess`` (ρ_Fe/ρ_PREM −
            1: how much denser pure liquid iron is), ``density_deficit`` (1 − ρ_PREM/ρ_Fe,
            the core's deficit relative to iron) and ``vp_difference`` (V_P,Fe/V_P,PREM − 1),
            with intervals.
        """
        import pandas as pd

        check_prob(prob)
        if magnitudes is not None:
            raise OptionError("magnitudes= does not apply to LiquidIronEOS fits; use P= and "
                              "T= (or T_cmb=)")
        p = self._draw_parameters(fit)
        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        table: dict[str, Any] = {}
        if T_cmb is not None:
            if P is not None or T is not None:
                raise OptionError("give either P and T, or T_cmb (an adiabat), not both")
            t_mean = Interval(Real, 0, None, closed="neither").convert("T_cmb", T_cmb)
            n = np.shape(p.V0)[0]
            if T_cmb_sd is not None:
                sd = Interval(Real, 0, None, closed="neither").convert("T_cmb_sd", T_cmb_sd)
                seed = fit.metadata.get("seed") or 0
                t_draws = np.random.default_rng(int(seed) + 7).normal(t_mean, sd, size=(n, 1))
            else:
                t_draws = np.full((n, 1), t_mean)
            prem_df = _prem_table(prem) if prem is not None else None
            pressures = (prem_df["pressure_GPa"].to_numpy(float) if prem_df is not None
                         else np.linspace(PREM_CMB_PRESSURE, 328.85, 24))
            V_ref = fw.volume(PREM_CMB_PRESSURE, t_draws, p)
            s = _adiabat_draws(p, V_ref, t_draws, pressures)
            table["P_GPa"] = pressures
        else:
            if P is None or T is None:
                raise OptionError("predict needs P= and T= (GPa, K), or T_cmb= for an adiabat")
            P_arr, T_arr = np.broadcast_arrays(np.atleast_1d(np.asarray(P, dtype=float)),
                                               np.atleast_1d(np.asarray(T, dtype=float)))
            if not (np.all(np.isfinite(P_arr)) and np.all(np.isfinite(T_arr))
                    and np.all(T_arr > 0)):
                raise OptionError(f"P={P!r}, T={T!r} are not allowed; use finite pressures "
                                  "(GPa) and temperatures > 0 (K)")
            s = fw.state(fw.volume(P_arr, T_arr, p), T_arr, p)
            table["P_GPa"], table["T_K"] = P_arr, T_arr
            prem_df = None
        quantities = ["rho", "K_S", "V_P", "alpha", "gamma"] + (["T"] if T_cmb is not None
                                                                 else [])
        for key in quantities:
            arr = np.asarray(s[key])
            table[key] = np.nanmean(arr, axis=0)
            table[f"{key}_lower"] = np.nanquantile(arr, lo_q, axis=0)
            table[f"{key}_upper"] = np.nanquantile(arr, hi_q, axis=0)
        if prem_df is not None:
            rho_p = prem_df["density_g_cm3"].to_numpy(float)
            vp_p = prem_df["vp_km_s"].to_numpy(float)
            table["rho_prem"], table["vp_prem"] = rho_p, vp_p
            for key, arr in (("density_excess", s["rho"] / rho_p - 1),
                             ("density_deficit", 1 - rho_p / s["rho"]),
                             ("vp_difference", s["V_P"] / vp_p - 1)):
                table[key] = np.nanmean(arr, axis=0)
                table[f"{key}_lower"] = np.nanquantile(arr, lo_q, axis=0)
                table[f"{key}_upper"] = np.nanquantile(arr, hi_q, axis=0)
        df = pd.DataFrame(table)
        from ..arviz_io import draws_kind

        df.attrs.update({"prob": prob, "draws_kind": draws_kind(fit),
                         "n_draws": int(np.shape(p.V0)[0]), "T_cmb": T_cmb,
                         "T_cmb_sd": T_cmb_sd})
        return df

    # ------------------------------------------------------------------ figures
    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """Data against the posterior predictive in the P–ρ plane per data set, the
        normalised residuals, and the outer-core adiabat (4000 K at the CMB) with PREM's
        pressures when the fit's data reach them."""
        from ..plots.eos import outer_core_figure, p_rho_figure, residual_figure

        # draws far in the tails (e.g. of a Laplace approximation) may leave the EOS's
        # domain: their NaN are skipped by the nan-aware means and quantiles
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return [("Data and fitted EOS in the P–ρ plane", p_rho_figure(self, fit)),
                    ("Normalised residuals", residual_figure(self, fit)),
                    ("Outer-core adiabat (T_CMB = 4000 ± 300 K)",
                     outer_core_figure(self, fit))]

    def fitted_values(self, fit: Fit) -> dict[str, np.ndarray]:
        """Posterior-mean predictions of each observation (in the order of
        ``fit.data.observed``): ``P`` (GPa), ``rho`` (g/cm³) and ``vp`` (km/s)."""
        v = fit.data.values
        p = self._draw_parameters(fit, max_draws=200)
        if self.options["errors"] != "latent":
            return self._marginal_fitted_values(fit, p)
        est = {}
        for k in ("V_static", "T_static", "V_shock", "pressure_scale"):
            if k not in fit.draws and (fit.point is None or k not in fit.point):
                continue
            try:
                a = np.asarray(fit.variable(k), dtype=float)
            except KeyError:
                a = np.atleast_2d(np.asarray(fit.estimate(k), dtype=float))
            n = a.shape[0]
            idx = np.unique(np.linspace(0, n - 1, min(n, 200)).round().astype(int))
            est[k] = a[idx]
        out_p, out_rho, out_vp = [], [], []
        if v["N_s"]:
            s = fw.state(est["V_static"], est["T_static"], p)
            scale = np.ones_like(s["P"])
            if v["D"]:
                idx = np.asarray(v["s_scale"]) - 1
                scale = 1 + est["pressure_scale"][:, idx]
            out_p.append((s["P"] * scale).mean(0))
            out_rho.append(s["rho"].mean(0))
            out_vp.append(s["V_P"].mean(0))
        if v["N_h"]:
            h = fw.hugoniot(est["V_shock"], p, **self._hugoniot_kwargs())
            out_p.append(np.nanmean(h["P"], 0))
            out_rho.append(h["rho"].mean(0))
            out_vp.append(np.nanmean(h["V_P"], 0))
        if v["N_1"]:
            T1 = np.asarray(v["T_1"], dtype=float)
            out_p.append(np.full(T1.shape, 1e-4))
            out_rho.append(np.nanmean(fw.density(1e-4, T1, p), 0))
            out_vp.append(np.nanmean(fw.sound_speed(1e-4, T1, p), 0))
        return {"P": np.concatenate(out_p), "rho": np.concatenate(out_rho),
                "vp": np.concatenate(out_vp)}

    def improper_priors(self, data: PreparedData) -> list[str]:
        """The standardised latent states with ``errors="latent"`` (flat priors); none by
        default (every EOS parameter and pressure scale has a proper prior)."""
        if self.options["errors"] == "latent":
            return ["z_V_static", "z_T_static", "z_V_shock"]
        return []


def compare_isotherms(data: Any, method: str = "nuts", isotherms: tuple[str, ...] = ("vinet",
                      "bm3"), model_options: Mapping[str, Any] | None = None,
                      bridge: bool = False, **fit_kwargs: Any) -> pd.DataFrame:
    """Compare reference isotherms (Vinet, Birch–Murnaghan) on the same data by PSIS-LOO
    and, with ``bridge=True``, by marginal likelihood (bridge sampling).

    Fits ``LiquidIronEOS(isotherm=..., **model_options)`` for each isotherm and ranks the
    fits with :func:`pystats.compare` (PSIS-LOO of Vehtari, Gelman & Gabry 2017 through
    arviz, plus AIC/BIC at the point estimates).  With ``errors="profile"`` (default) or
    ``"marginal"`` each observation's true state is profiled or integrated out of its own
    log-likelihood term, so the leave-one-out unit is one observation (with one latent
    state per observation, ``errors="latent"``, the importance ratios are unstable: Pareto
    k > 0.7).  The profile terms are a quasi-likelihood (per-observation densities up to
    θ-free constants): differences of elpd between isotherms under the same ``errors``
    are meaningful, absolute values and comparisons across ``errors`` options are not.

    Parameters
    ----------
    data : table
        The tidy observation table (:func:`pystats.eos.data.read_eos_table`).
    method : {"nuts", "laplace"}
        How to draw from each posterior (default NUTS).
    isotherms : tuple of str
        Isotherm forms to compare (default both).
    model_options : dict, optional
        Other :class:`LiquidIronEOS` options (the same for every fit).
    bridge : bool
        Add the log marginal likelihood of each fit by bridge sampling
        (:func:`pystats.bridge.log_marginal_likelihood`; ``method="nuts"`` and
        ``errors="marginal"`` only, where every prior is proper): columns ``log_ml``,
        ``log_ml_error`` and ``log_bf``, the log Bayes factor against the row with the
        largest ``log_ml``.  Every parameter's prior is proper, but the true state of each
        static or shock point is integrated out under a flat measure (section 3 of the
        model card), the same for every isotherm: ``log_ml`` is defined up to that shared
        constant and only ``log_bf`` is meaningful.  The priors' truncation to the
        parameter bounds is not renormalised (prior mass outside < 0.2 %, the same for
        every isotherm: it cancels in ``log_bf``).
    **fit_kwargs
        Passed to each ``fit`` (``seed``, ``chains``, ``draws``, ...).

    Returns
    -------
    pandas.DataFrame
        :func:`pystats.compare`'s table, one row per isotherm (``elpd_loo``,
        ``se_elpd_loo``, ``d_elpd_loo``, ``max_pareto_k``, ...), plus the bridge-sampling
        columns with ``bridge=True``.

    References
    ----------
    Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
    leave-one-out cross-validation and WAIC. Statistics and Computing 27, 1413–1432.

    Gronau, Q. F. et al. (2017). A tutorial on bridge sampling. Journal of Mathematical
    Psychology 81, 80–97.
    """
    from ..comparison import compare

    if method not in ("nuts", "laplace"):
        raise OptionError(f"method={method!r} is not allowed; PSIS-LOO needs posterior "
                          "draws: use 'nuts' or 'laplace'")
    opts = dict(model_options or {})
    if bridge and method != "nuts":
        raise OptionError(f"bridge=True needs method='nuts' (MCMC draws); got {method!r}")
    if bridge and LiquidIronEOS(**opts).options["errors"] != "marginal":
        raise OptionError(
            f"bridge=True needs model_options={{'errors': 'marginal'}}; got errors="
            f"{LiquidIronEOS(**opts).options['errors']!r} (the profile likelihood is not a "
            "normalised density of the data, so its marginal likelihood is not an evidence)")
    fits = {iso: LiquidIronEOS(isotherm=iso, **opts).fit(data, method=method, **fit_kwargs)
            for iso in isotherms}
    table = compare(fits)
    if bridge:
        from ..bridge import log_marginal_likelihood

        res = {iso: log_marginal_likelihood(f) for iso, f in fits.items()}
        table["log_ml"] = [res[i].log_marginal_likelihood for i in table.index]
        table["log_ml_error"] = [res[i].error for i in table.index]
        table["log_bf"] = table["log_ml"] - table["log_ml"].max()
    return table


def _log_normal_constant(sd: Any) -> np.ndarray:
    """``log(1/(√(2π) sd))``: the log normalising constant of a normal density."""
    return -0.5 * np.log(2 * np.pi) - np.log(np.asarray(sd, dtype=float))


def _ev_logpdf(P_obs: Any, mP: Any, sP: Any, aP: Any, bP: Any, has_vp: Any, v_obs: Any,
               mv: Any, sv: Any, av: Any, bv: Any, profile: bool = False) -> np.ndarray:
    """Log density of (P, V_P) ~ N((mP, mv), C), C = diag(sP², sv²) + a aᵀ + b bᵀ, or of P
    alone where ``has_vp`` is false (``ev_lpdf`` of ``liquid_iron_eos.stan``).

    With ``profile`` the quadratic form ``−½ dᵀC⁻¹d`` keeps the observation errors' own
    normalising constants ``log(1/(√(2π) sP))`` (and ``sv``) instead of ``−½ log det(2πC)``:
    the θ-free normaliser of the profile over the states (``ev_quad`` of the Stan program)."""
    c11 = np.square(sP) + np.square(aP) + np.square(bP)
    d1 = np.asarray(P_obs, dtype=float) - mP
    c22 = np.square(sv) + np.square(av) + np.square(bv)
    c12 = aP * av + bP * bv
    det = c11 * c22 - c12**2
    d2 = np.nan_to_num(np.asarray(v_obs, dtype=float)) - np.nan_to_num(mv)
    with np.errstate(invalid="ignore", divide="ignore"):
        q_two = (c22 * d1**2 - 2 * c12 * d1 * d2 + c11 * d2**2) / det
    q_one = d1**2 / c11
    if profile:
        one = _log_normal_constant(sP) - 0.5 * q_one
        two = one + _log_normal_constant(sv) - 0.5 * (q_two - q_one)
    else:
        one = -0.5 * np.log(2 * np.pi * c11) - 0.5 * q_one
        with np.errstate(invalid="ignore", divide="ignore"):
            two = -np.log(2 * np.pi) - 0.5 * np.log(det) - 0.5 * q_two
    return np.where(has_vp, two, one)


def _adiabat_draws(p: fw.EOSParameters, V_ref: np.ndarray, T_ref: np.ndarray,
                   pressures: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`pystats.eos.forward.state` on each draw's adiabat through ``(V_ref, T_ref)``
    (shape ``(S, 1)``), at ``pressures``: ``(S, n)`` arrays."""
    def p_on(V: Any) -> Any:
        return fw.pressure(V, fw.adiabat_temperature(V, V_ref, T_ref, p), p)

    shape = np.broadcast_shapes(np.shape(V_ref), pressures.shape)
    lo = np.broadcast_to(0.25 * np.asarray(p.V0), shape).copy()
    hi = np.broadcast_to(1.2 * V_ref, shape).copy()
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        above = p_on(mid) > pressures
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    V = 0.5 * (lo + hi)
    return fw.state(V, fw.adiabat_temperature(V, V_ref, T_ref, p), p)
