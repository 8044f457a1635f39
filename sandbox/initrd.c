/* SPDX-License-Identifier: Apache-2.0 */
/* cella sandbox: the initramfs for one VM: cella itself as /init, the
 * shared libraries it runs with, the guest kernel's modules, and the
 * container's config. */
#include "internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/util.h"

static int elf_interpreter(const char *path, char *out, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        Elf64_Ehdr eh;
        if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
            eh.e_ident[EI_CLASS] != ELFCLASS64)
                return -1;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;
                if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) != sizeof ph)
                        return -1;
                if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz >= size)
                        continue;
                if (pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
                        return -1;
                out[ph.p_filesz] = 0;
                return out[0] == '/' ? 0 : -1;
        }
        return -1;   /* static: nothing to add */
}

/* maps names the real file (libcap.so.2.66); the loader asks for the
 * SONAME (libcap.so.2), a symlink next to it: add those shorter names. */
static void add_soname_links(struct cpio *c, const char *path)
{
        const char *base = strrchr(path, '/') + 1;
        const char *so = strstr(base, ".so.");
        if (!so)
                return;
        for (const char *dot = so + 3; dot; dot = strchr(dot + 1, '.')) {
                _cleanup_free_ char *name = xstrndup(path, (size_t)(dot - path));
                char real[PATH_MAX];
                struct stat st;
                if (lstat(name, &st) == 0 && S_ISLNK(st.st_mode) && realpath(name, real) && streq(real, path))
                        cpio_add_symlink(c, name, base);
        }
}

/* The shared libraries cella runs with are exactly the files mapped into
 * this process: copy them (at their own paths) so the guest's dynamic
 * loader finds them. */
static int add_own_libraries(struct cpio *c, struct cella_error *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return cella_error_sys(err, "open /proc/self/maps");
        char line[PATH_MAX + 256];
        char *seen[64];
        size_t n_seen = 0;
        int r = 0;
        while (r == 0 && fgets(line, sizeof line, f)) {
                char *path = strchr(line, '/');
                if (!path || !strstr(path, ".so"))
                        continue;
                path[strcspn(path, "\n")] = 0;
                bool dup = false;
                for (size_t i = 0; i < n_seen; i++)
                        dup = dup || streq(seen[i], path);
                if (dup || n_seen == ARRAY_SIZE(seen))
                        continue;
                seen[n_seen++] = xstrdup(path);
                r = cpio_add_host_file(c, path, path, 0755, err);
                add_soname_links(c, path);
        }
        for (size_t i = 0; i < n_seen; i++)
                free(seen[i]);
        /* the ELF interpreter at the path the kernel opens (through the
         * symlinked directories below, as on the host) */
        char interp[PATH_MAX];
        if (r == 0 && elf_interpreter("/proc/self/exe", interp, sizeof interp) == 0) {
                _cleanup_free_ char *dir = xstrndup(interp, (size_t)(strrchr(interp, '/') - interp));
                char real_dir[PATH_MAX];
                if (realpath(*dir ? dir : "/", real_dir)) {
                        _cleanup_free_ char *guest = xasprintf("%s%s", real_dir, strrchr(interp, '/'));
                        r = cpio_add_host_file(c, guest, interp, 0755, err);
                }
        }
        /* /lib, /lib64, /bin as on the host (merged /usr: symlinks) */
        static const char *const links[] = { "/lib", "/lib64", "/bin", "/sbin" };
        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(links); i++) {
                char target[PATH_MAX];
                ssize_t n = readlink(links[i], target, sizeof target - 1);
                if (n > 0) {
                        target[n] = 0;
                        cpio_add_symlink(c, links[i], target);
                }
        }
        return r;
}

/* A module's length without its appended signature. Checking it costs
 * the guest ~6 ms a module under TCG (RSA and SHA in emulation) and proves
 * nothing there: the modules come from the same initramfs as the agent
 * that loads them. Unsigned, they load (Debian's kernel does not enforce
 * signatures) and taint the guest kernel, which says so at warning level. */
static size_t module_unsigned_len(const char *ko, size_t len)
{
        static const char magic[] = "~Module signature appended~\n";
        const size_t mlen = sizeof magic - 1, info = 12;   /* struct module_signature */
        if (len < mlen + info || memcmp(ko + len - mlen, magic, mlen) != 0)
                return len;
        const unsigned char *sig = (const unsigned char *)ko + len - mlen - info;
        /* algo, hash, id_type, signer_len, key_id_len, pad[3], be32 sig_len */
        size_t sig_len = (size_t)sig[8] << 24 | (size_t)sig[9] << 16 | (size_t)sig[10] << 8 | sig[11];
        size_t total = mlen + info + sig_len + sig[3] + sig[4];
        return total <= len ? len - total : len;
}

static int add_modules(struct cpio *c, const char *kernel_dir, struct cella_error *err)
{
        _cleanup_free_ char *order_path = xasprintf("%s/modules/load-order", kernel_dir);
        _cleanup_free_ char *order = NULL;
        size_t len;
        if (read_file_at(AT_FDCWD, order_path, &order, &len, err) < 0)
                return -1;
        cpio_add_data(c, SANDBOX_GUEST_MODULES "/load-order", 0644, order, len);
        char *save = NULL;
        for (char *m = strtok_r(order, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *host = xasprintf("%s/modules/%s.ko", kernel_dir, m);
                _cleanup_free_ char *guest = xasprintf(SANDBOX_GUEST_MODULES "/%s.ko", m);
                _cleanup_free_ char *ko = NULL;
                size_t ko_len;
                if (read_file_at(AT_FDCWD, host, &ko, &ko_len, err) < 0)
                        return -1;
                cpio_add_data(c, guest, 0644, ko, module_unsigned_len(ko, ko_len));
        }
        return 0;
}

int sandbox_build_initrd_files(int dirfd, const char *name, const struct sandbox_vm *vm,
                               const struct sandbox_file *files, size_t n_files, struct cella_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return cella_error_sys(err, "create %s", name);
        struct cpio c;
        cpio_init(&c, fd);
        int r = cpio_add_host_file(&c, "/init", "/proc/self/exe", 0755, err);
        if (r == 0)
                r = add_own_libraries(&c, err);
        if (r == 0)
                r = add_modules(&c, vm->kernel_dir, err);
        if (r == 0) {
                for (size_t i = 0; i < n_files; i++)
                        cpio_add_data(&c, files[i].name, 0600, files[i].data, files[i].len);
                for (const char *d = "/proc\0/sys\0/dev\0/run\0/tmp\0"; *d; d += strlen(d) + 1)
                        cpio_add_dir(&c, d);
                /* the kernel opens it as init's stdin/stdout/stderr */
                cpio_add_chardev(&c, "/dev/console", 0600, 5, 1);
        }
        struct cella_error e2 = { 0 };
        if (cpio_finish(&c, r == 0 ? err : &e2) < 0)
                return -1;
        return r;
}

int sandbox_build_initrd(int dirfd, const char *name, const struct sandbox_vm *vm, const char *config_text,
                         const char *params, struct cella_error *err)
{
        const struct sandbox_file files[] = {
                { SANDBOX_GUEST_CONFIG, config_text, strlen(config_text) },
                { SANDBOX_GUEST_PARAMS, params, strlen(params) },
        };
        return sandbox_build_initrd_files(dirfd, name, vm, files, ARRAY_SIZE(files), err);
}
