// TimeVaryingB(kind="changepoint"): pystats family "time_varying_b"
// (models/magnitude_laws.md §8).  Gutenberg-Richter magnitudes above mc (time order) with
// b = b1 for events 1..k and b2 for events k+1..N; the change position k, uniform on
// 1..N-1, is summed out (log-sum-exp of cumulative sums), as
// TimeVaryingB.log_likelihood_torch does term for term.
data {
  int<lower=2> N;
  vector<lower=0>[N] x;                 // excess over mc, in time order
  real<lower=0> width;                  // bin width; 0 = continuous
  int<lower=0, upper=1> include_prior;
}
parameters {
  real<lower=0> b1;
  real<lower=0> b2;
}
model {
  real beta1 = log(10) * b1;
  real beta2 = log(10) * b2;
  vector[N] lp1 = (width > 0 ? log1m_exp(-beta1 * width) : log(beta1)) - beta1 * x;
  vector[N] lp2 = (width > 0 ? log1m_exp(-beta2 * width) : log(beta2)) - beta2 * x;
  vector[N] c1 = cumulative_sum(lp1);
  vector[N] c2 = cumulative_sum(lp2);
  target += log_sum_exp(c1[1:(N - 1)] + (c2[N] - c2[1:(N - 1)])) - log(N - 1);
  if (include_prior) {
    target += lognormal_lpdf(b1 | 0, 0.5) + lognormal_lpdf(b2 | 0, 0.5);
  }
}
