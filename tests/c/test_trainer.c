/* test_trainer.c — the generic trainer (trainer.c, algos.c) at creation:
 * nets that do not fit the data, bad optimisers and unknown algorithms are
 * refused; the choice tables R passes names against (choices.c) and a
 * phase argument given as a name or as its enum value. (Its phases and
 * buffers are tested with each family: test_algo_*.c.) Built in double and float; ends with "trainer
 * <precision>: N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "choices.h"
#include "net_util.h"
#include "trainer.h"

/* ---- refusals at creation ------------------------------------------------ */
/* a trainer checks its nets' shapes against its data, its optimisers, and
 * the name of its algorithm */
static void trainer_refuses_wrong_widths_bad_optimisers_and_unknown_algorithms(void) {
  char msg[WF_MSG_LEN];
  wf_mlp_spec ok = {.n_layers = 2, .widths = {2, 4, 1}};
  wf_net *net = make_net(&ok, 1);
  double data[6] = {0, 1, 2, 3, 4, 5};
  const double *dp = data;
  int rows = 2, cols = 3;
  wf_net *nets[2] = {net, net};
  wf_opt_spec opts[2] = {{.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1},
                         {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1}};
  wf_trainer *t = NULL;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                          &t, msg) == WF_ERR_ARG && t == NULL,
        "a trainer refuses a critic of the wrong width");
  opts[1].lr = -1;
  cols = 2;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1,
                          &t, msg) == WF_ERR_ARG,
        "a trainer refuses a bad optimiser");
  CHECK(wf_algo_find("nope") == NULL, "unknown algorithm");
  wf_net_free(net);
}

/* ---- choices ----------------------------------------------------------------- */
/* every table is full (no hole left by a designated initialiser) and names
 * each enum value by its own name; a lookup of an unknown kind or name is -1 */
static void choice_tables_name_every_enum_value(void) {
  int kinds = 0;
  for (const wf_choice_table *c; (c = wf_choice_at(kinds)) != NULL; kinds++) {
    int full = c->n > 0;
    for (int i = 0; i < c->n; i++)
      full = full && c->names[i] != NULL && wf_choice_index(c->kind, c->names[i]) == i;
    CHECK(full, "the %s table names each of its %d values once", c->kind, c->n);
  }
  CHECK(kinds == 12, "12 choice kinds, not %d", kinds);
  CHECK(wf_choice_index("activation", "leaky_relu") == WF_ACT_LEAKY_RELU &&
            wf_choice_find("activation")->n == WF_ACT_COUNT,
        "activations by enum");
  CHECK(wf_choice_index("optimizer", "rmsprop") == WF_OPT_RMSPROP, "optimisers by enum");
  CHECK(wf_choice_index("penalty", "lp") == WF_PENALTY_LP, "penalties by enum");
  CHECK(wf_choice_index("critic_loss", "dragan") == WF_CRITIC_DRAGAN, "critic losses");
  CHECK(wf_choice_index("cost", "l1") == WF_COST_L1, "costs by enum");
  CHECK(wf_choice_index("layer", "conv_transpose2d") == WF_LAYER_CONV_T2D, "layer kinds");
  CHECK(wf_choice_index("regularizer", "entropic") == WF_POT_REG_ENTROPIC, "regularisers");
  CHECK(wf_choice_index("cost", "l3") == -1 && wf_choice_index("nope", "l1") == -1 &&
            wf_choice_find("nope") == NULL && wf_choice_index("cost", NULL) == -1,
        "unknown kinds and names");
}

/* a choice argument matches its name (from R) or takes its enum value (from
 * C); a wrong name, an out-of-range value or a missing argument fails
 * naming it */
static void phase_arguments_take_choices_by_name_or_enum_value(void) {
  wf_mlp_spec ok = {.n_layers = 2, .widths = {2, 4, 1}};
  wf_mlp_spec gs = {.n_layers = 2, .widths = {2, 4, 2}};
  wf_net *nets[2] = {make_net(&ok, 1), make_net(&gs, 2)};
  double data[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const double *dp = data;
  int rows = 4, cols = 2;
  wf_opt_spec opts[2] = {{.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1},
                         {.kind = WF_OPT_SGD, .lr = 0.1, .eps = 1}};
  char msg[WF_MSG_LEN];
  wf_trainer *t = NULL;
  CHECK(wf_trainer_create(wf_algo_find("w1fe"), nets, opts, 2, &dp, &rows, &cols, 1, &t,
                          msg) == WF_OK, "trainer: %s", msg);
  const char *names[] = {"penalty", "steps"};
  const char *by_name[] = {"gp", NULL}, *wrong[] = {"l9", NULL}, *not_num[] = {NULL, "two"};
  double values[] = {NAN, 3}, codes[] = {WF_PENALTY_LP, 3}, bad_code[] = {7, 3};
  wf_args named = {names, values, 2, by_name}, coded = {names, codes, 2, NULL};
  int k = -1, steps = 0;
  CHECK(wf_arg_choice(t, &named, "penalty", "penalty", &k) == WF_OK && k == WF_PENALTY_GP,
        "a choice by name");
  CHECK(wf_arg_choice(t, &coded, "penalty", "penalty", &k) == WF_OK && k == WF_PENALTY_LP,
        "a choice by enum value");
  CHECK(wf_arg_int(t, &named, "steps", 1, 10, &steps) == WF_OK && steps == 3,
        "a number beside a string");
  wf_args w = {names, values, 2, wrong};
  CHECK(wf_arg_choice(t, &w, "penalty", "penalty", &k) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "`penalty`") && strstr(wf_trainer_message(t), "l9"),
        "a wrong name is named: %s", wf_trainer_message(t));
  wf_args b = {names, bad_code, 2, NULL};
  CHECK(wf_arg_choice(t, &b, "penalty", "penalty", &k) == WF_ERR_ARG, "an enum value past the table");
  wf_args s = {names, values, 2, not_num};
  CHECK(wf_arg_int(t, &s, "steps", 1, 10, &steps) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "must be a number"),
        "a string where a number is due: %s", wf_trainer_message(t));
  CHECK(wf_arg_num(t, &named, "lambda", 0, 1, values) == WF_ERR_ARG &&
            strstr(wf_trainer_message(t), "`lambda` is missing"),
        "every argument is required: %s", wf_trainer_message(t));
  wf_trainer_free(t);
  wf_net_free(nets[0]);
  wf_net_free(nets[1]);
}

int main(void) {
  open_cpu_device();
  trainer_refuses_wrong_widths_bad_optimisers_and_unknown_algorithms();
  choice_tables_name_every_enum_value();
  phase_arguments_take_choices_by_name_or_enum_value();
  return finish("trainer");
}
