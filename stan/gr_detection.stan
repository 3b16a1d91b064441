// Gutenberg-Richter law times a cumulative-normal detection probability
// (Ogata & Katsura 1993), over the whole recorded range above m_min.
//
// pystats family "gutenberg_richter", kind = "detection".  Recorded magnitudes have density
//   f(m) ∝ beta exp(-beta (m - m0)) Phi((m - mu) / sigma),  m >= m0 = m_min - delta_m / 2,
// with beta = b ln 10.  The un-normalised survival has the closed form
//   S(x) = exp(-beta (x - m0)) Phi(z) + exp(beta (m0 - mu) + (beta sigma)^2 / 2) Phi(-z - beta sigma),
// z = (x - mu) / sigma; both terms are positive, so log S is a log_sum_exp of
// log Phi values.  Binned data: P(bin m) = (S(m - delta_m/2) - S(m + delta_m/2)) / S(m0);
// the difference is taken in the upper tail of the law from S and in the lower tail from
// F(x) = S(-inf) - S(x) = exp(-beta (x - m0)) [exp(s z + s^2/2) Phi(z + s) - Phi(z)],
// s = beta sigma, where S(lo) and S(hi) would cancel.  Continuous: f(m) / S(m0).
// Derived: mc = mu + mc_z * sigma (detection probability Phi(mc_z)).
// The pointwise log likelihood for PSIS-LOO is computed in Python on demand
// (GutenbergRichter.pointwise_log_likelihood), not here.
// Priors (include_prior = 1): b ~ lognormal(b_prior_mu, b_prior_sigma);
// mu ~ normal(mu_prior_mean, mu_prior_sd); sigma ~ lognormal(sigma_prior_mu, sigma_prior_sigma).
functions {
  // log Phi(z).  Stan's std_normal_lcdf has an accurate value but an approximate
  // derivative (relative error ~1e-5); erfc has an exact one, so it is used wherever it
  // does not underflow.
  real log_Phi(real z) {
    if (z > 0) {
      return log1m(0.5 * erfc(z / sqrt2()));
    }
    if (z > -25) {
      return log(0.5 * erfc(-z / sqrt2()));
    }
    return std_normal_lcdf(z);
  }
  real detection_lsurv(real x, real beta, real mu, real sigma, real m0) {
    real z = (x - mu) / sigma;
    return log_sum_exp(-beta * (x - m0) + log_Phi(z),
                       beta * (m0 - mu) + 0.5 * square(beta * sigma) + log_Phi(-z - beta * sigma));
  }
  // log F(x), F = S(-inf) - S(x): the mass below x, accurate in the lower tail
  real detection_lcdf_un(real x, real beta, real mu, real sigma, real m0) {
    real s = beta * sigma;
    real z = (x - mu) / sigma;
    return -beta * (x - m0) + log_diff_exp(s * z + 0.5 * square(s) + log_Phi(z + s), log_Phi(z));
  }
  // log(S(lo) - S(hi)) from the upper tail where S(lo) <= S(-inf) / 2, else from F
  real detection_log_interval(real lo, real hi, real beta, real mu, real sigma, real m0) {
    real log_total = beta * (m0 - mu) + 0.5 * square(beta * sigma);
    real s_lo = detection_lsurv(lo, beta, mu, sigma, m0);
    if (s_lo - log_total <= -log2()) {
      return log_diff_exp(s_lo, detection_lsurv(hi, beta, mu, sigma, m0));
    }
    return log_diff_exp(detection_lcdf_un(hi, beta, mu, sigma, m0),
                        detection_lcdf_un(lo, beta, mu, sigma, m0));
  }
  vector detection_logp(vector m, real beta, real mu, real sigma, real m_min, real delta_m) {
    int K = rows(m);
    real m0 = m_min - delta_m / 2;
    real log_norm = detection_lsurv(m0, beta, mu, sigma, m0);
    vector[K] lp;
    for (k in 1:K) {
      if (delta_m > 0) {
        lp[k] = detection_log_interval(m[k] - delta_m / 2, m[k] + delta_m / 2, beta, mu, sigma,
                                       m0);
      } else {
        lp[k] = log(beta) - beta * (m[k] - m0) + log_Phi((m[k] - mu) / sigma);
      }
    }
    return lp - log_norm;
  }
}
data {
  int<lower=1> K;                        // distinct magnitudes (bins)
  vector[K] m;                           // their values (bin centres)
  vector<lower=0>[K] count;              // events per distinct magnitude
  real<lower=0> delta_m;                 // bin width; 0 = continuous
  real m_min;                            // lowest modelled magnitude (lowest bin centre)
  real mc_z;                             // derived mc = mu + mc_z * sigma
  real b_prior_mu;
  real<lower=0> b_prior_sigma;
  real mu_prior_mean;
  real<lower=0> mu_prior_sd;
  real sigma_prior_mu;
  real<lower=0> sigma_prior_sigma;
  int<lower=0, upper=1> include_prior;
}
parameters {
  real<lower=0> b;
  real mu;
  real<lower=0> sigma;
}
model {
  target += dot_product(count, detection_logp(m, b * log(10), mu, sigma, m_min, delta_m));
  if (include_prior) {
    target += lognormal_lpdf(b | b_prior_mu, b_prior_sigma);
    target += normal_lpdf(mu | mu_prior_mean, mu_prior_sd);
    target += lognormal_lpdf(sigma | sigma_prior_mu, sigma_prior_sigma);
  }
}
generated quantities {
  real mc = mu + mc_z * sigma;
}
