// TimeVaryingB(kind="gp"): pystats family "time_varying_b" (models/magnitude_laws.md §8).
// Gutenberg-Richter magnitudes above mc with log b(t) = log b0 + f(t), f a squared-
// exponential GP by the Hilbert-space basis approximation (Riutort-Mayol et al. 2023):
// f = phi * (sqrt(S(sqrt_lambda)) .* z), non-centred weights z, the basis phi computed by
// pystats.btime.hsgp.  Events are grouped in G time bins sharing one b (at the bin's mean
// event time): each excess x = m - mc has the geometric log probability A - beta x,
// A = log(1 - exp(-beta width)) (log beta for width 0), beta = b ln 10, so a bin's events
// contribute count * A - beta * sum_x (sufficient statistics), term for term as
// TimeVaryingB.log_likelihood_torch (pystats.gr.likelihood.gr_logp).  The length scale is
// bounded below by the basis resolution ell_min = 1.75 L / M.
data {
  int<lower=1> G;                       // non-empty time bins (or events)
  vector<lower=1>[G] count;             // events per bin
  vector<lower=0>[G] sum_x;             // sum of the excesses over mc per bin
  real<lower=0> width;                  // bin width; 0 = continuous
  int<lower=1> M;                       // basis functions
  matrix[G, M] phi;                     // eigenfunctions at the bins' mean (scaled) times
  vector<lower=0>[M] sqrt_lambda;       // square roots of the eigenvalues
  real<lower=0> ell_min;                // shortest length scale the basis resolves
  int<lower=0, upper=1> include_prior;
}
parameters {
  real<lower=0> b0;
  real<lower=0> alpha;
  real<lower=ell_min> ell;
  vector[M] z;
}
model {
  vector[M] spd = alpha * (2 * pi())^0.25 * sqrt(ell) * exp(-0.25 * square(ell * sqrt_lambda));
  vector[G] beta = log(10) * b0 * exp(phi * (spd .* z));
  if (width > 0) {
    target += dot_product(count, log1m_exp(-beta * width)) - dot_product(beta, sum_x);
  } else {
    target += dot_product(count, log(beta)) - dot_product(beta, sum_x);
  }
  if (include_prior) {
    target += lognormal_lpdf(b0 | 0, 0.5);
    target += normal_lpdf(alpha | 0, 0.3) + log(2);   // half-normal
    target += lognormal_lpdf(ell - ell_min | log(0.3), 0.7);  // vanishes at ell_min
    target += std_normal_lpdf(z);
  }
}
