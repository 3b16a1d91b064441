  // extra data of the maglaw_*_detection_trend.stan programs (MagnitudeLaw(mu_trend="gp")):
  // events grouped in G time bins sharing mu_g = mu + phi[g] * (sqrt(S) .* mu_z), the HSGP
  // basis of pystats.btime.hsgp at the groups' mean scaled times (centred over the events)
  int<lower=1> G;                 // time groups
  int<lower=1> M;                 // basis functions
  matrix[G, M] phi;
  vector<lower=0>[M] sqrt_lambda; // square roots of the eigenvalues
  real<lower=0> ell_min;          // shortest length scale the basis resolves
  real<lower=0> mu_alpha_sd;      // scale of the half-normal prior on the GP amplitude
  vector<lower=0>[G] n_g;         // events per group
  matrix<lower=0>[G, K] count_gk; // events per group and bin (binned data; zeros otherwise)
  array[N_m] int<lower=1, upper=G> group;  // group of each continuous magnitude
