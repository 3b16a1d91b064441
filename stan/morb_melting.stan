// MORB melting inversion: one source composition C0 and a degree of melting F per sample
// from trace-element concentrations (pystats family "morb_melting"; models/morb_melting.md).
//
// Observed pairs k = 1..K (sample samp[k], element elem[k]); y = log concentration (ppm):
//   y[k] ~ normal(log C0[elem[k]] + log(C_L / C0)(F[samp[k]], D[elem[k]]), sd[k]),
//   sd[k] = sqrt(sigma[elem[k]]^2 + tau[k]^2 + error_floor^2)  (tau: given log-scale
//   uncertainty, 0 if none; error_floor keeps sigma -> 0 from giving an unbounded density).
// Centred hierarchy, with the ridge (C0, F) -> (k C0, k F) on one coordinate (card, section 2):
//   L = logit(F / F_max) = L_mean + sum_to_zero(u_F)   (isometric basis of the sum-zero space),
//   mu_F = L_mean + mu_F_offset,   L[i] ~ normal(mu_F, sigma_F),
//   log C0 = log_c0_ref + c0_sd * z_C0 + b_C0 * (L_mean - mu_F_mean)   (b_C0: the ridge slope).
// The map from (z_C0, L_mean, mu_F_offset, u_F) to (log C0, mu_F, L) is affine with a constant
// Jacobian, so this is the density of the centred model (log C0, mu_F, sigma_F, L, sigma).
// Optional uncertain D (d_unc = 1): log D[j] = log D_tab[j] + d_sd * z_D[j], z_D ~ normal(0, 1).
// Optional fractional crystallisation (fc = 1): log C += (D_fc[j] - 1) * log(1 - X[i]),
//   X = X_max * inv_logit(mu_X + sigma_X * z_X) (non-centred), z_X ~ normal(0, 1),
//   mu_X ~ normal(mu_X_mean, mu_X_sd), sigma_X ~ half-normal(0, sigma_X_sd).
// Laws (modal melting): 1 batch, 2 aggregated fractional, 3 continuous with porosity phi.
// Densities are normalised (target += ..._lpdf, half-normal with its log 2), as in the
// torch likelihood and prior of pystats.morb.model.
functions {
  // Stan 2.36's sum_to_zero_constrain (isometric: an orthonormal basis of the vectors that
  // sum to zero), written out for older Stan; pystats.morb.model.sum_to_zero is the same map.
  vector sum_to_zero(vector y) {
    int n = rows(y);
    vector[n + 1] z = rep_vector(0, n + 1);
    real sum_w = 0;
    for (ii in 1:n) {
      int i = n - ii + 1;
      real w = y[i] / sqrt(i * (i + 1.0));
      sum_w += w;
      z[i] += sum_w;
      z[i + 1] -= w * i;
    }
    return z;
  }
  // log(C_L / C0) for the observed pairs (F per sample, 1/D per pair)
  vector log_melt_ratio(vector F, vector inv_D, int law, real phi, array[] int samp) {
    int K = rows(inv_D);
    vector[K] out;
    if (law == 1) {
      vector[K] f = F[samp];
      return log(inv_D) - log1p(f .* (inv_D - 1));
    }
    if (law == 2) {
      vector[rows(F)] log1m_F = log1m(F);
      vector[rows(F)] log_F = log(F);
      return log1m_exp(log1m_F[samp] .* inv_D) - log_F[samp];
    }
    for (k in 1:K) {
      real D = 1 / inv_D[k];
      real f = F[samp[k]];
      real d_phi = phi + (1 - phi) * D;
      real x = (f - phi) / (1 - phi);
      if (x > 1e-12) {
        out[k] = log1m_exp(log1m(x) / d_phi) - log(x);
      } else {
        out[k] = -log(D + f * (1 - D));
      }
    }
    return out;
  }
}
data {
  int<lower=1> N;
  int<lower=1> J;
  int<lower=1> K;
  array[K] int<lower=1, upper=N> samp;
  array[K] int<lower=1, upper=J> elem;
  vector[K] y;
  vector<lower=0>[K] tau;
  vector[J] log_c0_ref;
  vector[J] b_C0;
  real<lower=0> c0_sd;
  vector<lower=0>[J] D;
  int<lower=1, upper=3> law;
  real<lower=0, upper=1> phi;
  real<lower=0, upper=1> F_max;
  real mu_F_mean;
  real<lower=0> mu_F_sd;
  real<lower=0> sigma_F_sd;
  real sigma_mu;
  real<lower=0> sigma_sd;
  real<lower=0> error_floor;
  int<lower=0, upper=1> d_unc;
  real<lower=0> d_sd;
  int<lower=0, upper=1> fc;
  vector[J] D_fc;
  real<lower=0, upper=1> X_max;
  real mu_X_mean;
  real<lower=0> mu_X_sd;
  real<lower=0> sigma_X_sd;
  int<lower=0, upper=1> include_prior;
}
transformed data {
  vector[K] inv_D = inv(D[elem]);
  vector[J] n_obs = rep_vector(0, J);  // observed values per element
  int has_tau = max(tau) > 0;
  for (k in 1:K) {
    n_obs[elem[k]] += 1;
  }
}
parameters {
  vector[J] z_C0;
  real L_mean;
  real mu_F_offset;
  real<lower=0> sigma_F;
  vector[N - 1] u_F;
  vector<lower=0>[J] sigma;
  vector[d_unc ? J : 0] z_D;
  vector[fc] mu_X;
  vector<lower=0>[fc] sigma_X;
  vector[fc ? N : 0] z_X;
}
model {
  vector[N] L = L_mean + sum_to_zero(u_F);
  vector[N] F = F_max * inv_logit(L);
  vector[J] z0 = z_C0 + b_C0 * ((L_mean - mu_F_mean) / c0_sd);
  vector[J] log_c0 = log_c0_ref + c0_sd * z0;
  real mu_F = L_mean + mu_F_offset;
  vector[K] mu;
  if (d_unc) {
    vector[J] inv_D_j = exp(-d_sd * z_D) ./ D;
    mu = log_c0[elem] + log_melt_ratio(F, inv_D_j[elem], law, phi, samp);
  } else {
    mu = log_c0[elem] + log_melt_ratio(F, inv_D, law, phi, samp);
  }
  if (fc) {
    vector[N] log1m_X = log1m(X_max * inv_logit(mu_X[1] + sigma_X[1] * z_X));
    mu += (D_fc[elem] - 1) .* log1m_X[samp];
  }
  if (has_tau) {
    target += normal_lpdf(y | mu, sqrt(square(sigma[elem]) + square(tau) + square(error_floor)));
  } else {  // the same normal density with one sd per element: J logs instead of K
    vector[J] sd = sqrt(square(sigma) + square(error_floor));
    vector[J] inv_sd = inv(sd);
    target += -0.5 * dot_self((y - mu) .* inv_sd[elem]) - dot_product(n_obs, log(sd))
              - 0.5 * K * log(2 * pi());
  }
  if (include_prior) {
    target += std_normal_lpdf(z0);
    target += normal_lpdf(mu_F | mu_F_mean, mu_F_sd);
    target += normal_lpdf(sigma_F | 0, sigma_F_sd) + log2();
    target += normal_lpdf(L | mu_F, sigma_F);
    target += lognormal_lpdf(sigma | sigma_mu, sigma_sd);
    if (d_unc) {
      target += std_normal_lpdf(z_D);
    }
    if (fc) {
      target += std_normal_lpdf(z_X);
      target += normal_lpdf(mu_X | mu_X_mean, mu_X_sd);
      target += normal_lpdf(sigma_X | 0, sigma_X_sd) + log2();
    }
  }
}
