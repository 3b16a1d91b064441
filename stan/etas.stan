// Temporal ETAS model (Ogata 1988): log-likelihood on a window [t_start, t_end] with history.
//
// pystats family "etas".  TEMPLATE: pystats.etas.stan.etas_stan_program(fixed) moves the line
// tagged "@param NAME" of each fixed parameter into the data block (at "@fixed-parameters")
// and drops the lines tagged "@prior NAME"; as written (nothing fixed) it is a valid program.
//
// Intensity, events sorted by time; events before t_start excite, ties do not excite each
// other:
//   lambda(t) = mu + sum_{t_i < t} K exp(alpha (m_i - m_ref)) (t - t_i + c)^(-p)
//   log L = sum_{t_start <= t_j <= t_end} log lambda(t_j) - Lambda(t_start, t_end),
//   Lambda = mu (t_end - t_start) + K sum_{t_i <= t_end} exp(alpha (m_i - m_ref))
//                                  * int_{max(t_start, t_i)}^{t_end} (s - t_i + c)^(-p) ds,
// the integral in closed form u^(1-p) L phi((1-p) L), u = a + c, L = log1p((b - a) / u),
// phi(q) = expm1(q) / q (Taylor series for |q| < 0.05): exact and smooth through p = 1.
//
// History sums.  The distinct event times u_1 < ... < u_G (up to t_end) are cut into blocks.
// Within a block every pair is summed exactly.  use_soe = 0: one block, the exact O(N^2) sum
// (pystats.etas.likelihood.etas_loglik_exact).  use_soe = 1: blocks of 16 times; the history
// of earlier blocks is carried by the sum-of-exponentials (SOE) kernel
//   (t + c)^(-p) ~ w0 + sum_k w_k exp(-s_k t),  s_k = exp(x_k), x_k = soe_log_s[k] (step h),
//   w_k = h exp(p x_k - s_k c) / Gamma(p),  w0 = h exp(p x_lo) / (Gamma(p) expm1(p h))
// (trapezoidal rule for the Gamma integral, the slow nodes below x_lo summed in closed form;
// pystats.etas.kernels.soe_grid / soe_weights): one state per rate, decayed to the first
// time of each block; the decay factors are data, only the weights depend on (c, p).
// Work O(N (n_soe + 16)); relative error of every history sum below the lattice's rtol
// (pystats.etas.likelihood.etas_loglik_fast).  The lattice (Stan data) must cover the
// delays up to u_G - u_1 and the (c, p) the sampler visits
// (pystats.etas.stan.soe_grid_covering); with soe_rtol > 0 each evaluation uses only the
// nodes that the current (c, p) need at tolerance soe_rtol / 100, as soe_grid would choose
// them (the others have weight below that tolerance, or are merged into w0).
// Tested against the torch likelihoods to 1e-8 relative (tests/test_etas_stan.py).
// Normalised: every term is a `target +=` statement.
// Priors (include_prior = 1): each free parameter x ~ lognormal(x_prior_loc, x_prior_scale).
//
// Productivity pivot (sampling coordinates only; the model is unchanged).  The parameter K
// is the productivity at the magnitude m_pivot (data):
//   K exp(alpha (m_i - m_pivot)) = K_ref exp(alpha (m_i - m_ref)),
//   K_ref = K exp(alpha (m_ref - m_pivot))  (generated quantity: the model's K at m_ref).
// The prior stays the user's, on K_ref: the density of (K, alpha) is that of (K_ref, alpha)
// times |dK_ref / dK| = exp(alpha (m_ref - m_pivot)), i.e.
//   log LN(K_ref; loc, scale) + alpha (m_ref - m_pivot) = log LN(K; loc - alpha (m_ref - m_pivot), scale)
// with LN the log-normal density
// (Stan's lower=0 transform adds log K, so lp__ is the same function of (K_ref, alpha, ...)
// for every pivot).  m_pivot = m_ref gives the plain parameterisation, K = K_ref, value for
// value.  A pivot near the magnitude where the data pin the productivity down removes the
// correlation of log K and alpha (pystats.etas.stan.decorrelating_pivot).  With K fixed
// (data), pass m_pivot = m_ref.
functions {
  // expm1(q) / q with the removable singularity filled (pystats.etas.kernels.expm1_over_x).
  // Directly where the quotient rule loses less than 1e-10 of the derivative (|q| >= 1e-3),
  // else the Taylor series sum_{n=0}^{5} q^n / (n + 1)! (truncation below 2e-18 relative).
  real expm1_over_x(real q) {
    if (abs(q) < 1e-3) {
      return 1 + q * (0.5 + q * (1.0 / 6 + q * (1.0 / 24 + q * (1.0 / 120 + q / 720))));
    }
    return expm1(q) / q;
  }
  // int_a^b (s + c)^(-p) ds, 0 <= a <= b (pystats.etas.kernels.kernel_integral)
  real kernel_integral(real a, real b, real c, real p) {
    real u = a + c;
    real big_l = log1p((b - a) / u);
    return exp((1 - p) * log(u)) * big_l * expm1_over_x((1 - p) * big_l);
  }
  // upper bound of log Q(p, x), Q the regularised upper incomplete gamma function:
  // Gamma(p, x) <= x^(p-1) exp(-x) / (1 - max(p - 1, 0) / x) for x > max(p - 1, 0)
  real log_gamma_q_bound(real p, real x) {
    real excess = fmax(p - 1, 0);
    if (x <= excess) {
      return 0;
    }
    return (p - 1) * log(x) - x - lgamma(p) - log1m(excess / x);
  }
}
data {
  int<lower=1> N;                    // events up to t_end, sorted: history, then targets
  vector[N] t;                       // times
  vector[N] m;                       // magnitudes
  int<lower=1, upper=N + 1> first;   // index of the first event with t >= t_start
  real t_start;
  real<lower=t_start> t_end;
  real m_ref;                        // reference magnitude of the model's K (K_ref)
  real m_pivot;                      // magnitude of the sampled K (m_ref: K is K_ref)
  int<lower=0, upper=1> use_soe;     // 0: exact O(N^2); 1: sum of exponentials
  int<lower=0> n_soe;                // SOE lattice nodes (0 when use_soe = 0)
  vector[n_soe] soe_log_s;           // x_k = log s_k = k h, increasing
  real<lower=0> soe_h;               // lattice step h
  real<lower=0, upper=1> soe_rtol;   // node selection tolerance (0: use every node)
  // @fixed-parameters
  real mu_prior_loc;                 // @prior mu
  real<lower=0> mu_prior_scale;      // @prior mu
  real K_prior_loc;                  // @prior K
  real<lower=0> K_prior_scale;       // @prior K
  real c_prior_loc;                  // @prior c
  real<lower=0> c_prior_scale;       // @prior c
  real alpha_prior_loc;              // @prior alpha
  real<lower=0> alpha_prior_scale;   // @prior alpha
  real p_prior_loc;                  // @prior p
  real<lower=0> p_prior_scale;       // @prior p
  int<lower=0, upper=1> include_prior;
}
transformed data {
  int n_used = 0;                    // events with t <= t_end (later ones are ignored)
  int n_grp = 0;                     // distinct times among them
  array[N] int grp;                  // index of the distinct time of each event
  for (i in 1:N) {
    if (i > 1 && t[i] < t[i - 1]) {
      reject("t must be sorted (non-decreasing); t[", i, "] = ", t[i], " < t[", i - 1,
             "] = ", t[i - 1]);
    }
    if (t[i] <= t_end) {
      n_used = i;
    }
    if (i == 1 || t[i] > t[i - 1]) {
      n_grp += 1;
    }
    grp[i] = n_grp;
  }
  if (first <= n_used && t[first] < t_start) {
    reject("first = ", first, " but t[first] = ", t[first], " < t_start = ", t_start);
  }
  if (first > 1 && t[first - 1] >= t_start) {
    reject("first = ", first, " but t[first - 1] = ", t[first - 1], " >= t_start = ", t_start);
  }
  if (use_soe && n_soe < 1) {
    reject("use_soe = 1 needs n_soe >= 1 lattice nodes");
  }
  if (use_soe && !(soe_h > 0)) {
    reject("use_soe = 1 needs soe_h > 0; got ", soe_h);
  }
  int n_targets = max(n_used - first + 1, 0);
  int n_time = n_used > 0 ? grp[n_used] : 0;
  int g_first = first <= n_used ? grp[first] : n_time + 1;  // first target time
  vector[n_time] u;                  // the distinct times
  for (i in 1:n_used) {
    u[grp[i]] = t[i];
  }
  real t_span = n_time > 0 ? u[n_time] - u[1] : 0;
  vector[n_used] lo;                 // integral limits max(t_start - t_i, 0), t_end - t_i
  vector[n_used] hi;
  for (i in 1:n_used) {
    lo[i] = fmax(t_start - t[i], 0);
    hi[i] = t_end - t[i];
  }
  // blocks of blk consecutive distinct times (one block for the exact sum)
  int blk = use_soe ? 16 : max(n_time, 1);
  int n_blk = (n_time + blk - 1) %/% blk;
  int n_last = n_blk > 0 ? n_time - (n_blk - 1) * blk : 0;
  vector[n_soe] soe_s = exp(soe_log_s);
  matrix[use_soe ? n_time : 0, n_soe] E_in;   // exp(-s_k (u_g - u_start(block of g)))
  matrix[n_soe, use_soe ? n_time : 0] G_out;  // exp(-s_k (u_start(next block) - u_h))
  matrix[n_soe, use_soe ? n_blk : 0] D_blk;  // exp(-s_k (u_start(next) - u_start))
  if (use_soe) {
    for (r in 1:n_blk) {
      int g0 = (r - 1) * blk + 1;
      int n = r < n_blk ? blk : n_last;
      for (gg in 1:n) {
        E_in[g0 + gg - 1] = exp(-soe_s * (u[g0 + gg - 1] - u[g0]))';
      }
      if (r < n_blk) {
        for (hh in 1:n) {
          G_out[:, g0 + hh - 1] = exp(-soe_s * (u[g0 + n] - u[g0 + hh - 1]));
        }
        D_blk[:, r] = exp(-soe_s * (u[g0 + n] - u[g0]));
      } else {
        G_out[:, g0:(g0 + n - 1)] = rep_matrix(0, n_soe, n);
        D_blk[:, r] = rep_vector(0, n_soe);
      }
    }
  }
}
parameters {
  real<lower=0> mu;                  // @param mu
  real<lower=0> K;                   // @param K
  real<lower=0> c;                   // @param c
  real<lower=0> alpha;               // @param alpha
  real<lower=0> p;                   // @param p
}
model {
  vector[n_used] a = exp(alpha * (m[1:n_used] - m_pivot));  // productivity factors
  vector[n_time] b = rep_vector(0, n_time);               // summed per distinct time
  vector[n_time] hist;                                    // history sum at each time
  real integral;                                          // sum_i a_i int kernel
  {
    // events from t_start on (lo = 0): c^(1-p) L phi((1-p) L), L = log1p(hi / c), with the
    // common factor c^(1-p) taken out of the sum; earlier events: kernel_integral
    int i0 = min(first, n_used + 1);
    vector[n_used - i0 + 1] big_l = log1p(hi[i0:n_used] / c);
    vector[n_used - i0 + 1] phi;
    for (j in 1:(n_used - i0 + 1)) {
      phi[j] = expm1_over_x((1 - p) * big_l[j]);
    }
    integral = exp((1 - p) * log(c)) * dot_product(a[i0:n_used], big_l .* phi);
    for (i in 1:(i0 - 1)) {
      integral += a[i] * kernel_integral(lo[i], hi[i], c, p);
    }
  }
  for (i in 1:n_used) {
    b[grp[i]] += a[i];
  }
  {
    // SOE nodes k1..k2 in use, their weights and the carried state (use_soe = 1)
    int k1 = 1;
    int k2 = n_soe;
    if (use_soe && soe_rtol > 0) {
      // as soe_grid: slow nodes merged into w0 while their error stays below the tolerance,
      // fast nodes dropped once negligible even at delay 0 (Q(p, s_k c) below it)
      real log_tol = log(soe_rtol) - log(100);
      real x_lo = (log_tol + log1p(p) + lgamma(p)) / (p + 1) - log(t_span + c);
      while (k1 < n_soe && soe_log_s[k1 + 1] <= x_lo) {
        k1 += 1;
      }
      k2 = k1;
      while (k2 < n_soe && log_gamma_q_bound(p, soe_s[k2] * c) > log_tol) {
        k2 += 1;
      }
    }
    int n_k = use_soe ? k2 - k1 + 1 : 0;
    vector[n_k] w;
    real w0 = 0;
    vector[n_k] carry = rep_vector(0, n_k);  // w_k A_k: weighted SOE state of earlier blocks
    real carried = 0;                      // total amount of the carried events
    if (use_soe) {
      real log_h_over_gamma = log(soe_h) - lgamma(p);
      w = exp(log_h_over_gamma + p * soe_log_s[k1:k2] - c * soe_s[k1:k2]);
      w0 = exp(log_h_over_gamma + p * soe_log_s[k1]) / expm1(p * soe_h);
    }
    for (r in 1:n_blk) {
      int g0 = (r - 1) * blk + 1;
      int n = r < n_blk ? blk : n_last;
      if (g0 + n > g_first) {              // the block holds target times
        vector[n] from_carry = rep_vector(0, n);
        if (use_soe && r > 1) {
          from_carry = E_in[g0:(g0 + n - 1), k1:k2] * carry + w0 * carried;
        }
        for (gg in max(1, g_first - g0 + 1):n) {
          int g = g0 + gg - 1;
          hist[g] = from_carry[gg];
          if (gg > 1) {
            hist[g] += dot_product(b[g0:(g - 1)], pow(u[g] - u[g0:(g - 1)] + c, -p));
          }
        }
      }
      if (use_soe && r < n_blk) {
        carry = fma(D_blk[k1:k2, r], carry,
                    w .* (G_out[k1:k2, g0:(g0 + n - 1)] * b[g0:(g0 + n - 1)]));
        carried += sum(b[g0:(g0 + n - 1)]);
      }
    }
  }
  {
    vector[n_targets] log_lambda;
    for (jj in 1:n_targets) {
      log_lambda[jj] = log(mu + K * hist[grp[first + jj - 1]]);
    }
    target += sum(log_lambda) - mu * (t_end - t_start) - K * integral;
  }
  if (include_prior) {
    target += lognormal_lpdf(mu | mu_prior_loc, mu_prior_scale);          // @prior mu
    // K: the prior of K_ref with its Jacobian, as a log-normal in K (see the header)
    target += lognormal_lpdf(K | K_prior_loc - alpha * (m_ref - m_pivot),  // @prior K
                             K_prior_scale);                              // @prior K
    target += lognormal_lpdf(c | c_prior_loc, c_prior_scale);             // @prior c
    target += lognormal_lpdf(alpha | alpha_prior_loc, alpha_prior_scale); // @prior alpha
    target += lognormal_lpdf(p | p_prior_loc, p_prior_scale);             // @prior p
  }
}
generated quantities {
  // K at m_ref, the model's K (= K when m_pivot = m_ref)
  real K_ref = K * exp(alpha * (m_ref - m_pivot));  // @prior K
}
