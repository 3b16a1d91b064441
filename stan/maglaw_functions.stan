  // Magnitude laws of the generalized-gamma family (pystats family "magnitude_law"); the
  // same formulas as pystats/maglaw/laws.py and incgamma.py, with the quadrature nodes
  // passed as data by MagnitudeLaw.stan_data, so that Stan and torch sum the same terms.
  // Law codes: 1 gr, 2 tapered_gr, 3 gamma, 4 exponential_moment, 5 weibull,
  // 6 generalized_gamma.  g is the taper exponent gamma, mc the corner magnitude.
  real maglaw_log_upper_gamma(real a, real x, vector es_s, vector es_lw, vector pn_off,
                              vector pn_lw) {
    if (x >= fmax(a, 0) + 1) {
      return a * log(x) - x + log_sum_exp(a * es_s - x * expm1(es_s) + es_lw);
    }
    real top = log(fmax(a, 0) + 60);
    int n = rows(pn_off);
    // the panels span 37.5 units of log t (0.25 x n / 8); below x_0 = exp(top - 37.5) they
    // start at x_0 and the piece from x to x_0, x^a L exprel(a L), is added (incgamma.py)
    real v0 = fmax(log(x), top - 0.25 * n / 8.0);
    vector[n] g;
    int k = 0;
    for (i in 1:n) {
      real v = v0 + pn_off[i];
      if (v <= top) {
        k += 1;
        g[k] = a * v - exp(v) + pn_lw[i];
      }
    }
    real out = log_sum_exp(g[1:k]);
    if (v0 > log(x)) {
      real span = v0 - log(x);
      real z = a * span;
      real log_exprel;
      if (abs(z) < 1e-8) {
        log_exprel = 0.5 * z;
      } else if (z > 0) {
        log_exprel = z + log1m_exp(-z) - log(z);
      } else {
        log_exprel = log1m_exp(z) - log(-z);
      }
      out = log_sum_exp(out, a * log(x) + log(span) + log_exprel);
    }
    return out;
  }
  real maglaw_shape_g(int law, real g) {
    return (law == 3 || law == 4) ? 1.0 : g;
  }
  real maglaw_shape_a(int law, real b, real g) {
    if (law == 3) return -b / 1.5;
    if (law == 4 || law == 5) return 1.0;
    return -b / (1.5 * g);
  }
  real maglaw_log_kernel(int law, real m, real b, real g, real mc) {
    real ln10 = log(10);
    if (law == 1) return log(b * ln10) - b * ln10 * m;
    if (law == 2) {
      real e = exp(1.5 * ln10 * (m - mc));
      return -b * ln10 * m - e + log(b * ln10 + 1.5 * ln10 * e);
    }
    real gg = maglaw_shape_g(law, g);
    real big_l = 1.5 * ln10 * gg;
    real w = big_l * (m - mc);
    return log(big_l) + maglaw_shape_a(law, b, g) * w - exp(w);
  }
  real maglaw_log_tail(int law, real m, real b, real g, real mc, vector es_s, vector es_lw,
                       vector pn_off, vector pn_lw) {
    real ln10 = log(10);
    if (law == 1) return -b * ln10 * m;
    if (law == 2) return -b * ln10 * m - exp(1.5 * ln10 * (m - mc));
    real w = 1.5 * ln10 * maglaw_shape_g(law, g) * (m - mc);
    if (law == 4 || law == 5) return -exp(w);
    return maglaw_log_upper_gamma(maglaw_shape_a(law, b, g), exp(w), es_s, es_lw, pn_off, pn_lw);
  }
  real log_Phi(real z) {
    if (z > 0) return log1m(0.5 * erfc(z / sqrt2()));
    if (z > -25) return log(0.5 * erfc(-z / sqrt2()));
    return std_normal_lcdf(z);
  }
  // log likelihood: multinomial over bins (binned) or density sum (continuous)
  real maglaw_loglik(int law, int detection, real b, real g, real mc, real mu, real sigma,
                     int K, vector lo, vector count, real width, real top, real m_t, int n,
                     int binned, int N_m, vector m, vector gl_y, vector gl_lw,
                     vector es_s, vector es_lw, vector pn_off, vector pn_lw) {
    int J = rows(gl_y);
    vector[K] mass;
    real log_z;
    if (detection == 1 || binned == 1) {
      for (k in 1:K) {
        vector[J] t;
        for (j in 1:J) {
          real x = lo[k] + width * gl_y[j];
          t[j] = maglaw_log_kernel(law, x, b, g, mc) + gl_lw[j];
          if (detection == 1) t[j] += log_Phi((x - mu) / sigma);
        }
        mass[k] = log_sum_exp(t);
      }
      real tail = maglaw_log_tail(law, top, b, g, mc, es_s, es_lw, pn_off, pn_lw);
      if (detection == 1) tail += log_Phi((top - mu) / sigma);
      log_z = log_sum_exp(append_row(mass, tail));
    } else {
      log_z = maglaw_log_tail(law, m_t, b, g, mc, es_s, es_lw, pn_off, pn_lw);
    }
    if (binned == 1) return dot_product(count, mass) - n * log_z;
    real s = 0;
    for (i in 1:N_m) {
      s += maglaw_log_kernel(law, m[i], b, g, mc);
      if (detection == 1) s += log_Phi((m[i] - mu) / sigma);
    }
    return s - n * log_z;
  }
