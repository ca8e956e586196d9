/* choices.h — the named choices that cross from R as strings (an
 * activation, an optimiser, a critic penalty, an OT cost ...): one table
 * per kind, indexed by its C enum, so that R never mirrors a code. R asks
 * for a kind's names (to validate and document) and passes the name; the
 * ffi layer and the trainer's phase arguments match it here. */
#ifndef WF_CHOICES_H
#define WF_CHOICES_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *kind;         /* e.g. "activation" */
  const char *const *names; /* names[i] is the enum value i */
  int n;
} wf_choice_table;

/* The table of a kind, or NULL. */
const wf_choice_table *wf_choice_find(const char *kind);
/* The enum value of name in kind's table, or -1. */
int wf_choice_index(const char *kind, const char *name);
/* The kinds, for listing: the table number i (0-based), NULL past the end. */
const wf_choice_table *wf_choice_at(int i);

#ifdef __cplusplus
}
#endif

#endif
