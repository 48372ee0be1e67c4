"""Tests of generate.py on small excerpts written in the shape of the Operations Manual pages.

Run: python3 -m unittest discover -s scripts/neo4j-settings (part of `make unit`).
"""

import json
import subprocess
import tempfile
import unittest
from pathlib import Path

import generate as g

SETTINGS_PAGE = """\
= Configuration settings

[role=label--enterprise-edition label--dynamic label--deprecated-5.19]
[[config_dbms.security.oidc.-provider-.client_id]]
=== `dbms.security.oidc.<provider>.client_id`

.dbms.security.oidc.<provider>.client_id
[frame="topbot", stripes=odd, grid="cols", cols="<1s,<4"]
|===
|Description
a|Client id.
|Valid values
a|A string.
|===


[role=label--new-5.18]
[[server.bolt.traffic_accounting_incoming_threshold_mbps]]
=== `server.bolt.traffic_accounting_incoming_threshold_mbps`

.server.bolt.traffic_accounting_incoming_threshold_mbps
|===
|Description
a|Threshold.
|Valid values
a|A long that is minimum `1`.
|Default value
m|+++950+++
|===

[[config_db.memory.transaction.total.max]]
=== `db.memory.transaction.total.max`

label:dynamic[Dynamic]

|===
|Description
a|Limit.
| Valid values
| A byte size (valid multipliers are `B`, `KiB`) that is minimum `10.00MiB` or is `0B`.
|Default value
m|+++0B+++
|Replaced by
a|<<config_db.other,`db.other`>>
|===
"""


class ParseType(unittest.TestCase):
    def test_kinds_and_bounds(self):
        cases = {
            "A boolean.": {"kind": "boolean"},
            "An integer that is in the range `1` to `11`.": {"kind": "integer", "min": "1", "max": "11"},
            "A byte size (valid multipliers are `B`) that is minimum `1.00KiB`.": {"kind": "bytes", "min": "1.00KiB"},
            "A duration (Valid units are: ns; default unit is s) that is 0s or is minimum `1m`.": {
                "kind": "duration",
                "min": "1m",
                "or": "0s",
            },
            "One of [PRIMARY, SECONDARY].": {"kind": "enum", "values": ["PRIMARY", "SECONDARY"]},
            "A comma-separated set where each element is a socket address in the format of `hostname:port`.": {
                "kind": "list",
                "unique": True,
                "element": {"kind": "socket_address"},
            },
            "A path. If relative, it is resolved from server.directories.data.": {
                "kind": "path",
                "relative_to": "server.directories.data",
            },
            "A hostname that has no specified port.": {"kind": "hostname"},
            "Something new.": {"kind": "other"},
        }
        for text, want in cases.items():
            with self.subTest(text=text):
                self.assertEqual(g.parse_type(text), want)


class ParseSettingsPage(unittest.TestCase):
    def test_roles_anchors_labels_and_rows(self):
        settings = {s["name"]: s for s in g.parse_settings_page(SETTINGS_PAGE)}
        self.assertEqual(
            sorted(settings),
            [
                "db.memory.transaction.total.max",
                "dbms.security.oidc.<provider>.client_id",
                "server.bolt.traffic_accounting_incoming_threshold_mbps",
            ],
        )
        oidc = settings["dbms.security.oidc.<provider>.client_id"]
        self.assertEqual(oidc["edition"], "enterprise")
        self.assertTrue(oidc["dynamic"])
        self.assertEqual(oidc["deprecated"], "5.19")
        self.assertIsNone(oidc["default"])
        self.assertEqual(oidc["name_regex"], r"^dbms\.security\.oidc\.[^.]+\.client_id$")

        traffic = settings["server.bolt.traffic_accounting_incoming_threshold_mbps"]
        self.assertEqual(traffic["edition"], "community")
        self.assertEqual(traffic["introduced"], "5.18")
        self.assertEqual(traffic["type"], {"kind": "long", "min": "1"})
        self.assertEqual(traffic["default"], "950")

        tx = settings["db.memory.transaction.total.max"]
        self.assertTrue(tx["dynamic"])
        self.assertEqual(tx["type"], {"kind": "bytes", "min": "10.00MiB", "or": "0B"})
        self.assertEqual(tx["replaced_by"], "db.other")

    def test_a_heading_without_anchor_is_an_error(self):
        with self.assertRaises(g.DocsError):
            g.parse_settings_page(SETTINGS_PAGE + "\n=== `db.orphan`\n|===\n|Valid values\na|A boolean.\n|===\n")


