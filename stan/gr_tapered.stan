// Tapered Gutenberg-Richter law (Kagan 2002) above a completeness magnitude.
//
// pystats family "gutenberg_richter", kind = "tapered".  Survival above the threshold
// m_t = mc - delta_m / 2 (the lower edge of the lowest bin; mc for continuous data):
//   S(m) = 10^(-b (m - m_t)) * exp(10^(1.5 (m_t - m_corner)) - 10^(1.5 (m - m_corner))),
// 10^(1.5 (m - m_corner)) being the seismic-moment ratio M0(m) / M0(m_corner).
// Binned data: P(bin m) = S(m - delta_m/2) - S(m + delta_m/2); continuous: density -S'(m).
// The data come grouped: K distinct magnitudes with their counts.  The pointwise log
// likelihood for PSIS-LOO is computed in Python on demand
// (GutenbergRichter.pointwise_log_likelihood), not here.
// Priors (include_prior = 1): b ~ lognormal(b_prior_mu, b_prior_sigma);
// corner_magnitude ~ uniform(corner_lower, corner_upper).
functions {
  vector tapered_lsurv(vector m, real beta, real corner, real m_t) {
    return -beta * (m - m_t) + exp(1.5 * log(10) * (m_t - corner))
           - exp(1.5 * log(10) * (m - corner));
  }
  vector tapered_logp(vector m, real beta, real corner, real m_t, real delta_m) {
    int K = rows(m);
    vector[K] lp;
    if (delta_m > 0) {
      vector[K] lo = tapered_lsurv(m - delta_m / 2, beta, corner, m_t);
      vector[K] hi = tapered_lsurv(m + delta_m / 2, beta, corner, m_t);
      for (k in 1:K) {
        lp[k] = log_diff_exp(lo[k], hi[k]);
      }
    } else {
      lp = tapered_lsurv(m, beta, corner, m_t)
           + log(beta + 1.5 * log(10) * exp(1.5 * log(10) * (m - corner)));
    }
    return lp;
  }
}
data {
  int<lower=1> K;                        // distinct magnitudes (bins)
  vector[K] m;                           // their values (bin centres)
  vector<lower=0>[K] count;              // events per distinct magnitude
  int<lower=1> N;                        // events (sum of count)
  real<lower=0> delta_m;                 // bin width; 0 = continuous
  real mc;                               // completeness magnitude (lowest bin centre)
  real corner_lower;
  real<lower=corner_lower> corner_upper;
  real b_prior_mu;
  real<lower=0> b_prior_sigma;
  int<lower=0, upper=1> include_prior;
}
transformed data {
  real m_t = mc - delta_m / 2;
}
parameters {
  real<lower=0> b;
  real<lower=corner_lower, upper=corner_upper> corner_magnitude;
}
model {
  target += dot_product(count, tapered_logp(m, b * log(10), corner_magnitude, m_t, delta_m));
  if (include_prior) {
    target += lognormal_lpdf(b | b_prior_mu, b_prior_sigma);
    target += uniform_lpdf(corner_magnitude | corner_lower, corner_upper);
  }
}
generated quantities {
  // a-value of the catalogue period: log10 N(>= mc) = a - b mc
  real a_value = log10(N) + b * mc;
}
