// MagnitudeLaw(law="gamma", detection=False): pystats family "magnitude_law".
// The likelihood (maglaw_functions.stan) is that of pystats/maglaw/model.py term for term;
// models/magnitude_laws.md gives the law and the priors.  Data: maglaw_data.stan (law = 3).
functions {
#include maglaw_functions.stan
}
data {
#include maglaw_data.stan
}
parameters {
  real b;
  real<lower=corner_lower, upper=corner_upper> corner_magnitude;
}
model {
  target += maglaw_loglik(law, detection, b, 1, corner_magnitude, 0, 1, K, lo, count, width, top,
                          m_t, n, binned, N_m, m, gl_y, gl_lw, es_s, es_lw, pn_off, pn_lw);
  if (include_prior) {
    target += normal_lpdf(b | b_prior_mean, b_prior_sd);
    target += uniform_lpdf(corner_magnitude | corner_lower, corner_upper);
  }
}
