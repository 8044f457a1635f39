#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkinitramfs.py OUT FILE...: a newc cpio archive (the format the Linux
kernel unpacks as its initramfs) holding /init, /bench/<each FILE> and a
/dev/console node. The first FILE becomes /init. Written here in a few lines
so the lab needs no cpio(1); the format is in the kernel's
Documentation/driver-api/early-userspace/buffer-format.rst."""
import os
import stat
import sys


def entry(ino, name, mode, data=b"", rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    pad = lambda n: b"\0" * (-n % 4)
    return hdr + name_b + pad(len(hdr) + len(name_b)) + data + pad(len(data))


def main():
    out, files = sys.argv[1], sys.argv[2:]
    parts = [entry(1, "dev", stat.S_IFDIR | 0o755),
             entry(2, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
             entry(3, "bench", stat.S_IFDIR | 0o755)]
    for i, path in enumerate(files):
        name = "init" if i == 0 else "bench/" + os.path.basename(path)
        with open(path, "rb") as f:
            parts.append(entry(4 + i, name, stat.S_IFREG | 0o755, f.read()))
    parts.append(entry(0, "TRAILER!!!", 0))
    with open(out, "wb") as f:
        f.write(b"".join(parts))


main()
