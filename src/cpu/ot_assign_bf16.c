/* ot_assign_bf16.c — the squared-cost assignment on CPUs with AVX512-BF16:
 * every (batch row, data row) pair is screened with bf16 products, at twice
 * the fp32 FMA rate, and the few candidates left are rescored with the fp32
 * kernel's own arithmetic, so the indices and values are exactly those of
 * ot_assign.c's fp32 kernel, ties and NaN included.
 *
 * The fp32 kernel's score is s_ij = off_i - c_ij, off_i = yh_i - psi_i and
 * c_ij the fp32 sum of a_jk y_ik over k in order. The screen computes
 * s~_ij = off_i - c~_ij, c~_ij the vdpbf16ps sum of the bf16 roundings
 * a~_jk y~_ik, and a bound e_ij >= |s~_ij - s_ij| (below). With
 * t_j = min_i (s~_ij + e_ij) >= s_i'j for the row i' reaching it, a row with
 * s~_ij - e_ij > t_j has s_ij > s_i'j: it is not the first minimum. Every
 * other row is a candidate; rescored in fp32 in increasing row order with a
 * strict <, the candidates give the kernel's index and value. NaN and
 * infinite bounds or scores make a row a candidate (the test is
 * !(s~ - e > t)) and never lower t, so such rows are decided by the fp32
 * scores as well.
 *
 * The bound. With r^a = a - a~ and r^y = y - y~ (exact in fp32),
 * D = a . y, D~ = a~ . y~ (real numbers) and u = 2^-24:
 *   |D~ - D| <= |r^a| |y~| + |a| |r^y|                   (Cauchy-Schwarz)
 *   |c~ - D~| <= 2 d u |a~| |y~| + 3 d 2^-126
 *                     (d additions, even at 2u each; the products are exact;
 *                      underflows flushed to zero)
 *   |c - D| <= 1.01 d u |a| |y| + d 2^-149
 * and the roundings of off - c, off - c~, s~ - e and s~ + e, at most
 * 3.1 u (|off| + |a| |y|) more. With per-batch-row bounds RA_j >= |r^a_j|,
 * AL_j >= |a_j| + |r^a_j| (>= |a~_j|) and per-data-row bounds
 * B_i >= |y_i| + |r^y_i|, RY_i >= |r^y_i| (norms rounded up),
 *   e_ij = RA_j B_i + AL_j (RY_i + c1 B_i + 2^-100) + c2 |off_i| + 2^-100,
 *   c1 = (5 d + 8) u, c2 = 4 u, d <= 2^16,
 * each term with room for the fp32 roundings of e itself; the 2^-100 terms
 * cover underflows and bf16 values flushed to zero.
 *
 * Memory: no bf16 copy of the data is kept. Each thread converts its rows a
 * chunk at a time (the chunk stays in L2 while every block of batch strips
 * passes it), so the data is read once per call, in fp32, and nothing can be
 * stale when the data or psi change between calls.
 *
 * Candidates: each thread keeps, per batch column, its running t and up to
 * SB_CAP candidate rows with their s~ - e; a full list drops the entries
 * that the current t rules out, and a column whose list is still full is
 * left to the fp32 kernel (idx -1: ot_assign.c reruns those columns). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

/* fp32 only, x86-64 with a compiler that knows AVX512-BF16, AVX-512 not
 * capped off by the build */
#if !defined(WF_DOUBLE) && WF_ISA_MAX >= 2 && defined(__x86_64__) &&  \
    ((defined(__clang__) && __clang_major__ >= 12) ||                   \
     (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 10))
#define SB_ON 1
#endif

int wf_cpu_ot_bf16_ready(void) {
#ifdef SB_ON
  static int ok = -1; /* found once (a benign race: every thread finds the same) */
  if (ok < 0) {
    __builtin_cpu_init();
    ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bf16");
  }
  return ok;
#else
  return 0;
#endif
}

#ifndef SB_ON
int wf_cpu_ot_assign_bf16(wf_ctx *ctx, const wf_real *a, int m, const wf_real *y, int n,
                          int d, const wf_real *yh, const wf_real *psi,
                          wf_cpu_dot_fn dot, int nt, int *idx, wf_real *score) {
  (void)ctx, (void)a, (void)m, (void)y, (void)n, (void)d, (void)yh, (void)psi;
  (void)dot, (void)nt, (void)idx, (void)score;
  return -1;
}
#else
#include <immintrin.h>

