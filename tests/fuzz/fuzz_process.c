/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the process JSON of `exec --process` (cella_process_parse). */
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cella_error err = { 0 };
        struct cella_process *p = NULL;
        if (cella_process_parse((const char *)data, size, "process.json", &p, &err) == 0)
                cella_process_free(p);
        return 0;
}
