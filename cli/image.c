/* SPDX-License-Identifier: Apache-2.0 */
/* cella image: import | ls | inspect | rm | prune | mount | umount. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "image/image.h"
#include "base/json_write.h"
#include "base/util.h"

#define IMAGE_COMMANDS                                                                      \
        "   import PATH [--name NAME[:TAG]]      import an OCI layout or archive, or a docker save\n" \
        "   ls [--json]                          list the images\n"                                  \
        "   inspect NAME                         print an image's record and config\n"              \
        "   rm NAME...                           remove images (their unused layers go too)\n"      \
        "   prune                                remove untagged images and unused blobs/layers\n"  \
        "   mount [--driver overlay|vfs] [--legacy-mount] NAME CONTAINER_ID\n"                      \
        "   umount CONTAINER_ID"

/* Parse a subcommand with no flags of its own; argv[0] is its name. */
static int plain_sub(const struct cella_cli *cli, const char *name, const char *synopsis, int min, int max, int *argc,
                     char ***argv)
{
        struct cli_syntax syn = { .name = name, .synopsis = synopsis, .min_args = min, .max_args = max };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, *argc, *argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        *argc = p.n_args;
        *argv = p.args;
        return -1;
}

static int open_store_opts(const struct cella_cli *cli, const struct image_store_opts *opts,
                           struct image_store **store)
{
        struct cella_error err = { 0 };
        if (image_store_open(cli->image_root, opts, store, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}

static int open_store(const struct cella_cli *cli, enum image_driver driver, struct image_store **store)
{
        struct cella_error err = { 0 };
        struct image_store_opts opts = { .driver = driver };
        if (image_store_open(cli->image_root, &opts, store, &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}

/* ---- import ---- */

struct progress_state {
        unsigned last_layer;
        uint64_t last_mb;
        int phase;
};

static void print_progress(const struct image_progress *p, void *data)
{
        struct progress_state *st = data;
        switch (p->phase) {
        case IMAGE_PROGRESS_READ: {
                uint64_t mb = p->bytes_done >> 20;
                if (st->phase == IMAGE_PROGRESS_READ && mb == st->last_mb)
                        return;
                st->phase = IMAGE_PROGRESS_READ;
                st->last_mb = mb;
                printf("\rreading archive %llu/%llu MiB", (unsigned long long)mb,
                       (unsigned long long)(p->bytes_total >> 20));
                break;
        }
        case IMAGE_PROGRESS_LAYER: {
                uint64_t mb = p->bytes_done >> 20;
                if (st->phase == IMAGE_PROGRESS_READ)
                        putchar('\n');
                if (st->phase == IMAGE_PROGRESS_LAYER && p->layer == st->last_layer && mb == st->last_mb &&
                    p->bytes_done != p->bytes_total)
                        return;
                if (st->phase == IMAGE_PROGRESS_LAYER && p->layer != st->last_layer)
                        putchar('\n');
                st->phase = IMAGE_PROGRESS_LAYER;
                st->last_layer = p->layer;
                st->last_mb = mb;
                printf("\rlayer %u/%u %.19s %s%llu/%llu MiB", p->layer, p->n_layers, p->what,
                       p->skipped ? "exists " : "", (unsigned long long)mb,
                       (unsigned long long)(p->bytes_total >> 20));
                break;
        }
        case IMAGE_PROGRESS_DONE:
                if (st->phase != IMAGE_PROGRESS_DONE)
                        putchar('\n');
                st->phase = IMAGE_PROGRESS_DONE;
                st->last_layer = 0;
                break;
        }
        fflush(stdout);
}

static int image_import_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "name", 'n', CLI_ARG, 'n', "NAME[:TAG]", "the name to give the image (the source must hold one image)" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "image import", .synopsis = "[--name NAME[:TAG]] PATH",
                .description = "Import an OCI image layout (a directory), an OCI archive or a docker save archive\n"
                               "(.tar, .tar.gz, .tar.zst), or \"-\" for one on stdin.",
                .flags = flags, .min_args = 1, .max_args = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        const char *name = NULL;
        int c;
        while ((c = cli_next(&p)) > 0)
                name = p.value;
        if (c < 0)
                return p.exit_code;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store(cli, IMAGE_DRIVER_OVERLAY, &store))
                return 1;
        struct progress_state ps = { .phase = -1 };
        struct image_import_opts io = { .name = name };
        if (isatty(STDOUT_FILENO)) {
                io.progress = print_progress;
                io.progress_data = &ps;
        }
        struct image_list imported;
        struct cella_error err = { 0 };
        if (image_import(store, p.args[0], &io, &imported, &err) < 0) {
                if (ps.phase >= 0 && ps.phase != IMAGE_PROGRESS_DONE)
                        putchar('\n');
                return cli_fail(cli, &err);
        }
        for (size_t i = 0; i < imported.n; i++) {
                const struct image_info *in = &imported.v[i];
                printf("imported %s %s (%zu layers)\n", in->n_names ? in->names[0] : "<none>",
                       in->config_digest, in->n_layers);
        }
        image_list_clear(&imported);
        return 0;
}

/* ---- ls / inspect ---- */

static void gen_info(yajl_gen g, const struct image_info *in, yajl_val config)
{
        yajl_gen_map_open(g);
        json_put_str(g, "id");
        json_put_str(g, in->config_digest);
        json_put_str(g, "manifest");
        json_put_str(g, in->manifest_digest);
        image_info_write_fields(g, in);
        if (config) {
                json_put_str(g, "config");
                json_put_value(g, config);
        }
        yajl_gen_map_close(g);
}

static void gen_print(yajl_gen g)
{
        _cleanup_free_ char *text = json_writer_finish(&g, NULL);
        puts(text);
}

static void human_size(uint64_t n, char *buf, size_t len)
{
        const char *units[] = { "B", "KB", "MB", "GB", "TB" };
        double v = (double)n;
        size_t u = 0;
        while (v >= 1000 && u < ARRAY_SIZE(units) - 1) {
                v /= 1000;
                u++;
        }
        snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int image_ls_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "json", 0, CLI_NOARG, 'j', NULL, "a JSON array" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "image ls", .synopsis = "[--json]", .description = "List the images of the store.",
                .flags = flags,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        bool json = false;
        int c;
        while ((c = cli_next(&p)) > 0)
                json = true;
        if (c < 0)
                return p.exit_code;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store(cli, IMAGE_DRIVER_OVERLAY, &store))
                return 1;
        struct image_list list;
        struct cella_error err = { 0 };
        if (image_list(store, &list, &err) < 0)
                return cli_fail(cli, &err);
        if (json) {
                yajl_gen g = json_writer_new(JSON_COMPACT);
                yajl_gen_array_open(g);
                for (size_t i = 0; i < list.n; i++)
                        gen_info(g, &list.v[i], NULL);
                yajl_gen_array_close(g);
                gen_print(g);
        } else {
                printf("%-40s %-12s %-6s %-10s %s\n", "NAME", "ID", "LAYERS", "SIZE", "IMPORTED");
                for (size_t i = 0; i < list.n; i++) {
                        const struct image_info *in = &list.v[i];
                        char size[32], when[32];
                        human_size(in->size, size, sizeof size);
                        time_t t = (time_t)in->imported;
                        struct tm tm;
                        strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
                        for (size_t k = 0; k < (in->n_names ? in->n_names : 1); k++)
                                printf("%-40s %-12.12s %-6zu %-10s %s\n", in->n_names ? in->names[k] : "<none>",
                                       in->config_digest + 7, in->n_layers, size, when);
                }
        }
        image_list_clear(&list);
        return 0;
}

static int image_inspect_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        int rc = plain_sub(cli, "image inspect", "NAME", 1, 1, &argc, &argv);
        if (rc >= 0)
                return rc;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store(cli, IMAGE_DRIVER_OVERLAY, &store))
                return 1;
        struct cella_error err = { 0 };
        struct image_info *info = NULL;
        if (image_lookup(store, argv[0], &info, &err) < 0)
                return cli_fail(cli, &err);
        _cleanup_free_ char *config = NULL;
        if (image_read_config(store, info, &config, NULL, &err) < 0) {
                image_info_free(info);
                return cli_fail(cli, &err);
        }
        yajl_val cfg = yajl_tree_parse(config, NULL, 0);
        yajl_gen g = json_writer_new(JSON_PRETTY_4);
        gen_info(g, info, cfg);
        gen_print(g);
        yajl_tree_free(cfg);
        image_info_free(info);
        return 0;
}

