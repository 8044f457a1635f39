/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/util.h"

const char *cella_status_name(enum cella_status s)
{
        switch (s) {
        case CELLA_STATUS_CREATING: return "creating";
        case CELLA_STATUS_CREATED: return "created";
        case CELLA_STATUS_RUNNING: return "running";
        case CELLA_STATUS_PAUSED: return "paused";
        default: return "stopped";
        }
}

int state_check_id(const char *id, struct cella_error *err)
{
        size_t n = strlen(id);
        if (n == 0)
                return cella_error_msg(err, EINVAL, "container ID must not be empty");
        if (n > 1024)
                return cella_error_msg(err, EINVAL, "container ID is longer than 1024 bytes");
        if (streq(id, ".") || streq(id, ".."))
                return cella_error_msg(err, EINVAL, "invalid container ID \"%s\"", id);
        for (const char *p = id; *p; p++) {
                char c = *p;
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          (p != id && (c == '_' || c == '-' || c == '.' || c == '+'));
                if (!ok)
                        return cella_error_msg(err, EINVAL,
                                               "invalid container ID \"%s\": only letters, digits and _ . + - are allowed",
                                               id);
        }
        return 0;
}
