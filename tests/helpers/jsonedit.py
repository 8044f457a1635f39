#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tiny JSON editor for the shell tests (lib.sh wraps it).

  jsonedit.py get FILE|- PATH         print the value (strings raw, others as JSON)
  jsonedit.py set FILE PATH JSON      set PATH to the JSON value, creating objects
  jsonedit.py del FILE PATH           remove PATH if present
  jsonedit.py py FILE CODE            run CODE with `c` bound to the document, save
  jsonedit.py keys FILE|- PATH        print the keys of the object at PATH, sorted
  jsonedit.py lines FILE|- PATH       print each element of the list at PATH

PATH is jq-like: `.process.args`, `.linux.namespaces[0].type`, `.` (whole).
"""
import json
import os
import re
import sys


def parse_path(path):
    if path in ("", "."):
        return []
    if not path.startswith((".", "[")):
        raise SystemExit("jsonedit.py: path must start with '.': %r" % path)
    steps = []
    for m in re.finditer(r"\.([A-Za-z0-9_\-]+)|\[(-?\d+)\]|\.\[(-?\d+)\]", path):
        if m.group(1) is not None:
            steps.append(m.group(1))
        else:
            steps.append(int(m.group(2) if m.group(2) is not None else m.group(3)))
    return steps


def load(name):
    if name == "-":
        return json.load(sys.stdin)
    with open(name) as f:
        return json.load(f)


def save(name, doc):
    tmp = name + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.rename(tmp, name)


def walk(doc, steps, create=False):
    cur = doc
    for i, s in enumerate(steps):
        if isinstance(s, int):
            cur = cur[s]
            continue
        if s not in cur:
            if not create:
                raise KeyError(s)
            cur[s] = {}
        cur = cur[s]
    return cur


def out(v):
    if isinstance(v, str):
        print(v)
    elif v is None:
        print("null")
    else:
        print(json.dumps(v, sort_keys=True))


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd, name = argv[1], argv[2]
    if cmd == "get":
        try:
            v = walk(load(name), parse_path(argv[3]))
        except (KeyError, IndexError, TypeError):
            return 1
        out(v)
    elif cmd == "keys":
        for k in sorted(walk(load(name), parse_path(argv[3]))):
            print(k)
    elif cmd == "lines":
        for v in walk(load(name), parse_path(argv[3])):
            out(v)
    elif cmd == "set":
        doc = load(name)
        steps = parse_path(argv[3])
        value = json.loads(argv[4])
        if not steps:
            doc = value
        else:
            walk(doc, steps[:-1], create=True)[steps[-1]] = value
        save(name, doc)
    elif cmd == "del":
        doc = load(name)
        steps = parse_path(argv[3])
        try:
            parent = walk(doc, steps[:-1])
            if isinstance(steps[-1], int) or steps[-1] in parent:
                del parent[steps[-1]]
        except (KeyError, IndexError, TypeError):
            pass
        save(name, doc)
    elif cmd == "py":
        doc = load(name)
        env = {"c": doc, "json": json}
        exec(argv[3], env)
        save(name, env["c"])
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