class ParseSslPage(unittest.TestCase):
    PAGE = """\
`dbms.ssl.policy.<scope>.<setting-suffix>`

* `scope` is the name of the communication channel, such as `bolt`, `https`.

|===
| Setting suffix         | Description     | Default value
3+^.^| *Basic*
| `enabled`              | Enables it.     | `false`
| `client_auth`          | Whether or not clients must be authenticated.
                           Other possible values are `NONE`.           | `OPTIONAL` for `bolt`; +
                            `REQUIRE` for `cluster`.
| `tls_versions`         | Allowed versions.  | `TLSv1.2` +
                               `TLSv1.3`
|===
"""

    def test_suffixes_defaults_and_scopes(self):
        rows = {s["name"]: s for s in g.parse_ssl_page(self.PAGE)}
        enabled = rows["dbms.ssl.policy.<scope>.enabled"]
        self.assertEqual(enabled["default"], "false")
        self.assertEqual(enabled["group"]["documented_ids"], ["bolt", "https"])
        self.assertEqual(rows["dbms.ssl.policy.<scope>.tls_versions"]["default"], "TLSv1.2,TLSv1.3")
        client_auth = rows["dbms.ssl.policy.<scope>.client_auth"]
        self.assertIsNone(client_auth["default"])
        self.assertEqual(client_auth["default_by_id"], {"bolt": "OPTIONAL", "cluster": "REQUIRE"})


class ParseBreaking(unittest.TestCase):
    PAGE = """\
.Renamed configuration settings
[options=header, cols="3,3"]
|===
| Old name
| New name

|`dbms.cluster.discovery.v2.endpoints`
|`dbms.cluster.endpoints`
|===

.See removed configuration settings in Neo4j 2025.01.
[%collapsible]
====
|===
|Name
|Comments

|link:x#config_server.groups[server.groups] label:enterprise[Enterprise Edition]
|Replaced by xref:y#config_initial.server.tags[`initial.server.tags`].

|link:x#config_db.tx_state.memory_allocation[db.tx_state.memory_allocation]
|Removed without replacement.
|===
====
"""

    def test_removed_and_renamed(self):
        removed, renamed = g.parse_breaking(self.PAGE)
        self.assertEqual(renamed, [{"name": "dbms.cluster.discovery.v2.endpoints", "renamed_to": "dbms.cluster.endpoints"}])
        by = {r["name"]: r for r in removed}
        self.assertEqual(by["server.groups"]["replaced_by"], "initial.server.tags")
        self.assertEqual(by["server.groups"]["edition"], "enterprise")
        self.assertEqual(by["server.groups"]["removed_in"], "2025.01")
        self.assertNotIn("replaced_by", by["db.tx_state.memory_allocation"])
        self.assertEqual(by["db.tx_state.memory_allocation"]["edition"], "community")


class EndToEnd(unittest.TestCase):
    """generate.py on a throwaway git repository: output written, then --check passes and fails."""

    def test_generate_then_check(self):
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "docs"
            (repo / "modules/ROOT/pages/configuration").mkdir(parents=True)
            (repo / g.SETTINGS_PAGE).write_text(SETTINGS_PAGE, encoding="utf-8")
            (repo / g.ANTORA).write_text("asciidoc:\n  attributes:\n    neo4j-version-exact: '5.26.9'\n")

            def git(*args):
                subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

            git("init", "-q", "-b", "5.x")
            git("add", "-A")
            git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "docs")
            out = Path(tmp) / "out"
            args = ["--docs", str(repo), "--out", str(out), "--line", "5.26=5.x"]
            lines_only = ["--line", "calver=5.x"]
            self.assertEqual(g.main(args + lines_only), 0)
            doc = json.loads((out / "5.26.json").read_text(encoding="utf-8"))
            self.assertEqual(doc["source"]["branch"], "5.x")
            self.assertEqual(doc["source"]["neo4j_version_documented"], "5.26.9")
            self.assertEqual(len(doc["source"]["commit"]), 40)
            names = [s["name"] for s in doc["settings"]]
            self.assertEqual(names, sorted(names))
            self.assertIn("dbms.ssl.policy.<scope>.trust_expired", names)  # from undocumented.json
            self.assertEqual(g.main(args + lines_only + ["--check"]), 0)
            (out / "5.26.json").write_text("{}\n", encoding="utf-8")
            self.assertEqual(g.main(args + lines_only + ["--check"]), 1)


if __name__ == "__main__":
    unittest.main()
