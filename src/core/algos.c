/* algos.c — the registry of training algorithms: one line per family. */
#include <string.h>

#include "trainer.h"

extern const wf_algo wf_algo_w1fe;
extern const wf_algo wf_algo_rwp, wf_algo_sbe;
extern const wf_algo wf_algo_w2gan, wf_algo_w2fe;
extern const wf_algo wf_algo_barycentric;
extern const wf_algo wf_algo_ots, wf_algo_semidiscrete;

static const wf_algo *const registry[] = {
    &wf_algo_w1fe,
    &wf_algo_rwp, &wf_algo_sbe,
    &wf_algo_w2gan, &wf_algo_w2fe,
    &wf_algo_barycentric,
    &wf_algo_ots, &wf_algo_semidiscrete,
    NULL};

const wf_algo *wf_algo_find(const char *name) {
  for (int i = 0; registry[i] != NULL; i++)
    if (strcmp(registry[i]->name, name) == 0) return registry[i];
  return NULL;
}
