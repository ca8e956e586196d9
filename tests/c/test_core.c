/* test_core.c — standalone tests of the engine core and the CPU backend.
 *
 * No R: builds with a C compiler alone. Built twice by the Makefile: in
 * double (-DWF_DOUBLE), where every pass is checked against central finite
 * differences to a relative error below 1e-6, and in float, where the GEMM,
 * optimisers and random streams are checked. Ends with "N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "test_util.h"

#ifdef WF_DOUBLE
#define FD_TOL 1e-6
#define GEMM_TOL 1e-12
#else
#define GEMM_TOL 1e-5
#endif

static void fill_normal(wf_real *x, size_t n, double sd) {
  for (size_t i = 0; i < n; i++) x[i] = (wf_real)(sd * rnorm());
}

/* max |a - b| / max(1e-3, max |b|) */
static double rel_err(const double *a, const double *b, size_t n) {
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (d > num || d != d) num = d != d ? INFINITY : d;
    if (fabs(b[i]) > den) den = fabs(b[i]);
  }
  return num / den;
}

/* ---- Philox known answers (Random123's kat_vectors) ------------------- */
static void test_philox(void) {
  uint32_t c[4] = {0, 0, 0, 0}, k[2] = {0, 0};
  wf_philox4x32(c, k);
  CHECK(c[0] == 0x6627e8d5u && c[1] == 0xe169c58du && c[2] == 0xbc57ac4cu &&
            c[3] == 0x9b00dbd8u,
        "philox(0, 0) = %08x %08x %08x %08x", c[0], c[1], c[2], c[3]);
  uint32_t c2[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
  uint32_t k2[2] = {0xffffffffu, 0xffffffffu};
  wf_philox4x32(c2, k2);
  CHECK(c2[0] == 0x408f276du && c2[1] == 0x41c83b0eu && c2[2] == 0xa20bc7c6u &&
            c2[3] == 0x6d5451fdu,
        "philox(ff, ff) = %08x %08x %08x %08x", c2[0], c2[1], c2[2], c2[3]);
}

/* ---- GEMM against a naive triple loop ----------------------------------- */
static void test_gemm(void) {
  const wf_backend *be = wf_cpu_backend();
  int sizes[][3] = {{1, 1, 1},   {5, 3, 2},    {7, 17, 9},   {64, 128, 2},
                    {130, 33, 257}, {512, 128, 128}, {13, 600, 300}};
  for (int threads = 1; threads <= 2; threads++) {
    wf_cpu_set_threads(threads);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
      for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
          int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
          size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
          wf_real *a = malloc(na * sizeof(wf_real)), *b = malloc(nb * sizeof(wf_real));
          wf_real *c = malloc((size_t)m * ldc * sizeof(wf_real));
          double *ref = malloc((size_t)m * n * sizeof(double));
          double *got = malloc((size_t)m * n * sizeof(double));
          fill_normal(a, na, 1);
          fill_normal(b, nb, 1);
          fill_normal(c, (size_t)m * ldc, 1);
          double alpha = 0.7, beta = s % 2 ? 0.0 : -0.5;
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
              double acc = 0;
              for (int p = 0; p < k; p++) {
                double av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += av * bv;
              }
              ref[(size_t)i * n + j] = alpha * acc + beta * c[(size_t)i * ldc + j];
            }
          be->gemm(ta, tb, m, n, k, (wf_real)alpha, a, lda, b, ldb, (wf_real)beta,
                   c, ldc, NULL);
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) got[(size_t)i * n + j] = c[(size_t)i * ldc + j];
          double e = rel_err(got, ref, (size_t)m * n) / sqrt((double)k);
          CHECK(e < GEMM_TOL, "gemm %dx%dx%d ta=%d tb=%d threads=%d: err %g", m, n,
                k, ta, tb, threads, e);
          free(a), free(b), free(c), free(ref), free(got);
        }
    }
  }
  wf_cpu_set_threads(1);
}

