/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the resources JSON of `update --resources`
 * (cella_resources_parse). */
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cella_error err = { 0 };
        struct cella_resources *r = NULL;
        if (cella_resources_parse((const char *)data, size, "resources.json", &r, &err) == 0)
                cella_resources_free(r);
        return 0;
}