#define SB_ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))
#define SB_MR 6            /* data rows per tile */
#define SB_NR 32           /* batch columns per strip: two vectors of 16 lanes */
#define SB_CAP 64          /* candidates kept per column and thread */
#define SB_CHUNK_MAX 96    /* data rows converted at a time (a multiple of SB_MR) */
#define SB_CHUNK_BYTES (192 * 1024) /* at most this much of them */
#define SB_BLOCK_BYTES (384 * 1024) /* a block of packed batch strips, in L2 */
#define SB_U 5.9604644775390625e-8  /* 2^-24 */
#define SB_TINY 7.888609052210118e-31 /* 2^-100 */

typedef struct {
  const uint32_t *pack;  /* [strips x d2 x NR] the batch's bf16 pairs, k-major */
  const float *ra, *al;  /* [strips x NR] RA_j, AL_j (0 past the batch) */
  const float *y, *yh, *psi; /* [n x d], [n], [n] or NULL */
  int m, n, d;
  int d2, stride;        /* pairs per row; words per converted row */
  int strips, block;     /* strips, and strips per block */
  int chunk;             /* rows converted at a time */
  float c1;
} sb_job;

/* a thread's state, in the work space */
typedef struct {
  float *thr;      /* [strips x NR] min over rows seen of s~ + e */
  int *count;      /* [strips x NR] candidates kept; SB_CAP + 1: overflowed */
  int *cand;       /* [strips x NR x SB_CAP] their rows, increasing */
  float *low;      /* [strips x NR x SB_CAP] their s~ - e */
  uint32_t *rows;  /* [chunk x stride] the chunk's rows, bf16 pairs */
  float *off;      /* [chunk] yh_i - psi_i, as the fp32 kernel has it */
  float *rb;       /* [chunk] B_i */
  float *rq;       /* [chunk] RY_i + c1 B_i + 2^-100 */
  float *ro;       /* [chunk] c2 |off_i| + 2^-100 */
} sb_thread;

/* x rounded to bf16 (to nearest even), zero and subnormal numbers to a
 * signed zero (what vdpbf16ps would read them as), NaN kept a NaN */
