# SPDX-License-Identifier: Apache-2.0
# tests/helpers/cgroupfs.sh — sourced by the cgroup tests: where a process's
# cgroups are on the host, read from /proc/PID/cgroup and the host's mounts
# (not from a runtime's state files), so one test checks runc and cella alike.

host_cgroup_v2() { [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; }

# cgroup_hierarchies: one line per mounted hierarchy, "CONTROLLERS MOUNTPOINT"
# (CONTROLLERS "-" for cgroup2, "name=systemd" for a named one)
cgroup_hierarchies() {
        python3 - <<'PY'
seen = set()
for line in open("/proc/self/mountinfo"):
    f = line.split()
    sep = f.index("-")
    fstype, opts, mnt = f[sep + 1], f[sep + 3].split(","), f[4]
    if fstype == "cgroup2":
        key = "-"
    elif fstype == "cgroup":
        known = {"cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "perf_event",
                 "net_prio", "hugetlb", "pids", "rdma", "misc"}
        key = ",".join(o for o in opts if o in known or o.startswith("name="))
    else:
        continue
    if key and key not in seen:
        seen.add(key)
        print(key, mnt)
PY
}

# proc_cgroup_dir PID CTRL: the host directory of PID's cgroup for controller
# CTRL ("" = the cgroup2 hierarchy, "*" = every hierarchy, one per line);
# empty when there is none
proc_cgroup_dir() {
        python3 - "$1" "$2" <<'PY'
import sys
pid, want = sys.argv[1], sys.argv[2]
mounts = {}
for line in open("/proc/self/mountinfo"):
    f = line.split()
    sep = f.index("-")
    fstype, opts, mnt = f[sep + 1], f[sep + 3].split(","), f[4]
    if fstype == "cgroup2":
        mounts.setdefault("", mnt)
    elif fstype == "cgroup":
        for o in opts:
            mounts.setdefault(o, mnt)
for line in open("/proc/%s/cgroup" % pid):
    _, ctrls, path = line.rstrip("\n").split(":", 2)
    names = ctrls.split(",") if ctrls else [""]
    for n in names:
        if (want == "*" or n == want) and n in mounts:
            print(mounts[n] + (path if path != "/" else ""))
            break
PY
}

# cgroup_mkdir_everywhere REL PID: make REL below the root of every
# hierarchy and put PID in it (v1 cpuset: cpus and mems copied down first)
cgroup_mkdir_everywhere() {
        local rel=$1 pid=$2 ctrls mnt f
        while read -r ctrls mnt; do
                mkdir -p "$mnt/$rel" || return 1
                for f in cpuset.cpus cpuset.mems; do
                        [ "$ctrls" != - ] && [ -e "$mnt/$rel/$f" ] && [ -z "$(cat "$mnt/$rel/$f")" ] &&
                                cat "$mnt/$f" >"$mnt/$rel/$f"
                done
                echo "$pid" >"$mnt/$rel/cgroup.procs" || return 1
        done < <(cgroup_hierarchies)
}

# cgroup_rmdir_everywhere REL: remove REL (and its children) in every hierarchy
cgroup_rmdir_everywhere() {
        local ctrls mnt d
        while read -r ctrls mnt; do
                [ -d "$mnt/$1" ] || continue
                for d in $(find "$mnt/$1" -depth -type d); do rmdir "$d" 2>/dev/null; done
        done < <(cgroup_hierarchies)
        return 0
}

# cgroup_mkdir_below DIR...: make each DIR (a new v1 cpuset cgroup takes no
# task until cpus and mems are copied down from its parent)
cgroup_mkdir_below() {
        local d f
        for d in "$@"; do
                mkdir -p "$d" || return 1
                for f in cpuset.cpus cpuset.mems; do
                        [ -e "$d/$f" ] && [ -z "$(cat "$d/$f")" ] && cat "$(dirname "$d")/$f" >"$d/$f"
                done
        done
        return 0
}
