#!/usr/bin/env python3
"""Builds the Neo4j settings catalogue (shared/data/neo4j-settings/<line>.json) from the
Neo4j Operations Manual sources.

Input: a local copy of the `neo4j/docs-operations` git repository (a clone or a bare mirror;
nothing is downloaded by this script). Each release line is read from one branch of it:

    5.26    branch 5.x   (the 5.26 LTS manual)
    calver  branch main  (the newest released 2025.x/2026.x manual)

Pages read (per branch):
    modules/ROOT/pages/configuration/configuration-settings.adoc   every setting
    modules/ROOT/pages/security/ssl-framework.adoc                 the dbms.ssl.policy.<scope>.* group
    modules/ROOT/pages/breaking-changes.adoc                       settings removed/renamed (CalVer)
    modules/ROOT/pages/deprecations.adoc                           deprecations (CalVer)
    antora.yml                                                     the exact Neo4j version documented

Usage:
    generate.py --docs PATH [--out DIR] [--check] [--line NAME=BRANCH ...]
    (PATH may also come from the NEO4J_DOCS_OPERATIONS environment variable)

    make settings-catalogue        NEO4J_DOCS_OPERATIONS=PATH   regenerates the committed files
    make settings-catalogue-check  NEO4J_DOCS_OPERATIONS=PATH   fails when they drift

The drift check needs the docs repository, which CI does not have; CI instead checks the 5.26
file against what Neo4j 5.26 itself declares (tests/neo4j, `make neo4j-check`).

Output is deterministic: settings sorted by name, JSON keys sorted, two-space indent, one
trailing newline. Python 3.11+, standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = "neo4j/docs-operations"
SETTINGS_PAGE = "modules/ROOT/pages/configuration/configuration-settings.adoc"
SSL_PAGE = "modules/ROOT/pages/security/ssl-framework.adoc"
BREAKING_PAGE = "modules/ROOT/pages/breaking-changes.adoc"
DEPRECATIONS_PAGE = "modules/ROOT/pages/deprecations.adoc"
ANTORA = "antora.yml"
DEFAULT_LINES = {"5.26": "5.x", "calver": "main"}
SCHEMA_VERSION = 1

VERSION = r"\d{1,4}\.\d{1,2}(?:\.\d{1,3})?"


class DocsError(Exception):
    """The docs do not have the shape this script understands."""


# ---------------------------------------------------------------------------------------------
# Reading the docs repository


class Docs:
    """One branch of a docs-operations git repository."""

    def __init__(self, path: Path, branch: str):
        self.path = path
        self.branch = branch
        self.commit = self._git("rev-parse", f"{branch}^{{commit}}").strip()

    def _git(self, *args: str) -> str:
        try:
            out = subprocess.run(
                ["git", "-C", str(self.path), *args],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError as e:
            msg = e.stderr.decode("utf-8", "replace").strip()
            raise DocsError(f"git {' '.join(args)} in {self.path}: {msg}") from e
        return out.stdout.decode("utf-8")

    def read(self, path: str, required: bool = True) -> str | None:
        try:
            return self._git("show", f"{self.commit}:{path}")
        except DocsError:
            if required:
                raise
            return None


# ---------------------------------------------------------------------------------------------
# Text helpers

LABEL_RE = re.compile(r"label:([a-z-]+)\[([^\]]*)\]")
XREF_RE = re.compile(r"(?:xref|link):[^\[\s]*\[([^\]]*)\]")
ANCHOR_LINK_RE = re.compile(r"<<[^,>]*,([^>]*)>>")


def strip_markup(text: str) -> str:
    """Asciidoc inline markup removed: labels, links (their text kept), passthroughs."""
    text = strip_markup_keep_ticks(text)
    text = text.replace("+++", "")
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def unquote(text: str) -> str:
    """`x` -> x."""
    text = text.strip()
    if len(text) >= 2 and text[0] == "`" and text[-1] == "`":
        return text[1:-1]
    return text


def setting_names(text: str) -> list[str]:
    """Setting names quoted in backticks in a cell, in order, without duplicates."""
    out: list[str] = []
    for name in re.findall(r"`([a-z][a-z0-9_.<>-]*\.[a-z0-9_<>-]+)`", strip_markup_keep_ticks(text)):
        if name not in out:
            out.append(name)
    return out


def strip_markup_keep_ticks(text: str) -> str:
    """Labels and links removed (link text kept); `\\|` (a pipe escaped in a table) unescaped."""
    text = text.replace("\\|", "|")
    text = LABEL_RE.sub("", text)
    text = XREF_RE.sub(r"\1", text)
    text = ANCHOR_LINK_RE.sub(r"\1", text)
    return text


# ---------------------------------------------------------------------------------------------
# Types: the "Valid values" sentence Neo4j generates from each setting's parser and
# constraints, turned into a structured type.

NUMBER = r"-?[0-9][0-9_,.]*"


def _ticked(text: str) -> list[str]:
    return [t.strip() for t in re.findall(r"`([^`]*)`", text)]


def _bound(word: str, rest: str) -> str | None:
    """The value after `word` ("minimum", "maximum", "or is"): a `ticked` value, else a bare one."""
    m = re.search(rf"\b{word} `([^`]+)`", rest)
    if m:
        return m.group(1)
    m = re.search(rf"\b{word} ([^\s`]+?)\.?(?=\s|$)", rest)
    return m.group(1) if m else None


def _bounds(rest: str) -> dict:
    """`that is minimum `1``, `in the range `a` to `b``, `minimum `a` and is maximum `b``."""
    out: dict = {}
    m = re.search(r"in the range `([^`]+)` to `([^`]+)`", rest) or re.search(
        r"in the range ([^\s`]+) to ([^\s`]+?)\.?(?=\s|$)", rest
    )
    if m:
        out["min"], out["max"] = m.group(1), m.group(2)
    alt = re.search(r"that is `?([^\s`]+)`? or is minimum", rest)
    if alt:  # "that is 0s or is minimum `1m`"
        out["or"] = alt.group(1)
    for key, word in (("min", "minimum"), ("max", "maximum"), ("or", "or is")):
        v = _bound(word, rest)
        if v is not None and key not in out and v != "minimum":
            out[key] = v
    if re.search(r"power of 2", rest):
        out["power_of_two"] = True
    return out


def parse_type(valid: str) -> dict:
    """A structured type from a "Valid values" cell (markup already stripped of labels)."""
    text = LABEL_RE.sub("", valid).strip()
    low = text.lower()
    t: dict

    def element(phrase: str) -> dict:
        return parse_type(phrase[:1].upper() + phrase[1:])

    m = re.match(r"a comma-separated (list|set) where each element is (.*)$", low, re.S)
    if m:
        start = len(text) - len(m.group(2))
        inner = text[start:]
        t = {"kind": "list", "element": element(inner)}
        if m.group(1) == "set":
            t["unique"] = True
        return t
    if low.startswith("one of ["):
        values = re.match(r"one of \[([^\]]*)\]", text, re.I)
        vals = [v.strip() for v in values.group(1).split(",")] if values else []
        return {"kind": "enum", "values": vals}
    if low.startswith("a boolean"):
        return {"kind": "boolean"}
    if low.startswith("a duration-range"):
        return {"kind": "duration_range"}
    if low.startswith("a duration"):
        t = {"kind": "duration"}
        rest = text.split(")", 1)[1] if ")" in text else ""
        t.update(_bounds(rest))
        return t
    if low.startswith("a byte size"):
        t = {"kind": "bytes"}
        rest = text.split(")", 1)[1] if ")" in text else ""
        t.update(_bounds(rest))
        return t
    if low.startswith("an integer") or low.startswith("a long") or low.startswith("a double"):
        kind = {"an i": "integer", "a lo": "long", "a do": "double"}[low[:4]]
        t = {"kind": kind}
        t.update(_bounds(text))
        return t
    if low.startswith("a path"):
        t = {"kind": "path"}
        m = re.search(r"resolved from `?([a-z0-9_.]+?)`?\.?$", text)
        if m:
            t["relative_to"] = m.group(1)
        if "is absolute" in low:
            t["absolute"] = True
        return t
    if low.startswith("a socket address"):
        t = {"kind": "socket_address"}
        m = re.search(r"acquired from `?([a-z0-9_.]+?)`?\.?$", text)
        if m:
            t["inherits"] = m.group(1)
        return t
    if low.startswith("a set of file permissions"):
        return {"kind": "file_permissions"}
    if low.startswith("a hostname"):
        return {"kind": "hostname"}
    if low.startswith("a uri") or low == "a uri":
        return {"kind": "uri"}
    if low.startswith("a simple key") or low.startswith("a simple key-value"):
        t = {"kind": "map"}
        m = re.search(r"(Valid|Required) key options are: `([^`]*)`", text)
        if m:
            t["required_keys" if m.group(1) == "Required" else "keys"] = [
                k.strip() for k in m.group(2).split(",") if k.strip()
            ]
        return t
    if low.startswith("one or more jvm arguments"):
        return {"kind": "jvm_arguments"}
    if low.startswith("a secure string"):
        return {"kind": "string", "secret": True}
    if low.startswith("a string describing a timezone"):
        return {"kind": "timezone"}
    if "valid database name pattern" in low:
        return {"kind": "database_name_pattern"}
    if "valid database name" in low:
        return {"kind": "database_name"}
    if low.startswith("a simple globbing pattern"):
        return {"kind": "glob"}
    if low.startswith("a string identifying a server tag"):
        return {"kind": "string", "format": "server_tag"}
    if low.startswith("a string"):
        t = {"kind": "string"}
        m = re.search(r"matches the pattern `([^`]*)`", text)
        if m:
            t["pattern"] = m.group(1)
        if "can not be empty" in low or "cannot be empty" in low:
            t["non_empty"] = True
        return t
    return {"kind": "other"}


# ---------------------------------------------------------------------------------------------
# The settings page


def _versions(label: str, tokens: list[str]) -> list[str]:
    out = []
    for tok in tokens:
        m = re.fullmatch(rf"label--{label}-({VERSION})", tok)
        if m:
            out.append(m.group(1))
    return out


def _inline_versions(label: str, text: str) -> list[str]:
    out = []
    for name, body in LABEL_RE.findall(text):
        if name == label:
            m = re.search(VERSION, body)
            if m:
                out.append(m.group(0))
    return out


def _table_cells(lines: list[str]) -> dict[str, str]:
    """`|Title` rows of a two-column table, each with the text of its value cell."""
    cells: dict[str, str] = {}
    title = None
    buf: list[str] = []
    for line in lines:
        m = re.match(r"^\|\s*(Description|Valid values|Default value|Replaced by)\s*$", line)
        if m:
            if title is not None:
                cells[title] = "\n".join(buf).strip()
            title = m.group(1)
            buf = []
        elif title is not None:
            if not buf:
                line = re.sub(r"^\s*[am]?\|", "", line)
            buf.append(line)
    if title is not None:
        cells[title] = "\n".join(buf).strip()
    return cells


def _default(cell: str | None) -> str | None:
    if cell is None:
        return None
    text = LABEL_RE.sub("", cell).strip()
    if text == "":
        return None
    m = re.fullmatch(r"\+\+\+(.*)\+\+\+", text, re.S)
    if m:
        return m.group(1)
    return text


def name_regex(name: str) -> str | None:
    """For a group setting with `<placeholders>`, the regular expression its keys match."""
    if "<" not in name:
        return None
    parts = re.split(r"<[^>]+>", name)
    return "^" + "[^.]+".join(re.escape(p) for p in parts) + "$"


def parse_settings_page(text: str) -> list[dict]:
    lines = text.splitlines()
    settings: list[dict] = []
    i = 0
    n = len(lines)
    while i < n:
        # Setting anchors are `[[config_<name>]]`, a few just `[[<name>]]`; other anchors
        # (sections) are not followed by a `=== `<name>`` heading.
        m = re.match(r"^\[\[(?:config_)?([a-z][^\]]*)\]\]\s*$", lines[i])
        if not m:
            i += 1
            continue
        anchor_line = i
        k = i + 1
        while k < n and lines[k].strip() == "":
            k += 1
        if k >= n or not re.match(r"^===\s+`", lines[k]):
            i += 1
            continue
        roles: list[str] = []
        j = anchor_line - 1
        while j >= 0 and lines[j].startswith("[role="):
            roles += re.sub(r"[\"\]]", "", lines[j][len("[role=") :]).split()
            j -= 1
        i = k
        heading = lines[i]
        hm = re.match(r"^===\s+`([^`]+)`(.*)$", heading)
        if not hm:
            raise DocsError(f"unexpected heading {heading!r}")
        name = hm.group(1).strip()
        labels_text = hm.group(2)
        i += 1
        # Label lines between the heading and the table caption.
        while i < n and not lines[i].startswith("|==="):
            if lines[i].startswith("label:"):
                labels_text += " " + lines[i]
            i += 1
        start = i + 1
        i = start
        while i < n and lines[i] != "|===":
            i += 1
        cells = _table_cells(lines[start:i])
        i += 1
        if "Valid values" not in cells:
            raise DocsError(f"{name}: no 'Valid values' row")
        settings.append(build_setting(name, roles, labels_text, cells))
    headings = sum(1 for line in lines if re.match(r"^===\s+`", line))
    if headings != len(settings):
        raise DocsError(f"{headings} setting headings but {len(settings)} settings parsed (an anchor missing?)")
    return settings


def build_setting(name: str, roles: list[str], labels_text: str, cells: dict[str, str]) -> dict:
    inline = {k for k, _ in LABEL_RE.findall(labels_text)}
    enterprise = any(r in ("label--enterprise-edition", "label--enterprise") for r in roles) or bool(
        inline & {"enterprise-edition", "enterprise"}
    )
    dynamic_since = _versions("dynamic", roles) + _inline_versions("dynamic", labels_text)
    dynamic = "label--dynamic" in roles or "dynamic" in inline or bool(dynamic_since)
    introduced = _versions("new", roles) + _inline_versions("new", labels_text)
    deprecated = _versions("deprecated", roles) + _inline_versions("deprecated", labels_text)
    changed = _versions("changed", roles) + _inline_versions("changed", labels_text)
    renamed = _versions("renamed", roles)
    valid_raw = cells["Valid values"]
    default_raw = cells.get("Default value")
    changed += _inline_versions("changed", valid_raw) + _inline_versions("changed", default_raw or "")
    s: dict = {
        "name": name,
        "edition": "enterprise" if enterprise else "community",
        "dynamic": dynamic,
        "type": parse_type(strip_markup_keep_ticks(valid_raw).replace("+++", "").strip()),
        "default": _default(default_raw),
    }
    regex = name_regex(name)
    if regex:
        s["name_regex"] = regex
    if dynamic_since:
        s["dynamic_since"] = dynamic_since[0]
    if introduced:
        s["introduced"] = introduced[0]
    if deprecated:
        s["deprecated"] = deprecated[0]
    if changed:
        s["changed"] = sorted(set(changed), key=version_key)
    if renamed:
        s["renamed"] = renamed[0]
        desc = strip_markup_keep_ticks(cells.get("Description", ""))
        m = re.search(r"renamed in [0-9.]+ from `([^`]+)`", desc)
        if m:
            s["renamed_from"] = m.group(1)
    if "Replaced by" in cells:
        names = setting_names(cells["Replaced by"]) or [strip_markup(cells["Replaced by"])]
        s["replaced_by"] = names[0]
    return s


def version_key(v: str) -> tuple:
    return tuple(int(p) for p in v.split("."))


# ---------------------------------------------------------------------------------------------
# The SSL policy group (ssl-framework page). Its table has no type column; the types below are
# this project's reading of each suffix, checked against what Neo4j declares by tests/neo4j.

SSL_SUFFIX_TYPES = {
    "enabled": {"kind": "boolean"},
    "base_directory": {"kind": "path"},
    "private_key": {"kind": "path", "relative_to": "base_directory"},
    "private_key_password": {"kind": "string", "secret": True},
    "public_certificate": {"kind": "path", "relative_to": "base_directory"},
    "trusted_dir": {"kind": "path", "relative_to": "base_directory"},
    "revoked_dir": {"kind": "path", "relative_to": "base_directory"},
    "verify_hostname": {"kind": "boolean"},
    "ciphers": {"kind": "list", "element": {"kind": "string"}},
    "tls_versions": {"kind": "list", "element": {"kind": "string"}},
    "client_auth": {"kind": "enum", "values": ["NONE", "OPTIONAL", "REQUIRE"]},
    "trust_all": {"kind": "boolean"},
}


def parse_ssl_page(text: str) -> list[dict]:
    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if "`dbms.ssl.policy.<scope>.<setting-suffix>`" in l)
    except StopIteration as e:
        raise DocsError("ssl-framework page: no dbms.ssl.policy.<scope>.<setting-suffix> section") from e
    scopes_line = next((l for l in lines[start:] if l.startswith("* `scope`")), "")
    scopes = _ticked(scopes_line)[1:]
    i = next(k for k in range(start, len(lines)) if lines[k].startswith("| Setting suffix"))
    end = next(k for k in range(i + 1, len(lines)) if lines[k] == "|===")
    # The cells of the three-column table, in order: spanning group headers ("3+^.^| *Basic*")
    # dropped, continuation lines joined to the cell they continue.
    body = " ".join(l.strip() for l in lines[i + 1 : end] if not re.match(r"^\s*\d\+", l))
    cells = [c.strip() for c in body.split("|")[1:]]
    if len(cells) % 3 != 0:
        raise DocsError(f"ssl-framework page: {len(cells)} cells is not a three-column table")
    rows = [cells[k : k + 3] for k in range(0, len(cells), 3)]
    out = []
    for row in rows:
        row = (row + ["", "", ""])[:3]
        ticked = _ticked(row[0])
        suffix = ticked[0] if ticked else unquote(row[0])
        footnote = re.search(r"footnote:\[(.*)\]", row[0])
        if suffix not in SSL_SUFFIX_TYPES:
            raise DocsError(f"ssl-framework page: unknown suffix {suffix!r}; extend SSL_SUFFIX_TYPES")
        default = strip_markup(row[2]) or None
        by_scope: dict[str, str] = {}
        if default is not None:
            default = re.sub(r"`\s*\+\s*`", ",", default).strip()
            if re.fullmatch(r"`[^`]*`", default):
                default = default[1:-1]
            else:
                # "`OPTIONAL` for `bolt` and `https`; + `REQUIRE` for `cluster` and `backup`."
                for part in default.split(";"):
                    ticks = _ticked(part)
                    if len(ticks) >= 2 and " for " in part:
                        by_scope.update({scope: ticks[0] for scope in ticks[1:]})
                default = None  # otherwise prose, e.g. the JVM's own cipher list
        name = f"dbms.ssl.policy.<scope>.{suffix}"
        entry = {
            "name": name,
            "name_regex": name_regex(name),
            "edition": "community",
            "dynamic": False,
            "type": SSL_SUFFIX_TYPES[suffix],
            "default": default,
            "group": {"prefix": "dbms.ssl.policy", "documented_ids": scopes},
        }
        if by_scope:
            entry["default_by_id"] = dict(sorted(by_scope.items()))
        if footnote:
            m = re.search(rf"In Neo4j ({VERSION}), the default value is changed", footnote.group(1))
            if m:
                entry["changed"] = [m.group(1)]
        out.append(entry)
    return out


def parse_group_section(text: str) -> list[dict]:
    """The load-balancing policy group described in prose on the settings page."""
    out = []
    m = re.search(r"^== Configuration setting group$(.*?)^== ", text, re.M | re.S)
    if not m:
        return out
    section = m.group(1)
    before = text[: m.start()].rstrip().splitlines()[-1:]
    enterprise = any("label--enterprise" in l for l in before)
    for name in sorted(set(re.findall(r"^(dbms\.[a-z0-9_.]+\.<[a-z-]+>)=", section, re.M))):
        default = re.search(re.escape(name.split("<")[0]) + r"default=(\S+)", section)
        out.append(
            {
                "name": name,
                "name_regex": name_regex(name),
                "edition": "enterprise" if enterprise else "community",
                "dynamic": False,
                "type": {"kind": "string"},
                "default": None,
                "group": {
                    "prefix": name.split(".<")[0],
                    "documented_ids": ["default"],
                    "documented_defaults": {"default": default.group(1)} if default else {},
                },
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# CalVer changes: removed and renamed settings, deprecations


def parse_breaking(text: str) -> tuple[list[dict], list[dict]]:
    removed: list[dict] = []
    renamed: list[dict] = []
    m = re.search(r"\.Renamed configuration settings\n.*?\|===\n(.*?)\|===", text, re.S)
    if m:
        names = re.findall(r"^\|`([^`]+)`", m.group(1), re.M)
        for old, new in zip(names[0::2], names[1::2]):
            renamed.append({"name": old, "renamed_to": new})
    head = re.search(r"^\.See removed configuration settings in Neo4j ([0-9.]+)\.", text, re.M)
    if head:
        version = head.group(1)
        body = text[head.end() :]
        table = re.search(r"\|===\n(.*?)\n\|===", body, re.S)
        if not table:
            raise DocsError("breaking-changes page: removed-settings table not found")
        rows = re.split(r"\n\s*\n", table.group(1))
        for row in rows:
            row = row.strip()
            lm = re.match(r"^\|\s*link:[^\[]*\[([^\]]+)\](.*?)\n\|(.*)$", row, re.S)
            if not lm:
                continue
            name = lm.group(1).strip()
            entry = {"name": name, "removed_in": version}
            if "enterprise" in lm.group(2):
                entry["edition"] = "enterprise"
            else:
                entry["edition"] = "community"
            repl = setting_names(lm.group(3))
            if repl:
                entry["replaced_by"] = repl[0]
            removed.append(entry)
    return removed, renamed


def parse_deprecations(text: str) -> dict[str, dict]:
    """name -> {deprecated, replaced_by?} from the deprecations page's settings table."""
    out: dict[str, dict] = {}
    m = re.search(r"^== Configuration settings$.*?\|===\n(.*?)\n\|===", text, re.M | re.S)
    if not m:
        return out
    rows = re.split(r"\n\s*\n", m.group(1))
    for row in rows:
        cells = [c.strip() for c in re.split(r"^\|", row.strip(), flags=re.M) if c.strip() != "" or True]
        cells = [c for c in cells[1:]]
        if len(cells) < 2 or not re.fullmatch(VERSION, cells[0].strip()):
            continue
        names = setting_names(cells[1])
        if not names:
            continue
        entry = {"deprecated": cells[0].strip()}
        if len(cells) >= 5:
            repl = setting_names(cells[4])
            if repl:
                entry["replaced_by"] = repl[0]
        out[names[0]] = entry
    return out


