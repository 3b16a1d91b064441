// Sparse isocon: mass change and element transfers of altered samples of one protolith
// (pystats family "sparse_isocon"; model card models/sparse_isocon.md).
//
//   y[n, j] = log C_A[n, j] - mean_r log C_0[r, j]
//           = a[n] + b[n, j] + delta[j] + eps[n, j],
//   a[n] = log(M0 / MA) of sample n, b[n, j] = log(1 + tau[n, j]) the transfer of element j,
//   delta[j] ~ normal(0, s[j]) the protolith error shared by all samples,
//   eps[n, j] ~ normal(0, sqrt(e[j]^2 + sigma^2)) analytical error and extra scatter.
// Transfers, non-centred: b[n, j] = z[n, j] * scale[j] (one row of z when shared = 1), with
//   horseshoe = 1: the regularised horseshoe of Piironen & Vehtari (2017),
//     scale[j] = tau_g * lambda_tilde[j], lambda[j] ~ C+(0, 1), tau_g ~ C+(0, tau0),
//     c^2 = slab_scale^2 * caux, caux ~ inv_gamma(slab_df / 2, slab_df / 2), z ~ normal(0, 1);
//   horseshoe = 0: Bayesian lasso, scale[j] = tau_g * lambda[j], z ~ double_exponential(0, 1),
//     lambda[j] ~ N+(0, 1), tau_g ~ N+(0, 0.5) (caux is then unused and keeps its prior).
// a ~ normal(0, a_scale); sigma ~ N+(0, sigma_scale); delta = s .* delta_z, delta_z ~ N(0, 1).
// b, mass_ratio = exp(a) and tau = exp(b) - 1 are computed in Python (SparseIsocon.derived).
data {
  int<lower=1> N;
  int<lower=1> J;
  matrix[N, J] y;
  vector<lower=0>[J] e;
  vector<lower=0>[J] s;
  int<lower=0, upper=1> horseshoe;
  int<lower=0, upper=1> shared;
  real<lower=0> tau0;
  real<lower=0> slab_scale;
  real<lower=0> slab_df;
  real<lower=0> a_scale;
  real<lower=0> sigma_scale;
  int<lower=0, upper=1> include_prior;
}
transformed data {
  int Nb = shared ? 1 : N;
}
parameters {
  vector[N] a;
  matrix[Nb, J] z;
  vector<lower=0>[J] lambda;
  real<lower=0> tau_g;
  real<lower=0> caux;
  real<lower=0> sigma;
  vector[J] delta_z;
}
model {
  vector[J] scale;
  if (horseshoe) {
    real c2 = square(slab_scale) * caux;
    scale = tau_g * sqrt(c2 * square(lambda) ./ (c2 + square(tau_g) * square(lambda)));
  } else {
    scale = tau_g * lambda;
  }
  {
    row_vector[J] delta = (s .* delta_z)';
    row_vector[J] sd_j = sqrt(square(e) + square(sigma))';
    for (n in 1:N) {
      y[n] ~ normal(a[n] + z[shared ? 1 : n] .* scale' + delta, sd_j);
    }
  }
  delta_z ~ std_normal();
  if (horseshoe) {
    to_vector(z) ~ std_normal();
  } else {
    to_vector(z) ~ double_exponential(0, 1);
  }
  if (include_prior) {
    a ~ normal(0, a_scale);
    sigma ~ normal(0, sigma_scale);
    caux ~ inv_gamma(0.5 * slab_df, 0.5 * slab_df);
    if (horseshoe) {
      lambda ~ cauchy(0, 1);
      tau_g ~ cauchy(0, tau0);
    } else {
      lambda ~ std_normal();
      tau_g ~ normal(0, 0.5);
    }
  }
}
