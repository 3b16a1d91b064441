// Liquid-iron equation of state (Kuwayama et al. 2020 form) fitted to heterogeneous data.
//
// pystats family "liquid_iron_eos" (pystats/eos/model.py; the model card is
// models/liquid_iron_eos.md).  Units: V cm^3/mol, P GPa, T K, rho g/cm^3, V_P km/s,
// energies J/mol (1 GPa cm^3 = 1000 J).  th = [V0, K0, K0p, gamma0, q, e0, g].
//   P(V, T) = P_ref(V) + gamma(V)/V [E(V,T) - E(V,T0)],  P_ref Vinet (or BM3) at T0,
//   gamma = gamma0 (V/V0)^q,  E = 3nR (T + e0 (V/V0)^g T^2).
// Observations (errors in all variables, via latent true states):
//  * static points (kind density / sound_speed with T): latent (V_s, T_s); observed P
//    (times 1 + pressure_scale[dataset] when pressure scales are fitted), T, and rho and/or V_P;
//  * shock points (kind hugoniot / sound_speed without T): latent V_h on the principal
//    Hugoniot, T from the Rankine-Hugoniot energy balance (closed form); observed P, and
//    rho and/or V_P;
//  * 1-bar densities: V solved from P(V, T) = 1e-4 GPa by Newton steps from V0.
// Latent states have flat priors.  They are sampled non-centred: T = T_obs + sd_T z_T and
// V = V(P_obs, T; theta) + s z_V (static; V solved by Newton steps), V = V_H(P_obs; theta)
// + s z_V (shock; secant steps), with data-fixed scales s near the conditional posterior sd,
// so the z are about N(0, 1) whatever theta: the latent states barely correlate with theta.
// For fixed theta the map z -> state is a shift, so the flat prior on the states is kept.  The forward functions mirror pystats/eos/forward.py.
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
}
data {
  int<lower=0, upper=1> bm3;             // 1: Birch-Murnaghan isotherm, 0: Vinet
  real<lower=0> T0;
  real<lower=0> r;                       // 3 n R, J/(mol K)
  real<lower=0> molar_mass;              // g/mol
  real<lower=0> V00;                     // initial (solid, 1 bar) molar volume of the shocks
  real e_ref;                            // E(V0, T0) above the shocks' initial state, J/mol
  int<lower=0> N_s;                      // static points
  vector[N_s] P_s;
  vector<lower=0>[N_s] P_s_sd;
  vector[N_s] T_s;
  vector<lower=0>[N_s] T_s_sd;
  array[N_s] int<lower=0, upper=1> s_has_rho;
  vector[N_s] rho_s;
  vector<lower=0>[N_s] rho_s_sd;
  array[N_s] int<lower=0, upper=1> s_has_vp;
  vector[N_s] vp_s;
  vector<lower=0>[N_s] vp_s_sd;
  array[N_s] int<lower=0> s_scale;       // index into pressure_scale (0: none)
  int<lower=0> N_h;                      // shock points
  vector[N_h] P_h;
  vector<lower=0>[N_h] P_h_sd;
  array[N_h] int<lower=0, upper=1> h_has_rho;
  vector[N_h] rho_h;
  vector<lower=0>[N_h] rho_h_sd;
  array[N_h] int<lower=0, upper=1> h_has_vp;
  vector[N_h] vp_h;
  vector<lower=0>[N_h] vp_h_sd;
  int<lower=0> N_1;                      // 1-bar densities
  vector[N_1] T_1;
  vector[N_1] rho_1;
  vector<lower=0>[N_1] rho_1_sd;
  vector[N_s] c_Vs;                      // start of the volume solutions (data)
  vector<lower=0>[N_s] s_Vs;
  vector<lower=0>[N_s] s_Ts;
  vector[N_h] c_Vh;
  vector<lower=0>[N_h] s_Vh;
  int<lower=0> D;                        // fitted pressure scales
  real<lower=0> scale_sd;
  array[7] vector[2] prior;              // (location, scale) of each EOS parameter's prior
  int<lower=0, upper=1> include_prior;
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
  vector[N_s] z_V_static;
  vector[N_s] z_T_static;
  vector[N_h] z_V_shock;
  vector[D] pressure_scale;
}
model {
  vector[7] th = [V0, K0, K0p, gamma0, q, e0, g]';
  vector[N_s] T_static = T_s + s_Ts .* z_T_static;
  vector[N_s] V_static;
  vector[N_h] V_shock;
  for (i in 1:N_s) {
    real P_true = s_scale[i] > 0 ? P_s[i] / (1 + pressure_scale[s_scale[i]]) : P_s[i];
    V_static[i] = volume_at(P_true, T_static[i], th, T0, r, bm3, c_Vs[i])
                  + s_Vs[i] * z_V_static[i];
  }
  for (i in 1:N_h)
    V_shock[i] = hugoniot_volume(P_h[i], th, T0, r, bm3, V00, e_ref, c_Vh[i])
                 + s_Vh[i] * z_V_shock[i];
  for (i in 1:N_s) {
    real Pm = eos_p(V_static[i], T_static[i], th, T0, r, bm3);
    if (s_scale[i] > 0) Pm *= 1 + pressure_scale[s_scale[i]];
    target += normal_lpdf(P_s[i] | Pm, P_s_sd[i]);
    target += normal_lpdf(T_s[i] | T_static[i], T_s_sd[i]);
    if (s_has_rho[i])
      target += normal_lpdf(rho_s[i] | molar_mass / V_static[i], rho_s_sd[i]);
    if (s_has_vp[i]) {
      real ks = eos_ks(V_static[i], T_static[i], th, T0, r, bm3);
      target += normal_lpdf(vp_s[i] | sqrt(ks * V_static[i] / molar_mass), vp_s_sd[i]);
    }
  }
  for (i in 1:N_h) {
    real Th = hugoniot_t(V_shock[i], th, T0, r, bm3, V00, e_ref);
    target += normal_lpdf(P_h[i] | eos_p(V_shock[i], Th, th, T0, r, bm3), P_h_sd[i]);
    if (h_has_rho[i])
      target += normal_lpdf(rho_h[i] | molar_mass / V_shock[i], rho_h_sd[i]);
    if (h_has_vp[i]) {
      real ks = eos_ks(V_shock[i], Th, th, T0, r, bm3);
      target += normal_lpdf(vp_h[i] | sqrt(ks * V_shock[i] / molar_mass), vp_h_sd[i]);
    }
  }
  for (i in 1:N_1) {
    real V = V0;
    for (k in 1:8) {
      real y = V / V0;
      real kt = k_ref(V, th, bm3)
                - r * gamma0 / V0 / 1000 * ((q - 1) * pow(y, q - 1) * (T_1[i] - T0)
                  + e0 * (q + g - 1) * pow(y, q + g - 1) * (square(T_1[i]) - square(T0)));
      V += (eos_p(V, T_1[i], th, T0, r, bm3) - 1e-4) * V / kt;
    }
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
