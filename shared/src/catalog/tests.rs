//! The catalogue as a checked interface: its rows are well-formed, they match the ids the code
//! reports (read from the sources under `src/`), and every id has a table test with a hit and
//! a near miss.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::{Value, json};

use super::*;
use crate::engine;
use crate::inventory::NoInventory;
use crate::types::Operation as AdmissionOperation;

fn kebab() -> Regex {
    crate::validate::DNS1035_LABEL.clone()
}

fn id_shaped(s: &str) -> bool {
    s.contains('-') && s.len() <= 63 && kebab().is_match(s)
}

#[test]
fn ids_are_unique_kebab_case_and_sorted_per_table() {
    let mut seen = BTreeMap::new();
    for (table, rule) in all() {
        assert!(
            kebab().is_match(rule.id) && rule.id.contains('-'),
            "{}: not a kebab-case id",
            rule.id
        );
        if let Some(first) = seen.insert(rule.id, table) {
            panic!("{} is listed in {first:?} and {table:?}", rule.id);
        }
    }
    for table in Table::ALL {
        let ids: Vec<_> = table.rules().iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "table {} is not sorted by id", table.name());
    }
}

#[test]
fn rows_are_complete_and_one_line() {
    for (table, r) in all() {
        let what = format!("{} ({})", r.id, table.name());
        assert!(!r.kinds.is_empty(), "{what}: no kind");
        assert!(!r.fields.is_empty(), "{what}: no field");
        for text in [r.message, r.hint]
            .into_iter()
            .chain(r.fields.iter().copied())
        {
            assert!(!text.trim().is_empty(), "{what}: empty text");
            assert!(
                !text.chars().any(char::is_control),
                "{what}: {text:?} is not one line"
            );
            assert_eq!(text.trim(), text, "{what}: {text:?} has outer spaces");
            // Printed inside markdown code spans by `neo4j-webhook rules`.
            assert!(!text.contains('`'), "{what}: {text:?} holds a backtick");
        }
        let mut kinds = r.kinds.to_vec();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), r.kinds.len(), "{what}: a kind is listed twice");
    }
}

#[test]
fn lookups_agree_with_the_tables() {
    let (table, rule) = get("cluster-min-servers").unwrap_or_else(|| panic!("not listed"));
    assert_eq!((table, rule.severity), (Table::Cluster, Severity::Error));
    assert!(get("no-such-rule").is_none());
    let backup = ids_for(Kind::Backup);
    assert!(backup.contains(&"backup-scope-required"));
    assert!(backup.contains(&"cross-check-skipped"));
    assert!(backup.contains(&"field-not-implemented"));
    assert!(!backup.contains(&"api-version-unsupported"));
    assert!(!backup.contains(&"cluster-min-servers"));
    assert_eq!(
        ids_on(Kind::Standalone, Stage::Update),
        [
            "standalone-storage-class-immutable",
            "storage-size-no-shrink"
        ]
    );
    assert_eq!(
        all().count(),
        Table::ALL.iter().map(|t| t.rules().len()).sum::<usize>()
    );
}

// ---------------------------------------------------------------------------------------------
// Reading the sources
// ---------------------------------------------------------------------------------------------

/// One source file: its code with comments blanked and every string or char literal replaced
/// by `"` and spaces (same byte offsets), and the value of each string literal by offset.
struct Source {
    path: PathBuf,
    code: String,
    literals: BTreeMap<usize, String>,
}