/* ---- random streams ----------------------------------------------------- */
static void test_random(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {2, 1}, .activation = WF_ACT_RELU};
  char msg[WF_MSG_LEN];
  wf_net *a, *b;
  wf_net_create(&s, wf_cpu_backend(), 7, &a, msg);
  wf_net_create(&s, wf_cpu_backend(), 7, &b, msg);
  size_t n = 100003;
  wf_real *u = malloc(n * sizeof(wf_real)), *v = malloc(n * sizeof(wf_real));
  wf_net_uniform(a, u, n);
  wf_net_uniform(b, v, n);
  CHECK(memcmp(u, v, n * sizeof(wf_real)) == 0, "same seed, same stream");
  double mean = 0, lo = 1, hi = 0;
  for (size_t i = 0; i < n; i++) {
    mean += u[i];
    if (u[i] < lo) lo = u[i];
    if (u[i] > hi) hi = u[i];
  }
  mean /= n;
  CHECK(fabs(mean - 0.5) < 0.005 && lo > 0 && hi < 1, "uniform mean %g [%g, %g]",
        mean, lo, hi);
  wf_net_normal(a, u, n);
  double m1 = 0, m2 = 0;
  for (size_t i = 0; i < n; i++) m1 += u[i], m2 += (double)u[i] * u[i];
  m1 /= n;
  m2 = m2 / n - m1 * m1;
  CHECK(fabs(m1) < 0.01 && fabs(m2 - 1) < 0.02, "normal mean %g var %g", m1, m2);
  /* a stream split in two draws equals one draw (counter advances by blocks) */
  uint64_t key, ctr;
  wf_net_get_rng(b, &key, &ctr);
  wf_net_uniform(b, v, 8);
  wf_net_set_rng(b, key, ctr);
  wf_net_uniform(b, v + 8, 8);
  CHECK(memcmp(v, v + 8, 8 * sizeof(wf_real)) == 0, "set_rng rewinds the stream");
  free(u), free(v);
  wf_net_free(a);
  wf_net_free(b);
}

/* ---- optimisers against torch.optim's formulas -------------------------- */
static void test_optim(void) {
  wf_mlp_spec s = {.n_layers = 1, .widths = {3, 2}, .activation = WF_ACT_RELU};
  char msg[WF_MSG_LEN];
  wf_net *net;
  wf_net_create(&s, wf_cpu_backend(), 3, &net, msg);
  size_t np = wf_net_layout(net)->n_params;
  double p[8], g[8], m[8] = {0}, v[8] = {0}, got[8];
  wf_opt_spec kinds[3] = {
      {.kind = WF_OPT_ADAM, .lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-8,
       .weight_decay = 0.1},
      {.kind = WF_OPT_RMSPROP, .lr = 0.01, .beta2 = 0.99, .eps = 1e-8},
      {.kind = WF_OPT_SGD, .lr = 0.1, .momentum = 0.9, .eps = 1, .weight_decay = 0.01}};
  for (int o = 0; o < 3; o++) {
    wf_opt_spec *op = &kinds[o];
    wf_net_get_params(net, p);
    memset(m, 0, sizeof(m));
    memset(v, 0, sizeof(v));
    wf_net_set_opt_state(net, 0, m, v);
    for (int t = 1; t <= 4; t++) {
      for (size_t i = 0; i < np; i++) g[i] = sin(3.0 * i + t);
      wf_net_set_grad(net, g);
      CHECK(wf_net_opt_step(net, op) == WF_OK, "opt step");
      for (size_t i = 0; i < np; i++) {
        double gi = g[i] + op->weight_decay * p[i];
        if (op->kind == WF_OPT_ADAM) {
          m[i] = op->beta1 * m[i] + (1 - op->beta1) * gi;
          v[i] = op->beta2 * v[i] + (1 - op->beta2) * gi * gi;
          double mh = m[i] / (1 - pow(op->beta1, t)), vh = v[i] / (1 - pow(op->beta2, t));
          p[i] -= op->lr * mh / (sqrt(vh) + op->eps);
        } else if (op->kind == WF_OPT_RMSPROP) {
          v[i] = op->beta2 * v[i] + (1 - op->beta2) * gi * gi;
          p[i] -= op->lr * gi / (sqrt(v[i]) + op->eps);
        } else {
          m[i] = t == 1 ? gi : op->momentum * m[i] + gi;
          p[i] -= op->lr * m[i];
        }
      }
    }
    wf_net_get_params(net, got);
#ifdef WF_DOUBLE
    double tol = 1e-12;
#else
    double tol = 1e-5;
#endif
    CHECK(rel_err(got, p, np) < tol, "optimiser %d: err %g", o,
          rel_err(got, p, np));
  }
  wf_opt_spec bad = kinds[0];
  bad.lr = -1;
  CHECK(wf_net_opt_step(net, &bad) == WF_ERR_ARG, "negative lr refused");
  CHECK(wf_net_clip(net, 0.01) == WF_OK, "clip");
  wf_net_get_params(net, got);
  int inside = 1;
  for (size_t i = 0; i < np; i++) inside &= fabs(got[i]) <= 0.01 + 1e-9;
  CHECK(inside, "clip clamps every parameter");
  wf_net_free(net);
}

