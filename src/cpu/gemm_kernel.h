/* gemm_kernel.h — the register-blocked part of the matrix product at one
 * vector width, included by gemm.c once per width it builds (a template):
 * the micro-kernel, the packing of op(B) strips and one thread's loops over
 * its rows. The includer defines
 *   KERNEL_VEC_BYTES  the vector width in bytes (32: ymm, 64: zmm)
 *   KN(name)          the name of this width's copy of a function
 *   KERNEL_ATTR       the function attributes of the row loops (code paths)
 * and MR, KC, NC and pack_a_strip. The C tile is MR rows by two vectors
 * (KNR = 2 KVL values); its values are accumulated over p in the same order
 * at every width, so every width gives the same bits (gemm.c's tests
 * compare them).
 */
#define KVL ((int)(KERNEL_VEC_BYTES / sizeof(wf_real))) /* lanes */
#define KNR (2 * KVL)                                    /* tile columns */
#define KVEC KN(vreal)
typedef wf_real KVEC __attribute__((vector_size(KERNEL_VEC_BYTES)));

/* C tile [h x w] (h <= MR, w <= KNR) += alpha * op(A) Bp over kc, where
 * op(A)(i, p) = a[i * ars + p * acs]. Twelve accumulators in named
 * variables so they stay in registers. Row p of the B strip is the KNR
 * values at bp + p * brs. */
static inline __attribute__((always_inline)) void
KN(micro_kernel)(int kc, wf_real alpha, const wf_real *a, size_t ars, size_t acs,
                 const wf_real *bp, size_t brs, wf_real *ct, int ldc, int h, int w,
                 int overwrite) {
  KVEC c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
  KVEC c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
  const wf_real *a0 = a, *a1 = a + ars, *a2 = a + 2 * ars, *a3 = a + 3 * ars;
  const wf_real *a4 = a + 4 * ars, *a5 = a + 5 * ars;
  for (int p = 0; p < kc; p++) {
    KVEC b0, b1;
    memcpy(&b0, bp + p * brs, sizeof(KVEC));
    memcpy(&b1, bp + p * brs + KVL, sizeof(KVEC));
    size_t o = (size_t)p * acs;
    c00 += a0[o] * b0, c01 += a0[o] * b1;
    c10 += a1[o] * b0, c11 += a1[o] * b1;
    c20 += a2[o] * b0, c21 += a2[o] * b1;
    c30 += a3[o] * b0, c31 += a3[o] * b1;
    c40 += a4[o] * b0, c41 += a4[o] * b1;
    c50 += a5[o] * b0, c51 += a5[o] * b1;
  }
  KVEC acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                      {c30, c31}, {c40, c41}, {c50, c51}};
  if (h == MR && w == KNR) {
    for (int i = 0; i < MR; i++) {
      wf_real *row = ct + (size_t)i * ldc;
      KVEC r0 = alpha * acc[i][0], r1 = alpha * acc[i][1];
      if (!overwrite) {
        KVEC c0, c1;
        memcpy(&c0, row, sizeof(KVEC));
        memcpy(&c1, row + KVL, sizeof(KVEC));
        r0 += c0;
        r1 += c1;
      }
      memcpy(row, &r0, sizeof(KVEC));
      memcpy(row + KVL, &r1, sizeof(KVEC));
    }
  } else {
    wf_real tile[MR][KNR];
    memcpy(tile, acc, sizeof(tile));
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) {
        wf_real *cij = ct + (size_t)i * ldc + j;
        *cij = alpha * tile[i][j] + (overwrite ? 0 : *cij);
      }
  }
}

/* op(B)[p0:p0+kc, j0:j0+w] into dst [kc x KNR], zero padded to KNR
 * columns; the branch on the layout outside the loops, so each copy is a
 * run of contiguous reads or writes */
static inline __attribute__((always_inline)) void
KN(pack_b_strip)(int tb, const wf_real *b, int ldb, int p0, int j0, int kc, int w,
                 wf_real *dst) {
  if (!tb) {
    for (int p = 0; p < kc; p++) {
      const wf_real *src = b + (size_t)(p0 + p) * ldb + j0;
      wf_real *d = dst + (size_t)p * KNR;
      for (int j = 0; j < w; j++) d[j] = src[j];
      for (int j = w; j < KNR; j++) d[j] = 0;
    }
  } else {
    for (int p = 0; p < kc; p++)
      for (int j = w; j < KNR; j++) dst[(size_t)p * KNR + j] = 0;
    for (int j = 0; j < w; j++) {
      const wf_real *src = b + (size_t)(j0 + j) * ldb + p0;
      for (int p = 0; p < kc; p++) dst[(size_t)p * KNR + j] = src[p];
    }
  }
}

/* One thread's share: rows [i0, i1) of C += alpha * op(A) op(B). Operands
 * are read in place where their layout allows: op(A) row strips when A is
 * not transposed (six strided streams), op(B) when it is not transposed (a
 * strip's row p is contiguous) and its rows are not 2 KB apart. Transposed
 * operands are packed (op(A) a strip at a time: read in place, its rows
 * lda apart thrash the L1 for a weight gradient over a long batch), and
 * short edge strips of either are copied with zero padding, so the kernel
 * never reads past an operand. Packing copies values only: the products
 * and their order of additions are the same either way. */
KERNEL_ATTR
static void KN(gemm_rows)(int ta, int tb, int i0, int i1, int n, int k,
                          wf_real alpha, const wf_real *a, int lda,
                          const wf_real *b, int ldb, wf_real *c, int ldc,
                          int overwrite, wf_real *pa /* [KC x MR] */,
                          wf_real *pb /* [KC x NC] */) {
  size_t ars = ta ? 1 : (size_t)lda, acs = ta ? (size_t)lda : 1;
  /* a plain op(B) is read in place unless its rows lie a multiple of 2 KB
   * apart: a strip's kc rows then fall into a few L1 sets and evict each
   * other (the lowered convolutions' [.. x 1024] operands ran at 55 % of the
   * packed speed) */
  int in_place = !tb && (size_t)ldb * sizeof(wf_real) % 2048 != 0;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      /* pack the strips of op(B)[pc:pc+kc, jc:jc+nc] that are not read in
       * place: all of them if transposed, else only a short last one */
      for (int js = 0; js < nc; js += KNR) {
        int w = nc - js < KNR ? nc - js : KNR;
        if (in_place && w == KNR) continue;
        KN(pack_b_strip)(tb, b, ldb, pc, jc + js, kc, w, pb + (size_t)js * kc);
      }
      for (int is = i0; is < i1; is += MR) {
        int h = i1 - is < MR ? i1 - is : MR;
        const wf_real *as = a + (size_t)is * ars + (size_t)pc * acs;
        size_t rs = ars, cs = acs;
        if (h < MR || ta) { /* short or transposed strip: copy it, zero padded */
          pack_a_strip(ta, a, lda, is, pc, kc, h, pa);
          as = pa, rs = 1, cs = MR;
        }
        for (int js = 0; js < nc; js += KNR) {
          int w = nc - js < KNR ? nc - js : KNR;
          const wf_real *bs = pb + (size_t)js * kc;
          size_t brs = KNR;
          if (in_place && w == KNR) bs = b + (size_t)pc * ldb + jc + js, brs = (size_t)ldb;
          KN(micro_kernel)(kc, alpha, as, rs, cs, bs, brs,
                       c + (size_t)is * ldc + jc + js, ldc, h, w,
                       overwrite && pc == 0);
        }
      }
    }
  }
}

#undef KVL
#undef KNR
#undef KVEC
