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
// use_profile = 1 (errors="profile"): the same quadratic forms d' C^-1 d with a theta-free
// normaliser, the profile over the true states (maximised, not integrated; the "effective
// variance" method of Orear 1982), consistent for classical errors (true states fixed,
// observations scattered around them), where the marginal's -log det(C(theta))/2 is not.
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
  // ---- vectorised forms (the model block): every point shares one log(V/V0), and each
  // power of V/V0 is one exp of it (y^s = exp(s log y)), instead of the scalar functions'
  // repeated pow/cbrt calls; same values to rounding.  iso = [P_ref, K_ref, E_iso] at T0.
  array[] vector isotherm_v(vector ly, vector th, int bm3) {
    int n = rows(ly);
    array[3] vector[n] out;
    if (bm3) {
      vector[n] f = 0.5 * expm1(-2.0 / 3 * ly);
      vector[n] u = 1 + 2 * f;
      vector[n] u15 = u .* sqrt(u);
      real a = 1.5 * (th[3] - 4);
      out[1] = 3 * th[2] * f .* u15 .* u .* (1 + a * f);
      out[2] = th[2] * (u15 .* u .* (1 + 2 * a * f) + 5 * f .* u15 .* (1 + a * f)) .* u;
      out[3] = 1000 * 4.5 * th[2] * th[1] * square(f) .* (1 + (th[3] - 4) * f);
      return out;
    }
    vector[n] x = exp(ly / 3);
    real eta = 1.5 * (th[3] - 1);
    vector[n] w = eta * (1 - x);
    vector[n] ew = exp(w);
    vector[n] ex2 = ew ./ square(x);
    out[1] = 3 * th[2] * (1 - x) .* ex2;
    out[2] = th[2] * ex2 .* (2 - x + eta * x .* (1 - x));
    out[3] = 1000 * 9 * th[2] * th[1] / square(eta) * (1 + (w - 1) .* ew);
    return out;
  }
  // (y^s - 1)/s = integral_1^y t^(s-1) dt for every element of ly = log y
  vector pow_int_v(vector ly, real s) {
    if (abs(s) * max(abs(ly)) < 1e-8) return ly .* (1 + 0.5 * s * ly);
    return expm1(s * ly) / s;
  }
  // P(V, T) and K_T(V, T) at log-volumes lv (log V0 = lv0), temperatures T; with dT = T - T0,
  // dT2 = T^2 - T0^2.  Returns [P, K_T, dP/dT|_V, y^q, y^g, y, P_ref].
  array[] vector eos_pk_v(vector lv, vector T, vector dT, vector dT2, vector th, real T0,
                          real r, int bm3) {
    int n = rows(lv);
    vector[n] ly = lv - log(th[1]);
    array[3] vector[n] iso = isotherm_v(ly, th, bm3);
    vector[n] yq = exp(th[5] * ly);
    vector[n] yg = exp(th[7] * ly);
    vector[n] y = exp(ly);
    vector[n] inv_v = exp(-lv);
    real c = r * th[4] / th[1] / 1000;
    array[7] vector[n] out;
    out[1] = iso[1] + th[4] * yq .* inv_v * r .* (dT + th[6] * yg .* dT2) / 1000;
    out[2] = iso[2] - c * ((th[5] - 1) * yq ./ y .* dT
                           + th[6] * (th[5] + th[7] - 1) * yq .* yg ./ y .* dT2);
    out[3] = th[4] * yq * r .* (1 + 2 * th[6] * yg .* T) .* inv_v / 1000;
    out[4] = yq;
    out[5] = yg;
    out[6] = y;
    out[7] = iso[1];
    return out;
  }
  // Hugoniot at data volumes V (log volumes lv): [T_H(V), P_H(V), dP_H/dV] (hugoniot_t,
  // hugoniot_p and hugoniot_slope of the same volumes)
  array[] vector hugoniot_v(vector lv, vector V, vector th, real T0, real r, int bm3,
                            real V00, real e_ref) {
    int n = rows(lv);
    vector[n] ly = lv - log(th[1]);
    array[3] vector[n] iso = isotherm_v(ly, th, bm3);
    vector[n] pint_q = pow_int_v(ly, th[5]);
    vector[n] pint_qg = pow_int_v(ly, th[5] + th[7]);
    vector[n] yq = exp(th[5] * ly);
    vector[n] yg = exp(th[7] * ly);
    vector[n] gam = th[4] * yq;
    vector[n] dv = V00 - V;
    vector[n] e_cold = iso[3] + r * th[4] * T0 * (pint_q + 2 * th[6] * T0 * pint_qg) + e_ref;
    vector[n] denom = r * (1 - gam ./ V * 0.5 .* dv);
    vector[n] phi = (0.5 * dv * 1000 .* iso[1] - e_cold) ./ denom;
    vector[n] ev = th[6] * yg;
    vector[n] cc = phi + T0 + ev * square(T0);
    vector[n] T = 2 * cc ./ (1 + sqrt(1 + 4 * ev .* cc));
    vector[n] dT2 = square(T) - square(T0);
    vector[n] P = iso[1] + gam ./ V * r .* ((T - T0) + ev .* dT2) / 1000;
    // y^(s-1)/V0 = y^s / V
    vector[n] kt = iso[2] - r * th[4] / 1000 * ((th[5] - 1) * yq ./ V .* (T - T0)
                                                + th[6] * (th[5] + th[7] - 1) * yq .* yg ./ V
                                                  .* dT2);
    vector[n] p_v = -kt ./ V;
    vector[n] cvt = r * (1 + 2 * ev .* T);
    vector[n] p_t = gam .* cvt ./ V / 1000;
    vector[n] e_v = -1000 * iso[1]
                    + r * th[4] * T0 * (yq + 2 * th[6] * T0 * yq .* yg) ./ V
                    + r * th[7] * ev ./ V .* dT2;
    vector[n] f_v = e_v - 500 * (p_v .* dv - P);
    vector[n] f_t = cvt - 500 * p_t .* dv;
    array[3] vector[n] out;
    out[1] = T;
    out[2] = P;
    out[3] = p_v - p_t .* f_v ./ f_t;
    return out;
  }
  // observed (P, V_P) whose errors combine with those of the state:
  // (P, V_P) ~ N((mP, mv), C), C = diag(sP^2, sv^2) + a a' + b b', a, b the state-error
  // columns.  use_profile = 0 (errors="marginal"): the normal log density, -log det(2 pi C)/2
  // - d' C^-1 d / 2; use_profile = 1 (errors="profile"): -d' C^-1 d / 2 only, the observation
  // errors' own (theta-free) normalising constants being added in transformed data
  real ev_lpdf(real P_obs, real mP, real sP, real aP, real bP, int has_vp, real v_obs,
               real mv, real sv, real av, real bv, int use_profile) {
    real c11 = square(sP) + square(aP) + square(bP);
    if (!has_vp) {
      if (use_profile) return -0.5 * square(P_obs - mP) / c11;
      return normal_lpdf(P_obs | mP, sqrt(c11));
    }
    real c22 = square(sv) + square(av) + square(bv);
    real c12 = aP * av + bP * bv;
    real det = c11 * c22 - square(c12);
    real d1 = P_obs - mP;
    real d2 = v_obs - mv;
    real quad = (c22 * square(d1) - 2 * c12 * d1 * d2 + c11 * square(d2)) / det;
    if (use_profile) return -0.5 * quad;
    return -log(2 * pi()) - 0.5 * log(det) - 0.5 * quad;
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
  int<lower=0, upper=1> use_profile;     // 1: errors="profile" (states profiled out)
}
transformed data {
  vector[N_s] V_s = molar_mass ./ rho_s;
  vector[N_s] sV_s = V_s .* rho_s_sd ./ rho_s;
  vector[N_h] V_h = molar_mass ./ rho_h;
  vector[N_h] sV_h = V_h .* rho_h_sd ./ rho_h;
  // theta-free constant of the likelihood.  errors="marginal": log |dV/drho| of the
  // latent model's rho -> V change of variables.  errors="profile": the normalising
  // constants log(1/(sqrt(2 pi) sd)) of every observed P, V_P, rho and static T (the
  // profile over the true states leaves each observation's own normal constant)
  real log_jac;
  if (use_profile) {
    real c = -0.5 * log(2 * pi());
    log_jac = (3 * N_s + 2 * N_h) * c  // static: P, rho, T; shock: P, rho
              - sum(log(P_s_sd)) - sum(log(rho_s_sd)) - sum(log(T_s_sd))
              - sum(log(P_h_sd)) - sum(log(rho_h_sd));
    for (i in 1:N_s) if (s_has_vp[i]) log_jac += c - log(vp_s_sd[i]);
    for (i in 1:N_h) if (h_has_vp[i]) log_jac += c - log(vp_h_sd[i]);
  } else {
    log_jac = sum(log(V_s ./ rho_s)) + sum(log(V_h ./ rho_h));
  }
  // data-only pieces of the model block, computed once
  vector[N_s] lv_s = log(V_s);
  vector[N_s] dT_s = T_s - T0;
  vector[N_s] dT2_s = square(T_s) - square(T0);
  vector[N_h] lv_h = log(V_h);
  vector[N_1] lv_1 = log(molar_mass ./ rho_1);
  vector[N_1] dT_1 = T_1 - T0;
  vector[N_1] dT2_1 = square(T_1) - square(T0);
  int n_s_vp = sum(s_has_vp);
  int n_h_vp = sum(h_has_vp);
  array[n_s_vp] int s_vp;
  array[N_s - n_s_vp] int s_no_vp;
  array[n_h_vp] int h_vp;
  array[N_h - n_h_vp] int h_no_vp;
  {
    int a = 0;
    int b = 0;
    for (i in 1:N_s) {
      if (s_has_vp[i]) { a += 1; s_vp[a] = i; }
      else { b += 1; s_no_vp[b] = i; }
    }
    a = 0;
    b = 0;
    for (i in 1:N_h) {
      if (h_has_vp[i]) { a += 1; h_vp[a] = i; }
      else { b += 1; h_no_vp[b] = i; }
    }
  }
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
  if (N_s) {
    array[7] vector[N_s] e = eos_pk_v(lv_s, T_s, dT_s, dT2_s, th, T0, r, bm3);
    vector[N_s] sc = rep_vector(1, N_s);
    for (i in 1:N_s) if (s_scale[i] > 0) sc[i] += pressure_scale[s_scale[i]];
    vector[N_s] mP = sc .* e[1];
    vector[N_s] aP = -sc .* e[2] ./ V_s .* sV_s;
    vector[N_s] bP = sc .* e[3] .* T_s_sd;
    if (n_s_vp < N_s) {
      vector[N_s] sdP = sqrt(square(P_s_sd) + square(aP) + square(bP));
      if (use_profile) {
        target += -0.5 * dot_self((P_s[s_no_vp] - mP[s_no_vp]) ./ sdP[s_no_vp]);
      } else {
        target += normal_lpdf(P_s[s_no_vp] | mP[s_no_vp], sdP[s_no_vp]);
      }
    }
    for (j in 1:n_s_vp) {
      int i = s_vp[j];
      real V = V_s[i];
      real T = T_s[i];
      real hv = 1e-4 * V;
      real ht = 1e-4 * T;
      real mv = vp_of(V, T, th, T0, r, bm3, molar_mass);
      real av = (vp_of(V + hv, T, th, T0, r, bm3, molar_mass)
                 - vp_of(V - hv, T, th, T0, r, bm3, molar_mass)) / (2 * hv) * sV_s[i];
      real bv = (vp_of(V, T + ht, th, T0, r, bm3, molar_mass)
                 - vp_of(V, T - ht, th, T0, r, bm3, molar_mass)) / (2 * ht) * T_s_sd[i];
      target += ev_lpdf(P_s[i] | mP[i], P_s_sd[i], aP[i], bP[i], 1, vp_s[i], mv, vp_s_sd[i],
                        av, bv, use_profile);
    }
  }
  if (N_h) {
    array[3] vector[N_h] hu = hugoniot_v(lv_h, V_h, th, T0, r, bm3, V00, e_ref);
    vector[N_h] aP = hu[3] .* sV_h;
    if (n_h_vp < N_h) {
      vector[N_h] sdP = sqrt(square(P_h_sd) + square(aP));
      if (use_profile) {
        target += -0.5 * dot_self((P_h[h_no_vp] - hu[2][h_no_vp]) ./ sdP[h_no_vp]);
      } else {
        target += normal_lpdf(P_h[h_no_vp] | hu[2][h_no_vp], sdP[h_no_vp]);
      }
    }
    for (j in 1:n_h_vp) {
      int i = h_vp[j];
      real V = V_h[i];
      real hv = 1e-4 * V;
      real Tp = hugoniot_t(V + hv, th, T0, r, bm3, V00, e_ref);
      real Tm = hugoniot_t(V - hv, th, T0, r, bm3, V00, e_ref);
      real mv = vp_of(V, hu[1][i], th, T0, r, bm3, molar_mass);
      real av = (vp_of(V + hv, Tp, th, T0, r, bm3, molar_mass)
                 - vp_of(V - hv, Tm, th, T0, r, bm3, molar_mass)) / (2 * hv) * sV_h[i];
      target += ev_lpdf(P_h[i] | hu[2][i], P_h_sd[i], aP[i], 0, 1, vp_h[i], mv, vp_h_sd[i],
                        av, 0, use_profile);
    }
  }
  if (N_1) {
    // V with P(V, T) = 1e-4 GPa: 3 Newton steps in log V from the observed volume
    vector[N_1] lv = lv_1;
    for (k in 1:3) {
      array[7] vector[N_1] e = eos_pk_v(lv, T_1, dT_1, dT2_1, th, T0, r, bm3);
      lv += (e[1] - 1e-4) ./ e[2];
    }
    target += normal_lpdf(rho_1 | molar_mass * exp(-lv), rho_1_sd);
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