#ifdef WF_DOUBLE
/* ---- finite differences -------------------------------------------------- */
typedef struct {
  wf_net *net;
  int m, train;
  wf_real *x, *dy, *u, *y, *g;
} fd_case;

/* sum(dy * f(x)) */
static double f_out(fd_case *c) {
  int out = wf_net_spec(c->net)->widths[wf_net_spec(c->net)->n_layers];
  wf_mlp_forward(c->net, c->x, c->m, c->train, c->y);
  double s = 0;
  for (int i = 0; i < c->m * out; i++) s += c->y[i] * c->dy[i];
  return s;
}

/* S = sum u . grad_x sum(dy * f(x)) */
static double f_dir(fd_case *c) {
  int in = wf_net_spec(c->net)->widths[0];
  wf_mlp_forward(c->net, c->x, c->m, c->train, NULL);
  wf_mlp_input_grad(c->net, c->dy, c->g);
  double s = 0;
  for (int i = 0; i < c->m * in; i++) s += c->u[i] * c->g[i];
  return s;
}

/* central differences of f over params (which = 0) or x (which = 1) */
static void fd_grad(fd_case *c, double (*f)(fd_case *), int which, double *out) {
  const double h = 1e-6;
  size_t np = wf_net_layout(c->net)->n_params;
  size_t n = which == 0 ? np : (size_t)c->m * wf_net_spec(c->net)->widths[0];
  double *p = malloc(np * sizeof(double));
  wf_net_get_params(c->net, p);
  for (size_t i = 0; i < n; i++) {
    double keep = which == 0 ? p[i] : c->x[i];
    double val[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      double v = keep + (sgn ? -h : h);
      if (which == 0) {
        p[i] = v;
        wf_net_set_params(c->net, p);
      } else {
        c->x[i] = v;
      }
      val[sgn] = f(c);
    }
    if (which == 0) {
      p[i] = keep;
      wf_net_set_params(c->net, p);
    } else {
      c->x[i] = keep;
    }
    out[i] = (val[0] - val[1]) / (2 * h);
  }
  free(p);
}

static const char *act_names[] = {"identity", "relu", "leaky_relu", "tanh",
                                  "softplus", "elu",  "sigmoid"};

