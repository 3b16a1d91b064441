// MagnitudeLaw(law="gr", detection=False): pystats family "magnitude_law".
// The likelihood (maglaw_functions.stan) is that of pystats/maglaw/model.py term for term;
// models/magnitude_laws.md gives the law and the priors.  Data: maglaw_data.stan (law = 1).
functions {
#include maglaw_functions.stan
}
data {
#include maglaw_data.stan
}
parameters {
  real<lower=0> b;
}
model {
  target += maglaw_loglik(law, detection, b, 1, 0, 0, 1, K, lo, count, width, top,
                          m_t, n, binned, N_m, m, gl_y, gl_lw, es_s, es_lw, pn_off, pn_lw);
  if (include_prior) {
    target += normal_lpdf(b | b_prior_mean, b_prior_sd);
  }
}
