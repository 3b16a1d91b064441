// TimeVaryingB(kind="gp"): pystats family "time_varying_b" (models/magnitude_laws.md §8).
// Gutenberg-Richter magnitudes above mc with log b(t) = log b0 + f(t), f a squared-
// exponential GP by the Hilbert-space basis approximation (Riutort-Mayol et al. 2023):
// f = phi * (sqrt(S(sqrt_lambda)) .* z), the basis phi (N x M) computed by pystats.btime.hsgp.
// Each excess x = m - mc has the geometric log probability log(1 - q) - beta x,
// q = exp(-beta width), beta = b ln 10 (exponential density log beta - beta x for width 0):
// pystats.gr.likelihood.gr_logp, term for term as TimeVaryingB.log_likelihood_torch.
data {
  int<lower=1> N;
  vector<lower=0>[N] x;                 // excess over mc
  real<lower=0> width;                  // bin width; 0 = continuous
  int<lower=1> M;                       // basis functions
  matrix[N, M] phi;                     // eigenfunctions at the (scaled) event times
  vector<lower=0>[M] sqrt_lambda;       // square roots of the eigenvalues
  int<lower=0, upper=1> include_prior;
}
parameters {
  real<lower=0> b0;
  real<lower=0> alpha;
  real<lower=0> ell;
  vector[M] z;
}
model {
  vector[M] spd = alpha * (2 * pi())^0.25 * sqrt(ell) * exp(-0.25 * square(ell * sqrt_lambda));
  vector[N] beta = log(10) * b0 * exp(phi * (spd .* z));
  if (width > 0) {
    target += sum(log1m_exp(-beta * width)) - dot_product(beta, x);
  } else {
    target += sum(log(beta)) - dot_product(beta, x);
  }
  if (include_prior) {
    target += lognormal_lpdf(b0 | 0, 0.5);
    target += normal_lpdf(alpha | 0, 0.3) + log(2);   // half-normal
    target += lognormal_lpdf(ell | log(0.3), 0.7);
    target += std_normal_lpdf(z);
  }
}