static void check_net(wf_mlp_spec *s, int train, const char *label) {
  char msg[WF_MSG_LEN];
  wf_net *net;
  wf_status rc = wf_net_create(s, wf_cpu_backend(), 11, &net, msg);
  CHECK(rc == WF_OK, "%s: create: %s", label, msg);
  if (rc != WF_OK) return;
  /* move parameters off their init so norms and biases are exercised */
  size_t np = wf_net_layout(net)->n_params;
  double *p = malloc(np * sizeof(double));
  wf_net_get_params(net, p);
  for (size_t i = 0; i < np; i++) p[i] += 0.3 * rnorm();
  wf_net_set_params(net, p);
  int in = s->widths[0], out = s->widths[s->n_layers], m = 7;
  fd_case c = {.net = net, .m = m, .train = train};
  c.x = malloc(sizeof(wf_real) * m * in);
  c.u = malloc(sizeof(wf_real) * m * in);
  c.g = malloc(sizeof(wf_real) * m * in);
  c.dy = malloc(sizeof(wf_real) * m * out);
  c.y = malloc(sizeof(wf_real) * m * out);
  fill_normal(c.x, (size_t)m * in, 1);
  fill_normal(c.u, (size_t)m * in, 1);
  fill_normal(c.dy, (size_t)m * out, 1);
  size_t nx = (size_t)m * in;
  double *fd = malloc(sizeof(double) * (np > nx ? np : nx));
  double *an = malloc(sizeof(double) * (np > nx ? np : nx));
  wf_real *dx = malloc(sizeof(wf_real) * nx), *du = malloc(sizeof(wf_real) * nx);

  /* backward: parameter and input gradients of sum(dy * f) */
  wf_net_zero_grad(net);
  wf_mlp_forward(net, c.x, m, train, c.y);
  rc = wf_mlp_backward(net, c.dy, dx);
  CHECK(rc == WF_OK, "%s: backward: %s", label, wf_net_message(net));
  wf_net_get_grad(net, an);
  fd_grad(&c, f_out, 0, fd);
  CHECK(rel_err(an, fd, np) < FD_TOL, "%s: backward param grad err %g", label,
        rel_err(an, fd, np));
  for (size_t i = 0; i < nx; i++) an[i] = dx[i];
  fd_grad(&c, f_out, 1, fd);
  CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: backward input grad err %g", label,
        rel_err(an, fd, nx));
  /* input_grad gives the same input gradient, parameter gradient untouched */
  wf_net_zero_grad(net);
  wf_mlp_forward(net, c.x, m, train, NULL);
  wf_mlp_input_grad(net, c.dy, c.g);
  for (size_t i = 0; i < nx; i++) an[i] = c.g[i];
  CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: input_grad err %g", label,
        rel_err(an, fd, nx));
  wf_net_get_grad(net, an);
  double gsum = 0;
  for (size_t i = 0; i < np; i++) gsum += fabs(an[i]);
  CHECK(gsum == 0, "%s: input_grad leaves the parameter gradient alone", label);

  if (s->norm == WF_NORM_BATCH) {
    double v;
    rc = wf_mlp_double_backward(net, c.u, dx, du, &v);
    CHECK(rc == WF_ERR_UNSUPPORTED, "%s: double backward refuses BatchNorm", label);
  } else {
    /* double backward: S = sum u . g, its parameter and input gradients */
    double value;
    wf_net_zero_grad(net);
    wf_mlp_forward(net, c.x, m, train, NULL);
    wf_mlp_input_grad(net, c.dy, NULL);
    rc = wf_mlp_double_backward(net, c.u, dx, du, &value);
    CHECK(rc == WF_OK, "%s: double backward: %s", label, wf_net_message(net));
    double direct = f_dir(&c);
    CHECK(fabs(value - direct) <= 1e-12 * (1 + fabs(direct)),
          "%s: S %g vs %g", label, value, direct);
    wf_net_get_grad(net, an);
    fd_grad(&c, f_dir, 0, fd);
    CHECK(rel_err(an, fd, np) < FD_TOL, "%s: double backward param grad err %g",
          label, rel_err(an, fd, np));
    for (size_t i = 0; i < nx; i++) an[i] = dx[i];
    fd_grad(&c, f_dir, 1, fd);
    CHECK(rel_err(an, fd, nx) < FD_TOL, "%s: double backward input grad err %g",
          label, rel_err(an, fd, nx));
    /* dS/du is the input gradient itself */
    f_dir(&c);
    for (size_t i = 0; i < nx; i++) an[i] = du[i], fd[i] = c.g[i];
    CHECK(rel_err(an, fd, nx) < 1e-12, "%s: dS/du", label);
  }
  free(c.x), free(c.u), free(c.g), free(c.dy), free(c.y);
  free(fd), free(an), free(dx), free(du), free(p);
  wf_net_free(net);
}

static void test_passes(void) {
  char label[128];
  for (int a = 0; a < WF_ACT_COUNT; a++) {
    for (int norm = 0; norm <= 2; norm++) {
      for (int residual = 0; residual <= 1; residual++) {
        wf_mlp_spec s = {.n_layers = 3,
                         .widths = {3, 6, 5, residual ? 3 : 2},
                         .activation = (wf_activation)a,
                         .output_activation = a % 2 ? WF_ACT_IDENTITY : WF_ACT_TANH,
                         .leaky_slope = 0.2,
                         .norm = (wf_norm)norm,
                         .residual = residual,
                         .init = WF_INIT_TORCH};
        for (int train = 0; train <= (norm == WF_NORM_BATCH); train++) {
          snprintf(label, sizeof(label), "%s norm=%d residual=%d train=%d",
                   act_names[a], norm, residual, train);
          check_net(&s, train, label);
        }
      }
    }
  }
  /* a critic with one output, the shape the penalties use */
  wf_mlp_spec critic = {.n_layers = 4, .widths = {2, 8, 8, 8, 1},
                        .activation = WF_ACT_RELU, .init = WF_INIT_NORMAL,
                        .init_sd = 0.5};
  check_net(&critic, 0, "relu critic");
}

