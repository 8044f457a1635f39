/* cella: OCI hooks. Each hook gets the container state JSON on stdin, its
 * own args and env, and is killed after its timeout. */
#ifndef CELLA_HOOKS_H
#define CELLA_HOOKS_H

#include "error.h"
#include "spec.h"

/* Run the hooks of one kind in order; the first failure stops and is
 * returned ("hook createRuntime[0] /bin/x: exited with status 1"). */
int hooks_run(const struct cella_spec *spec, enum cella_hook_kind kind, const char *state_json,
              struct cella_error *err);

#endif
