/* ot.h — exact optimal transport between point clouds (R-free).
 *
 * With uniform weights and n points on each side an optimal plan is a
 * permutation (Birkhoff), so W_p^p is an assignment problem. Matrices are
 * row-major, one point per row. Failures return a status and write a
 * message to msg (WF_MSG_LEN bytes); the abort callback of wf.h is checked
 * every few milliseconds of work (WF_ERR_INTERRUPT).
 */
#ifndef WF_OT_H
#define WF_OT_H

#include "wf.h"

/* Exact W_p^p between {x_i} and {y_j}, n points each in R^d, costs
 * c_ij = |x_i - y_j|^p (Euclidean norm, p >= 1), all in double.
 *   *cost    W_p^p = mean_i c_{i, perm[i]}
 *   perm[n]  the optimal assignment, 0-based: x_i goes to y_{perm[i]}
 *   u[n], v[n]  dual potentials, u_i + v_j <= c_ij for all i, j (to
 *            rounding), with equality on the assignment; v has mean zero,
 *            so *cost == mean(u) + mean(v) == mean(u).
 * Any of perm, u, v may be NULL. The cost matrix is kept when it fits
 * in wf_ot_set_store_bytes(): by default 256 MiB (n <= 5792), and for
 * d >= 8, whose costs are dear to recompute, a quarter of the memory up
 * to 4 GiB (n <= 23170); larger n computes costs on the fly (slower, O(n)
 * memory). */
wf_status wf_ot_assign(const double *x /* [n x d] */, const double *y /* [n x d] */,
                       int n, int d, double p, double *cost, int *perm,
                       double *u, double *v, char *msg);

/* The same solver on a given dense cost matrix c [n x n] (finite entries,
 * any sign): *total = sum_i c_{i, perm[i]}, minimal; u, v as above (v with
 * mean zero, so *total == sum(u) + sum(v)). */
wf_status wf_ot_lap(const double *c /* [n x n] */, int n, double *total,
                    int *perm, double *u, double *v, char *msg);

/* The memory cap of the stored cost matrix; returns the previous value
 * (0 forces costs on the fly: the tests use it; (size_t)-1 is the default
 * described at wf_ot_assign). Not thread-safe. */
size_t wf_ot_set_store_bytes(size_t bytes);

#endif
