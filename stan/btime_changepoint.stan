// TimeVaryingB(kind="changepoint"): pystats family "time_varying_b"
// (models/magnitude_laws.md §8).  Gutenberg-Richter magnitudes above mc (time order) with
// b = b1 for events 1..k and b2 for events k+1..N; the change position k, uniform on
// 1..N-1, is summed out (log-sum-exp over k), as TimeVaryingB.log_likelihood_torch does.
// Each event's log probability is A - beta x (A = log(1 - exp(-beta width)), or log beta
// for continuous magnitudes), so the log likelihood given k is
// k A1 - beta1 S_k + (N - k) A2 - beta2 (S_N - S_k) with S_k = x_1 + ... + x_k (data):
// the same sums as the torch likelihood's cumulative sums, O(N) arithmetic on data.
data {
  int<lower=2> N;
  vector<lower=0>[N] x;                 // excess over mc, in time order
  real<lower=0> width;                  // bin width; 0 = continuous
  int<lower=0, upper=1> include_prior;
}
transformed data {
  vector[N - 1] k = linspaced_vector(N - 1, 1, N - 1);
  vector[N] cum_x = cumulative_sum(x);
  vector[N - 1] s_before = cum_x[1:(N - 1)];
  vector[N - 1] s_after = cum_x[N] - s_before;
}
parameters {
  real<lower=0> b1;
  real<lower=0> b2;
}
model {
  real beta1 = log(10) * b1;
  real beta2 = log(10) * b2;
  real a1 = width > 0 ? log1m_exp(-beta1 * width) : log(beta1);
  real a2 = width > 0 ? log1m_exp(-beta2 * width) : log(beta2);
  target += log_sum_exp(a1 * k - beta1 * s_before + a2 * (N - k) - beta2 * s_after)
            - log(N - 1);
  if (include_prior) {
    target += lognormal_lpdf(b1 | 0, 0.5) + lognormal_lpdf(b2 | 0, 0.5);
  }
}
