/* ot_assign.cu — the semi-discrete assignment (OTS's hot loop), histograms
 * of indices and lists read or written at a position held in a device
 * slot, on the GPU (backend.h, API 4).
 *
 * ot_assign: a tiled kernel, correctness first. A block of 16 x 16 threads
 * takes 64 batch rows and a chunk of data rows in tiles of 64; each thread
 * accumulates 4 x 4 scores over k through shared memory (a . y for the
 * squared cost, sum |a - y| for L1), adds yh_i - psi_i, and keeps for each
 * of its batch rows the smallest (score, index). Scores and indices are
 * packed into one 64-bit key (the score's bits mapped so that integer order
 * is float order, the index below them), so the smallest key is the
 * smallest score and, among equal scores, the smallest index; the 16
 * threads of a batch row combine by shuffles and the blocks by atomicMin on
 * the row's key. A minimum does not depend on the order it is taken in, so
 * the result is deterministic. The m x n scores are never stored; a last
 * kernel unpacks the keys into idx and val.
 */
#include "cuda_ops.h"

#define AS_TB 64  /* batch rows of a block */
#define AS_TN 64  /* data rows of a tile */
#define AS_TK 16  /* k of a shared-memory slice */
#define AS_THREADS 256
#define AS_MAX_CHUNKS 256 /* blocks along the data, at most */

/* the 64-bit key of (score, index): NaN as +inf (never chosen), -0 as +0
 * (equal to it, as on the CPU), then the float's bits flipped so unsigned
 * order is float order */
static __device__ __forceinline__ unsigned long long as_key(float s, int i) {
  if (!(s == s)) s = INFINITY;
  s += 0.0f;
  unsigned int u = __float_as_uint(s);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ((unsigned long long)u << 32) | (unsigned int)i;
}

static __device__ __forceinline__ float key_score(unsigned long long key) {
  unsigned int u = (unsigned int)(key >> 32);
  u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
  return __uint_as_float(u);
}

static __global__ void key_init_kernel(unsigned long long *keys, int m) {
  WF_CU_FOR(j, (size_t)m) keys[j] = as_key(INFINITY, 0);
}

/* keys[j] = min over the block's data rows of key(score_ij, i), for the
 * block's 64 batch rows (blockIdx.y) and its chunk of `chunk` tiles of
 * data rows (blockIdx.x) */
template <bool L1>
static __global__ void __launch_bounds__(AS_THREADS)
    assign_kernel(const float *__restrict__ a, int m, const float *__restrict__ y, int n,
                  int d, const float *__restrict__ yh, const float *__restrict__ psi,
                  int chunk, unsigned long long *keys) {
  __shared__ float as[AS_TK][AS_TB + 1]; /* k-major slices of the batch */
  __shared__ float ys[AS_TK][AS_TN + 1]; /* and of the data */
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  const int r0 = blockIdx.y * AS_TB;
  unsigned long long best[4];
  for (int p = 0; p < 4; p++) best[p] = as_key(INFINITY, 0);
  for (int t = 0; t < chunk; t++) {
    const int c0 = (blockIdx.x * chunk + t) * AS_TN;
    if (c0 >= n) break; /* uniform over the block */
    float acc[4][4];
    for (int p = 0; p < 4; p++)
      for (int q = 0; q < 4; q++) acc[p][q] = 0.f;
    for (int k0 = 0; k0 < d; k0 += AS_TK) {
      /* zero padding past m, n and d adds nothing to either cost */
      for (int e = threadIdx.x; e < AS_TB * AS_TK; e += AS_THREADS) {
        const int r = e / AS_TK, k = e % AS_TK, gk = k0 + k;
        const int ga = r0 + r, gy = c0 + r;
        as[k][r] = ga < m && gk < d ? a[(size_t)ga * d + gk] : 0.f;
        ys[k][r] = gy < n && gk < d ? y[(size_t)gy * d + gk] : 0.f;
      }
      __syncthreads();
#pragma unroll
      for (int k = 0; k < AS_TK; k++) {
        float av[4], yv[4];
        for (int p = 0; p < 4; p++) av[p] = as[k][ty + 16 * p];
        for (int q = 0; q < 4; q++) yv[q] = ys[k][tx + 16 * q];
        for (int p = 0; p < 4; p++)
          for (int q = 0; q < 4; q++)
            acc[p][q] += L1 ? fabsf(av[p] - yv[q]) : av[p] * yv[q];
      }
      __syncthreads();
    }
    for (int q = 0; q < 4; q++) {
      const int c = c0 + tx + 16 * q;
      if (c >= n) continue;
      const float ps = psi != NULL ? psi[c] : 0.f;
      const float off = L1 ? -ps : yh[c] - ps;
      for (int p = 0; p < 4; p++) {
        const float s = L1 ? acc[p][q] + off : off - acc[p][q];
        const unsigned long long key = as_key(s, c);
        if (key < best[p]) best[p] = key;
      }
    }
  }
  /* the 16 threads of a batch row are 16 adjacent lanes of one warp */
  for (int p = 0; p < 4; p++) {
    unsigned long long k = best[p];
    for (int off = 8; off > 0; off >>= 1) {
      const unsigned long long o = __shfl_xor_sync(0xffffffffu, k, off, 16);
      if (o < k) k = o;
    }
    const int r = r0 + ty + 16 * p;
    if (tx == 0 && r < m) atomicMin(keys + r, k);
  }
}

