/* SPDX-License-Identifier: Apache-2.0 */
/* cella: `cella features` — what this build supports, in the OCI
 * runtime-spec features.md format, plus cella's own annotations. */
#ifndef CELLA_FEATURES_H
#define CELLA_FEATURES_H

char *cella_features_json(void);   /* pretty JSON, malloc'd */

#endif
