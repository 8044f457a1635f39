/* SPDX-License-Identifier: Apache-2.0 */
#include "request.h"

#include <fcntl.h>
#include <stdlib.h>

#include "base/fileutil.h"
#include "base/util.h"
#include "state.h"

int cella_request_load(struct cella_create_opts *o, struct cella_loaded_config *keep, struct cella_error *err)
{
        keep->spec = NULL;
        keep->text = NULL;
        if (o->spec)
                return 0;
        /* a bad ID is reported before anything is read */
        if (o->id && state_check_id(o->id, err) < 0)
                return -1;
        _cleanup_free_ char *path = o->config_path ? xstrdup(o->config_path)
                                                   : xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, &keep->text, &len, err) < 0)
                return -1;
        if (cella_spec_parse(keep->text, len, "config.json", &keep->spec, err) < 0) {
                cella_request_release(keep);
                return -1;
        }
        o->spec = keep->spec;
        o->config_json = keep->text;
        return 0;
}

void cella_request_release(struct cella_loaded_config *keep)
{
        cella_spec_free(keep->spec);
        free(keep->text);
        keep->spec = NULL;
        keep->text = NULL;
}
