#!/usr/bin/python3
"""
code-map.py -- what the source tree looks like, from the sources themselves.

    scripts/code-map.py includes     the module include graph, and any circle in it
    scripts/code-map.py functions    the longest functions (and the median length)
    scripts/code-map.py files        every file under src/ with its line count

A module is a .h/.cpp pair under src/ (src/apps/x.cpp is module apps/x). The
graph has an edge a -> b when a's header or source includes b's header; a
circle is a path from a module back to itself. Functions are found the way
the code is written: a definition starts at column 0 and its body's braces
sit at column 0 too (style.md), so no parser is needed.
"""
import os
import re
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")


def sources():
    for d, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith((".h", ".cpp")):
                yield os.path.relpath(os.path.join(d, f), SRC)


def module(path):
    return os.path.splitext(path)[0]


def includes():
    graph = {}
    for p in sources():
        m = module(p)
        graph.setdefault(m, set())
        with open(os.path.join(SRC, p)) as f:
            for line in f:
                r = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not r:
                    continue
                inc = os.path.normpath(os.path.join(os.path.dirname(p), r.group(1)))
                t = module(inc)
                if t != m and os.path.exists(os.path.join(SRC, inc)):
                    graph[m].add(t)
    return graph


def cycles(graph):
    """Every elementary circle, each once (Johnson would be faster; the graph is small)."""
    found = set()
    out = []

    def walk(start, node, path, seen):
        for n in sorted(graph.get(node, ())):
            if n == start:
                c = path[:]
                k = min(range(len(c)), key=lambda i: c[i])
                key = tuple(c[k:] + c[:k])
                if key not in found:
                    found.add(key)
                    out.append(list(key) + [key[0]])
            elif n not in seen and n > start:
                walk(start, n, path + [n], seen | {n})

    for s in sorted(graph):
        walk(s, s, [s], {s})
    return out


def functions():
    out = []
    for p in sources():
        if not p.endswith(".cpp"):
            continue
        lines = open(os.path.join(SRC, p)).read().split("\n")
        i = 0
        while i < len(lines):
            if lines[i] == "{" and i > 0 and re.match(r"[A-Za-z_]", lines[i - 1]) and "(" in "".join(lines[max(0, i - 4):i]):
                # the signature may span lines: walk back to its first line
                j = i - 1
                while j > 0 and re.match(r"\s", lines[j]) and lines[j].strip():
                    j -= 1
                sig = " ".join(l.strip() for l in lines[j:i])
                name = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", sig)
                k = i + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                out.append((k - j + 1, "%s:%d" % (p, j + 1), name.group(1) if name else "?"))
                i = k
            i += 1
    return out


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "includes"
    if what == "includes":
        g = includes()
        for m in sorted(g):
            print("%-20s -> %s" % (m, " ".join(sorted(g[m])) or "-"))
        cs = cycles(g)
        print("circles: %s" % ("none" if not cs else ""))
        for c in cs:
            print("  " + " -> ".join(c))
        return 1 if cs else 0
    if what == "functions":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
        fs = sorted(functions(), reverse=True)
        for length, where, name in fs[:n]:
            print("%5d  %-28s %s" % (length, name, where))
        print("%d functions, median %g lines" % (len(fs), statistics.median(f[0] for f in fs)))
        return 0
    if what == "files":
        total = 0
        for p in sources():
            n = sum(1 for _ in open(os.path.join(SRC, p)))
            total += n
            print("%6d  src/%s" % (n, p))
        print("%6d  total" % total)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