static int image_rm_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        int rc = plain_sub(cli, "image rm", "NAME...", 1, -1, &argc, &argv);
        if (rc >= 0)
                return rc;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store(cli, IMAGE_DRIVER_OVERLAY, &store))
                return 1;
        rc = 0;
        for (int i = 0; i < argc; i++) {
                struct cella_error err = { 0 };
                if (image_remove(store, argv[i], &err) < 0)
                        rc = cli_fail(cli, &err);
                else
                        printf("removed %s\n", argv[i]);
        }
        return rc;
}

static int image_prune_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        int rc = plain_sub(cli, "image prune", "", 0, 0, &argc, &argv);
        if (rc >= 0)
                return rc;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store(cli, IMAGE_DRIVER_OVERLAY, &store))
                return 1;
        struct cella_error err = { 0 };
        struct image_prune_result res;
        if (image_prune(store, &res, &err) < 0)
                return cli_fail(cli, &err);
        char size[32];
        human_size(res.bytes, size, sizeof size);
        printf("pruned %u images, %u blobs, %u layers, %s\n", res.images, res.blobs, res.layers, size);
        return 0;
}

static int image_mount_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct cli_flag flags[] = {
                { "driver", 'd', CLI_ARG, 'd', "overlay|vfs", "overlay (default) or vfs: a copy of the layers" },
                { "legacy-mount", 'l', CLI_NOARG, 'l', NULL, "mount(2) instead of the new mount API" },
                { 0 },
        };
        static const struct cli_syntax syn = {
                .name = "image mount", .synopsis = "[--driver overlay|vfs] [--legacy-mount] NAME CONTAINER_ID",
                .description = "Make a container's rootfs from an image and print its path.",
                .flags = flags, .min_args = 2, .max_args = 2,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        struct image_store_opts so = { .driver = IMAGE_DRIVER_OVERLAY };
        int c;
        while ((c = cli_next(&p)) > 0) {
                if (c == 'l')
                        so.legacy_mount = true;
                else if (streq(p.value, "vfs"))
                        so.driver = IMAGE_DRIVER_VFS;
                else if (!streq(p.value, "overlay"))
                        return cli_usage_error(&p, "--driver overlay|vfs, not \"%s\"", p.value), 1;
        }
        if (c < 0)
                return p.exit_code;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store_opts(cli, &so, &store))
                return 1;
        struct cella_error err = { 0 };
        _cleanup_free_ char *rootfs = NULL;
        if (image_mount_rootfs(store, p.args[0], p.args[1], &rootfs, &err) < 0)
                return cli_fail(cli, &err);
        printf("%s\n", rootfs);
        return 0;
}

