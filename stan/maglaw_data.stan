  // data of every maglaw_*.stan program (MagnitudeLaw.stan_data)
  int<lower=1, upper=6> law;
  int<lower=0, upper=1> detection;
  int<lower=1> K;                 // bins (or normalising panels) of the recorded range
  vector[K] lo;                   // their lower edges
  vector<lower=0>[K] count;       // events per bin (binned data)
  real<lower=0> width;
  real top;                       // upper edge of the top bin
  real m_t;                       // threshold
  int<lower=1> n;                 // events
  int<lower=0, upper=1> binned;
  int<lower=0> N_m;               // continuous magnitudes (0 when binned)
  vector[N_m] m;
  int<lower=1> J;
  vector[J] gl_y;                 // Gauss-Legendre nodes on [0, 1] and log(weight * width)
  vector[J] gl_lw;
  int<lower=1> J_es;
  vector[J_es] es_s;              // exp-sinh nodes and log weights
  vector[J_es] es_lw;
  int<lower=1> J_pn;
  vector[J_pn] pn_off;            // Gauss-Legendre panel offsets and log weights
  vector[J_pn] pn_lw;
  real corner_lower;
  real<lower=corner_lower> corner_upper;
  real b_prior_mean;
  real<lower=0> b_prior_sd;
  real gamma_prior_mu;
  real<lower=0> gamma_prior_sigma;
  real mu_prior_mean;
  real<lower=0> mu_prior_sd;
  real sigma_prior_mu;
  real<lower=0> sigma_prior_sigma;
  int<lower=0, upper=1> include_prior;