static uint16_t bf16_of(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  if ((b & 0x7f800000u) == 0) return (uint16_t)((b >> 16) & 0x8000u);
  if ((b & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((b >> 16) | 0x40u);
  b += 0x7fffu + ((b >> 16) & 1u);
  return (uint16_t)(b >> 16);
}

static float float_of(uint16_t h) {
  uint32_t b = (uint32_t)h << 16;
  float x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* The batch in bf16 pairs, pack[(s d2 + p) NR + c] = a~[j][2p] | a~[j][2p+1] << 16
 * for j = s NR + c (zero past the batch and past d), and each row's RA_j and
 * AL_j (in double, rounded up). Returns 0, or -1 when a bound is not finite
 * (a batch value that is not, or one that rounds to an infinite bf16). */
static int pack_batch(const float *a /* [m x d] */, int m, int d, int d2, int strips,
                      uint32_t *pack, float *ra, float *al /* [strips x NR] */) {
  int ok = 1;
  for (int s = 0; s < strips; s++)
    for (int c = 0; c < SB_NR; c++) {
      const int j = s * SB_NR + c;
      uint32_t *pc = pack + (size_t)s * d2 * SB_NR + c;
      if (j >= m) {
        for (int p = 0; p < d2; p++) pc[(size_t)p * SB_NR] = 0;
        ra[j] = al[j] = 0;
        continue;
      }
      const float *aj = a + (size_t)j * d;
      double sa = 0, sr = 0;
      for (int p = 0; p < d2; p++) {
        uint16_t lo = bf16_of(aj[2 * p]);
        uint16_t hi = 2 * p + 1 < d ? bf16_of(aj[2 * p + 1]) : 0;
        pc[(size_t)p * SB_NR] = (uint32_t)lo | (uint32_t)hi << 16;
        double r0 = (double)aj[2 * p] - float_of(lo);
        sa += (double)aj[2 * p] * aj[2 * p], sr += r0 * r0;
        if (2 * p + 1 < d) {
          double r1 = (double)aj[2 * p + 1] - float_of(hi);
          sa += (double)aj[2 * p + 1] * aj[2 * p + 1], sr += r1 * r1;
        }
      }
      /* double sums of d squares: relative error below d 2^-53; (1 + 2^-20)
       * covers it and the rounding to float */
      const double rnorm = sqrt(sr);
      ra[j] = (float)((rnorm + SB_TINY) * (1 + 0x1p-20));
      al[j] = (float)((sqrt(sa) + rnorm) * (1 + 0x1p-20));
      ok &= isfinite(ra[j]) && isfinite(al[j]);
    }
  return ok ? 0 : -1;
}

/* horizontal sum of 16 lanes */
SB_ATTR static float sum16(__m512 v) { return _mm512_reduce_add_ps(v); }

/* 16 values of a data row to bf16 (stored at out) and their squares and
 * residuals' squares added to qy and qr */
SB_ATTR static inline void convert16(__m512 v, uint32_t *out, __m512 *qy, __m512 *qr) {
  const __m256i hb = (__m256i)_mm512_cvtneps_pbh(v);
  /* y~ back in fp32: the bf16 bits in the upper half */
  const __m512 back = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(hb), 16));
  const __m512 r = _mm512_sub_ps(v, back);
  *qy = _mm512_fmadd_ps(v, v, *qy);
  *qr = _mm512_fmadd_ps(r, r, *qr);
  _mm256_storeu_si256((__m256i *)out, hb);
}

/* data rows [i0, i0 + h) to bf16 pairs in w->rows and their per-row terms
 * (row l = i - i0 of the chunk) */
SB_ATTR static void convert_rows(const sb_job *jb, sb_thread *w, int i0, int h) {
  const int d = jb->d;
  for (int l = 0; l < h; l++) {
    const int i = i0 + l;
    const float *yi = jb->y + (size_t)i * d;
    uint32_t *out = w->rows + (size_t)l * jb->stride;
    /* two sums of each (the FMA latency), 32 values a step, then the rest */
    __m512 qy0 = _mm512_setzero_ps(), qr0 = qy0, qy1 = qy0, qr1 = qy0;
    int k = 0;
    for (; k + 32 <= d; k += 32) {
      convert16(_mm512_loadu_ps(yi + k), out + k / 2, &qy0, &qr0);
      convert16(_mm512_loadu_ps(yi + k + 16), out + k / 2 + 8, &qy1, &qr1);
    }
    for (; k < d; k += 16) {
      const __mmask16 mk = d - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (d - k)) - 1);
      convert16(_mm512_maskz_loadu_ps(mk, yi + k), out + k / 2, &qy0, &qr0);
    }
    /* fp32 sums of squares, depth at most d / 32 + 6: relative error below 2^-11
     * for d <= 2^16; the square roots' and these products' roundings too,
     * so (1 + 2^-9) covers them; 2^-50 covers underflowed squares */
    const float ny = sqrtf(sum16(_mm512_add_ps(qy0, qy1)));
    const float nr = sqrtf(sum16(_mm512_add_ps(qr0, qr1)));
    const float p = jb->psi != NULL ? jb->psi[i] : 0;
    const float off = jb->yh[i] - p; /* the fp32 kernel's offset */
    const float ry = nr * (1 + 0x1p-9f) + 0x1p-50f;
    const float b = (ny + nr) * (1 + 0x1p-9f) + 0x1p-50f;
    w->off[l] = off;
    w->rb[l] = b;
    w->rq[l] = (ry + jb->c1 * b) * (1 + 0x1p-20f) + (float)SB_TINY;
    w->ro[l] = (float)(4 * SB_U) * fabsf(off) * (1 + 0x1p-20f) + (float)SB_TINY;
  }
}

/* column c (< m) keeps row i with s~ - e = lo */
static void keep(sb_thread *w, int c, int i, float lo) {
  int n = w->count[c];
  int *ci = w->cand + (size_t)c * SB_CAP;
  float *cl = w->low + (size_t)c * SB_CAP;
  if (n > SB_CAP) return; /* overflowed: the fp32 kernel decides */
  if (n == SB_CAP) { /* full: drop what the current t rules out */
    const float t = w->thr[c];
    int k = 0;
    for (int e = 0; e < n; e++)
      if (!(cl[e] > t)) ci[k] = ci[e], cl[k] = cl[e], k++;
    n = k;
    if (n == SB_CAP) {
      w->count[c] = SB_CAP + 1;
      return;
    }
  }
  ci[n] = i, cl[n] = lo;
  w->count[c] = n + 1;
}

/* The screen of rows [i0, i1) by one thread: every tile of SB_MR rows
 * against every strip of the batch, the tile's scores in registers. */
