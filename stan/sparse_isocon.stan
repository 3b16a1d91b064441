// Sparse isocon: mass change and element transfers of altered samples of one protolith
// (pystats family "sparse_isocon"; model card models/sparse_isocon.md).
//
//   y[n, j] = log C_A[n, j] - mean_r log C_0[r, j]
//           = a[n] + b[n, j] + delta[j] + eps[n, j],
//   a[n] = log(M0 / MA) of sample n, b[n, j] = log(1 + tau[n, j]) the transfer of element j,
//   delta[j] ~ normal(0, s[j]) the protolith error shared by all samples,
//   eps[n, j] ~ normal(0, sqrt(e[j]^2 + sigma^2)) analytical error and extra scatter.
// Transfers (one row of z when shared = 1), per element either non-centred,
//   b[n, j] = z[n, j] * scale[j], z ~ normal(0, 1) (or double_exponential(0, 1)),
// or, where centred[j] = 1, centred: b[n, j] = z[n, j] ~ normal(0, scale[j]) (or
// double_exponential(0, scale[j])).  The same prior either way; Python sets centred[j] = 1
// for the elements whose transfers the data pin down (a clearly mobile element: its
// non-centred posterior is a narrow curved ridge z = b / scale, NUTS's worst case), and
// 0 for the rest (near-zero transfers: the centred funnel).  With
//   horseshoe = 1: the regularised horseshoe of Piironen & Vehtari (2017),
//     scale[j] = tau_g * lambda_tilde[j], lambda[j] ~ C+(0, 1), tau_g ~ C+(0, tau0),
//     c^2 = slab_scale^2 * caux, caux ~ inv_gamma(slab_df / 2, slab_df / 2), normal z;
//   horseshoe = 0: Bayesian lasso, scale[j] = tau_g * lambda[j], double-exponential z,
//     lambda[j] ~ N+(0, 1), tau_g ~ N+(0, 0.5) (caux is then unused and keeps its prior).
// a ~ normal(0, a_scale); sigma ~ N+(0, sigma_scale).  delta is integrated out: column j of
// r = y - a - b is normal with covariance v[j] I + s[j]^2 1 1' (v = e^2 + sigma^2), whose
// density (Sherman-Morrison) needs only the column's sum and sum of squares.  (Sampled as a
// parameter, delta[j] and the centred transfers b[., j] of a mobile element formed a ridge
// that NUTS crossed slowly: R-hat 1.05 on 50 x 30.)
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
  array[J] int<lower=0, upper=1> centred;
}
transformed data {
  int Nb = shared ? 1 : N;
  vector[J] cen = to_vector(centred);
}
parameters {
  vector[N] a;
  matrix[Nb, J] z;
  vector<lower=0>[J] lambda;
  real<lower=0> tau_g;
  real<lower=0> caux;
  real<lower=0> sigma;
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
    // b = z for centred elements, z * scale otherwise; z's prior scale the reverse
    row_vector[J] z_to_b = (cen + (1 - cen) .* scale)';
    vector[J] z_sd = cen .* scale + (1 - cen);
    matrix[N, J] r = y - rep_matrix(a, J);
    for (n in 1:N) {
      r[n] -= z[shared ? 1 : n] .* z_to_b;
    }
    {
      vector[J] v = square(e) + square(sigma);
      vector[J] s2 = square(s);
      vector[J] total = (rep_row_vector(1, N) * r)';
      vector[J] ss = columns_dot_self(r)';
      target += -0.5 * sum((ss - s2 .* square(total) ./ (v + N * s2)) ./ v)
                - 0.5 * sum((N - 1) * log(v) + log(v + N * s2));
    }
    for (k in 1:Nb) {
      if (horseshoe) {
        z[k] ~ normal(0, z_sd');
      } else {
        z[k] ~ double_exponential(0, z_sd');
      }
    }
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
