// Liquid-iron equation of state (Kuwayama et al. 2020 form) fitted to heterogeneous data,
// errors in variables marginalised to first order ("effective variance"; the default,
// errors="marginal").  The latent-state version is liquid_iron_eos_latent.stan.
//
// pystats family "liquid_iron_eos" (pystats/eos/model.py; the model card is
// models/liquid_iron_eos.md).  Units: V cm^3/mol, P GPa, T K, rho g/cm^3, V_P km/s,
// energies J/mol (1 GPa cm^3 = 1000 J).  th = [V0, K0, K0p, gamma0, q, e0, g].
//   P(V, T) = P_ref(V) + gamma(V)/V [E(V,T) - E(V,T0)],  P_ref Vinet (or BM3) at T0,
//   gamma = gamma0 (V/V0)^q,  E = 3nR (T + e0 (V/V0)^g T^2).
// The latent model has a true state (V, T) per static point and V per shock point with
// flat priors, rho_obs ~ N(M/V, sd_rho), T_obs ~ N(T, sd_T), P_obs ~ N(P(V, T), sd_P)
// (V_P likewise).  Integrating the states out after linearising the model at the observed
// state (V_obs = M/rho_obs, T_obs) gives, per point,
//   (P_obs, V_P,obs) ~ N(m(V_obs, T_obs), diag(sd_P^2, sd_VP^2) + a a' + b b'),
//   a = dm/dV sd_V, b = dm/dT sd_T, sd_V = V_obs sd_rho / rho_obs,
// times the constant V_obs/rho_obs from rho -> V (kept so the value is a density of the
// observations).  On the Hugoniot m = (P_H(V), V_P(V, T_H(V))) and dm/dV by central
// differences (h = 1e-4 V) where V_P is observed; dP_H/dV in closed form (hugoniot_slope).  No root finding: every term is closed form.  1-bar densities:
// V from P(V, T) = 1e-4 GPa by 3 Newton steps in log V from V_obs (quadratic convergence
// from ~1 %: exact to rounding); rho_obs ~ N(M/V, sd_rho), T exact.  The NumPy twin is
// LiquidIronEOS.pointwise_log_likelihood.
functions {
  real p_ref(real V, vector th, int bm3) {
    real y = V / th[1];
    if (bm3) {
      real f = 0.5 * (pow(y, -2.0 / 3) - 1);
      return 3 * th[2] * f * pow(1 + 2 * f, 2.5) * (1 + 1.5 * (th[3] - 4) * f);
    }
    real x = cbrt(y);
    real eta = 1.5 * (th[3] - 1);
    return 3 * th[2] * (1 - x) / square(x) * exp(eta * (1 - x));
  }
  real k_ref(real V, vector th, int bm3) {
    real y = V / th[1];
    if (bm3) {
      real f = 0.5 * (pow(y, -2.0 / 3) - 1);
      real a = 1.5 * (th[3] - 4);
      real dpdf = 3 * th[2] * (pow(1 + 2 * f, 2.5) * (1 + 2 * a * f)
                               + 5 * f * pow(1 + 2 * f, 1.5) * (1 + a * f));
      return dpdf * (1 + 2 * f) / 3;
    }
    real x = cbrt(y);
    real eta = 1.5 * (th[3] - 1);
    return th[2] / square(x) * exp(eta * (1 - x)) * (2 - x + eta * x * (1 - x));
  }
  // integral_1^y t^(s-1) dt
  real pow_int(real y, real s) {
    real ly = log(y);
    if (abs(s * ly) < 1e-8) return ly * (1 + 0.5 * s * ly);
    return expm1(s * ly) / s;
  }
  real e_iso(real V, vector th, int bm3) {  // -int_{V0}^V P_ref dV, J/mol
    real y = V / th[1];
    if (bm3) {
      real f = 0.5 * (pow(y, -2.0 / 3) - 1);
      return 1000 * 4.5 * th[2] * th[1] * square(f) * (1 + (th[3] - 4) * f);
    }
    real x = cbrt(y);
    real eta = 1.5 * (th[3] - 1);
    return 1000 * 9 * th[2] * th[1] / square(eta)
           * (1 + (eta * (1 - x) - 1) * exp(eta * (1 - x)));
  }
  real eos_p(real V, real T, vector th, real T0, real r, int bm3) {
    real y = V / th[1];
    real ev = th[6] * pow(y, th[7]);
    return p_ref(V, th, bm3)
           + th[4] * pow(y, th[5]) / V * r * ((T - T0) + ev * (square(T) - square(T0))) / 1000;
  }
  // [K_T, K_S, rho-independent V_P^2 numerator K_S]
  real eos_ks(real V, real T, vector th, real T0, real r, int bm3) {
    real y = V / th[1];
    real c = r * th[4] / th[1] / 1000;
    real kth = -c * ((th[5] - 1) * pow(y, th[5] - 1) * (T - T0)
                     + th[6] * (th[5] + th[7] - 1) * pow(y, th[5] + th[7] - 1)
                       * (square(T) - square(T0)));
    real kt = k_ref(V, th, bm3) + kth;
    real gam = th[4] * pow(y, th[5]);
    real dpdt = gam * r * (1 + 2 * th[6] * pow(y, th[7]) * T) / V / 1000;
    return kt + gam * T * dpdt;
  }
  real eos_kt(real V, real T, vector th, real T0, real r, int bm3) {
    real y = V / th[1];
    real c = r * th[4] / th[1] / 1000;
    return k_ref(V, th, bm3)
           - c * ((th[5] - 1) * pow(y, th[5] - 1) * (T - T0)
                  + th[6] * (th[5] + th[7] - 1) * pow(y, th[5] + th[7] - 1)
                    * (square(T) - square(T0)));
  }
  // V with P(V, T) = P: Newton steps in log V from V_start
  real volume_at(real P, real T, vector th, real T0, real r, int bm3, real V_start) {
    real V = V_start;
    for (k in 1:7) {
      V *= exp((eos_p(V, T, th, T0, r, bm3) - P) / eos_kt(V, T, th, T0, r, bm3));
    }
    return V;
  }
  real energy(real V, real T, vector th, real T0, real r, int bm3) {
    real y = V / th[1];
    real iso_heat = r * th[4] * T0 * (pow_int(y, th[5])
                                      + 2 * th[6] * T0 * pow_int(y, th[5] + th[7]));
    return e_iso(V, th, bm3) + iso_heat
           + r * ((T - T0) + th[6] * pow(y, th[7]) * (square(T) - square(T0)));
  }
  real hugoniot_t(real V, vector th, real T0, real r, int bm3, real V00, real e_ref) {
    real y = V / th[1];
    real gam = th[4] * pow(y, th[5]);
    real e_cold = energy(V, T0, th, T0, r, bm3) + e_ref;
    real denom = r * (1 - gam / V * 0.5 * (V00 - V));
    real phi = (0.5 * (V00 - V) * 1000 * p_ref(V, th, bm3) - e_cold) / denom;
    real ev = th[6] * pow(y, th[7]);
    real cc = phi + T0 + ev * square(T0);
    return 2 * cc / (1 + sqrt(1 + 4 * ev * cc));
  }
  real hugoniot_p(real V, vector th, real T0, real r, int bm3, real V00, real e_ref) {
    return eos_p(V, hugoniot_t(V, th, T0, r, bm3, V00, e_ref), th, T0, r, bm3);
  }
  // V on the Hugoniot with P_H(V) = P: secant steps from V_start (1 % apart)
  real hugoniot_volume(real P, vector th, real T0, real r, int bm3, real V00, real e_ref,
                       real V_start) {
    real a = V_start * 0.995;
    real b = V_start * 1.005;
    real fa = hugoniot_p(a, th, T0, r, bm3, V00, e_ref) - P;
    real fb = hugoniot_p(b, th, T0, r, bm3, V00, e_ref) - P;
    for (k in 1:8) {
      if (fb == fa) break;
      real c = b - fb * (b - a) / (fb - fa);
      a = b;
      fa = fb;
      b = c;
      fb = hugoniot_p(b, th, T0, r, bm3, V00, e_ref) - P;
    }
    return b;
  }
  // dP_H/dV on the Hugoniot at (V, T = T_H(V)): dP/dV|_T + dP/dT|_V dT_H/dV, with dT_H/dV
  // from the energy balance F = E(V,T) + e_ref - 500 P (V00 - V) = 0 (implicit function)
  real hugoniot_slope(real V, real T, vector th, real T0, real r, int bm3, real V00) {
    real y = V / th[1];
    real ey = th[6] * pow(y, th[7]);
    real P = eos_p(V, T, th, T0, r, bm3);
    real p_v = -eos_kt(V, T, th, T0, r, bm3) / V;
    real p_t = th[4] * pow(y, th[5]) * r * (1 + 2 * ey * T) / V / 1000;
    real e_v = -1000 * p_ref(V, th, bm3)
               + r * th[4] * T0 * (pow(y, th[5] - 1)
                                   + 2 * th[6] * T0 * pow(y, th[5] + th[7] - 1)) / th[1]
               + r * th[7] * ey / V * (square(T) - square(T0));
    real f_v = e_v - 500 * (p_v * (V00 - V) - P);
    real f_t = r * (1 + 2 * ey * T) - 500 * p_t * (V00 - V);
    return p_v - p_t * f_v / f_t;
  }
  real vp_of(real V, real T, vector th, real T0, real r, int bm3, real molar_mass) {
    return sqrt(eos_ks(V, T, th, T0, r, bm3) * V / molar_mass);
  }
  // log density of observed P (and V_P) whose errors combine with those of the state:
  // (P, V_P) ~ N((mP, mv), diag(sP^2, sv^2) + a a' + b b'), a, b the state-error columns
  real ev_lpdf(real P_obs, real mP, real sP, real aP, real bP, int has_vp, real v_obs,
               real mv, real sv, real av, real bv) {
    real c11 = square(sP) + square(aP) + square(bP);
    if (!has_vp) return normal_lpdf(P_obs | mP, sqrt(c11));
    real c22 = square(sv) + square(av) + square(bv);
    real c12 = aP * av + bP * bv;
    real det = c11 * c22 - square(c12);
    real d1 = P_obs - mP;
    real d2 = v_obs - mv;
    return -log(2 * pi()) - 0.5 * log(det)
           - 0.5 * (c22 * square(d1) - 2 * c12 * d1 * d2 + c11 * square(d2)) / det;
  }
}

