// Gutenberg-Richter law above a completeness magnitude, with a Poisson rate.
//
// pystats family "gutenberg_richter", kind = "gr" (estimators "exact", "aki", "positive").
// The b-value data are excesses x >= 0 over a threshold:
//   * binned magnitudes (width > 0): x = k * width with k geometric,
//     P(k) = (1 - q) q^k, q = exp(-beta * width), beta = b ln 10 (Tinti & Mulargia 1987);
//   * continuous magnitudes, or Aki's estimator with Utsu's correction (width = 0):
//     x exponential with rate beta (Aki 1965);
//   * b-positive (van der Elst 2021): x = positive magnitude differences minus dmc, with
//     the same law.
// Rate: n_rate events at or above mc in `duration` are Poisson with mean rate * duration
// (normalised poisson_lpmf).  Without event times or a duration pystats passes
// duration = 1: the rate is then per observation period.
// Every likelihood term is a normalised log probability (density), so the likelihood part
// of target is the log likelihood of the data.  The pointwise log likelihood for PSIS-LOO
// is computed in Python on demand (GutenbergRichter.pointwise_log_likelihood), not here.
// Priors (include_prior = 1): b ~ lognormal(b_prior_mu, b_prior_sigma);
// rate: Jeffreys p(rate) ∝ rate^(-1/2) (rate_prior_lognormal = 0) or
// lognormal(rate_prior_mu, rate_prior_sigma) (rate_prior_lognormal = 1).
data {
  int<lower=1> N;                        // number of b-value data
  vector<lower=0>[N] x;                  // excess over the threshold
  real<lower=0> width;                   // geometric bin width; 0 = exponential
  real mc;                               // completeness magnitude (for the a-value)
  int<lower=1> n_rate;                   // events at or above mc
  real<lower=0> duration;                // observation time (1 = one observation period)
  real b_prior_mu;
  real<lower=0> b_prior_sigma;
  int<lower=0, upper=1> rate_prior_lognormal;
  real rate_prior_mu;
  real<lower=0> rate_prior_sigma;
  int<lower=0, upper=1> include_prior;
}
transformed data {
  real sum_x = sum(x);
}
parameters {
  real<lower=0> b;
  real<lower=0> rate;
}
model {
  real beta = b * log(10);
  // sum over the data of the geometric log pmf log(1 - q) - beta x (q = exp(-beta width)),
  // or of exponential_lpdf(x | beta) = log(beta) - beta x, through the sufficient statistic
  if (width > 0) {
    target += N * log1m_exp(-beta * width) - beta * sum_x;
  } else {
    target += N * log(beta) - beta * sum_x;
  }
  target += poisson_lpmf(n_rate | rate * duration);
  if (include_prior) {
    target += lognormal_lpdf(b | b_prior_mu, b_prior_sigma);
    if (rate_prior_lognormal) {
      target += lognormal_lpdf(rate | rate_prior_mu, rate_prior_sigma);
    } else {
      target += -0.5 * log(rate);
    }
  }
}
generated quantities {
  // a-value of the catalogue period: log10 N(>= mc) = a - b mc
  real a_value = log10(rate * duration) + b * mc;
}
