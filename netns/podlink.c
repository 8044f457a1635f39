/* SPDX-License-Identifier: Apache-2.0 */
/* cella: netns/podlink.h — placeholder until the tap + tc redirect lands
 * (issue 21): every call says it is not supported yet. */
#include "netns/podlink.h"

#include <errno.h>

int netns_podlink_setup(const char *netns_path, const char *ifname, struct podlink *link, struct cella_error *err)
{
        (void)ifname;
        link->tap_fd = -1;
        return cella_error_set(err, ENOTSUP, "%s: VM pod networking is not built yet", netns_path);
}

void netns_podlink_teardown(const char *netns_path, struct podlink *link)
{
        (void)netns_path;
        (void)link;
}

int podlink_desc_to_json(const struct podlink_desc *d, char **json, struct cella_error *err)
{
        (void)d;
        *json = NULL;
        return cella_error_set(err, ENOTSUP, "podlink: not built yet");
}

int podlink_desc_from_json(const char *json, size_t len, struct podlink_desc *d, struct cella_error *err)
{
        (void)json;
        (void)len;
        (void)d;
        return cella_error_set(err, ENOTSUP, "podlink: not built yet");
}

int netns_podlink_apply(const struct podlink_desc *d, struct cella_error *err)
{
        (void)d;
        return cella_error_set(err, ENOTSUP, "podlink: not built yet");
}
