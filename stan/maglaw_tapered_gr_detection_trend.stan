// MagnitudeLaw(law="tapered_gr", detection=True, mu_trend="gp"): pystats family
// "magnitude_law", the detection mu(t) = mu + HSGP(t) (maglaw_trend_functions.stan).
// The likelihood (maglaw_functions.stan) is that of pystats/maglaw/model.py term for term;
// models/magnitude_laws.md gives the law and the priors (§4, §5).  Data: maglaw_data.stan
// and maglaw_trend_data.stan (law = 2).
functions {
#include maglaw_functions.stan
#include maglaw_trend_functions.stan
}
data {
#include maglaw_data.stan
#include maglaw_trend_data.stan
}
parameters {
  real<lower=0> b;
  real<lower=corner_lower, upper=corner_upper> corner_magnitude;
  real mu;
  real<lower=0> sigma;
  real<lower=0> mu_alpha;
  real<lower=ell_min> mu_ell;
  vector[M] mu_z;
}
model {
  vector[G] mu_g = mu + phi * (maglaw_gp_sd(mu_alpha, mu_ell, sqrt_lambda) .* mu_z);
  target += maglaw_loglik_trend(law, b, 1, corner_magnitude, mu_g, sigma,
                                K, lo, count_gk, n_g, width, top, binned, N_m, m, group,
                                gl_y, gl_lw, es_s, es_lw, pn_off, pn_lw);
  if (include_prior) {
    target += normal_lpdf(b | b_prior_mean, b_prior_sd);
    target += uniform_lpdf(corner_magnitude | corner_lower, corner_upper);
    target += normal_lpdf(mu | mu_prior_mean, mu_prior_sd);
    target += lognormal_lpdf(sigma | sigma_prior_mu, sigma_prior_sigma);
    target += normal_lpdf(mu_alpha | 0, mu_alpha_sd) + log(2);  // half-normal
    target += lognormal_lpdf(mu_ell - ell_min | log(0.3), 0.7);  // vanishes at ell_min
    target += std_normal_lpdf(mu_z);
  }
}