/* ---- the critic loss with GP and LP against finite differences ---------- */
static double critic_loss(wf_net *net, wf_real *real, wf_real *fake, int m,
                          wf_real *t, wf_penalty pen, wf_critic_report *rep) {
  wf_net_zero_grad(net);
  wf_critic_loss_grad(net, real, fake, m, t, pen, 10, rep);
  return rep->loss;
}

static void test_critic_loss(void) {
  wf_mlp_spec s = {.n_layers = 3, .widths = {2, 8, 8, 1},
                   .activation = WF_ACT_TANH, .init = WF_INIT_NORMAL,
                   .init_sd = 0.8, .norm = WF_NORM_LAYER};
  char msg[WF_MSG_LEN];
  wf_net *net;
  wf_net_create(&s, wf_cpu_backend(), 5, &net, msg);
  int m = 9;
  wf_real real[18], fake[18], t[9];
  fill_normal(real, 18, 1);
  fill_normal(fake, 18, 1);
  for (int i = 0; i < m; i++) t[i] = (wf_real)runif();
  size_t np = wf_net_layout(net)->n_params;
  double *an = malloc(np * sizeof(double)), *fd = malloc(np * sizeof(double));
  double *p = malloc(np * sizeof(double));
  for (int pen = 0; pen <= 2; pen++) {
    wf_critic_report rep;
    critic_loss(net, real, fake, m, t, (wf_penalty)pen, &rep);
    wf_net_get_grad(net, an);
    wf_net_get_params(net, p);
    for (size_t i = 0; i < np; i++) {
      double keep = p[i], val[2];
      for (int sg = 0; sg < 2; sg++) {
        p[i] = keep + (sg ? -1e-6 : 1e-6);
        wf_net_set_params(net, p);
        val[sg] = critic_loss(net, real, fake, m, t, (wf_penalty)pen, &rep);
      }
      p[i] = keep;
      wf_net_set_params(net, p);
      fd[i] = (val[0] - val[1]) / 2e-6;
    }
    CHECK(rel_err(an, fd, np) < FD_TOL, "critic loss penalty=%d: err %g", pen,
          rel_err(an, fd, np));
  }
  free(an), free(fd), free(p);
  wf_net_free(net);
}
#endif

/* ---- W1-FE: Proposition 4.1 and the Euler targets ----------------------- */
static void make_pair(uint64_t seed, wf_net **critic, wf_net **gen) {
  char msg[WF_MSG_LEN];
  wf_mlp_spec cs = {.n_layers = 3, .widths = {2, 16, 16, 1},
                    .activation = WF_ACT_TANH, .init = WF_INIT_TORCH};
  wf_mlp_spec gs = {.n_layers = 3, .widths = {3, 16, 16, 2},
                    .activation = WF_ACT_RELU, .init = WF_INIT_TORCH};
  wf_net_create(&cs, wf_cpu_backend(), seed, critic, msg);
  wf_net_create(&gs, wf_cpu_backend(), seed + 1, gen, msg);
}

