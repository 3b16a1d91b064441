// Omori-Utsu law for one aftershock sequence (Utsu 1961; Ogata 1983): non-stationary Poisson
// process with rate lambda(t) = mu + K (t + c)^(-p), t = time since the main shock.
//
// pystats family "omori_utsu".  TEMPLATE: pystats.etas.stan.omori_stan_program(fixed,
// background) moves the line tagged "@param NAME" of each fixed parameter into the data block
// (at "@fixed-parameters"), and without a background rate defines mu = 0 in transformed data
// (at "@absent-parameters"); the lines tagged "@prior NAME" are dropped for both.  As written
// (background rate, nothing fixed) it is a valid program.
//
//   log L = sum_{t_start <= t_j <= t_end} log lambda(t_j)
//           - mu (t_end - t_start) - K int_{t_start}^{t_end} (t + c)^(-p) dt,
// the integral in closed form u^(1-p) L phi((1-p) L), u = t_start + c,
// L = log1p((t_end - t_start) / u), phi(q) = expm1(q) / q: exact and smooth through p = 1
// (pystats.etas.omori.omori_loglik; tested to 1e-8 relative in tests/test_etas_stan.py).
// Events outside the window are ignored.  Normalised: every term is a `target +=` statement.
// Priors (include_prior = 1): each free parameter x ~ lognormal(x_prior_loc, x_prior_scale).
functions {
  // expm1(q) / q with the removable singularity filled (pystats.etas.kernels.expm1_over_x):
  // directly for |q| >= 1e-3, else the Taylor series sum_{n=0}^{5} q^n / (n + 1)!
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
}
data {
  int<lower=0> N;                    // events, sorted by time
  vector[N] t;                       // times since the main shock
  real<lower=0> t_start;
  real<lower=t_start> t_end;
  // @fixed-parameters
  real mu_prior_loc;                 // @prior mu
  real<lower=0> mu_prior_scale;      // @prior mu
  real K_prior_loc;                  // @prior K
  real<lower=0> K_prior_scale;       // @prior K
  real c_prior_loc;                  // @prior c
  real<lower=0> c_prior_scale;       // @prior c
  real p_prior_loc;                  // @prior p
  real<lower=0> p_prior_scale;       // @prior p
  int<lower=0, upper=1> include_prior;
}
transformed data {
  // @absent-parameters
  int i0 = 1;                        // events i0..i1 lie in [t_start, t_end]
  int i1 = 0;
  for (i in 1:N) {
    if (i > 1 && t[i] < t[i - 1]) {
      reject("t must be sorted (non-decreasing); t[", i, "] = ", t[i], " < t[", i - 1,
             "] = ", t[i - 1]);
    }
    if (t[i] < t_start) {
      i0 = i + 1;
    }
    if (t[i] <= t_end) {
      i1 = i;
    }
  }
  int n_in = max(i1 - i0 + 1, 0);
  vector[n_in] t_in = t[i0:(i0 + n_in - 1)];
}
parameters {
  real<lower=0> mu;                  // @param mu
  real<lower=0> K;                   // @param K
  real<lower=0> c;                   // @param c
  real<lower=0> p;                   // @param p
}
model {
  target += sum(log(mu + K * exp(-p * log(t_in + c))))
            - mu * (t_end - t_start) - K * kernel_integral(t_start, t_end, c, p);
  if (include_prior) {
    target += lognormal_lpdf(mu | mu_prior_loc, mu_prior_scale);  // @prior mu
    target += lognormal_lpdf(K | K_prior_loc, K_prior_scale);     // @prior K
    target += lognormal_lpdf(c | c_prior_loc, c_prior_scale);     // @prior c
    target += lognormal_lpdf(p | p_prior_loc, p_prior_scale);     // @prior p
  }
}