/// Blanks comments and literals of Rust source, keeping byte offsets.
fn lex(src: &str) -> (String, BTreeMap<usize, String>) {
    let b = src.as_bytes();
    let mut code = b.to_vec();
    let mut literals = BTreeMap::new();
    let blank = |code: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut code[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        let at_token = i == 0 || !ident(b[i - 1]);
        if b[i..].starts_with(b"//") {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            blank(&mut code, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut code, i, j);
            i = j;
        } else if let Some((open, hashes)) = at_token.then(|| raw_string_start(&b[i..])).flatten() {
            let body = i + open;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let end = find_bytes(&b[body..], &close).map_or(b.len(), |n| body + n);
            literals.insert(i, src[body..end].to_string());
            let stop = (end + close.len()).min(b.len());
            blank(&mut code, i, stop);
            code[i] = b'"';
            i = stop;
        } else if b[i] == b'"' || (at_token && b[i..].starts_with(b"b\"")) {
            let start = i;
            let mut j = if b[i] == b'b' { i + 2 } else { i + 1 };
            let mut value = String::new();
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    j += 2;
                } else {
                    let ch = src[j..].chars().next().unwrap_or(' ');
                    value.push(ch);
                    j += ch.len_utf8();
                }
            }
            literals.insert(start, value);
            let stop = (j + 1).min(b.len());
            blank(&mut code, start, stop);
            code[start] = b'"';
            i = stop;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\''), or a lifetime / label ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                let mut j = i + 3;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                Some(j + 1)
            } else {
                let ch = src[i + 1..].chars().next().unwrap_or(' ');
                let after = i + 1 + ch.len_utf8();
                (b.get(after) == Some(&b'\'')).then_some(after + 1)
            };
            match end {
                Some(end) => {
                    let end = end.min(b.len());
                    blank(&mut code, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    (String::from_utf8_lossy(&code).into_owned(), literals)
}

/// `r"`, `r#"`, `br"`…: the length of the opening and the number of `#`.
fn raw_string_start(b: &[u8]) -> Option<(usize, usize)> {
    let rest = b.strip_prefix(b"br").or_else(|| b.strip_prefix(b"r"))?;
    let hashes = rest.iter().take_while(|c| **c == b'#').count();
    (rest.get(hashes) == Some(&b'"')).then_some((b.len() - rest.len() + hashes + 1, hashes))
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Byte ranges of `#[cfg(test)]` items in `code`, and the names of the modules declared that
/// way in another file (`#[cfg(test)] mod tests;`).
fn test_items(code: &str) -> (Vec<(usize, usize)>, Vec<String>) {
    let attribute = Regex::new(r"#\[cfg\(test\)\]").unwrap_or_else(|e| panic!("{e}"));
    let declaration = Regex::new(r"^(\s*#\[[^\]]*\])*\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*;")
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut ranges, mut files) = (Vec::new(), Vec::new());
    for m in attribute.find_iter(code) {
        let rest = &code[m.end()..];
        let (brace, semi) = (rest.find('{'), rest.find(';'));
        if semi.is_some_and(|s| brace.is_none_or(|b| s < b)) {
            if let Some(c) = declaration.captures(rest) {
                files.push(c[4].to_string());
            }
            ranges.push((m.start(), m.end() + semi.unwrap_or(0) + 1));
            continue;
        }
        let Some(open) = brace else { continue };
        let mut depth = 0usize;
        let mut end = code.len();
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = m.end() + open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        ranges.push((m.start(), end));
    }
    (ranges, files)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The directory holding the submodules of the module in `file`.
fn module_dir(file: &Path) -> PathBuf {
    let parent = file.parent().map(Path::to_path_buf).unwrap_or_default();
    match file.file_stem().and_then(|s| s.to_str()) {
        Some("mod" | "lib" | "main") => parent,
        Some(stem) => parent.join(stem),
        None => parent,
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file under `src/` except the catalogue itself: (non-test code, all code).
/// Test code is `#[cfg(test)]` items, files marked `#![cfg(test)]`, and the files of modules
/// declared `#[cfg(test)]` (with everything below them).
fn sources() -> (Vec<Source>, Vec<Source>) {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let catalog = src_dir().join("catalog");
    let mut lexed = Vec::new();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for path in files.into_iter().filter(|p| !p.starts_with(&catalog)) {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (code, literals) = lex(&text);
        if code.contains("#![cfg(test)]") {
            test_only.insert(path.clone());
        }
        let (ranges, test_modules) = test_items(&code);
        for name in test_modules {
            let dir = module_dir(&path);
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name));
        }
        lexed.push((path, code, literals, ranges));
    }
    let (mut production, mut everything) = (Vec::new(), Vec::new());
    for (path, code, literals, ranges) in lexed {
        everything.push(Source {
            path: path.clone(),
            code: code.clone(),
            literals: literals.clone(),
        });
        if test_only.iter().any(|t| path.starts_with(t)) {
            continue;
        }
        let inside = |at: usize| ranges.iter().any(|(s, e)| (*s..*e).contains(&at));
        let mut kept = code.into_bytes();
        for (s, e) in &ranges {
            for c in &mut kept[*s..*e] {
                if *c != b'\n' {
                    *c = b' ';
                }
            }
        }
        production.push(Source {
            path,
            code: String::from_utf8_lossy(&kept).into_owned(),
            literals: literals
                .into_iter()
                .filter(|(at, _)| !inside(*at))
                .collect(),
        });
    }
    (production, everything)
}

/// A call that reports a finding, and the literal given as its first argument (if it is one).
struct Report {
    file: String,
    call: &'static str,
    id: Option<String>,
}

fn reports(s: &Source) -> Vec<Report> {
    let calls = Regex::new(r"\.(error|warn)\(|Finding::new\(").unwrap_or_else(|e| panic!("{e}"));
    calls
        .captures_iter(&s.code)
        .map(|c| {
            let all = c.get(0).map_or(0..0, |m| m.range());
            let call = match c.get(1).map(|m| m.as_str()) {
                Some("error") => "error",
                Some(_) => "warn",
                None => "Finding::new",
            };
            let rest = &s.code[all.end..];
            let first = all.end + (rest.len() - rest.trim_start().len());
            Report {
                file: s.path.display().to_string(),
                call,
                id: s.literals.get(&first).cloned(),
            }
        })
        .collect()
}

/// Kebab-case literals of the files that report findings which are not rule ids.
const NOT_RULE_IDS: &[&str] = &[
    // spec.tls.mode
    "cert-manager",
    // spec.mode of a backup
    "replication-source",
    // a string format of the CRD schema
    "date-time",
    // the plugin compatibility table
    "apoc-extended",
    "graph-data-science",
    "neo4j-bloom",
    "neo4j-browser",
    "neo4j-desktop",
    "neo4j-etl",
    "neo4j-fabric",
    "neo4j-genai",
    "neo4j-graph-algorithms",
    "neo4j-graphql",
    "neo4j-kafka-connect",
    "neo4j-spark-connector",
    "neo4j-streams",
    "neo4j-vector",
];

#[test]
fn the_lexer_sees_literals_and_skips_comments_and_test_code() {
    let src = r####"
// .error("in-a-comment", "f", "m")
/* .warn("in-a-block", /* nested */ "f", "m") */
fn f(v: &mut Verdict) {
    let c = '"'; let q = '\''; let l: &'static str = "x";
    v.error(
        "real-rule",
        "spec.x",
        r#"raw "quoted" text"#,
    );
    v.warn(RULE, "spec.y", "m");
}
#[cfg(test)]
mod tests {
    fn t(v: &mut Verdict) { v.error("test-only", "f", "m"); }
}
#[cfg(test)]
mod more;
"####;
    let (code, literals) = lex(src);
    let (ranges, modules) = test_items(&code);
    assert_eq!(modules, ["more"]);
    assert_eq!(ranges.len(), 2);
    let source = Source {
        path: PathBuf::from("x.rs"),
        code: code.clone(),
        literals: literals.clone(),
    };
    let ids: Vec<_> = reports(&source).into_iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [
            Some("real-rule".to_string()),
            None,
            Some("test-only".into())
        ]
    );
    assert!(literals.values().any(|v| v == "raw \"quoted\" text"));
    assert!(!literals.values().any(|v| v.contains("comment")));
    assert_eq!(code.len(), src.len());
}

#[test]
fn every_reported_id_is_listed_and_every_listed_id_is_reported() {
    let (production, _) = sources();
    let listed: BTreeMap<&str, Severity> = all().map(|(_, r)| (r.id, r.severity)).collect();
    let mut problems = Vec::new();
    let mut reporting_files = Vec::new();
    for s in &production {
        let found = reports(s);
        if found.is_empty() {
            continue;
        }
        reporting_files.push(s);
        for r in found {
            let Some(id) = r.id else { continue };
            match listed.get(id.as_str()) {
                None => problems.push(format!(
                    "{}: `{}` reports {id:?}, which the catalogue does not list",
                    r.file, r.call
                )),
                Some(Severity::Error) if r.call == "warn" => problems.push(format!(
                    "{}: {id} is an error in the catalogue but reported as a warning",
                    r.file
                )),
                Some(Severity::Warning) if r.call == "error" => problems.push(format!(
                    "{}: {id} is a warning in the catalogue but reported as an error",
                    r.file
                )),
                Some(_) => {}
            }
        }
    }
    // Ids reach the calls through constants, tables and variables too: every id-shaped
    // literal of the files that report findings must be a listed id.
    let mut in_code = BTreeSet::new();
    for s in &production {
        in_code.extend(s.literals.values().cloned());
    }
    for s in &reporting_files {
        for value in s.literals.values() {
            if id_shaped(value)
                && !listed.contains_key(value.as_str())
                && !NOT_RULE_IDS.contains(&value.as_str())
            {
                problems.push(format!(
                    "{}: {value:?} looks like a rule id but the catalogue does not list it (if it is not one, add it to NOT_RULE_IDS)",
                    s.path.display()
                ));
            }
        }
    }
    for id in listed.keys() {
        if !in_code.contains(*id) {
            problems.push(format!(
                "{id} is listed in the catalogue but no code outside the catalogue names it"
            ));
        }
    }
    assert!(
        reporting_files.len() >= 8,
        "found only {} files that report findings",
        reporting_files.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------------------------

/// Every coverage list but the envelope one (asserted in this file, by
/// [`envelope_rules_table`]), with a pattern of the call a table test makes to use it.
fn coverage_lists() -> Vec<(String, Vec<&'static str>)> {
    let mut lists = vec![
        (r"coverage::schema\(\)".to_string(), coverage::schema()),
        (r"coverage::shared\(\)".to_string(), coverage::shared()),
        (
            r"coverage::shared_cross\(\)".into(),
            coverage::shared_cross(),
        ),
        (r"coverage::cluster\(\)".into(), coverage::cluster()),
        (
            r"coverage::cluster_update\(\)".into(),
            coverage::cluster_update(),
        ),
        (r"coverage::standalone\(\)".into(), coverage::standalone()),
        (r"coverage::memory\(\)".into(), coverage::memory()),
    ];
    for kind in [Kind::Backup, Kind::Restore, Kind::Database, Kind::Plugin] {
        lists.push((
            format!(r"coverage::kind\(([\w:]*::)?Kind::{kind:?}\)"),
            coverage::kind(kind),
        ));
    }
    lists
}

#[test]
fn every_id_is_in_a_coverage_list_that_a_table_test_asserts() {
    let lists = coverage_lists();
    let covered: BTreeSet<&str> = lists
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .chain(coverage::envelope())
        .collect();
    let missing: Vec<_> = all()
        .map(|(_, r)| r.id)
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(missing.is_empty(), "ids in no coverage list: {missing:?}");
    assert!(!coverage::envelope().is_empty());
    // Each list is used by a test outside the catalogue.
    let (_, everything) = sources();
    let code: Vec<String> = everything
        .iter()
        .map(|s| s.code.replace(char::is_whitespace, ""))
        .collect();
    for (pattern, ids) in lists {
        assert!(!ids.is_empty(), "{pattern} lists no id");
        let call = Regex::new(&pattern).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            code.iter().any(|c| call.is_match(c)),
            "no table test calls {pattern}"
        );
    }
}

/// An object of `kind` that decodes: the fields without a default are set.
fn manifest(kind: Kind) -> Value {
    let image = json!({"repo": "neo4j", "tag": "5.26.0-enterprise"});
    let spec = match kind {
        Kind::Cluster => {
            json!({"image": image, "storage": {"size": "1Gi"}, "topology": {"servers": 3}})
        }
        Kind::Standalone => json!({"image": image, "storage": {"size": "1Gi"}}),
        _ => json!({}),
    };
    json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": kind.name(),
        "metadata": {"name": "graph", "namespace": "db"},
        "spec": spec
    })
}