static int image_umount_cmd(const struct cella_cli *cli, int argc, char **argv)
{
        int rc = plain_sub(cli, "image umount", "CONTAINER_ID", 1, 1, &argc, &argv);
        if (rc >= 0)
                return rc;
        _cleanup_image_store_ struct image_store *store = NULL;
        if (open_store(cli, IMAGE_DRIVER_OVERLAY, &store))
                return 1;
        struct cella_error err = { 0 };
        if (image_umount_rootfs(store, argv[0], &err) < 0)
                return cli_fail(cli, &err);
        return 0;
}

int cmd_image(const struct cella_cli *cli, int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(const struct cella_cli *, int, char **);
        } subs[] = {
                { "import", image_import_cmd }, { "ls", image_ls_cmd },       { "list", image_ls_cmd },
                { "inspect", image_inspect_cmd }, { "rm", image_rm_cmd },     { "prune", image_prune_cmd },
                { "mount", image_mount_cmd },   { "umount", image_umount_cmd },
        };
        static const struct cli_syntax syn = {
                .name = "image", .synopsis = "COMMAND [OPTIONS] [ARGS...]",
                .description = "Manage the image store (--image-root).\n\ncommands:\n" IMAGE_COMMANDS,
                .min_args = 1, .max_args = -1, .raw_after = 1,
        };
        struct cli_parser p;
        cli_parser_init(&p, &syn, cli, argc, argv);
        if (cli_parse_plain(&p) < 0)
                return p.exit_code;
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (streq(subs[i].name, p.args[0]))
                        return subs[i].fn(cli, p.n_args, p.args);
        return cli_usage_error(&p, "image: unknown command \"%s\"", p.args[0]), 1;
}
