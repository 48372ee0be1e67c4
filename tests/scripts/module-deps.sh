#!/usr/bin/env bash
# The import graph of each crate (shared, controller, webhook by default, or the `src` dirs
# given as arguments): prints which top-level module uses which (`a -> b`: code in `a` names
# `crate::b`) and fails when modules, or single files, form a circle of any length. Only
# shipped code counts: unit-test modules, `tests.rs`, `testkit.rs` and comments are left out.
# Run from anywhere: `bash tests/scripts/module-deps.sh` (`FILES=1` lists the edges between
# files instead; `QUIET=1` prints only circles and the summary). `make test` runs it.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
if (($# == 0)); then
  set -- "$root/shared/src" "$root/controller/src" "$root/webhook/src"
fi
status=0
for src in "$@"; do
python3 - "$src" <<'PY' || status=1
import os, re, sys

src = sys.argv[1]
files = {}  # "validate/cluster" -> text of shipped code
for root, _, names in os.walk(src):
    for name in names:
        rel = os.path.relpath(os.path.join(root, name), src)
        if not name.endswith(".rs") or rel.startswith("bin/") or name in ("lib.rs", "tests.rs", "testkit.rs"):
            continue
        text = open(os.path.join(root, name), encoding="utf-8").read()
        text = re.sub(r"\n#\[cfg\(test\)\]\n(pub(\(crate\))? )?mod tests \{.*", "\n", text, flags=re.S)
        text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
        files[rel[:-3].removesuffix("/mod")] = text

def expand(path):
    """`crate::{a, b::{c, d}}` -> [crate::a, crate::b::c, crate::b::d]."""
    m = re.match(r"^(.*?)\{(.*)\}$", path, flags=re.S)
    if not m:
        return [path]
    head, body, out, depth, item = m.group(1), m.group(2), [], 0, ""
    for ch in body + ",":
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            if item.strip():
                out += expand(head + item.strip())
            item = ""
        else:
            item += ch
    return out

def resolve(segments):
    """The file of the longest leading part of `segments` that is one."""
    for n in range(len(segments), 0, -1):
        if "/".join(segments[:n]) in files:
            return "/".join(segments[:n])
    return None

def absolute(path, here, aliases):
    """`crate::a::b`, `super::b`, `self::b` or `alias::b` as segments from the crate root."""
    seg = path.split("::")
    if seg[0] == "crate":
        return seg[1:]
    if seg[0] == "self":
        return here + seg[1:]
    if seg[0] == "super":
        up = here
        while seg and seg[0] == "super":
            up, seg = up[:-1], seg[1:]
        return up + seg
    if seg[0] in aliases:
        return aliases[seg[0]] + seg[1:]
    return None

USE = r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);"
edges = set()
for f, text in files.items():
    here = f.split("/")
    # `mod x;` and `use` items give names to paths; other paths then start with such a name.
    aliases = {m: here + [m] for m in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+);", text, flags=re.M)}
    used = [p for u in re.findall(USE, text, flags=re.M) for p in expand(re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", u)).replace("@", " as "))]
    for p in used:
        p, _, alias = p.partition(" as ")
        path = absolute(p.removesuffix("::self"), here, aliases)
        if path is None:
            continue
        aliases[alias or path[-1]] = path
    rest = re.sub(USE, "", text, flags=re.M)
    paths = [p.partition(" as ")[0].removesuffix("::self") for p in used]
    paths += re.findall(r"(?<![\w:])\w+(?:::\w+)+", rest)
    for p in paths:
        path = absolute(p, here, aliases)
        target = resolve(path) if path else None
        if target and target != f:
            edges.add((f, target))

def circles(nodes, edges):
    """Strongly connected components with more than one member (Tarjan)."""
    graph = {n: sorted({b for a, b in edges if a == n}) for n in nodes}
    index, low, stack, on, out = {}, {}, [], set(), []
    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out

top = lambda f: f.split("/")[0]
module_edges = {(top(a), top(b)) for a, b in edges if top(a) != top(b)}
shown = edges if os.environ.get("FILES") else module_edges
print(f"== {src}")
if not os.environ.get("QUIET"):
    for a, b in sorted(shown):
        print(f"{a} -> {b}")
failed = False
for level, nodes, es in (("module", {top(f) for f in files}, module_edges), ("file", set(files), edges)):
    for c in circles(nodes, es):
        failed = True
        print(f"module-deps: {level} circle: {' <-> '.join(c)}", file=sys.stderr)
if failed:
    sys.exit(1)
print(f"module-deps: no circle among {len({top(f) for f in files})} modules and {len(files)} files")
PY
done
exit "$status"