SB_ATTR static void screen_rows(const sb_job *jb, sb_thread *w, int i0, int i1) {
  const int d2 = jb->d2;
  for (int ch = i0; ch < i1; ch += jb->chunk) {
    const int che = i1 - ch < jb->chunk ? i1 : ch + jb->chunk;
    convert_rows(jb, w, ch, che - ch);
    /* the next chunk's rows are fetched while this one is screened, a line
     * every other pair (converting them would otherwise wait on memory) */
    const int nxe = i1 - che < jb->chunk ? i1 : che + jb->chunk;
    const char *pf = (const char *)(jb->y + (size_t)che * jb->d);
    const char *pf_end = (const char *)(jb->y + (size_t)nxe * jb->d);
    for (int s0 = 0; s0 < jb->strips; s0 += jb->block) {
      const int s1 = s0 + jb->block < jb->strips ? s0 + jb->block : jb->strips;
      for (int is = ch; is < che; is += SB_MR) {
        const int h = che - is < SB_MR ? che - is : SB_MR;
        /* a short last tile repeats its last row (scores computed, not used) */
        int lq[SB_MR];
        for (int q = 0; q < SB_MR; q++) lq[q] = is - ch + (q < h ? q : h - 1);
        const uint32_t *r0 = w->rows + (size_t)lq[0] * jb->stride;
        const uint32_t *r1 = w->rows + (size_t)lq[1] * jb->stride;
        const uint32_t *r2 = w->rows + (size_t)lq[2] * jb->stride;
        const uint32_t *r3 = w->rows + (size_t)lq[3] * jb->stride;
        const uint32_t *r4 = w->rows + (size_t)lq[4] * jb->stride;
        const uint32_t *r5 = w->rows + (size_t)lq[5] * jb->stride;
        for (int s = s0; s < s1; s++) {
          const uint32_t *bp = jb->pack + (size_t)s * d2 * SB_NR; /* [d2 x NR] */
          __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
          __m512 c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
          __m512 c50 = c00, c51 = c00;
          for (int p = 0; p < d2; p++) {
            if ((p & 1) && pf < pf_end) {
              _mm_prefetch(pf, _MM_HINT_T1);
              pf += 64;
            }
            const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + (size_t)p * SB_NR);
            const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + (size_t)p * SB_NR + 16);
#define SB_ROW(rq, ca, cb)                                         \
  {                                                                \
    const __m512bh v = (__m512bh)_mm512_set1_epi32((int)rq[p]);    \
    ca = _mm512_dpbf16_ps(ca, v, b0);                              \
    cb = _mm512_dpbf16_ps(cb, v, b1);                              \
  }
            SB_ROW(r0, c00, c01) SB_ROW(r1, c10, c11) SB_ROW(r2, c20, c21)
            SB_ROW(r3, c30, c31) SB_ROW(r4, c40, c41) SB_ROW(r5, c50, c51)
#undef SB_ROW
          }
          const __m512 acc[SB_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                        {c30, c31}, {c40, c41}, {c50, c51}};
          for (int v = 0; v < 2; v++) {
            const int c0 = s * SB_NR + v * 16; /* the vector's first column */
            const __m512 ra = _mm512_loadu_ps(jb->ra + c0), al = _mm512_loadu_ps(jb->al + c0);
            __m512 t = _mm512_loadu_ps(w->thr + c0);
            for (int q = 0; q < h; q++) {
              const int l = lq[q];
              const __m512 sc = _mm512_sub_ps(_mm512_set1_ps(w->off[l]), acc[q][v]);
              const __m512 e = _mm512_fmadd_ps(
                  ra, _mm512_set1_ps(w->rb[l]),
                  _mm512_fmadd_ps(al, _mm512_set1_ps(w->rq[l]), _mm512_set1_ps(w->ro[l])));
              const __m512 hi = _mm512_add_ps(sc, e), lo = _mm512_sub_ps(sc, e);
              t = _mm512_mask_mov_ps(t, _mm512_cmp_ps_mask(hi, t, _CMP_LT_OQ), hi);
              /* keep unless s~ - e > t (NaN: keep) */
              __mmask16 kept = _mm512_cmp_ps_mask(lo, t, _CMP_NGT_UQ);
              if (kept) { /* rare once t has settled */
                float los[16];
                _mm512_storeu_ps(w->thr + c0, t);
                _mm512_storeu_ps(los, lo);
                for (; kept; kept &= (__mmask16)(kept - 1)) {
                  const int lane = __builtin_ctz(kept);
                  if (c0 + lane < jb->m) keep(w, c0 + lane, is + q, los[lane]);
                }
              }
            }
            _mm512_storeu_ps(w->thr + c0, t);
          }
        }
      }
    }
  }
}

static size_t round64(size_t b) { return (b + 63) & ~(size_t)63; }

