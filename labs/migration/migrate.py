#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The migration lab's moving parts (run.sh calls this).

  migrate.py run      inside the lab's private network namespace: start the
                      service on host A, run the client and the policy for
                      DURATION seconds, migrate the container to host B when
                      its CPU use stays above THRESHOLD. Writes client.csv,
                      policy.csv and events.txt in OUT.
  migrate.py report   from those files: timeline.csv, the chart's data
                      (latency.dat, cpu.dat, marks.gp) and the result table's
                      rows on stdout.

Settings come from the environment (run.sh sets them): CA and CB (the cella
command of host A and host B), ID, HOST_A, HOST_B, OUT, WORK, PORT,
DURATION, THRESHOLD, HAVE_CR, HAVE_EVENTS."""
import csv
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time

ENV = os.environ
OUT = ENV.get("OUT", ".")
T0 = time.monotonic()   # reset to the moment the service first answers
CLIENT_PERIOD = 0.1     # one request every 100 ms
CLIENT_TIMEOUT = 1.0    # a request not answered in 1 s has failed
POLICY_PERIOD = 0.25    # one CPU sample every 250 ms
HOT_SAMPLES = 2         # samples in a row above the threshold before acting


def rel():
    return time.monotonic() - T0


# ---------------------------------------------------------------- the client

def request(port):
    """One HTTP GET; True when the service answered 200 within the timeout."""
    deadline = time.monotonic() + CLIENT_TIMEOUT
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT) as s:
            s.sendall(b"GET /index.html HTTP/1.0\r\nHost: lab\r\n\r\n")
            data = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"]
    except OSError:
        return False


def client(port, end, rows):
    """A request every CLIENT_PERIOD (a user arriving, whatever happened to
    the one before), its latency in ms or a failure."""
    k = 0
    while True:
        start = T0 + k * CLIENT_PERIOD
        if start - T0 >= end:
            return
        time.sleep(max(0.0, start - time.monotonic()))
        t, s = rel(), time.monotonic()
        ok = request(port)
        rows.append((t, (time.monotonic() - s) * 1000 if ok else None))
        # behind schedule (a slow request): the next one leaves now
        k = max(k + 1, int(rel() / CLIENT_PERIOD))


# ---------------------------------------------------------------- the policy

def cgroup_cpu_ns(state_root, cid):
    """The container's CPU time (ns) from its cgroup: the path is in the
    state.json cella keeps (cpuacct.usage on v1, cpu.stat on v2)."""
    st = json.load(open(os.path.join(state_root, cid, "state.json")))
    for d in st.get("cgroup", []):
        ctrls = d.get("controllers", "").split(",")
        if "cpuacct" in ctrls and os.path.exists(os.path.join(d["path"], "cpuacct.usage")):
            return int(open(os.path.join(d["path"], "cpuacct.usage")).read())
        if st.get("cgroup_mode") == "v2" and os.path.exists(os.path.join(d["path"], "cpu.stat")):
            for line in open(os.path.join(d["path"], "cpu.stat")):
                k, v = line.split()
                if k == "usage_usec":
                    return int(v) * 1000
    return None


def cpu_ns(cella, state_root, cid):
    """The container's CPU time (ns): `cella events --stats` (runc's stats
    event) when this cella has it, else the cgroup files."""
    if ENV.get("HAVE_EVENTS") == "1":
        try:
            r = subprocess.run(cella + ["events", "--stats", cid], capture_output=True, text=True, timeout=2)
            usage = json.loads(r.stdout.splitlines()[0])["data"]["cpu"]["usage"]
            total = int(usage.get("total", usage.get("total_ns", 0)) or 0)
            if total:
                return total
        except (subprocess.TimeoutExpired, IndexError, KeyError, ValueError):
            pass
    try:
        return cgroup_cpu_ns(state_root, cid)
    except (OSError, ValueError):
        return None


def last_line(path):
    lines = [l.strip() for l in open(path) if l.strip()]
    return lines[-1] if lines else "(no message)"


def cmd_run():
    ca, cb = shlex.split(ENV["CA"]), shlex.split(ENV["CB"])
    cid, work = ENV["ID"], ENV["WORK"]
    host_a, host_b = ENV["HOST_A"], ENV["HOST_B"]
    duration, threshold = float(ENV["DURATION"]), float(ENV["THRESHOLD"])
    have_cr = ENV.get("HAVE_CR") == "1"
    events = []

    def event(name, detail=""):
        events.append((name, rel(), detail.replace(",", ";").replace("\n", " ")))

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # the service's stdio: files, never our pipes (a restored container
    # keeps the restore command's stdio, and would hold a pipe open forever)
    service_log = open(os.path.join(work, "service.log"), "a")
    subprocess.run(ca + ["run", "-d", "--bundle", host_a + "/bundle", cid], check=True,
                   stdin=subprocess.DEVNULL, stdout=service_log, stderr=service_log)
    # time 0 is the service's first answer: the client and the policy start then
    global T0
    for _ in range(100):
        if request(int(ENV["PORT"])):
            break
        time.sleep(0.05)
    T0 = time.monotonic()
    event("start", "the service answers on host A")
    reqs = []
    th = threading.Thread(target=client, args=(int(ENV["PORT"]), duration, reqs), daemon=True)
    th.start()

    cella, root, host = ca, host_a + "/state", "A"
    samples, prev, hot, decided = [], None, 0, False
    k = 0
    while True:
        k += 1
        tick = T0 + k * POLICY_PERIOD
        if tick - T0 >= duration:
            break
        time.sleep(max(0.0, tick - time.monotonic()))
        total, t = cpu_ns(cella, root, cid), rel()
        if total is None:
            continue
        if prev is not None and t - prev[1] < 0.1:
            continue    # too close to the previous sample to be a fair average
        if prev is not None:
            cpus = (total - prev[0]) / ((t - prev[1]) * 1e9)
            samples.append((t, cpus, host))
            hot = hot + 1 if cpus > threshold else 0
        prev = (total, t)
        if decided or hot < HOT_SAMPLES:
            continue
        decided = True
        event("threshold", "cpu %.2f > %g for %d samples" % (cpus, threshold, HOT_SAMPLES))
        if not have_cr:
            event("skip", "no checkpoint/restore in this cella")
            continue
        event("checkpoint_start")
        # A connection still in its handshake (in httpd's accept queue) when
        # the dump starts cannot be moved: CRIU refuses the whole dump unless
        # told to skip such connections (that client then fails). cella has
        # no flag for it; CRIU reads it from a configuration file.
        conf = os.path.join(work, "criu.conf")
        with open(conf, "w") as f:
            f.write("skip-in-flight\n")
        r = subprocess.run(ca + ["checkpoint", "--tcp-established", "--image-path", work + "/ckpt", cid],
                           capture_output=True, text=True,
                           env=dict(ENV, CRIU_CONFIG_FILE=conf))
        if r.returncode != 0:
            event("checkpoint_failed", (r.stderr or r.stdout).strip().split("\n")[0])
            continue
        event("checkpoint_done")
        # "copy the image to host B": here both hosts see the directory
        r = subprocess.run(cb + ["restore", "--detach", "--tcp-established", "--image-path", work + "/ckpt",
                                 "--bundle", host_b + "/bundle", cid],
                           stdin=subprocess.DEVNULL, stdout=service_log, stderr=service_log)
        if r.returncode != 0:
            event("restore_failed", last_line(os.path.join(work, "service.log")))
            continue
        event("restore_done", "service running on host B")
        # from now on the policy watches the restored container on host B
        # (its own cgroup there: the CPU count starts again), on the beat
        cella, root, host, prev = cb, host_b + "/state", "B", None
        k = int(rel() / POLICY_PERIOD)
    th.join()
    for c in (ca, cb):
        subprocess.run(c + ["delete", "--force", cid], capture_output=True)

    with open(os.path.join(OUT, "client.csv"), "w") as f:
        f.write("t,latency_ms,ok\n")
        for t, lat in reqs:
            f.write("%.3f,%s,%d\n" % (t, "%.1f" % lat if lat is not None else "", lat is not None))
    with open(os.path.join(OUT, "policy.csv"), "w") as f:
        f.write("t,cpus,host\n")
        for t, c, h in samples:
            f.write("%.3f,%.3f,%s\n" % (t, c, h))
    with open(os.path.join(OUT, "events.txt"), "w") as f:
        for e in events:
            f.write("%s,%.3f,%s\n" % e)


# ---------------------------------------------------------------- the report

MARKS = [  # event, legend text, colour, dash type
    ("threshold", "policy decides (CPU above the threshold twice)", "#d62728", 2),
    ("checkpoint_start", "checkpoint starts on host A (container frozen)", "#9467bd", 4),
    ("restore_done", "restored and running on host B", "#2ca02c", 5),
]


def cmd_report():
    have_cr = ENV.get("HAVE_CR") == "1"
    duration, threshold = float(ENV["DURATION"]), float(ENV["THRESHOLD"])
    reqs = [(float(r["t"]), r["latency_ms"], r["ok"] == "1") for r in csv.DictReader(open(os.path.join(OUT, "client.csv")))]
    cpu = [(float(r["t"]), float(r["cpus"]), r["host"]) for r in csv.DictReader(open(os.path.join(OUT, "policy.csv")))]
    events = [l.rstrip("\n").split(",", 2) for l in open(os.path.join(OUT, "events.txt")) if l.strip()]
    ev = {e[0]: float(e[1]) for e in events}

    with open(os.path.join(OUT, "timeline.csv"), "w") as f:
        f.write("t_s,kind,latency_ms,ok,cpus,host,event\n")
        rows = [(t, "request", lat, str(int(ok)), "", "", "") for t, lat, ok in reqs]
        rows += [(t, "cpu", "", "", "%.3f" % c, h, "") for t, c, h in cpu]
        rows += [(float(e[1]), "event", "", "", "", "", e[0] + (": " + e[2] if len(e) > 2 and e[2] else "")) for e in events]
        for r in sorted(rows, key=lambda r: r[0]):
            f.write("%.3f,%s\n" % (r[0], ",".join(r[1:])))
    # the chart's data, one file per kind (gnuplot breaks a line at every
    # row it skips, so the CPU line cannot come from the mixed timeline)
    with open(os.path.join(OUT, "latency.dat"), "w") as f:
        f.write("# t_s latency_ms ok (from timeline.csv; a failed request has no latency)\n")
        for t, lat, ok in reqs:
            f.write("%.3f %s %d\n" % (t, lat if ok else "NaN", ok))
    with open(os.path.join(OUT, "cpu.dat"), "w") as f:
        f.write("# t_s cpus host (from timeline.csv)\n")
        for t, c, h in cpu:
            f.write("%.3f %.3f %s\n" % (t, c, h))

    ok = [r for r in reqs if r[2]]
    lat = sorted(float(r[1]) for r in ok) or [0.0]
    print(f"requests|{len(reqs)} sent, {len(ok)} answered, {len(reqs) - len(ok)} failed")
    print(f"latency (answered)|median {lat[len(lat) // 2]:.1f} ms, max {lat[-1]:.1f} ms")
    for h, name in (("A", "CPU on host A"), ("B", "CPU on host B")):
        c = [x for _, x, hh in cpu if hh == h]
        print(f"{name}|" + (f"peak {max(c):.2f} CPUs, {len(c)} samples" if c else "no samples"))
    print(f"threshold crossed at|{ev['threshold']:.2f} s" if "threshold" in ev else "threshold crossed at|never")
    down = None
    if "checkpoint_start" in ev and "restore_done" in ev:
        # the client's view: the longest time with no answer arriving, from
        # the checkpoint command (the freeze comes a little after it) to the
        # first answer after the restore
        cs, rd = ev["checkpoint_start"], ev["restore_done"]
        answers = sorted(t + float(lat) / 1000 for t, lat, o in reqs if o)
        before = [a for a in answers if a <= cs]
        after = [a for a in answers if a > rd]
        if before and after:
            span = before[-1:] + [a for a in answers if before[-1] < a <= after[0]]
            down = max(b - a for a, b in zip(span, span[1:]))
        print(f"checkpoint|{ev.get('checkpoint_done', cs) - cs:.3f} s")
        print(f"restore|{ev['restore_done'] - ev.get('checkpoint_done', cs):.3f} s")
        print(f"downtime (client view)|{down:.3f} s" if down is not None
              else "downtime (client view)|not measured (no answer after restore)")
    elif "checkpoint_failed" in ev or "restore_failed" in ev:
        bad = [e for e in events if e[0] in ("checkpoint_failed", "restore_failed")][0]
        print(f"migration|FAILED ({bad[0]}): {bad[2]}")
        print("downtime (client view)|n/a")
    else:
        peak = max([c for _, c, _ in cpu] or [0])
        print("migration|SKIP: " + (f"threshold never crossed (peak {peak:.2f} CPUs: a busy machine? "
                                    f"try a lower LAB_THRESHOLD)" if have_cr else "no checkpoint/restore in this cella"))
        print("downtime (client view)|n/a")

    # gnuplot: the marker lines (named in the legend, so their labels never
    # overlap however close together they are), the frozen span, the hosts
    with open(os.path.join(OUT, "marks.gp"), "w") as g:
        keys = []
        for name, text, colour, dt in MARKS:
            if name in ev:
                g.write(f'set arrow from {ev[name]:.3f}, graph 0 to {ev[name]:.3f}, graph 1 nohead '
                        f'lc rgb "{colour}" dt {dt} lw 2 front\n')
                keys.append(f'keyentry with lines lc rgb "{colour}" dt {dt} lw 2 title "{ev[name]:.2f} s: {text}"')
        if "checkpoint_start" in ev and "restore_done" in ev:
            cs, rd = ev["checkpoint_start"], ev["restore_done"]
            g.write(f'set object 1 rect from {cs:.3f}, graph 0 to {rd:.3f}, graph 1 fc rgb "#f6d5d5" '
                    f'fs solid 1.0 noborder behind\n')
            keys.append(f'keyentry with boxes fs solid 1.0 fc rgb "#f6d5d5" title "not running: {rd - cs:.2f} s"')
            if cs > 1.5:
                g.write(f'set label 11 "on host A" at {cs / 2:.3f}, graph 0.95 center font ",11"\n')
            if duration - rd > 1.5:
                g.write(f'set label 12 "on host B" at {(rd + duration) / 2:.3f}, graph 0.95 center font ",11"\n')
        # a gnuplot macro: the legend entries, appended to the plot command
        g.write("MARK_KEYS = '%s'\n" % "".join(", " + k for k in keys).replace("'", "''"))
        g.write(f"set xrange [0:{duration:g}]\n")
        # room above the CPU line and the threshold for the host labels
        g.write(f"set y2range [0:{max([threshold] + [c for _, c, _ in cpu]) * 1.3:.3f}]\n")


if __name__ == "__main__":
    {"run": cmd_run, "report": cmd_report}[sys.argv[1]]()
