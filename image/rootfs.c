/* SPDX-License-Identifier: Apache-2.0 */
/* image/: a container's root filesystem from an image: overlayfs over the
 * shared layers (upper/work private to the container) or, with the vfs
 * driver, a private flattened copy. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "image/internal.h"
#include "base/log.h"
#include "base/util.h"

static int check_container_id(const char *id, struct cella_error *err)
{
        if (!id || !*id || strlen(id) > 200 || strchr(id, '/') || streq(id, ".") || streq(id, "..") || id[0] == '.')
                return cella_error_msg(err, EINVAL, "invalid container id \"%s\"", id ? id : "");
        return 0;
}

static bool overlay_available(void)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || image_read_all_fd(fd, &text, NULL, NULL, "/proc/filesystems") < 0)
                return true; /* let mount say */
        return strstr(text, "\toverlay\n") != NULL;
}

/* The kernel explains a refused fsconfig in the context's message log. */
static int fs_fail(int fsfd, struct cella_error *err, const char *what)
{
        int e = errno;
        char msg[256] = "";
        ssize_t n = read(fsfd, msg, sizeof msg - 1);
        if (n > 0) {
                msg[n] = '\0';
                char *nl = strchr(msg, '\n');
                if (nl)
                        *nl = '\0';
                return cella_error_set(err, e, "overlay: %s (%s)", what, msg);
        }
        return cella_error_set(err, e, "overlay: %s", what);
}