data {
  int<lower=0, upper=1> bm3;             // 1: Birch-Murnaghan isotherm, 0: Vinet
  real<lower=0> T0;
  real<lower=0> r;                       // 3 n R, J/(mol K)
  real<lower=0> molar_mass;              // g/mol
  real<lower=0> V00;                     // initial (solid, 1 bar) molar volume of the shocks
  real e_ref;                            // E(V0, T0) above the shocks' initial state, J/mol
  int<lower=0> N_s;                      // static points (all with a density)
  vector[N_s] P_s;
  vector<lower=0>[N_s] P_s_sd;
  vector[N_s] T_s;
  vector<lower=0>[N_s] T_s_sd;
  vector<lower=0>[N_s] rho_s;
  vector<lower=0>[N_s] rho_s_sd;
  array[N_s] int<lower=0, upper=1> s_has_vp;
  vector[N_s] vp_s;
  vector<lower=0>[N_s] vp_s_sd;
  array[N_s] int<lower=0> s_scale;       // index into pressure_scale (0: none)
  int<lower=0> N_h;                      // shock points (all with a density)
  vector[N_h] P_h;
  vector<lower=0>[N_h] P_h_sd;
  vector<lower=0>[N_h] rho_h;
  vector<lower=0>[N_h] rho_h_sd;
  array[N_h] int<lower=0, upper=1> h_has_vp;
  vector[N_h] vp_h;
  vector<lower=0>[N_h] vp_h_sd;
  int<lower=0> N_1;                      // 1-bar densities
  vector[N_1] T_1;
  vector[N_1] rho_1;
  vector<lower=0>[N_1] rho_1_sd;
  int<lower=0> D;                        // fitted pressure scales
  real<lower=0> scale_sd;
  array[7] vector[2] prior;              // (location, scale) of each EOS parameter's prior
  int<lower=0, upper=1> include_prior;
}
transformed data {
  vector[N_s] V_s = molar_mass ./ rho_s;
  vector[N_s] sV_s = V_s .* rho_s_sd ./ rho_s;
  vector[N_h] V_h = molar_mass ./ rho_h;
  vector[N_h] sV_h = V_h .* rho_h_sd ./ rho_h;
  // log |dV/drho| of the latent model's rho -> V change of variables
  real log_jac = sum(log(V_s ./ rho_s)) + sum(log(V_h ./ rho_h));
}
parameters {
  // physical ranges (wide against the priors); bounded so an optimizer's first unit step
  // on the unconstrained scale stays where the EOS is defined
  real<lower=6.5, upper=9.5> V0;
  real<lower=20, upper=300> K0;
  real<lower=1, upper=15> K0p;
  real<lower=0.2, upper=5> gamma0;
  real<lower=-3, upper=5> q;
  real<lower=0> e0;
  real<lower=-5, upper=5> g;
  vector[D] pressure_scale;
}
model {
  vector[7] th = [V0, K0, K0p, gamma0, q, e0, g]';
  target += log_jac;
  for (i in 1:N_s) {
    real V = V_s[i];
    real T = T_s[i];
    real sc = s_scale[i] > 0 ? 1 + pressure_scale[s_scale[i]] : 1;
    real y = V / V0;
    real dpdt = gamma0 * pow(y, q) * r * (1 + 2 * e0 * pow(y, g) * T) / V / 1000;
    real aP = -sc * eos_kt(V, T, th, T0, r, bm3) / V * sV_s[i];
    real bP = sc * dpdt * T_s_sd[i];
    real mv = 0;
    real av = 0;
    real bv = 0;
    if (s_has_vp[i]) {
      real hv = 1e-4 * V;
      real ht = 1e-4 * T;
      mv = vp_of(V, T, th, T0, r, bm3, molar_mass);
      av = (vp_of(V + hv, T, th, T0, r, bm3, molar_mass)
            - vp_of(V - hv, T, th, T0, r, bm3, molar_mass)) / (2 * hv) * sV_s[i];
      bv = (vp_of(V, T + ht, th, T0, r, bm3, molar_mass)
            - vp_of(V, T - ht, th, T0, r, bm3, molar_mass)) / (2 * ht) * T_s_sd[i];
    }
    target += ev_lpdf(P_s[i] | sc * eos_p(V, T, th, T0, r, bm3), P_s_sd[i], aP, bP,
                      s_has_vp[i], vp_s[i], mv, vp_s_sd[i], av, bv);
  }
  for (i in 1:N_h) {
    real V = V_h[i];
    real T = hugoniot_t(V, th, T0, r, bm3, V00, e_ref);
    real aP = hugoniot_slope(V, T, th, T0, r, bm3, V00) * sV_h[i];
    real mv = 0;
    real av = 0;
    if (h_has_vp[i]) {
      real hv = 1e-4 * V;
      real Tp = hugoniot_t(V + hv, th, T0, r, bm3, V00, e_ref);
      real Tm = hugoniot_t(V - hv, th, T0, r, bm3, V00, e_ref);
      mv = vp_of(V, T, th, T0, r, bm3, molar_mass);
      av = (vp_of(V + hv, Tp, th, T0, r, bm3, molar_mass)
            - vp_of(V - hv, Tm, th, T0, r, bm3, molar_mass)) / (2 * hv) * sV_h[i];
    }
    target += ev_lpdf(P_h[i] | eos_p(V, T, th, T0, r, bm3), P_h_sd[i], aP, 0,
                      h_has_vp[i], vp_h[i], mv, vp_h_sd[i], av, 0);
  }
  for (i in 1:N_1) {
    real V = molar_mass / rho_1[i];
    for (k in 1:3)
      V *= exp((eos_p(V, T_1[i], th, T0, r, bm3) - 1e-4) / eos_kt(V, T_1[i], th, T0, r, bm3));
    target += normal_lpdf(rho_1[i] | molar_mass / V, rho_1_sd[i]);
  }
  if (include_prior) {
    target += lognormal_lpdf(V0 | prior[1][1], prior[1][2]);
    target += lognormal_lpdf(K0 | prior[2][1], prior[2][2]);
    target += normal_lpdf(K0p | prior[3][1], prior[3][2]);
    target += lognormal_lpdf(gamma0 | prior[4][1], prior[4][2]);
    target += normal_lpdf(q | prior[5][1], prior[5][2]);
    target += lognormal_lpdf(e0 | prior[6][1], prior[6][2]);
    target += normal_lpdf(g | prior[7][1], prior[7][2]);
    target += normal_lpdf(pressure_scale | 0, scale_sd);
  }
}