# ---------------------------------------------------------------------------------------------
# One release line


def antora_version(text: str) -> str | None:
    m = re.search(r"neo4j-version-exact:\s*'?([0-9.]+)'?", text)
    return m.group(1) if m else None


UNDOCUMENTED = Path(__file__).resolve().parent / "undocumented.json"


def undocumented(line: str) -> list[dict]:
    """Settings Neo4j declares that the manual omits (this project's list, see the file)."""
    out = []
    for e in json.loads(UNDOCUMENTED.read_text(encoding="utf-8"))["settings"]:
        if line not in e["lines"]:
            continue
        s = {k: v for k, v in e.items() if k != "lines"}
        s["documented"] = False
        regex = name_regex(s["name"])
        if regex:
            s["name_regex"] = regex
        out.append(s)
    return out


def build_line(docs: Docs, line: str) -> dict:
    page = docs.read(SETTINGS_PAGE)
    settings = parse_settings_page(page)
    settings += parse_group_section(page)
    ssl = docs.read(SSL_PAGE, required=False)
    if ssl is not None:
        settings += parse_ssl_page(ssl)
    by_name: dict[str, dict] = {}
    for s in settings:
        if s["name"] in by_name:
            raise DocsError(f"{s['name']} documented twice")
        by_name[s["name"]] = s

    for extra in undocumented(line):
        if extra["name"] in by_name:
            raise DocsError(f"{extra['name']} is documented now; remove it from {UNDOCUMENTED.name}")
        by_name[extra["name"]] = extra

    removed: list[dict] = []
    renamed: list[dict] = []
    if line != "5.26":
        breaking = docs.read(BREAKING_PAGE, required=False)
        if breaking is not None:
            removed, renamed = parse_breaking(breaking)
        deps = docs.read(DEPRECATIONS_PAGE, required=False)
        for name, d in (parse_deprecations(deps) if deps else {}).items():
            s = by_name.get(name)
            if s is None:
                continue
            s.setdefault("deprecated", d["deprecated"])
            if "replaced_by" in d:
                s.setdefault("replaced_by", d["replaced_by"])
        for r in renamed:
            target = by_name.get(r["renamed_to"])
            if target is not None:
                target.setdefault("renamed_from", r["name"])

    pages = [SETTINGS_PAGE, SSL_PAGE] + ([BREAKING_PAGE, DEPRECATIONS_PAGE] if line != "5.26" else [])
    return {
        "schema_version": SCHEMA_VERSION,
        "release_line": line,
        "source": {
            "repository": REPOSITORY,
            "branch": docs.branch,
            "commit": docs.commit,
            "pages": pages,
            "neo4j_version_documented": antora_version(docs.read(ANTORA) or ""),
        },
        "counts": {
            "settings": len(by_name),
            "community": sum(1 for s in by_name.values() if s["edition"] == "community"),
            "enterprise": sum(1 for s in by_name.values() if s["edition"] == "enterprise"),
            "removed": len(removed),
        },
        "settings": [by_name[k] for k in sorted(by_name)],
        "removed": sorted(removed, key=lambda r: r["name"]),
        "renamed": sorted(renamed, key=lambda r: r["name"]),
    }


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", default=os.environ.get("NEO4J_DOCS_OPERATIONS"), help="docs-operations git repository")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "shared/data/neo4j-settings"))
    p.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    p.add_argument("--line", action="append", default=[], help="NAME=BRANCH (default 5.26=5.x, calver=main)")
    a = p.parse_args(argv)
    if not a.docs:
        p.error("no docs repository: pass --docs PATH or set NEO4J_DOCS_OPERATIONS")
    lines = dict(DEFAULT_LINES)
    for spec in a.line:
        name, _, branch = spec.partition("=")
        if not branch:
            p.error(f"--line {spec!r}: expected NAME=BRANCH")
        lines[name] = branch
    out = Path(a.out)
    drift = []
    for name, branch in sorted(lines.items()):
        try:
            doc = build_line(Docs(Path(a.docs), branch), name)
        except DocsError as e:
            print(f"settings catalogue {name}: {e}", file=sys.stderr)
            return 2
        text = render(doc)
        target = out / f"{name}.json"
        if a.check:
            have = target.read_text(encoding="utf-8") if target.exists() else None
            if have != text:
                drift.append(str(target))
            else:
                print(f"{target}: up to date")
        else:
            out.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"{target}: {doc['counts']['settings']} settings written")
    if drift:
        for d in drift:
            print(f"{d}: differs from what the docs generate; run make settings-catalogue", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
