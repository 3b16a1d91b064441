// MagnitudeLaw(law="tapered_gr", detection=True): pystats family "magnitude_law".
// The likelihood (maglaw_functions.stan) is that of pystats/maglaw/model.py term for term;
// models/magnitude_laws.md gives the law and the priors.  Data: maglaw_data.stan (law = 2).
functions {
#include maglaw_functions.stan
}
data {
#include maglaw_data.stan
}
parameters {
  real<lower=0> b;
  real<lower=corner_lower, upper=corner_upper> corner_magnitude;
  real mu;
  real<lower=0> sigma;
}
model {
  target += maglaw_loglik(law, detection, b, 1, corner_magnitude, mu, sigma, K, lo, count, width, top,
                          m_t, n, binned, N_m, m, gl_y, gl_lw, es_s, es_lw, pn_off, pn_lw);
  if (include_prior) {
    target += normal_lpdf(b | b_prior_mean, b_prior_sd);
    target += uniform_lpdf(corner_magnitude | corner_lower, corner_upper);
    target += normal_lpdf(mu | mu_prior_mean, mu_prior_sd);
    target += lognormal_lpdf(sigma | sigma_prior_mu, sigma_prior_sigma);
  }
}