static void test_flow(void) {
  int n = 300, m = 64;
  double *data = malloc(sizeof(double) * n * 2);
  for (int i = 0; i < 2 * n; i++) data[i] = rnorm() + (i % 2 ? 2 : -1);
  wf_opt_spec adam = {.kind = WF_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5,
                      .beta2 = 0.9, .eps = 1e-8};
  double gamma = 0.05, eps = 0.7;
  wf_opt_spec sgd = {.kind = WF_OPT_SGD, .lr = gamma, .eps = 1};
  wf_opt_spec sgd_wgan = sgd;
  sgd_wgan.lr = 2 * eps * gamma;
  /* Proposition 4.1: one Euler-fit update with SGD(gamma) equals the WGAN
   * generator update with SGD(2 eps gamma), from the same state and z */
  wf_net *c[2], *g[2];
  wf_flow *f[2];
  char msg[WF_MSG_LEN];
  for (int r = 0; r < 2; r++) {
    make_pair(21, &c[r], &g[r]);
    wf_flow_create(c[r], g[r], data, n, &f[r], msg);
    wf_critic_report rep;
    CHECK(wf_flow_critic(f[r], m, 3, WF_PENALTY_LP, 10, &adam, 0, &rep) == WF_OK,
          "critic phase");
    double gn, first, last;
    CHECK(wf_flow_euler(f[r], m, eps, &gn) == WF_OK, "euler");
    if (r == 0) {
      wf_flow_fit(f[r], 1, &sgd, 0, &first, &last);
      /* G(z) - zeta = eps grad phi, so the first MSE is eps^2 mean |grad|^2 */
      CHECK(first > 0 && first == last, "one step: first == last");
    } else {
      wf_flow_fit(f[r], 1, &sgd_wgan, 1, &first, &last);
    }
  }
  size_t np = wf_net_layout(g[0])->n_params;
  double *p0 = malloc(np * sizeof(double)), *p1 = malloc(np * sizeof(double));
  wf_net_get_params(g[0], p0);
  wf_net_get_params(g[1], p1);
#ifdef WF_DOUBLE
  double tol41 = 1e-12;
#else
  double tol41 = 1e-6; /* float rounding of 2 eps gamma and of the sums */
#endif
  CHECK(rel_err(p0, p1, np) < tol41, "Proposition 4.1: err %g",
        rel_err(p0, p1, np));
  /* K steps of the regression decrease its loss */
  double gn, first, last;
  wf_flow_euler(f[0], m, eps, &gn);
  CHECK(wf_flow_fit(f[0], 20, &adam, 0, &first, &last) == WF_OK && last < first,
        "persistent fit decreases the MSE: %g -> %g", first, last);
  CHECK(wf_flow_fit(f[0], 0, &adam, 0, &first, &last) == WF_ERR_ARG, "K = 0 refused");
  /* samples from a key leave the generator's stream alone */
  uint64_t k0, c0, k1, c1;
  wf_net_get_rng(g[0], &k0, &c0);
  wf_real out[20], out2[20];
  wf_generate(g[0], 10, 99, out);
  wf_generate(g[0], 10, 99, out2);
  wf_net_get_rng(g[0], &k1, &c1);
  CHECK(k0 == k1 && c0 == c1 && memcmp(out, out2, sizeof(out)) == 0,
        "wf_generate is keyed and leaves the stream alone");
  for (int r = 0; r < 2; r++) {
    wf_flow_free(f[r]);
    wf_net_free(c[r]);
    wf_net_free(g[r]);
  }
  free(p0), free(p1), free(data);
}

static void test_errors(void) {
  char msg[WF_MSG_LEN];
  wf_net *net;
  wf_mlp_spec bad = {.n_layers = 2, .widths = {2, 0, 1}};
  CHECK(wf_net_create(&bad, wf_cpu_backend(), 1, &net, msg) == WF_ERR_ARG &&
            net == NULL && strlen(msg) > 0,
        "zero width refused");
  wf_mlp_spec res = {.n_layers = 2, .widths = {2, 4, 3}, .residual = 1};
  CHECK(wf_net_create(&res, wf_cpu_backend(), 1, &net, msg) == WF_ERR_ARG,
        "residual with in != out refused");
  wf_mlp_spec ok = {.n_layers = 2, .widths = {2, 4, 1}};
  wf_net_create(&ok, wf_cpu_backend(), 1, &net, msg);
  wf_real u[2] = {1, 1};
  CHECK(wf_mlp_double_backward(net, u, NULL, NULL, NULL) == WF_ERR_STATE,
        "double backward before input_grad refused");
  CHECK(wf_mlp_forward(net, u, 0, 0, NULL) == WF_ERR_ARG, "empty batch refused");
  wf_net_free(net);
}

int main(void) {
  test_philox();
  test_gemm();
  test_random();
  test_optim();
  test_errors();
  test_flow();
#ifdef WF_DOUBLE
  test_passes();
  test_critic_loss();
#endif
  printf("%s: %d passed, %d failed\n",
         sizeof(wf_real) == 8 ? "double" : "float", n_pass, n_fail);
  return n_fail == 0 ? 0 : 1;
}
