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

/* The last steps of a whole config (spec_parse.c), shared with the
 * in-memory builder (spec_build.c): the io.cella.* annotations into
 * s->io_cella, and the checks that span sections (runc's wording). */
int spec_parse_io_cella(struct jctx *c, struct cella_spec *s);
int spec_cross_check(struct jctx *c, const struct cella_spec *s);

/* A new object of obj_size bytes in the arena box cella_spec_free() and
 * its siblings release; fill(c, obj, arg) fills it with c->arena (first
 * chunk about hint bytes). On failure the box is gone and fill's error
 * returned. (spec_parse.c) */
int spec_boxed(size_t hint, size_t obj_size, const char *source,
               int (*fill)(struct jctx *c, void *obj, const void *arg), const void *arg, void **out,
               struct cella_error *err);

/* The seccomp names the writer needs (spec_seccomp.c). */
const char *spec_seccomp_action_name(enum cella_seccomp_action a);
const char *spec_seccomp_op_name(enum cella_seccomp_op op);

/* Derive the MS_* / MOUNT_ATTR_* fields of m from m->options and m->type.
 * Never fails: unknown options become mount data, as with mount(8). */
void mount_options_derive(struct arena *a, struct cella_mount *m);

/* "rprivate" -> MS_PRIVATE|MS_REC, ... ; false when not a propagation. */
bool mount_propagation_flags(const char *name, unsigned long *flags);

/* For the unit test: the option table must stay sorted for bsearch. */
bool mount_options_table_sorted(void);

#endif
