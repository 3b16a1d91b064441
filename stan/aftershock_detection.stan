// Omori-Utsu aftershock rate x Gutenberg-Richter magnitudes x probit detection with a
// time-varying 50 %-detection magnitude mu(t) (Omi et al. 2013, 2014; Morikawa et al. 2021).
//
// pystats family "aftershock" (pystats.AftershockDetection); the contract is
// notes/aftershock_spec.md.  Detected intensity
//   nu(t, M) = K (t + c)^(-p) * beta exp(-beta (M - M0)) * Phi((M - mu(t)) / sigma),
//   log L = sum_i [log K - p log(t_i + c) + log beta - beta (M_i - M0) + log Phi(z_i)]
//           - K exp(beta^2 sigma^2 / 2) int_{t_start}^{t_end} (t + c)^(-p) exp(-beta (mu(t) - M0)) dt,
// z_i = (M_i - mu(t_i)) / sigma.  The time integral is the data quadrature sum_q w_q g(t_q)
// (Gauss-Legendre in s = log t; w_q already includes the factor e^{s_q}).
// mu(s) = mu_0 + mu_slope (s - s1) + f(s), s = log t:
//   prior = 1 (gp): subset-of-regressors GP on inducing inputs Z = latent_x,
//     f(s) = k(s, Z) L^{-T} z with L = chol(K_ZZ + jitter alpha^2 I).  K = alpha^2 C with C the
//     unit-amplitude kernel, so L = alpha L_C and f(s) = alpha C(s, Z) L_C^{-T} z.  For the
//     Matern kernels C(s, Z) w is evaluated without forming the (N + Q) x m matrix of
//     autodiff variables (matern_times, the algorithm of the torch engine's separable_matvec:
//     e^{-a|s - Z_j|} separates on either side of s; O(m^2) autodiff work plus ~15 vector
//     operations of length N + Q; the gradient is ~10x cheaper than gp_matern52_cov); the RBF
//     kernel uses gp_exp_quad_cov directly.
//   prior = 2 (rw2): node values f_1 = f_2 = 0, f_j = 2 f_{j-1} - f_{j-2} + rw_scale z_{j-2},
//     f piecewise linear in s between the nodes latent_x (interpolation weights are data).
// log Phi(z): for z >= -20 the value formula of Stan's std_normal_lcdf written with erfc
// (log1m(erfc(z/sqrt2)/2) above 0, log(erfc(-z/sqrt2)/2) below), whose autodiff derivative is
// exact (std_normal_lcdf's own derivative is a rational approximation, ~1e-5 relative);
// for z < -20 the asymptotic series -z^2/2 - log(-z) - log(2 pi)/2
// + log(1 - 1/z^2 + 3/z^4 - 15/z^6 + 105/z^8 - 945/z^10 + 10395/z^12 - 135135/z^14), whose
// truncation error there is < 3.1e-15 (continuous across the switch to rounding; identical in
// the torch engine; finite and smooth however far below mu an event sits).
// Parameterisation (sampled coordinates; same posterior as in K and mu_0):
//   log_rate = log K + beta (M0 - mu_0_loc)  (log rate of M >= mu_0_loc events at t + c = 1 d:
//              K sits at M0, far above the data, so log K and beta correlate at -0.99),
//   mu_bar   = mean over the events of mu(t_i)  (mu_0 trades 1:1 with the GP level near s1);
//   mu_slope_bar = least-squares slope of mu(t_i) on s_i over the events, sum_i w_i mu(t_i) with
//              w_i = (s_i - mean s) / sum_j (s_j - mean s)^2  (mu_slope trades with the GP's trend);
//   K = exp(log_rate - beta (M0 - mu_0_loc)),  mu_slope = mu_slope_bar - sum_i w_i f(s_i),
//   mu_0 = mu_bar - mean_i f(s_i) - mu_slope mean_i (s_i - s1).
// The map (log_rate, mu_bar, mu_slope_bar, rest) -> (K, mu_0, mu_slope, rest) is triangular
// with |Jacobian| = K, so the prior block adds log K (the priors stay on K, mu_0, mu_slope).
// K, mu_0 and mu_slope are generated quantities.
// Priors (include_prior = 1), all normalised densities (truncated normals divided by their
// mass; half-normals carry the factor 2):
//   log10 K ~ N(-1.67, 1), i.e. K ~ lognormal(-1.67 ln 10, ln 10);  c ~ lognormal(log 0.01, 1.5);
//   p ~ N(1.1, 0.3) truncated to (0.2, 3);  beta ~ N(ln 10, 0.5 ln 10) truncated to (0, inf);
//   sigma ~ lognormal(log 0.3, 0.6);  mu_0 ~ N(mu_0_loc, 2);  mu_slope ~ N(-0.3, 0.5);
//   gp: gp_amplitude ~ half-normal(0, 0.5), gp_lengthscale ~ inv_gamma(ls_alpha, ls_beta);
//   rw2: rw_scale ~ half-normal(0, 0.2);  z ~ N(0, I).
// rate = 2 (etas; model card section 1b): lambda(t) adds
//   sum_{t_j < t} K_s exp(alpha (M_j - M0)) (t - t_j + c)^(-p) over the detected parents;
//   log L gains sum_i log1p(sec_i / (K (t_i + c)^-p)) and loses the parents' integrals, by
//   the near nodes (near_*: Gauss-Legendre in log(t - t_j), mu evaluated there) and the far
//   pairs (gq_*: global nodes).  Priors: K_s ~ lognormal(-1.67 ln 10, ln 10),
//   alpha ~ lognormal(log 1.5, 0.75).  All tables are data (pystats.aftershock.rate).
// The numpy reference of this density is tests/aftershock_reference.py.
functions {
  // log Phi(z), see the header
  real log_Phi(real z) {
    if (z < -20) {
      real iz2 = inv_square(z);
      real acc = 10395 + iz2 * -135135;
      acc = -945 + iz2 * acc;
      acc = 105 + iz2 * acc;
      acc = -15 + iz2 * acc;
      acc = 3 + iz2 * acc;
      acc = -1 + iz2 * acc;
      return -0.5 * square(z) - log(-z) - 0.5 * log(2 * pi()) + log1p(iz2 * acc);
    }
    if (z > 0) {
      return log1m(0.5 * erfc(z / sqrt2()));
    }
    return log(0.5 * erfc(-z / sqrt2()));
  }
  // unit-amplitude kernel: 1 = Matern 5/2, 2 = Matern 3/2, 3 = squared exponential (RBF)
  matrix unit_cov(array[] real x1, array[] real x2, real ell, int kernel) {
    if (kernel == 1) {
      return gp_matern52_cov(x1, x2, 1.0, ell);
    }
    if (kernel == 2) {
      return gp_matern32_cov(x1, x2, 1.0, ell);
    }
    return gp_exp_quad_cov(x1, x2, 1.0, ell);
  }
  // Matern C(x, Z) w for Matern 5/2 (kernel 1) or 3/2 (kernel 2) without the |x| x m
  // matrix (the algorithm of pystats.aftershock.latent.separable_matvec): with k the number
  // of inducing inputs at or below x, left of x (j <= k) |x - Z_j| = dl + (Z_k - Z_j) with
  // dl = x - Z_k, right of x (j >= k + 1) |x - Z_j| = dr + (Z_j - Z_{k+1}) with dr = Z_{k+1} - x,
  // and e^{-a (d + D)} = e^{-a d} e^{-a D}.  Expanding the kernel's polynomial factor in powers
  // of d gives sum_j C(|x - Z_j|) w_j = e^{-a dl} sum_r dl^r CL_r[k] + e^{-a dr} sum_r dr^r CR_r[k+1],
  // where CL_r, CR_r are m-vectors of prefix sums (m x m work: El = Ml .* e^{-a Dl},
  // Dl[k, j] = Z_k - Z_j for j <= k; Er likewise with Dr[k, j] = Z_j - Z_k for j >= k).
  // The m-level coefficients CL_r, CR_r carry a trailing 0, the index (m + 1) of points with
  // no inducing input on that side (kl, kr, dl, dr are data); per point there remain two
  // exponentials and ~15 autodiff vector operations (a sparse data matrix times the stacked
  // coefficients, csr_matrix_times_vector, was 3x slower).  Exact (the same sums,
  // regrouped); a = sqrt(5)/ell or sqrt(3)/ell; all exponents <= 0.
  vector matern_times(real ell, vector w, int kernel, array[] int kl, array[] int kr,
                      vector dl, vector dr, matrix Dl, matrix Dr, matrix Ml, matrix Mr) {
    int n_m = rows(w);
    int n = rows(dl);
    real a = (kernel == 1 ? sqrt(5.0) : sqrt(3.0)) / ell;
    matrix[n_m, n_m] El = Ml .* exp(-a * Dl);
    matrix[n_m, n_m] Er = Mr .* exp(-a * Dr);
    vector[n_m] A0 = El * w;
    vector[n_m] A1 = (Dl .* El) * w;
    vector[n_m] B0 = Er * w;
    vector[n_m] B1 = (Dr .* Er) * w;
    // coefficient vectors of d^0, d^1, d^2 with a trailing 0 (the index of points that have
    // no inducing input on that side)
    vector[n_m + 1] L0;
    vector[n_m + 1] L1;
    vector[n_m + 1] R0;
    vector[n_m + 1] R1;
    vector[n] out;
    if (kernel == 1) {
      // (1 + u + u^2/3) e^{-u}, u = a (d + D)
      real a2 = square(a) / 3;
      vector[n_m] A2 = (square(Dl) .* El) * w;
      vector[n_m] B2 = (square(Dr) .* Er) * w;
      vector[n_m + 1] L2 = append_row(a2 * A0, 0);
      vector[n_m + 1] R2 = append_row(a2 * B0, 0);
      L0 = append_row(A0 + a * A1 + a2 * A2, 0);
      L1 = append_row(a * A0 + (2 * a2) * A1, 0);
      R0 = append_row(B0 + a * B1 + a2 * B2, 0);
      R1 = append_row(a * B0 + (2 * a2) * B1, 0);
      out = exp(-a * dl) .* (L0[kl] + dl .* L1[kl] + square(dl) .* L2[kl])
            + exp(-a * dr) .* (R0[kr] + dr .* R1[kr] + square(dr) .* R2[kr]);
    } else {
      // (1 + u) e^{-u}
      L0 = append_row(A0 + a * A1, 0);
      L1 = append_row(a * A0, 0);
      R0 = append_row(B0 + a * B1, 0);
      R1 = append_row(a * B0, 0);
      out = exp(-a * dl) .* (L0[kl] + dl .* L1[kl]) + exp(-a * dr) .* (R0[kr] + dr .* R1[kr]);
    }
    return out;
  }
  // f at x: alpha C(x, Z) L_C^{-T} z, L_C = chol(C(Z, Z) + jitter I)
  vector gp_latent(array[] real x, array[] real zx, real alpha, real ell, vector z,
                   int kernel, real jitter, array[] int kl, array[] int kr,
                   vector dl, vector dr, matrix Dl, matrix Dr, matrix Ml, matrix Mr) {
    int n_m = size(zx);
    matrix[n_m, n_m] L = cholesky_decompose(add_diag(unit_cov(zx, zx, ell, kernel), jitter));
    vector[n_m] w = mdivide_right_tri_low(z', L)';
    if (kernel == 3) {
      return alpha * (unit_cov(x, zx, ell, kernel) * w);
    }
    return matern_times(ell, alpha * w, kernel, kl, kr, dl, dr, Dl, Dr, Ml, Mr);
  }
  // node values of the second-order random walk (f_1 = f_2 = 0)
  vector rw2_nodes(vector z, real tau) {
    vector[rows(z) + 1] d = append_row(0, cumulative_sum(tau * z));
    return append_row(0, cumulative_sum(d));
  }
  array[] int add_one(array[] int a) {
    array[size(a)] int b;
    for (i in 1:size(a)) {
      b[i] = a[i] + 1;
    }
    return b;
  }
  // f at the points of the interpolation tables
  vector latent_values(int prior, array[] real x, array[] real zx, array[] real gp_amplitude,
                       array[] real gp_lengthscale, array[] real rw_scale, vector z, int kernel,
                       real jitter, array[] int lo, vector lam, array[] int kl,
                       array[] int kr, vector dl, vector dr, matrix Dl, matrix Dr, matrix Ml,
                       matrix Mr) {
    if (prior == 1) {
      return gp_latent(x, zx, gp_amplitude[1], gp_lengthscale[1], z, kernel, jitter, kl, kr,
                       dl, dr, Dl, Dr, Ml, Mr);
    }
    vector[rows(z) + 2] fn = rw2_nodes(z, rw_scale[1]);
    return fn[lo] + lam .* (fn[add_one(lo)] - fn[lo]);
  }
}
data {
  int<lower=1> N;                     // detected events in the window
  vector<lower=0>[N] t;               // their times since the main shock (days)
  vector[N] s;                        // log t
  vector[N] m;                        // their magnitudes
  real M0;                            // main-shock magnitude
  int<lower=1> Q;                     // quadrature nodes
  vector[Q] s_q;                      // nodes in s = log t
  vector[Q] w_q;                      // weights times e^{s_q}
  real s1;                            // log t_end (reference of the linear mean)
  int<lower=1, upper=2> prior;        // 1 = gp, 2 = rw2
  int<lower=1, upper=3> kernel;       // 1 = matern52, 2 = matern32, 3 = rbf (gp only)
  int<lower=2> n_latent;              // inducing inputs (gp) or random-walk nodes (rw2)
  vector[n_latent] latent_x;          // their positions in s (increasing)
  real<lower=0> jitter;               // relative diagonal jitter of K_ZZ
  real mu_0_loc;                      // prior location of mu_0 (median detected magnitude)
  real<lower=0> ls_alpha;             // inverse-gamma prior of gp_lengthscale
  real<lower=0> ls_beta;
  int<lower=1, upper=2> rate;                // 1 = omori, 2 = etas
  int<lower=0> n_parents;                    // detected events after the main shock <= t_end
  vector[n_parents] mp;                      // their magnitudes
  int<lower=0> n_pairs;                      // (event i, parent j) pairs with t_j < t_i
  array[n_pairs] int<lower=1, upper=N> ev_i;
  array[n_pairs] int<lower=1, upper=n_parents> ev_j;
  vector<lower=0>[n_pairs] ev_x;             // t_i - t_j
  int<lower=0> n_far;                        // (global node, parent) pairs of the far part
  array[n_far] int<lower=1, upper=Q> gq_q;
  array[n_far] int<lower=1, upper=n_parents> gq_j;
  vector<lower=0>[n_far] gq_x;               // t_q - t_j
  int<lower=0> n_near;                       // near-part nodes
  array[n_near] int<lower=1, upper=n_parents> near_j;
  vector[n_near] near_s;                     // log t of the node
  vector<lower=0>[n_near] near_x;            // t - t_j
  vector<lower=0>[n_near] near_w;            // weight
  int<lower=0, upper=1> include_prior;
}
transformed data {
  int n_z = prior == 1 ? n_latent : n_latent - 2;
  int n_all = N + Q + n_near;
  vector[n_all] x_all = append_row(append_row(s, s_q), near_s);
  vector[n_far] log_w_far = log(w_q[gq_q]);
  array[n_far] int gq_all;                   // position of the far pairs' nodes in x_all
  for (k in 1:n_far) {
    gq_all[k] = N + gq_q[k];
  }
  vector[n_near] log_w_near = log(near_w);
  array[n_all] real x_arr = to_array_1d(x_all);
  array[n_latent] real z_arr = to_array_1d(latent_x);
  vector[n_all] x_rel = x_all - s1;
  real mean_x_rel = mean(x_rel[1:N]);
  vector[N] w_slope = (s - mean(s)) / sum(square(s - mean(s)));
  vector[Q] t_q = exp(s_q);
  real sum_dm = sum(m) - N * M0;
  // interpolation tables of the random walk: f(x) = f[lo] + lam (f[lo + 1] - f[lo])
  array[prior == 2 ? n_all : 0] int lo;
  vector[prior == 2 ? n_all : 0] lam;
  // separable Matern tables (see matern_times)
  int n_sep = prior == 1 && kernel < 3 ? n_all : 0;
  int m_sep = n_sep > 0 ? n_latent : 0;
  array[n_sep] int kl = rep_array(m_sep + 1, n_sep);  // k, or m + 1 (a zero) if no Z_j <= x
  array[n_sep] int kr = rep_array(m_sep + 1, n_sep);  // k + 1, or m + 1 if no Z_j > x
  vector[n_sep] dl = rep_vector(0, n_sep);   // x - Z_k (0 where no Z_j <= x)
  vector[n_sep] dr = rep_vector(0, n_sep);   // Z_{k+1} - x (0 where no Z_j > x)
  matrix[m_sep, m_sep] Dl = rep_matrix(0, m_sep, m_sep);
  matrix[m_sep, m_sep] Dr = rep_matrix(0, m_sep, m_sep);
  matrix[m_sep, m_sep] Ml = rep_matrix(0, m_sep, m_sep);
  matrix[m_sep, m_sep] Mr = rep_matrix(0, m_sep, m_sep);
  // normalising constants of the truncated-normal and half-normal priors
  real log_mass_p = log_diff_exp(normal_lcdf(3.0 | 1.1, 0.3), normal_lcdf(0.2 | 1.1, 0.3));
  real log_mass_beta = normal_lccdf(0 | log(10), 0.5 * log(10));
  for (i in 1:N) {
    if (t[i] <= 0) {
      reject("t[", i, "] = ", t[i], " must be positive");
    }
    if (abs(s[i] - log(t[i])) > 1e-9 * fmax(1, abs(s[i]))) {
      reject("s[", i, "] = ", s[i], " is not log(t[", i, "]) = ", log(t[i]));
    }
  }
  for (j in 2:n_latent) {
    if (latent_x[j] <= latent_x[j - 1]) {
      reject("latent_x must be increasing; latent_x[", j, "] = ", latent_x[j]);
    }
  }
  if (n_sep > 0) {
    for (i in 1:n_all) {
      int k = 0;  // inducing inputs at or below x: Z_k <= x < Z_{k+1}
      while (k < n_latent && x_all[i] >= latent_x[k + 1]) {
        k += 1;
      }
      if (k >= 1) {
        kl[i] = k;
        dl[i] = x_all[i] - latent_x[k];
      }
      if (k < n_latent) {
        kr[i] = k + 1;
        dr[i] = latent_x[k + 1] - x_all[i];
      }
    }
    for (k in 1:n_latent) {
      for (j in 1:k) {
        Dl[k, j] = latent_x[k] - latent_x[j];
        Ml[k, j] = 1;
      }
      for (j in k:n_latent) {
        Dr[k, j] = latent_x[j] - latent_x[k];
        Mr[k, j] = 1;
      }
    }
  }
  if (prior == 2) {
    if (n_latent < 3) {
      reject("the rw2 prior needs n_latent >= 3 nodes; got ", n_latent);
    }
    for (i in 1:n_all) {
      int j = 1;
      while (j < n_latent - 1 && x_all[i] > latent_x[j + 1]) {
        j += 1;
      }
      lo[i] = j;
      lam[i] = (x_all[i] - latent_x[j]) / (latent_x[j + 1] - latent_x[j]);
    }
  }
}
parameters {
  real log_rate;
  real<lower=0> c;
  real<lower=0.2, upper=3.0> p;
  real<lower=0> beta;
  real<lower=0.01> sigma;
  real mu_bar;
  real mu_slope_bar;
  array[prior == 1] real<lower=0> gp_amplitude;
  array[prior == 1] real<lower=0> gp_lengthscale;
  array[prior == 2] real<lower=0> rw_scale;
  vector[n_z] z;
  array[rate == 2] real<lower=0> K_s;
  array[rate == 2] real<lower=0> alpha;
}
model {
  vector[n_all] f_all = latent_values(prior, x_arr, z_arr, gp_amplitude, gp_lengthscale,
                                      rw_scale, z, kernel, jitter, lo, lam, kl, kr, dl, dr,
                                      Dl, Dr, Ml, Mr);
  real mu_slope = mu_slope_bar - dot_product(w_slope, f_all[1:N]);
  real mu_0 = mu_bar - mean(f_all[1:N]) - mu_slope * mean_x_rel;
  real log_K = log_rate - beta * (M0 - mu_0_loc);
  real K = exp(log_K);
  vector[n_all] mu_all = mu_0 + mu_slope * x_rel + f_all;
  vector[N] zd = (m - mu_all[1:N]) / sigma;
  real log_det = 0;
  for (i in 1:N) {
    log_det += log_Phi(zd[i]);
  }
  target += N * (log_K + log(beta)) - beta * sum_dm - p * sum(log(t + c)) + log_det
            - K * exp(0.5 * square(beta * sigma))
              * dot_product(w_q, exp(-p * log(t_q + c) - beta * (mu_all[(N + 1):(N + Q)] - M0)));
  if (rate == 2) {
    vector[n_parents] log_g = log(K_s[1]) + alpha[1] * (mp - M0);
    vector[n_pairs] contrib = exp(log_g[ev_j] - p * log(ev_x + c));
    vector[N] sec = rep_vector(0, N);
    real half_bs2 = 0.5 * square(beta * sigma);
    for (k in 1:n_pairs) {
      sec[ev_i[k]] += contrib[k];
    }
    target += sum(log1p(sec ./ exp(log(K) - p * log(t + c))));
    target += -sum(exp(log_w_far + log_g[gq_j] - p * log(gq_x + c)
                       - beta * (mu_all[gq_all] - M0) + half_bs2))
              - sum(exp(log_w_near + log_g[near_j] - p * log(near_x + c)
                        - beta * (mu_all[(N + Q + 1):n_all] - M0) + half_bs2));
  }
  if (include_prior) {
    target += lognormal_lpdf(K | -1.67 * log(10), log(10)) + log_K;  // + log |dK/dlog_rate|
    target += lognormal_lpdf(c | log(0.01), 1.5);
    target += normal_lpdf(p | 1.1, 0.3) - log_mass_p;
    target += normal_lpdf(beta | log(10), 0.5 * log(10)) - log_mass_beta;
    target += lognormal_lpdf(sigma | log(0.3), 0.6);
    target += normal_lpdf(mu_0 | mu_0_loc, 2.0);
    target += normal_lpdf(mu_slope | -0.3, 0.5);
    if (prior == 1) {
      target += normal_lpdf(gp_amplitude[1] | 0, 0.5) + log2();
      target += inv_gamma_lpdf(gp_lengthscale[1] | ls_alpha, ls_beta);
    } else {
      target += normal_lpdf(rw_scale[1] | 0, 0.2) + log2();
    }
    target += std_normal_lpdf(z);
    if (rate == 2) {
      target += lognormal_lpdf(K_s[1] | -1.67 * log(10), log(10));
      target += lognormal_lpdf(alpha[1] | log(1.5), 0.75);
    }
  }
}
generated quantities {
  real K = exp(log_rate - beta * (M0 - mu_0_loc));
  real mu_0;
  real mu_slope;
  real b = beta / log(10);
  vector[N] mu_at_events;
  {
    vector[n_all] f_all = latent_values(prior, x_arr, z_arr, gp_amplitude, gp_lengthscale,
                                        rw_scale, z, kernel, jitter, lo, lam, kl, kr, dl,
                                        dr, Dl, Dr, Ml, Mr);
    mu_slope = mu_slope_bar - dot_product(w_slope, f_all[1:N]);
    mu_0 = mu_bar - mean(f_all[1:N]) - mu_slope * mean_x_rel;
    mu_at_events = mu_0 + mu_slope * x_rel[1:N] + f_all[1:N];
  }
}