static int mount_overlay_fsconfig(const char *root, const struct image_info *info, const char *cdir,
                                  int rootfs_fd, struct cella_error *err)
{
        _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        /* lowerdir+ takes one layer per call: no page-size limit on the list */
        for (size_t i = info->n_layers; i-- > 0;) {
                _cleanup_free_ char *dir = xasprintf("%s/layers/%s/diff", root, info->diff_ids[i] + 7);
                if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", dir, 0) < 0) {
                        if (errno == EINVAL && i == info->n_layers - 1)
                                return -EOPNOTSUPP; /* kernel < 6.8: no lowerdir+ */
                        return fs_fail(fsfd, err, "lowerdir+");
                }
        }
        _cleanup_free_ char *upper = xasprintf("%s/upper", cdir);
        _cleanup_free_ char *work = xasprintf("%s/work", cdir);
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
                return fs_fail(fsfd, err, "upperdir");
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
                return fs_fail(fsfd, err, "workdir");
        if (geteuid() != 0 && fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
                return fs_fail(fsfd, err, "userxattr");
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_fail(fsfd, err, "create");
        _cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return fs_fail(fsfd, err, "fsmount");
        if (move_mount(mfd, "", rootfs_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return cella_error_sys(err, "overlay: move_mount to %s/rootfs", cdir);
        return 0;
}

/* mount(2) takes one page of options: relative lowerdirs (from a chdir into
 * layers/) keep each layer at 70 bytes, ~55 layers. */
static int mount_overlay_legacy(struct image_store *store, const struct image_info *info, const char *cdir,
                                struct cella_error *err)
{
        size_t cap = 256 + info->n_layers * 72 + 2 * strlen(cdir);
        _cleanup_free_ char *opts = xmalloc(cap);
        size_t o = (size_t)snprintf(opts, cap, "lowerdir=");
        for (size_t i = info->n_layers; i-- > 0;)
                o += (size_t)snprintf(opts + o, cap - o, "%s/diff%s", info->diff_ids[i] + 7, i ? ":" : "");
        o += (size_t)snprintf(opts + o, cap - o, ",upperdir=%s/upper,workdir=%s/work", cdir, cdir);
        if (o >= (size_t)getpagesize())
                return cella_error_msg(err, E2BIG, "overlay: %zu layers do not fit in mount options", info->n_layers);
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int layers = openat(store->root_fd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cwd < 0 || layers < 0 || fchdir(layers) < 0)
                return cella_error_sys(err, "overlay: chdir %s/layers", store->root);
        _cleanup_free_ char *target = xasprintf("%s/rootfs", cdir);
        int r = mount("overlay", target, "overlay", 0, opts);
        int e = errno;
        if (fchdir(cwd) < 0)
                log_warn("overlay: could not return to the working directory");
        if (r < 0)
                return cella_error_set(err, e, "overlay: mount %s", target);
        return 0;
}

static int write_container_files(struct image_store *store, int cfd, const struct image_info *info,
                                 struct cella_error *err)
{
        size_t cap = info->n_layers * 66 + 1;
        _cleanup_free_ char *layers = xmalloc(cap);
        size_t o = 0;
        layers[0] = '\0';
        for (size_t i = 0; i < info->n_layers; i++)
                o += (size_t)snprintf(layers + o, cap - o, "%s\n", info->diff_ids[i] + 7);
        int r = image_write_atomic_at(cfd, "layers", layers, o, err);
        if (r >= 0)
                r = image_write_atomic_at(cfd, "image", info->config_digest, strlen(info->config_digest), err);
        const char *driver = store->opts.driver == IMAGE_DRIVER_VFS ? "vfs" : "overlay";
        if (r >= 0)
                r = image_write_atomic_at(cfd, "driver", driver, strlen(driver), err);
        return r;
}

/* Under the store lock: the image and its layers stay while containers/<id>
 * records them (gc reads containers/<id>/layers). */
static int prepare_container(struct image_store *store, const char *image, const char *id,
                             struct image_info **info, int *cfd, struct cella_error *err)
{
        int r = image_store_lock(store, err);
        if (r < 0)
                return r;
        r = image_lookup(store, image, info, err);
        for (size_t i = 0; r >= 0 && i < (*info)->n_layers; i++)
                if (!image_layer_complete(store, (*info)->diff_ids[i] + 7))
                        r = cella_error_msg(err, ENOENT, "image %s: layer %s is missing (re-import it)", image,
                                            (*info)->diff_ids[i]);
        char cdir[256];
        snprintf(cdir, sizeof cdir, "containers/%s", id);
        if (r >= 0 && mkdirat(store->root_fd, cdir, 0700) < 0)
                r = errno == EEXIST ? cella_error_msg(err, EEXIST, "container %s: %s/%s already exists", id,
                                                      store->root, cdir)
                                    : cella_error_sys(err, "mkdir %s/%s", store->root, cdir);
        if (r >= 0) {
                *cfd = openat(store->root_fd, cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (*cfd < 0)
                        r = cella_error_sys(err, "open %s/%s", store->root, cdir);
        }
        static const char *const sub[] = { "upper", "work", "rootfs" };
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(sub); i++)
                if (mkdirat(*cfd, sub[i], 0755) < 0)
                        r = cella_error_sys(err, "mkdir %s/%s/%s", store->root, cdir, sub[i]);
        if (r >= 0)
                r = write_container_files(store, *cfd, *info, err);
        image_store_unlock(store);
        return r;
}

int image_mount_rootfs(struct image_store *store, const char *image, const char *container_id,
                       char **rootfs_path, struct cella_error *err)
{
        int r = check_container_id(container_id, err);
        if (r < 0)
                return r;
        if (store->opts.driver == IMAGE_DRIVER_OVERLAY && !overlay_available())
                return cella_error_msg(err, ENODEV,
                                       "overlayfs is not available (modprobe overlay, or use the vfs storage driver)");
        struct image_info *info = NULL;
        _cleanup_close_ int cfd = -1;
        bool created = false;
        r = prepare_container(store, image, container_id, &info, &cfd, err);
        created = cfd >= 0;
        _cleanup_free_ char *cdir = xasprintf("%s/containers/%s", store->root, container_id);
        if (r >= 0) {
                _cleanup_close_ int rootfs_fd = openat(cfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (rootfs_fd < 0) {
                        r = cella_error_sys(err, "open %s/rootfs", cdir);
                } else if (store->opts.driver == IMAGE_DRIVER_VFS) {
                        r = image_merge_layers(store, info, rootfs_fd, err);
                } else if (info->n_layers == 0) {
                        r = cella_error_msg(err, EINVAL, "image %s has no layers", image);
                } else {
                        r = store->opts.legacy_mount ? -EOPNOTSUPP
                                                     : mount_overlay_fsconfig(store->root, info, cdir, rootfs_fd, err);
                        if (r == -EOPNOTSUPP || r == -ENOSYS)
                                r = mount_overlay_legacy(store, info, cdir, err);
                        else if (r < 0 && !err->msg[0])
                                r = cella_error_set(err, -r, "overlay: fsopen");
                }
        }
        if (r >= 0) {
                *rootfs_path = xasprintf("%s/rootfs", cdir);
        } else if (created) {
                struct cella_error ignored = { 0 };
                image_umount_rootfs(store, container_id, &ignored);
        }
        image_info_free(info);
        return r;
}

int image_umount_rootfs(struct image_store *store, const char *container_id, struct cella_error *err)
{
        int r = check_container_id(container_id, err);
        if (r < 0)
                return r;
        char cdir[256];
        snprintf(cdir, sizeof cdir, "containers/%s", container_id);
        _cleanup_close_ int cfd = openat(store->root_fd, cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
                return errno == ENOENT ? 0 : cella_error_sys(err, "open %s/%s", store->root, cdir);
        if (image_is_mountpoint_at(cfd, "rootfs") == 1) {
                _cleanup_free_ char *target = xasprintf("%s/%s/rootfs", store->root, cdir);
                if (umount2(target, UMOUNT_NOFOLLOW) < 0 && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        return cella_error_sys(err, "umount %s", target);
                if (image_is_mountpoint_at(cfd, "rootfs") == 1)
                        return cella_error_msg(err, EBUSY, "%s is still mounted", target);
        }
        r = image_store_lock(store, err);
        if (r < 0)
                return r;
        r = image_rm_rf_at(store->root_fd, cdir);
        image_store_unlock(store);
        if (r < 0)
                return cella_error_set(err, -r, "remove %s/%s", store->root, cdir);
        return 0;
}

int image_export_rootfs(struct image_store *store, const char *image, const char *dest,
                        struct cella_error *err)
{
        if (mkdir(dest, 0755) < 0 && errno != EEXIST)
                return cella_error_sys(err, "mkdir %s", dest);
        _cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(err, "open %s", dest);
        struct image_info *info = NULL;
        int r = image_store_lock(store, err);
        if (r < 0)
                return r;
        r = image_lookup(store, image, &info, err);
        if (r >= 0)
                r = image_merge_layers(store, info, dfd, err);
        image_store_unlock(store);
        image_info_free(info);
        if (r < 0)
                return cella_error_prefix(err, "export %s to %s", image, dest);
        return 0;
}
