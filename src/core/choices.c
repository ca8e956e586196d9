/* choices.c — the name of every value of the enums R chooses by name.
 * Designated initialisers tie each name to its enum value, so reordering
 * an enum cannot shift a name onto another value. */
#include "choices.h"

#include <string.h>

#include "backend.h" /* wf_cost_kind */
#include "compose.h" /* wf_critic_kind, wf_pot_reg */
#include "wf.h"

static const char *const activation[WF_ACT_COUNT] = {
    [WF_ACT_IDENTITY] = "identity", [WF_ACT_RELU] = "relu",
    [WF_ACT_LEAKY_RELU] = "leaky_relu", [WF_ACT_TANH] = "tanh",
    [WF_ACT_SOFTPLUS] = "softplus", [WF_ACT_ELU] = "elu", [WF_ACT_SIGMOID] = "sigmoid"};
static const char *const norm[] = {
    [WF_NORM_NONE] = "none", [WF_NORM_BATCH] = "batch", [WF_NORM_LAYER] = "layer"};
static const char *const init[] = {[WF_INIT_TORCH] = "torch", [WF_INIT_NORMAL] = "normal"};
static const char *const layer[WF_LAYER_KIND_COUNT] = {
    [WF_LAYER_DENSE] = "dense", [WF_LAYER_CONV2D] = "conv2d",
    [WF_LAYER_CONV_T2D] = "conv_transpose2d", [WF_LAYER_BATCH_NORM] = "batch_norm",
    [WF_LAYER_LAYER_NORM] = "layer_norm", [WF_LAYER_ACTIVATION] = "activation",
    [WF_LAYER_RESHAPE] = "reshape", [WF_LAYER_FLATTEN] = "flatten"};
static const char *const optimizer[] = {
    [WF_OPT_SGD] = "sgd", [WF_OPT_ADAM] = "adam", [WF_OPT_RMSPROP] = "rmsprop"};
static const char *const penalty[] = {
    [WF_PENALTY_NONE] = "none", [WF_PENALTY_GP] = "gp", [WF_PENALTY_LP] = "lp"};
static const char *const critic_loss[WF_CRITIC_KIND_COUNT] = {
    [WF_CRITIC_WGAN] = "wgan", [WF_CRITIC_GAN] = "gan", [WF_CRITIC_DRAGAN] = "dragan"};
static const char *const cost[WF_COST_COUNT] = {[WF_COST_SQ] = "l2", [WF_COST_L1] = "l1"};
static const char *const regularizer[] = {
    [WF_POT_REG_L2] = "l2", [WF_POT_REG_ENTROPIC] = "entropic"};
/* W2's inequality-constraint points (algo_w2.c: bit 0 the pairs, bit 1
 * the interpolates) and its reparameterised potential */
static const char *const ineq[] = {"none", "pairs", "interpolates", "both"};
static const char *const reparam[] = {"none", "data", "generated"};
/* the persistent regression's targets (algo_w1fe.c): the Euler step's
 * points, or the paper's naive variant */
static const char *const persistency_mode[] = {"euler", "naive"};

#define TABLE(kind) {#kind, kind, (int)(sizeof(kind) / sizeof(kind[0]))}
static const wf_choice_table tables[] = {
    TABLE(activation), TABLE(norm),        TABLE(init),    TABLE(layer),
    TABLE(optimizer),  TABLE(penalty),     TABLE(critic_loss), TABLE(cost),
    TABLE(regularizer), TABLE(ineq),       TABLE(reparam), TABLE(persistency_mode)};
#undef TABLE

const wf_choice_table *wf_choice_at(int i) {
  int n = (int)(sizeof(tables) / sizeof(tables[0]));
  return i >= 0 && i < n ? &tables[i] : NULL;
}

const wf_choice_table *wf_choice_find(const char *kind) {
  for (int i = 0; wf_choice_at(i) != NULL; i++)
    if (strcmp(tables[i].kind, kind) == 0) return &tables[i];
  return NULL;
}

int wf_choice_index(const char *kind, const char *name) {
  const wf_choice_table *t = wf_choice_find(kind);
  if (t == NULL || name == NULL) return -1;
  for (int i = 0; i < t->n; i++)
    if (t->names[i] != NULL && strcmp(t->names[i], name) == 0) return i;
  return -1;
}
