/* test_ops_random.c — the random draws (cpu/random.c, philox.h): Philox
 * against Random123's known answers, the counter slots every draw advances
 * by whole blocks, uniforms, normals and indices against their formulas,
 * their moments, and 1 vs 2 threads bit for bit. Built in double and float
 * (and avx2_*); ends with "ops random <precision>: N passed, N failed". */
#include "ops_test_util.h"
#include "philox.h"

/* ---- randomness ---------------------------------------------------------- */
static void philox_gives_random123s_known_answers(void) {
  /* Random123's known answers for Philox4x32-10 */
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
       0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
      {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u,
       0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
  for (int v = 0; v < 3; v++) {
    uint32_t ctr[4] = {kat[v][0], kat[v][1], kat[v][2], kat[v][3]};
    uint32_t key[2] = {kat[v][4], kat[v][5]};
    wf_philox4x32(ctr, key);
    CHECK(ctr[0] == kat[v][6] && ctr[1] == kat[v][7] && ctr[2] == kat[v][8] &&
              ctr[3] == kat[v][9],
          "philox known answer %d: %08x %08x %08x %08x", v, ctr[0], ctr[1],
          ctr[2], ctr[3]);
  }
  /* the backend's first uniforms at key 0, counter 0 are those words */
  const uint32_t key0[2] = {0, 0};
  wf_real *u = ou_up(&D, NULL, 4);
  D.be->uniform(D.ctx, u, 4, key0, ou_slots(&D, 1));
  double *got = ou_down(&D, u, 4);
  int ok = 1;
  for (int q = 0; q < 4; q++)
    ok &= got[q] == (double)(wf_real)(((kat[0][6 + q] >> 8) + 0.5) / 16777216.0);
  CHECK(ok, "uniform at key 0, counter 0 is the known answer");
  ou_reset(&D);
}

/* value i of a draw at (key, counter): word i % 4 of block counter + i / 4 */
static uint32_t word(const uint32_t key[2], uint64_t counter, size_t i) {
  uint32_t r[4];
  wf_philox_block(key, counter + i / 4, r);
  return r[i % 4];
}

/* a counter slot at c (a stream's next block) */
static double *at(uint64_t c) { return ou_slot_at(&D, (double)c); }
static uint64_t counter_of(const double *slot) {
  return (uint64_t)ou_slot(&D, slot, 0);
}

/* what a draw of n does to its counter slot: + ceil(n / 4), for every op
 * and from any counter below 2^53 */
static void draws_advance_the_counter_slot_by_whole_blocks(void) {
  const wf_backend *be = D.be;
  const uint32_t key[2] = {7u, 11u};
  static const size_t ns[] = {1, 2, 3, 4, 5, 8, 1003, 70001};
  static const uint64_t starts[] = {0, 5 + (1ull << 33), (1ull << 53) - 40000};
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 8; k++) {
      size_t n = ns[k];
      uint64_t c0 = starts[c], want = c0 + (n + 3) / 4;
      wf_real *x = ou_up(&D, NULL, n);
      int *idx = ou_alloc(&D, n * sizeof(int));
      double *cu = at(c0), *cz = at(c0), *ci = at(c0);
      be->uniform(D.ctx, x, n, key, cu);
      be->normal(D.ctx, x, n, key, cz);
      be->random_index(D.ctx, idx, n, 9, key, ci);
      CHECK(counter_of(cu) == want && counter_of(cz) == want &&
                counter_of(ci) == want,
            "a draw of %zu from %llu leaves the counter at %llu (uniform %llu, "
            "normal %llu, random_index %llu)", n, (unsigned long long)c0,
            (unsigned long long)want, (unsigned long long)counter_of(cu),
            (unsigned long long)counter_of(cz), (unsigned long long)counter_of(ci));
      ou_reset(&D);
    }
  /* a draw of nothing leaves it */
  double *c5 = at(5);
  be->uniform(D.ctx, NULL, 0, key, c5);
  be->normal(D.ctx, NULL, 0, key, c5);
  be->random_index(D.ctx, NULL, 0, 3, key, c5);
  CHECK(counter_of(c5) == 5, "draws of 0 values leave the counter");
  ou_reset(&D);

  /* two draws of n / 2 (a multiple of 4) from one slot are one draw of n;
   * for every op, with 1 and 2 threads */
  const size_t n = 80000, h = n / 2;
  for (int th = 1; th <= 2; th++) {
    threads(th);
    wf_real *a = ou_up(&D, NULL, n), *b = ou_up(&D, NULL, n);
    wf_real *za = ou_up(&D, NULL, n), *zb = ou_up(&D, NULL, n);
    int *ia = ou_alloc(&D, n * sizeof(int)), *ib = ou_alloc(&D, n * sizeof(int));
    double *one = at(123), *two = at(123);
    be->uniform(D.ctx, a, n, key, one);
    be->uniform(D.ctx, b, h, key, two);
    be->uniform(D.ctx, b + h, h, key, two);
    CHECK(same(ou_down(&D, a, n), ou_down(&D, b, n), n) &&
              counter_of(one) == counter_of(two),
          "uniform, %d threads: two draws of n/2 are one of n", th);
    be->normal(D.ctx, za, n, key, one);
    be->normal(D.ctx, zb, h, key, two);
    be->normal(D.ctx, zb + h, h, key, two);
    CHECK(same(ou_down(&D, za, n), ou_down(&D, zb, n), n) &&
              counter_of(one) == counter_of(two),
          "normal, %d threads: two draws of n/2 are one of n", th);
    be->random_index(D.ctx, ia, n, 1000, key, one);
    be->random_index(D.ctx, ib, h, 1000, key, two);
    be->random_index(D.ctx, ib + h, h, 1000, key, two);
    CHECK(same_int(ou_down_int(&D, ia, n), ou_down_int(&D, ib, n), n) &&
              counter_of(one) == 123 + 3 * n / 4,
          "random_index, %d threads: two draws of n/2 are one of n", th);
    ou_reset(&D);
  }
  threads(1);
}