/* idx[j], val[j] from the keys; val += |a_j|^2 / 2 (in double) for SQ */
static __global__ void key_finish_kernel(const unsigned long long *keys, const float *a,
                                         int m, int d, int sq, int *idx, float *val) {
  WF_CU_FOR(j, (size_t)m) {
    const unsigned long long key = keys[j];
    idx[j] = (int)(unsigned int)(key & 0xffffffffu);
    if (val != NULL) {
      double v = key_score(key);
      if (sq) {
        double s = 0;
        const float *aj = a + j * (size_t)d;
        for (int k = 0; k < d; k++) s += (double)aj[k] * aj[k];
        v += 0.5 * s;
      }
      val[j] = (float)v;
    }
  }
}

void wf_cu_ot_assign(wf_ctx *ctx, wf_cost_kind cost, const wf_real *a, int m,
                     const wf_real *y, int n, int d, const wf_real *yh, const wf_real *psi,
                     int *idx, wf_real *val) {
  if (m <= 0 || n <= 0 || d <= 0) return;
  /* the keys: a temporary from the caching allocator, released at once
   * (later work on the stream runs after these kernels) */
  unsigned long long *keys =
      (unsigned long long *)wf_cu_alloc(ctx, sizeof(unsigned long long) * (size_t)m);
  if (keys == NULL) {
    if (ctx->err == WF_OK) wf_cu_fail(ctx, WF_ERR_NOMEM, "ot_assign: out of device memory");
    return;
  }
  key_init_kernel<<<wf_cu_grid((size_t)m), WF_CU_THREADS, 0, ctx->stream>>>(keys, m);
  const int tiles = (n + AS_TN - 1) / AS_TN;
  const int chunk = (tiles + AS_MAX_CHUNKS - 1) / AS_MAX_CHUNKS;
  dim3 grid((unsigned int)((tiles + chunk - 1) / chunk), (unsigned int)((m + AS_TB - 1) / AS_TB));
  if (cost == WF_COST_L1)
    assign_kernel<true><<<grid, AS_THREADS, 0, ctx->stream>>>(a, m, y, n, d, yh, psi, chunk,
                                                              keys);
  else
    assign_kernel<false><<<grid, AS_THREADS, 0, ctx->stream>>>(a, m, y, n, d, yh, psi,
                                                               chunk, keys);
  key_finish_kernel<<<wf_cu_grid((size_t)m), WF_CU_THREADS, 0, ctx->stream>>>(
      keys, a, m, d, cost == WF_COST_SQ, idx, val);
  WF_CU_LAUNCHED(ctx, "ot_assign");
  wf_cu_release(ctx, keys);
}

/* ---- histograms of indices ------------------------------------------------------ */
/* every addend is w: the sums do not depend on the order of the atomics */
static __global__ void index_count_kernel(const int *idx, int m, int n, int bins, float w,
                                          float *out) {
  WF_CU_FOR(j, (size_t)m) {
    const long long b = (long long)idx[j] * bins / n;
    atomicAdd(out + b, w);
  }
}

void wf_cu_index_count(wf_ctx *ctx, const int *idx, int m, int n, int bins, wf_real w,
                       wf_real *out) {
  if (m <= 0 || n <= 0 || bins <= 0) return;
  index_count_kernel<<<wf_cu_grid((size_t)m), WF_CU_THREADS, 0, ctx->stream>>>(idx, m, n,
                                                                              bins, w, out);
  WF_CU_LAUNCHED(ctx, "index_count");
}

/* ---- lists at a position in a slot ---------------------------------------------- */
/* one block: every thread reads the positions, copies its share, and after
 * the block's barrier thread 0 advances them */
static __global__ void copy_ints_at_kernel(int *dst, double *dst_pos, const int *src,
                                           double *src_pos, size_t n) {
  __shared__ size_t di, si;
  if (threadIdx.x == 0) {
    di = dst_pos != NULL ? (size_t)*dst_pos : 0;
    si = src_pos != NULL ? (size_t)*src_pos : 0;
  }
  __syncthreads();
  for (size_t k = threadIdx.x; k < n; k += blockDim.x) dst[di * n + k] = src[si * n + k];
  __syncthreads();
  if (threadIdx.x == 0) {
    if (dst_pos != NULL) *dst_pos += 1;
    if (src_pos != NULL) *src_pos += 1;
  }
}

void wf_cu_copy_ints_at(wf_ctx *ctx, int *dst, double *dst_pos, const int *src,
                        double *src_pos, size_t n) {
  copy_ints_at_kernel<<<1, WF_CU_THREADS, 0, ctx->stream>>>(dst, dst_pos, src, src_pos, n);
  WF_CU_LAUNCHED(ctx, "copy_ints_at");
}
