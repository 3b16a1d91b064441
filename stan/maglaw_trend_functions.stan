  // MagnitudeLaw(detection=True, mu_trend="gp"): the likelihood summed over time groups g,
  // each normalised on its own: sum_g [sum_k n_gk log I_gk - n_g log(sum_k I_gk + I_g,tail)]
  // with I_gk the Gauss-Legendre mass of f(m) Phi((m - mu_g)/sigma) over bin k (binned), or
  // the per-event log density terms at the event's mu_g (continuous); term for term as
  // MagnitudeLaw._trend_terms (pystats/maglaw/model.py).
  vector maglaw_gp_sd(real alpha, real ell, vector sqrt_lambda) {
    return alpha * (2 * pi())^0.25 * sqrt(ell) * exp(-0.25 * square(ell * sqrt_lambda));
  }
  real maglaw_loglik_trend(int law, real b, real g, real mc, vector mu_g, real sigma, int K,
                           vector lo, matrix count_gk, vector n_g, real width, real top,
                           int binned, int N_m, vector m, array[] int group, vector gl_y,
                           vector gl_lw, vector es_s, vector es_lw, vector pn_off,
                           vector pn_lw) {
    // Where a whole bin lies 8.3 sigma or more above mu_g, log Phi > -6e-17 at every node
    // and adding it leaves kern unchanged in double precision: that bin's mass is the
    // group-free log_sum_exp of kern (computed once), which skips most of the G x K x J
    // log_Phi evaluations of a catalogue whose range runs far above mu.
    int J = rows(gl_y);
    int G = rows(mu_g);
    matrix[K, J] x;
    matrix[K, J] kern;
    vector[K] mass_free;
    for (k in 1:K) {
      for (j in 1:J) {
        x[k, j] = lo[k] + width * gl_y[j];
        kern[k, j] = maglaw_log_kernel(law, x[k, j], b, g, mc) + gl_lw[j];
      }
      mass_free[k] = log_sum_exp(kern[k]);
    }
    real tail = maglaw_log_tail(law, top, b, g, mc, es_s, es_lw, pn_off, pn_lw);
    real s = 0;
    for (gi in 1:G) {
      vector[K + 1] mass;
      for (k in 1:K) {
        if ((lo[k] - mu_g[gi]) / sigma > 8.3) {
          mass[k] = mass_free[k];
        } else {
          vector[J] t;
          for (j in 1:J) t[j] = kern[k, j] + log_Phi((x[k, j] - mu_g[gi]) / sigma);
          mass[k] = log_sum_exp(t);
        }
      }
      mass[K + 1] = tail + log_Phi((top - mu_g[gi]) / sigma);
      if (binned == 1) s += count_gk[gi] * mass[1:K];
      s -= n_g[gi] * log_sum_exp(mass);
    }
    if (binned == 0) {
      for (i in 1:N_m) {
        s += maglaw_log_kernel(law, m[i], b, g, mc) + log_Phi((m[i] - mu_g[group[i]]) / sigma);
      }
    }
    return s;
  }
