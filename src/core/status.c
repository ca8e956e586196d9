/* status.c — the abort callback and the failure helper every layer uses. */
#include <stdarg.h>
#include <stdio.h>

#include "wf.h"

static wf_abort_fn abort_fn = NULL;
static void *abort_data = NULL;

void wf_set_abort_callback(wf_abort_fn fn, void *data) {
  abort_fn = fn;
  abort_data = data;
}

int wf_should_abort(void) { return abort_fn != NULL && abort_fn(abort_data); }

wf_status wf_fail_msg(char *msg, wf_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, WF_MSG_LEN, fmt, ap);
  va_end(ap);
  return status;
}
