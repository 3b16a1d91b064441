// Toy program for tests/test_stan_engines.py (not shipped with pystats).
// y[i] ~ normal(mu, sigma); k ~ binomial(n, w); z[i, j] ~ normal(theta[i, j], 1) for a
// 2 x 3 array theta; zm[i, j] ~ normal(m[i, j], 1) for a 2 x 2 matrix m (matrices are
// column-major in Stan's unconstrained vector, arrays row-major).
// Priors (include_prior = 1): mu ~ normal(0, 10), sigma ~ exponential(1), w ~ beta(2, 2),
// theta and m ~ normal(0, 10).  Support restriction used to test rejection: mu < mu_max.
// Every term is written as target += *_lpdf so that log_prob is the normalised density.
#include toy_functions.stanfunctions
data {
  int<lower=0> N;
  vector[N] y;
  int<lower=0> n;
  int<lower=0, upper=n> k;
  array[2, 3] real z;
  matrix[2, 2] zm;
  real mu_max;
  int<lower=0, upper=1> include_prior;
}
parameters {
  real mu;
  real<lower=0> sigma;
  real<lower=0, upper=1> w;
  array[2, 3] real<lower=-20, upper=20> theta;
  matrix[2, 2] m;
}
transformed parameters {
  real log_sigma = log(sigma);
}
model {
  if (mu >= mu_max) {
    reject("mu must be below mu_max = ", mu_max, "; found mu = ", mu);
  }
  target += normal_lpdf(y | mu, sigma);
  target += binomial_lpmf(k | n, w);
  target += unit_normal_2d_lpdf(z | theta);
  target += normal_lpdf(to_vector(zm) | to_vector(m), 1);
  if (include_prior) {
    target += normal_lpdf(mu | 0, 10);
    target += exponential_lpdf(sigma | 1);
    target += beta_lpdf(w | 2, 2);
    target += normal_lpdf(to_array_1d(theta) | 0, 10);
    target += normal_lpdf(to_vector(m) | 0, 10);
  }
}
generated quantities {
  real mu_twice = 2 * mu;
  array[2, 3] real theta_copy = theta;
  matrix[2, 2] m_copy = m;
}
