/* ot_assign_kernel.h — the micro-kernel of ot_assign.c for one vector
 * width, included once per width with
 *   AK_BYTES  the vector size in bytes (16, 32, 64)
 *   AK_NAME   the function's name
 *   AK_ATTR   its target attribute (empty for the baseline)
 *   AK_DOT    the name of its one-lane product (below)
 * so each copy is compiled for its own instruction set.
 *
 * AK_NAME(job, i0, i1, best, bidx): for the data rows [i0, i1) and every
 * batch column, best[c] / bidx[c] := the smaller (score, index) of the
 * current one and the rows' scores, rows taken in increasing order with a
 * strict < (so the first of equal scores stays). best and bidx are [strips
 * x NR] (NR = 2 vectors of lanes), the batch packed k-major in strips of
 * NR columns by the caller (job->pack, [strips x d x NR]).
 */

AK_ATTR static void AK_NAME(const assign_job *jb, int i0, int i1,
                            wf_real *best /* [strips x NR] */,
                            ak_lane *bidx /* [strips x NR] */) {
  typedef wf_real V __attribute__((vector_size(AK_BYTES)));
  typedef ak_lane I __attribute__((vector_size(AK_BYTES)));
  enum { L = AK_BYTES / (int)sizeof(wf_real), NR = 2 * L };
  const int d = jb->d, sq = jb->cost == WF_COST_SQ;
  const I absmask = (I){0} + AK_ABS_BITS; /* every bit but the sign */
  for (int s0 = 0; s0 < jb->strips; s0 += jb->block) {
    const int s1 = s0 + jb->block < jb->strips ? s0 + jb->block : jb->strips;
    for (int is = i0; is < i1; is += AK_MR) {
      const int h = i1 - is < AK_MR ? i1 - is : AK_MR;
      /* a short last tile repeats its last row (scores computed, not used) */
      const wf_real *r[AK_MR];
      wf_real off[AK_MR];
      for (int q = 0; q < AK_MR; q++) {
        const int i = is + (q < h ? q : h - 1);
        const wf_real p = jb->psi != NULL ? jb->psi[i] : 0;
        r[q] = jb->y + (size_t)i * d;
        off[q] = sq ? jb->yh[i] - p : -p;
      }
      const wf_real *r0 = r[0], *r1 = r[1], *r2 = r[2];
      const wf_real *r3 = r[3], *r4 = r[4], *r5 = r[5];
      for (int s = s0; s < s1; s++) {
        const wf_real *bp = jb->pack + (size_t)s * d * NR; /* [d x NR] */
        V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
        V c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
        if (sq) { /* the product a . y */
          for (int k = 0; k < d; k++) {
            V b0, b1;
            memcpy(&b0, bp + (size_t)k * NR, sizeof(V));
            memcpy(&b1, bp + (size_t)k * NR + L, sizeof(V));
            c00 += r0[k] * b0, c01 += r0[k] * b1;
            c10 += r1[k] * b0, c11 += r1[k] * b1;
            c20 += r2[k] * b0, c21 += r2[k] * b1;
            c30 += r3[k] * b0, c31 += r3[k] * b1;
            c40 += r4[k] * b0, c41 += r4[k] * b1;
            c50 += r5[k] * b0, c51 += r5[k] * b1;
          }
        } else { /* sum_k |a_k - y_k|: the sign bit cleared */
#define AK_ABS(x) ((V)((I)(x) & absmask))
          for (int k = 0; k < d; k++) {
            V b0, b1;
            memcpy(&b0, bp + (size_t)k * NR, sizeof(V));
            memcpy(&b1, bp + (size_t)k * NR + L, sizeof(V));
            c00 += AK_ABS(b0 - r0[k]), c01 += AK_ABS(b1 - r0[k]);
            c10 += AK_ABS(b0 - r1[k]), c11 += AK_ABS(b1 - r1[k]);
            c20 += AK_ABS(b0 - r2[k]), c21 += AK_ABS(b1 - r2[k]);
            c30 += AK_ABS(b0 - r3[k]), c31 += AK_ABS(b1 - r3[k]);
            c40 += AK_ABS(b0 - r4[k]), c41 += AK_ABS(b1 - r4[k]);
            c50 += AK_ABS(b0 - r5[k]), c51 += AK_ABS(b1 - r5[k]);
          }
#undef AK_ABS
        }
        const V acc[AK_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                 {c30, c31}, {c40, c41}, {c50, c51}};
        for (int v = 0; v < 2; v++) {
          wf_real *bv = best + (size_t)s * NR + v * L;
          ak_lane *bi = bidx + (size_t)s * NR + v * L;
          V b;
          I bx;
          memcpy(&b, bv, sizeof(V));
          memcpy(&bx, bi, sizeof(I));
          for (int q = 0; q < h; q++) {
            /* SQ: (yh - psi) - a.y; L1: |a - y|_1 - psi */
            const V sc = sq ? off[q] - acc[q][v] : acc[q][v] + off[q];
            const I lt = (I)(sc < b); /* all ones where strictly smaller */
            b = (V)(((I)sc & lt) | ((I)b & ~lt));
            bx = (((I){0} + (ak_lane)(is + q)) & lt) | (bx & ~lt);
          }
          memcpy(bv, &b, sizeof(V));
          memcpy(bi, &bx, sizeof(I));
        }
      }
    }
  }
}

/* AK_DOT(y, a, d) = a . y as one lane of AK_NAME computes it: the same
 * operation on each k in the same order, compiled for the same instruction
 * set (so an FMA where AK_NAME's lanes fuse and two roundings where they
 * do not). ot_assign_bf16.c rescores its candidates with it, which makes
 * the screened assignment the kernel's to the bit. */
AK_ATTR static wf_real AK_DOT(const wf_real *y /* [d] */, const wf_real *a /* [d] */,
                              int d) {
  wf_real c = 0;
  for (int k = 0; k < d; k++) c += y[k] * a[k];
  return c;
}
