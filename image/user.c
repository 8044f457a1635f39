/* SPDX-License-Identifier: Apache-2.0 */
/* image/: USER "name[:group]" resolved against the image's own /etc/passwd
 * and /etc/group, opened with RESOLVE_IN_ROOT so a symlinked /etc/passwd
 * cannot point at the host's. */
#include <fcntl.h>

#include "image/internal.h"
#include "base/util.h"

static bool parse_id(const char *s, uint32_t *out)
{
        if (!*s)
                return false;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT32_MAX - 1)
                return false;
        *out = (uint32_t)v;
        return true;
}

/* Fields of one "a:b:c:d" line; returns how many were found (max n). */
static size_t split_fields(char *line, char **f, size_t n)
{
        size_t k = 0;
        f[k++] = line;
        for (char *p = line; *p && k < n; p++)
                if (*p == ':') {
                        *p = '\0';
                        f[k++] = p + 1;
                }
        return k;
}

static int read_db(int rootfd, const char *path, char **text, struct cella_error *err)
{
        if (rootfd < 0)
                return cella_error_msg(err, ENOENT, "no rootfs to read %s from", path);
        return image_read_file_at(rootfd, path, true, text, NULL, err);
}

int image_resolve_user(int rootfs_dirfd, const char *spec, uint32_t *uid, uint32_t *gid,
                       uint32_t **extra_gids, size_t *n_extra_gids, struct cella_error *err)
{
        *uid = 0;
        *gid = 0;
        *extra_gids = NULL;
        *n_extra_gids = 0;
        if (!spec || !*spec)
                return 0;
        _cleanup_free_ char *copy = xstrdup(spec);
        char *group = strchr(copy, ':');
        if (group)
                *group++ = '\0';
        const char *user = copy;

        bool uid_numeric = parse_id(user, uid);
        _cleanup_free_ char *user_name = NULL;

        _cleanup_free_ char *passwd = NULL;
        struct cella_error perr = { 0 };
        if (read_db(rootfs_dirfd, "etc/passwd", &passwd, &perr) < 0 && !uid_numeric)
                return cella_error_msg(err, perr.errnum ? perr.errnum : ENOENT,
                                       "user \"%s\": cannot read the image's /etc/passwd (%s)", user, perr.msg);
        bool found = false;
        if (passwd) {
                char *save = NULL;
                for (char *l = strtok_r(passwd, "\n", &save); l && !found; l = strtok_r(NULL, "\n", &save)) {
                        char *f[7];
                        uint32_t u, g;
                        if (split_fields(l, f, 7) < 4 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
                                continue;
                        if (uid_numeric ? u == *uid : streq(f[0], user)) {
                                found = true;
                                *uid = u;
                                *gid = g;
                                user_name = xstrdup(f[0]);
                        }
                }
        }
        if (!found && !uid_numeric)
                return cella_error_msg(err, ENOENT, "user \"%s\": not found in the image's /etc/passwd", user);

        _cleanup_free_ char *groups = NULL;
        uint32_t explicit_gid;
        bool group_numeric = group && parse_id(group, &explicit_gid);
        if (group_numeric)
                *gid = explicit_gid;
        bool group_found = !group || group_numeric;
        if (!group_found || user_name)
                read_db(rootfs_dirfd, "etc/group", &groups, NULL);
        if (!group_found && !groups)
                return cella_error_msg(err, ENOENT, "group \"%s\": cannot read the image's /etc/group", group);
        if (groups) {
                char *save = NULL;
                for (char *l = strtok_r(groups, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char *f[4] = { NULL, NULL, NULL, NULL };
                        uint32_t g;
                        if (split_fields(l, f, 4) < 3 || !parse_id(f[2], &g))
                                continue;
                        if (group && !group_found && streq(f[0], group)) {
                                *gid = g;
                                group_found = true;
                        }
                        if (!user_name || !f[3])
                                continue;
                        /* supplementary: groups listing the user as a member */
                        char *msave = NULL;
                        for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave))
                                if (streq(m, user_name)) {
                                        *extra_gids = xrealloc(*extra_gids, (*n_extra_gids + 1) * sizeof(uint32_t));
                                        (*extra_gids)[(*n_extra_gids)++] = g;
                                }
                }
        }
        if (!group_found) {
                free(*extra_gids);
                *extra_gids = NULL;
                *n_extra_gids = 0;
                return cella_error_msg(err, ENOENT, "group \"%s\": not found in the image's /etc/group", group);
        }
        return 0;
}
