// Sparse isocon, regularised horseshoe, collapsed (pystats family "sparse_isocon";
// model card models/sparse_isocon.md, section "Sampling").
//
//   y[n, j] = log C_A[n, j] - mean_r log C_0[r, j]
//           = a[n] + b[n, j] + delta[j] + eps[n, j],
//   a[n] ~ normal(0, a_scale) = log(M0 / MA) of sample n,
//   b[n, j] = mu[j] + eta[n, j] the log transfers: mu[j] ~ normal(0, scale[j]) the element's
//     mean transfer, eta[n, j] ~ normal(0, scale[j]) the sample's deviation (eta = 0 when
//     shared = 1),
//   delta[j] ~ normal(0, s[j]) the protolith error shared by all samples,
//   eps[n, j] ~ normal(0, sqrt(e[j]^2 + sigma^2)) analytical error and extra scatter,
//   scale[j] = tau_g * lambda_tilde[j] (Piironen & Vehtari 2017), lambda[j] ~ C+(0, 1),
//   tau_g ~ C+(0, tau0), c^2 = slab_scale^2 * caux, caux ~ inv_gamma(slab_df/2, slab_df/2),
//   sigma ~ N+(0, sigma_scale).
// Given the scales (lambda, tau_g, caux, sigma) the model is linear and Gaussian in
// (a, b, delta), which are integrated out exactly: column j of y - a is
// normal(0, D[j] I + S[j] 1 1'), with D = v + scale^2 (v when shared), S = s^2 + scale^2,
// whose density needs only the column's sum and sum of squares
// (Sherman-Morrison); a then enters through a Gaussian with precision alpha I - beta 1 1',
// integrated out the same way.  Only J + 3 scales are sampled (lambda centred as
// kappa = tau_g * lambda for the elements the data show mobile, Stan data centred); a, b and delta are drawn
// from their exact Gaussian conditional in Python (SparseIsocon.derived).
data {
  int<lower=1> N;
  int<lower=1> J;
  matrix[N, J] y;
  vector<lower=0>[J] e;
  vector<lower=0>[J] s;
  int<lower=0, upper=1> shared;
  real<lower=0> tau0;
  real<lower=0> slab_scale;
  real<lower=0> slab_df;
  real<lower=0> a_scale;
  real<lower=0> sigma_scale;
  array[J] int<lower=0, upper=1> centred;
  int<lower=0, upper=1> include_prior;
}
transformed data {
  row_vector[J] col_sum = rep_row_vector(1.0, N) * y;     // 1' y_j
  row_vector[J] col_ss = columns_dot_self(y);             // ||y_j||^2
  vector[J] s2 = square(s);
  vector[J] e2 = square(e);
  vector[J] cen = to_vector(centred);
}
parameters {
  // kappa[j] = tau_g * lambda[j] for the centred elements (those the data show mobile),
  // lambda[j] for the others: the data fix tau_g * lambda of a mobile element, so
  // non-centred its lambda would follow tau_g along a ridge
  vector<lower=0>[J] kappa;
  real<lower=0> tau_g;
  real<lower=0> caux;
  real<lower=0> sigma;
}
model {
  vector[J] lambda = kappa ./ (cen * tau_g + (1 - cen));
  real c2 = square(slab_scale) * caux;
  vector[J] scale2 = square(tau_g) * c2 * square(lambda)
                     ./ (c2 + square(tau_g) * square(lambda));
  vector[J] v = e2 + square(sigma);
  vector[J] D = shared ? v : v + scale2;
  vector[J] S = s2 + scale2;
  vector[J] c = S ./ (D + N * S);
  // columns given a: -1/2 sum_j [N log D + log(1 + N S / D) + (||r||^2 - c (1'r)^2) / D]
  // with r = y_j - a; the quadratic form in a is Q0 - 2 a'g + a'(alpha I - beta 1 1')a
  real alpha = sum(inv(D)) + inv(square(a_scale));
  real beta = sum(c ./ D);
  vector[N] g = y * inv(D) - rep_vector(1.0, N) * (col_sum * (c ./ D));
  real q0 = sum((col_ss' - c .* square(col_sum')) ./ D);
  real sum_g = sum(g);
  // g' P^-1 g with P^-1 = (I + beta / (alpha - N beta) 1 1') / alpha
  real gpg = (dot_self(g) + beta / (alpha - N * beta) * square(sum_g)) / alpha;
  target += -0.5 * (N * sum(log(D)) + sum(log1p(N * S ./ D)) + q0 - gpg
                    + (N - 1) * log(alpha) + log(alpha - N * beta)
                    + 2 * N * log(a_scale));
  if (include_prior) {
    sigma ~ normal(0, sigma_scale);
    caux ~ inv_gamma(0.5 * slab_df, 0.5 * slab_df);
    lambda ~ cauchy(0, 1);
    target += -sum(cen) * log(tau_g);  // Jacobian of lambda = kappa / tau_g
    tau_g ~ cauchy(0, tau0);
  }
}
