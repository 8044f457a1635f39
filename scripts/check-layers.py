#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check-layers: the include rules of docs/layers.txt and the size limits.

Reads the layer table (docs/layers.txt), then every .c and .h file of the
folders it names:
  * each #include "..." is resolved to a folder: "folder/file.h" from the
    repo root, or "file.h" in the includer's own folder; an include of a
    folder the includer's line does not list fails, and so does "../";
  * no file may have more than max-file-lines lines, no function more than
    max-function-lines (tests/ is held to the size limits too);
  * JSON is written by one writer: yajl_gen_alloc() only in base/json_write.c;
  * every file's first line is its license (SPDX-License-Identifier).
Every failure is one line "FILE:LINE: RULE" and the exit status is 1.

Functions are found with a brace-depth scanner: comments, strings, character
literals and preprocessor lines are blanked first; a '{' at depth 0 opens a
function body when the text since the previous top-level ';' or '}' has a
'(' and no '=' and does not start with struct/union/enum/typedef. Its length
is the number of lines from the line with that '{' to the line with the
matching '}'.

usage: check-layers.py [--root DIR]   (DIR defaults to the repository)
"""
import os
import re
import sys


def read_table(root):
    path = os.path.join(root, "docs", "layers.txt")
    order, allowed, limits = [], {}, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] in ("max-file-lines", "max-function-lines"):
                limits[words[0]] = int(words[1])
                continue
            folder, may = words[0], words[1:]
            for m in may:
                if m not in allowed:
                    sys.exit("%s:%d: %s may include %s, which is not listed above it" % (path, n, folder, m))
            order.append(folder)
            allowed[folder] = set(may)
    return order, allowed, limits


def sources(root, folder):
    top = os.path.join(root, folder)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in ("corpus", "regressions"))
        for name in sorted(filenames):
            if name.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def blank(text):
    """Comments, strings, char literals and preprocessor lines as spaces
    (newlines kept, so line numbers stay right)."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if at_line_start and c == "#":
            # a preprocessor line, with its backslash continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        at_line_start = False
        if c == "\n":
            out.append(c)
            at_line_start = True
            i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, body lines) of every function body in C text."""
    code = blank(text)
    depth, line, start = 0, 1, None
    head = []
    for c in code:
        if c == "\n":
            line += 1
        if depth == 0:
            if c == "{":
                h = "".join(head).strip()
                if "(" in h and "=" not in h and not re.match(r"(struct|union|enum|typedef)\b", h):
                    m = re.search(r"(\w+)\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*(__attribute__.*)?$", h, re.S)
                    start = (m.group(1) if m else "?", line)
                depth = 1
                head = []
            elif c in ";}":
                head = []
            else:
                head.append(c)
        else:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    if start:
                        yield start[0], start[1], line - start[1] + 1
                    start = None
                    head = []


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def check(root):
    order, allowed, limits = read_table(root)
    max_file = limits.get("max-file-lines", 1000)
    max_fn = limits.get("max-function-lines", 150)
    problems = []
    checked = 0
    folders = [f for f in order if os.path.isdir(os.path.join(root, f))]
    for folder in folders + ["tests"]:
        for path in sources(root, folder):
            checked += 1
            with open(os.path.join(root, path), errors="replace") as f:
                text = f.read()
            if "SPDX-License-Identifier:" not in text.split("\n", 1)[0]:
                problems.append("%s:1: the first line must be the license: /* SPDX-License-Identifier: Apache-2.0 */"
                                % path)
            nlines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
            if nlines > max_file:
                problems.append("%s:%d: file has %d lines (max-file-lines %d)" % (path, 1, nlines, max_file))
            for name, first, length in functions(text):
                if length > max_fn:
                    problems.append("%s:%d: function %s has %d lines (max-function-lines %d)"
                                    % (path, first, name, length, max_fn))
            if folder == "tests":
                continue
            if path != "base/json_write.c":
                for m in re.finditer(r"\byajl_gen_alloc\s*\(", blank(text)):
                    problems.append("%s:%d: yajl_gen_alloc: every JSON document is written by base/json_write.c "
                                    "(json_writer_new)" % (path, text.count("\n", 0, m.start()) + 1))
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                lineno = text.count("\n", 0, m.start()) + 1
                if inc.startswith("../") or "/../" in inc:
                    problems.append('%s:%d: include "%s": write it from the repo root ("folder/file.h")'
                                    % (path, lineno, inc))
                    continue
                own = os.path.dirname(path).split("/")[0]
                if "/" not in inc:
                    continue        # "file.h": the includer's own folder (or a generated header)
                target = inc.split("/")[0]
                if target == own or target not in allowed and target not in ("tests",):
                    continue        # own folder, or not a folder of the project (generated code)
                if target == "tests" or target not in allowed[own]:
                    problems.append('%s:%d: include "%s": %s may not include %s (docs/layers.txt: %s may include %s)'
                                    % (path, lineno, inc, own, target, own,
                                       " ".join(sorted(allowed[own], key=order.index)) or "nothing"))
    return checked, problems


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = sys.argv[1:]
    if args[:1] == ["--root"] and len(args) == 2:
        root = args[1]
    elif args:
        sys.exit(__doc__.strip().splitlines()[-1])
    checked, problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print("check-layers: %d problem(s) in %d files" % (len(problems), checked), file=sys.stderr)
        return 1
    print("check-layers: %d files, every include goes down the layer table, sizes within limits" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