/// The engine's admission checks, on every kind: a case where each fires, and a near miss.
#[test]
fn envelope_rules_table() {
    let with = |mut object: Value, patch: Value| {
        json_patch::merge(&mut object, &patch);
        object
    };
    let mut coverage: Vec<(&'static str, bool)> = Vec::new();
    for kind in Kind::ALL {
        let base = manifest(kind);
        let cases = [
            (
                "api-version-unsupported",
                with(
                    base.clone(),
                    json!({"apiVersion": "neo4j.neo4j.com/v1alpha1"}),
                ),
                true,
            ),
            (
                "api-version-unsupported",
                with(base.clone(), json!({"apiVersion": null})),
                true,
            ),
            ("api-version-unsupported", base.clone(), false),
            (
                "metadata-name-required",
                with(base.clone(), json!({"metadata": {"name": null}})),
                true,
            ),
            (
                "metadata-name-required",
                with(
                    base.clone(),
                    json!({"metadata": {"name": null, "generateName": "graph-"}}),
                ),
                false,
            ),
            (
                "object-decode",
                with(
                    base.clone(),
                    json!({"spec": {"image": 7, "name": 7, "storage": 7, "source": 7}}),
                ),
                true,
            ),
            ("object-decode", base.clone(), false),
        ];
        for (rule, object, hit) in cases {
            for op in [AdmissionOperation::Create, AdmissionOperation::Update] {
                let old = (op == AdmissionOperation::Update).then_some(&base);
                let d = engine::validate(kind, op, old, &object, &NoInventory);
                let fired = d.errors.iter().any(|f| f.rule == rule);
                assert_eq!(fired, hit, "{kind} {op:?} {rule}: {:?}", d.errors);
                if fired && rule == "object-decode" {
                    assert_eq!(d.code, engine::CODE_UNPROCESSABLE);
                }
                coverage.push((rule, fired));
            }
        }
    }
    for rule in coverage::envelope() {
        assert!(
            coverage.contains(&(rule, true)),
            "no case where {rule} fires"
        );
        assert!(coverage.contains(&(rule, false)), "no near miss for {rule}");
    }
}
