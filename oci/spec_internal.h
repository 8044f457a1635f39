/* SPDX-License-Identifier: Apache-2.0 */
/* cella: what the spec parser's files share. Not a public header. */
#ifndef CELLA_SPEC_INTERNAL_H
#define CELLA_SPEC_INTERNAL_H

#include "base/json.h"
#include "spec.h"

/* Return from the calling parser when call failed. */
#define TRY(call)                                                                          \
        do {                                                                               \
                int r_ = (call);                                                           \
                if (r_ < 0)                                                                \
                        return r_;                                                         \
        } while (0)

/* Each section parser fills its struct from object v found at path p. */
int spec_parse_process(struct jctx *c, const struct jpath *p, yajl_val v,
                       struct cella_process *out);
int spec_parse_resources(struct jctx *c, const struct jpath *p, yajl_val v,
                         struct cella_resources *out);
int spec_parse_linux(struct jctx *c, const struct jpath *p, yajl_val v, struct cella_linux *out);
int spec_parse_seccomp(struct jctx *c, const struct jpath *p, yajl_val v,
                       struct cella_seccomp *out);
int spec_parse_id_mappings(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                           struct cella_id_mapping **v, size_t *n);
int spec_parse_string_map(struct jctx *c, const struct jpath *p, yajl_val obj, const char *key,
                          struct cella_kv_list *out);

/* Derive the MS_* / MOUNT_ATTR_* fields of m from m->options and m->type.
 * Never fails: unknown options become mount data, as with mount(8). */
void mount_options_derive(struct arena *a, struct cella_mount *m);

/* "rprivate" -> MS_PRIVATE|MS_REC, ... ; false when not a propagation. */
bool mount_propagation_flags(const char *name, unsigned long *flags);

/* For the unit test: the option table must stay sorted for bsearch. */
bool mount_options_table_sorted(void);

#endif