int wf_cpu_ot_assign_bf16(wf_ctx *ctx, const wf_real *a, int m, const wf_real *y, int n,
                          int d, const wf_real *yh, const wf_real *psi,
                          wf_cpu_dot_fn dot, int nt, int *idx, wf_real *score) {
  if (m <= 0 || n <= 0 || d <= 0 || d > 65536 || !wf_cpu_ot_bf16_ready()) return -1;
  const int strips = (m + SB_NR - 1) / SB_NR;
  const size_t width = (size_t)strips * SB_NR;
  const int d2 = (d + 1) / 2;
  const int stride = (d + 15) / 16 * 8; /* words: whole 16-value stores */
  int chunk = (int)(SB_CHUNK_BYTES / (4 * (size_t)stride)) / SB_MR * SB_MR;
  if (chunk > SB_CHUNK_MAX) chunk = SB_CHUNK_MAX;
  if (chunk < SB_MR) chunk = SB_MR;
  const int tiles = (n + SB_MR - 1) / SB_MR;
  if (nt > tiles) nt = tiles;
  if (nt < 1) nt = 1;
  /* work space: the pack, RA and AL, then each thread's state */
  const size_t pack_b = round64(4 * width * (size_t)d2), vec_b = round64(4 * width);
  const size_t list_b = round64(4 * width * SB_CAP), chunk_b = round64(4 * (size_t)chunk);
  const size_t rows_b = round64(4 * (size_t)chunk * stride);
  const size_t per_thread = 2 * vec_b + 2 * list_b + rows_b + 4 * chunk_b;
  char *ws = wf_cpu_assign_space(ctx, pack_b + 2 * vec_b + per_thread * (size_t)nt);
  if (ws == NULL) return -1;
  uint32_t *pack = (uint32_t *)ws;
  float *ra = (float *)(ws + pack_b), *al = (float *)(ws + pack_b + vec_b);
  if (pack_batch(a, m, d, d2, strips, pack, ra, al) != 0) return -1;
  int block = (int)(SB_BLOCK_BYTES / (4 * (size_t)d2 * SB_NR));
  if (block < 1) block = 1;
  const sb_job job = {pack, ra, al, y, yh, psi, m, n, d, d2, stride, strips, block, chunk,
                      (float)((5.0 * d + 8) * SB_U)};
  sb_thread th[WF_CPU_MAX_THREADS];
  for (int t = 0; t < nt; t++) {
    char *p = ws + pack_b + 2 * vec_b + per_thread * (size_t)t;
    th[t].thr = (float *)p, p += vec_b;
    th[t].count = (int *)p, p += vec_b;
    th[t].cand = (int *)p, p += list_b;
    th[t].low = (float *)p, p += list_b;
    th[t].rows = (uint32_t *)p, p += rows_b;
    th[t].off = (float *)p, p += chunk_b;
    th[t].rb = (float *)p, p += chunk_b;
    th[t].rq = (float *)p, p += chunk_b;
    th[t].ro = (float *)p;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (nt > 1)
#endif
  for (int t = 0; t < nt; t++) {
    for (size_t c = 0; c < width; c++) th[t].thr[c] = INFINITY, th[t].count[c] = 0;
    const int i0 = (int)((long)tiles * t / nt) * SB_MR;
    int i1 = (int)((long)tiles * (t + 1) / nt) * SB_MR;
    if (i1 > n) i1 = n;
    if (i0 < i1) screen_rows(&job, &th[t], i0, i1);
  }
  /* each column: its t over all rows, then its candidates in row order
   * (threads hold increasing ranges), rescored as the fp32 kernel scores */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && m >= 64)
#endif
  for (int j = 0; j < m; j++) {
    float t = INFINITY;
    int over = 0;
    for (int k = 0; k < nt; k++) {
      if (th[k].thr[j] < t) t = th[k].thr[j];
      over |= th[k].count[j] > SB_CAP;
    }
    if (over) {
      idx[j] = -1;
      continue;
    }
    const float *aj = a + (size_t)j * d;
    float best = INFINITY;
    int bi = 0;
    for (int k = 0; k < nt; k++) {
      const int *ci = th[k].cand + (size_t)j * SB_CAP;
      const float *cl = th[k].low + (size_t)j * SB_CAP;
      for (int e = 0; e < th[k].count[j]; e++) {
        if (cl[e] > t) continue;
        const int i = ci[e];
        const float p = psi != NULL ? psi[i] : 0;
        const float sc = (yh[i] - p) - dot(y + (size_t)i * d, aj, d);
        if (sc < best) best = sc, bi = i;
      }
    }
    idx[j] = bi;
    if (score != NULL) score[j] = best;
  }
  return 0;
}
#endif