static void uniform_normal_and_index_draws_follow_their_formulas(void) {
  const wf_backend *be = D.be;
  const uint32_t key[2] = {0x12345678u, 0x9abcdef0u};
  const uint64_t c0 = 5 + (1ull << 33); /* the counter's high word matters */
  size_t n = 1003;

  /* uniform: the exact formula, and a draw split in two is the same stream */
  wf_real *u = ou_up(&D, NULL, n);
  be->uniform(D.ctx, u, n, key, at(c0));
  double *hu = ou_down(&D, u, n);
  int ok = 1;
  for (size_t i = 0; i < n; i++)
    ok &= hu[i] == (double)(wf_real)wf_philox_unit(word(key, c0, i));
  CHECK(ok, "uniform: value i from block counter + i / 4, lane i %% 4");
  wf_real *u2 = ou_up(&D, NULL, n);
  double *cs = at(c0);
  be->uniform(D.ctx, u2, 400, key, cs);
  CHECK(counter_of(cs) == c0 + wf_philox_blocks(400), "uniform advances its counter");
  be->uniform(D.ctx, u2 + 400, n - 400, key, cs);
  CHECK(same(ou_down(&D, u2, n), hu, n), "uniform: a split draw is one stream");
  be->uniform(D.ctx, u2, 6, key, at(c0));
  CHECK(same(ou_down(&D, u2, 6), hu, 6), "uniform: a short draw is a prefix");

  /* normal: Box-Muller on the lane pairs, in double */
  wf_real *z = ou_up(&D, NULL, n);
  be->normal(D.ctx, z, n, key, at(c0));
  double *hz = ou_down(&D, z, n);
  ok = 1;
  for (size_t i = 0; i < n; i++) {
    size_t b = i - i % 2; /* the pair's first value */
    double u0 = ((word(key, c0, b) >> 8) + 0.5) / 16777216.0;
    double u1 = ((word(key, c0, b + 1) >> 8) + 0.5) / 16777216.0;
    double rad = sqrt(-2 * log(u0)), th = 6.283185307179586 * u1;
    ok &= hz[i] == (double)(wf_real)(i % 2 == 0 ? rad * cos(th) : rad * sin(th));
  }
  CHECK(ok, "normal: Box-Muller on each block's pairs");
  wf_real *z2 = ou_up(&D, NULL, n);
  cs = at(c0);
  be->normal(D.ctx, z2, 10, key, cs); /* blocks c0 .. c0 + 2: the next at 12 */
  be->normal(D.ctx, z2 + 12, n - 12, key, cs);
  double *hz2 = ou_down(&D, z2, n);
  CHECK(same(hz2, hz, 10) && same(hz2 + 12, hz + 12, n - 12),
        "normal: a split draw is one stream");
  CHECK(counter_of(cs) == c0 + wf_philox_blocks(n), "normal: the counter at the end");
  ou_reset(&D);

  /* moments, bounds and thread invariance on long draws */
  n = 200000;
  double *res[2][2];
  for (int th = 1; th <= 2; th++) {
    threads(th);
    wf_real *a = ou_up(&D, NULL, n), *b = ou_up(&D, NULL, n);
    be->uniform(D.ctx, a, n, key, at(77));
    be->normal(D.ctx, b, n, key, at(77));
    res[th - 1][0] = ou_down(&D, a, n);
    res[th - 1][1] = ou_down(&D, b, n);
  }
  threads(1);
  CHECK(same(res[0][0], res[1][0], n) && same(res[0][1], res[1][1], n),
        "uniform / normal: 1 and 2 threads differ");
  double s1 = 0, s2 = 0, z1 = 0, z2s = 0, inside = 0;
  double lo = 1, hi = 0;
  for (size_t i = 0; i < n; i++) {
    double x = res[0][0][i], y = res[0][1][i];
    s1 += x;
    s2 += x * x;
    lo = fmin(lo, x);
    hi = fmax(hi, x);
    z1 += y;
    z2s += y * y;
    inside += fabs(y) < 1;
  }
  double mean = s1 / n, var = s2 / n - mean * mean;
  CHECK(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %g", mean);
  CHECK(fabs(var - 1.0 / 12) < 5 * sqrt((1.0 / 80 - 1.0 / 144) / n),
        "uniform variance %g", var);
  CHECK(lo > 0 && hi <= 1, "uniform range [%g, %g]", lo, hi);
  double zm = z1 / n, zv = z2s / n - zm * zm, pin = inside / n;
  CHECK(fabs(zm) < 5 / sqrt((double)n) && fabs(zv - 1) < 5 * sqrt(2.0 / n),
        "normal mean %g variance %g", zm, zv);
  CHECK(fabs(pin - 0.682689) < 5 * sqrt(0.2166 / n), "normal P(|z| < 1) = %g",
        pin);
  ou_reset(&D);

  /* random_index: min(bound - 1, (int)(u * bound)), u and the product in
   * wf_real, which is the pre-v2 uniform-then-sample_rows path */
  static const int bounds[] = {1, 2, 3, 7, 1000, (1 << 24) + 1, INT_MAX};
  n = 1003;
  for (int b = 0; b < 7; b++) {
    int bound = bounds[b];
    int *idx = ou_alloc(&D, n * sizeof(int));
    be->random_index(D.ctx, idx, n, bound, key, at(c0));
    int *got = ou_down_int(&D, idx, n);
    wf_real *uu = ou_up(&D, NULL, n);
    be->uniform(D.ctx, uu, n, key, at(c0));
    double *hu2 = ou_down(&D, uu, n);
    int formula = 1, old = 1, range = 1;
    for (size_t i = 0; i < n; i++) {
      wf_real ui = (wf_real)wf_philox_unit(word(key, c0, i));
      wf_real x = ui * bound;
      int k = x < (wf_real)INT_MAX ? (int)x : INT_MAX;
      formula &= got[i] == (k < bound ? k : bound - 1);
      wf_real uo = (wf_real)hu2[i]; /* the old path, from the uniform op */
      int r = (int)(uo * bound);
      if (r >= bound) r = bound - 1;
      old &= bound == INT_MAX || got[i] == r; /* old: UB at INT_MAX */
      range &= got[i] >= 0 && got[i] < bound;
    }
    CHECK(formula && old && range, "random_index bound %d: formula %d old path "
          "%d range %d", bound, formula, old, range);
    ou_reset(&D);
  }
  /* the top uniform, 1 - 2^-25 (word 0xffffff0a), rounds to 1 in float:
   * the index is still bound - 1 there, even for bound = INT_MAX */
  const uint32_t key1[2] = {0x0badcafeu, 0x5eed0001u};
  const uint64_t c1 = 5287575;
  CHECK(word(key1, c1, 0) >> 8 == 0xffffffu, "the top word is where expected");
  wf_real top = (wf_real)wf_philox_unit(word(key1, c1, 0));
  CHECK(sizeof(wf_real) == 8 ? top < 1 : top == 1, "the top uniform %.17g", top);
  for (int b = 0; b < 7; b++) {
    int *idx = ou_alloc(&D, 4 * sizeof(int));
    be->random_index(D.ctx, idx, 4, bounds[b], key1, at(c1));
    int got = ou_down_int(&D, idx, 4)[0];
    int want = top == 1 || bounds[b] < (1 << 24) ? bounds[b] - 1
                                                 : (int)(top * bounds[b]);
    CHECK(got == want, "random_index at the top uniform, bound %d: %d", bounds[b],
          got);
  }
  /* frequencies and thread invariance */
  n = 70000;
  int *r[2];
  for (int th = 1; th <= 2; th++) {
    threads(th);
    int *idx = ou_alloc(&D, n * sizeof(int));
    be->random_index(D.ctx, idx, n, 7, key, at(3));
    r[th - 1] = ou_down_int(&D, idx, n);
  }
  threads(1);
  CHECK(same_int(r[0], r[1], n), "random_index: 1 and 2 threads differ");
  int count[7] = {0};
  for (size_t i = 0; i < n; i++) count[r[0][i]]++;
  ok = 1;
  for (int j = 0; j < 7; j++) ok &= fabs(count[j] - 10000.0) < 5 * sqrt(10000.0 * 6 / 7);
  CHECK(ok, "random_index frequencies %d %d %d %d %d %d %d", count[0], count[1],
        count[2], count[3], count[4], count[5], count[6]);
  ou_reset(&D);
}

int main(void) {
  ops_open();
  philox_gives_random123s_known_answers();
  draws_advance_the_counter_slot_by_whole_blocks();
  uniform_normal_and_index_draws_follow_their_formulas();
  return ops_finish("random");
}
