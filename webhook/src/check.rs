//! `neo4j-webhook check`: predicts what `kubectl apply` gets from an API server with our CRDs
//! installed and our webhooks registered — strict field validation, the defaults of the mutating
//! webhook, the CRD schema and its CEL rules, then the validating webhook (a CREATE, or an UPDATE
//! against `--old`) — over manifest files, so the same verdicts can gate a GitOps pipeline before
//! anything reaches a cluster (`neo4j_shared::engine::review`). Exit 2 only for input that cannot
//! be read or is not YAML/JSON.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use neo4j_shared::engine::{self, AdmissionDecision};
use neo4j_shared::inventory::{self, MapInventory};
use neo4j_shared::types::Kind;
use serde::Serialize;
use serde_json::Value;

/// Options of `neo4j-webhook check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Previous version of the objects (file or directory): objects found there with the same
    /// kind, namespace and name are checked as an UPDATE from it.
    #[arg(long, value_name = "OLD_FILE")]
    pub old: Option<PathBuf>,
    /// Output format; JSON lines by default when stdout is not a terminal.
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
    /// DNS domain of the Kubernetes cluster the objects are meant for, in which the names the
    /// operator derives are checked (as the webhook's `--cluster-domain`).
    #[arg(long, default_value = neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN, value_parser = cluster_domain)]
    pub cluster_domain: String,
    /// YAML or JSON files (multi-document) or directories (searched recursively for
    /// .yaml, .yml and .json files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Text,
}

/// Exit status: every object allowed.
pub const EXIT_ALLOWED: u8 = 0;
/// At least one object denied.
pub const EXIT_DENIED: u8 = 1;
/// An input could not be read or parsed.
pub const EXIT_UNREADABLE: u8 = 2;

/// One document of an input, with where it came from.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: PathBuf,
    /// 0-based index of the document in its file.
    pub index: usize,
    pub object: Value,
}

/// An input that cannot be read, parsed or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{file}: cannot read: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: document {index}: {reason}")]
    Unparsable {
        file: String,
        index: usize,
        reason: String,
    },
}

/// The verdict on one object, as `--output json` prints it (one line per object).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub allowed: bool,
    pub code: u16,
    pub reasons: Vec<neo4j_shared::Finding>,
    pub warnings: Vec<String>,
    pub patch: json_patch::Patch,
}

/// What a whole run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub reports: Vec<Report>,
    pub errors: Vec<InputError>,
    /// Objects of kinds this webhook does not serve, by kind.
    pub skipped: BTreeMap<String, usize>,
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        if !self.errors.is_empty() {
            EXIT_UNREADABLE
        } else if self.reports.iter().any(|r| !r.allowed) {
            EXIT_DENIED
        } else {
            EXIT_ALLOWED
        }
    }
}

/// Lists the files under `path` (itself when it is a file), sorted so runs are repeatable.
fn files_under(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let unreadable = |e: std::io::Error| InputError::Unreadable {
        file: path.display().to_string(),
        reason: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            files_under(&entry, out)?;
        } else if matches!(
            entry.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(entry);
        }
    }
    Ok(())
}

/// Parses one file's text into its documents (YAML, multi-document, or JSON). Empty documents
/// are dropped; a `kind: List` is expanded into its items.
pub fn parse_documents(file: &Path, text: &str) -> Result<Vec<Document>, InputError> {
    let values: Vec<Value> = if text.trim_start().starts_with(['{', '[']) {
        serde_json::from_str::<Value>(text)
            .map(|v| vec![v])
            .map_err(|e| InputError::Unparsable {
                file: file.display().to_string(),
                index: 0,
                reason: e.to_string(),
            })?
    } else {
        let mut docs = Vec::new();
        for (index, chunk) in split_yaml_documents(text).into_iter().enumerate() {
            if chunk
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            {
                docs.push(Value::Null);
                continue;
            }
            let v: Value = serde_saphyr::from_str(&chunk).map_err(|e| InputError::Unparsable {
                file: file.display().to_string(),
                index,
                reason: first_line(&e.to_string()),
            })?;
            docs.push(v);
        }
        docs
    };
    let mut out = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        match value {
            Value::Null => {}
            Value::Array(items) => out.extend(items.into_iter().map(|object| Document {
                file: file.to_path_buf(),
                index,
                object,
            })),
            Value::Object(ref o) if o.get("kind").and_then(Value::as_str) == Some("List") => {
                let items = o
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                out.extend(items.into_iter().map(|object| Document {
                    file: file.to_path_buf(),
                    index,
                    object,
                }));
            }
            Value::Object(_) => out.push(Document {
                file: file.to_path_buf(),
                index,
                object: value,
            }),
            other => {
                return Err(InputError::Unparsable {
                    file: file.display().to_string(),
                    index,
                    reason: format!("expected a mapping, found {}", type_name(&other)),
                });
            }
        }
    }
    Ok(out)
}

/// Splits a YAML stream at `---` document markers, so an error can name its document.
fn split_yaml_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") || line.starts_with("---\t") {
            docs.push(line.get(3..).unwrap_or_default().trim_start().to_string() + "\n");
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    docs
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Reads every document under `paths`.
pub fn read_documents(paths: &[PathBuf]) -> (Vec<Document>, Vec<InputError>) {
    let (mut docs, mut errors) = (Vec::new(), Vec::new());
    for path in paths {
        let mut files = Vec::new();
        if let Err(e) = files_under(path, &mut files) {
            errors.push(e);
            continue;
        }
        for file in files {
            match std::fs::read_to_string(&file) {
                Err(e) => errors.push(InputError::Unreadable {
                    file: file.display().to_string(),
                    reason: e.to_string(),
                }),
                Ok(text) => match parse_documents(&file, &text) {
                    Ok(d) => docs.extend(d),
                    Err(e) => errors.push(e),
                },
            }
        }
    }
    (docs, errors)
}

fn identity(object: &Value) -> (String, String, String) {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    (kind, inventory::namespace_of(object), name)
}

fn is_our_group(object: &Value) -> bool {
    object
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.split('/').next() == Some(neo4j_shared::types::GROUP))
}

/// `--cluster-domain`: a DNS subdomain (a trailing dot is dropped).
pub fn cluster_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    if neo4j_shared::names::valid_cluster_domain(&d) {
        Ok(d)
    } else {
        Err(format!(
            "{s:?} is not a DNS domain (lower-case labels of letters, digits and '-', separated by dots)"
        ))
    }
}

/// Checks `docs` (with `old` as the previous versions) and returns every verdict, for a
/// cluster whose DNS domain is `cluster.local`.
pub fn check_documents(docs: &[Document], old: &[Document]) -> Outcome {
    check_documents_in(docs, old, neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN)
}

/// [`check_documents`] for a cluster whose DNS domain is `domain`.
pub fn check_documents_in(docs: &[Document], old: &[Document], domain: &str) -> Outcome {
    let mut outcome = Outcome::default();
    let olds: BTreeMap<(String, String, String), &Value> = old
        .iter()
        .map(|d| (identity(&d.object), &d.object))
        .collect();
    // First pass: defaults, so objects of the run see each other as the API server would store them.
    let mut ours = Vec::new();
    let mut inventory = MapInventory::default();
    for doc in docs {
        let (kind_name, _, _) = identity(&doc.object);
        let Some(kind) = Kind::from_name(&kind_name).filter(|_| is_our_group(&doc.object)) else {
            *outcome
                .skipped
                .entry(if kind_name.is_empty() {
                    "(no kind)".into()
                } else {
                    kind_name
                })
                .or_default() += 1;
            continue;
        };
        // An object that does not decode is left to the schema, as the API server does.
        if let Ok(m) = engine::mutate(kind, &doc.object) {
            inventory.insert_object(&m.defaulted);
        }
        ours.push((doc, kind));
    }
    for (doc, kind) in ours {
        let id = identity(&doc.object);
        let old = olds.get(&id).copied();
        let in_domain = inventory::InDomain {
            inner: &inventory,
            domain,
        };
        let review = engine::review(kind, old, &doc.object, &in_domain);
        let decision: AdmissionDecision = review.decision;
        let (_, namespace, name) = id;
        outcome.reports.push(Report {
            kind: kind.name().to_string(),
            namespace,
            name,
            allowed: decision.allowed,
            code: decision.code,
            warnings: decision
                .warnings
                .iter()
                .map(neo4j_shared::Finding::warning_line)
                .collect(),
            reasons: decision.errors,
            patch: review.patch,
        });
    }
    outcome
}

/// Renders one report the way `kubectl apply` would show the webhook's answer.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let plural = Kind::from_name(&r.kind)
        .map(Kind::plural)
        .unwrap_or_default();
    let what = format!(
        "{plural}.{}/{} (namespace {})",
        neo4j_shared::types::GROUP,
        r.name,
        r.namespace
    );
    for w in &r.warnings {
        out.push_str(&format!("Warning: {w}\n"));
    }
    if r.allowed {
        let defaults = match r.patch.0.len() {
            0 => "no defaults needed".to_string(),
            1 => "1 default applied".to_string(),
            n => format!("{n} defaults applied"),
        };
        out.push_str(&format!("{what}: allowed ({defaults})\n"));
        for op in &r.patch.0 {
            out.push_str(&format!("  {}\n", patch_line(op)));
        }
    } else {
        out.push_str(&format!("{what}: denied ({}):\n", r.code));
        for f in &r.reasons {
            out.push_str(&format!("  {f}\n"));
        }
    }
    out
}

/// One patch operation as a short line: `add /spec/image/pullPolicy = "IfNotPresent"`.
fn patch_line(op: &json_patch::PatchOperation) -> String {
    let v = serde_json::to_value(op).unwrap_or_default();
    let verb = v.get("op").and_then(Value::as_str).unwrap_or("?");
    let path = v.get("path").and_then(Value::as_str).unwrap_or("?");
    match v.get("value") {
        Some(value) => format!("{verb} {path} = {value}"),
        None => format!("{verb} {path}"),
    }
}

pub fn run(args: Args) -> ExitCode {
    let format = args.output.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Text
    } else {
        OutputFormat::Json
    });
    let (docs, mut errors) = read_documents(&args.paths);
    let old = match &args.old {
        Some(path) => {
            let (old, old_errors) = read_documents(std::slice::from_ref(path));
            errors.extend(old_errors);
            old
        }
        None => Vec::new(),
    };
    let mut outcome = check_documents_in(&docs, &old, &args.cluster_domain);
    outcome.errors.splice(0..0, errors);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for r in &outcome.reports {
        let line = match format {
            OutputFormat::Json => serde_json::to_string(r)
                .map(|s| s + "\n")
                .unwrap_or_default(),
            OutputFormat::Text => render_text(r),
        };
        // A closed pipe (`| head`) is not an error worth a panic.
        if out.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    for e in &outcome.errors {
        eprintln!("error: {e}");
    }
    for (kind, n) in &outcome.skipped {
        eprintln!("skipped {n} object(s) of kind {kind} (not served by this webhook)");
    }
    ExitCode::from(outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_multi_document_yaml_and_names_the_document() {
        let text = "a: 1\n---\n# only a comment\n---\nkind: X\n---\nb: [\n";
        let err = parse_documents(Path::new("f.yaml"), text).err();
        assert!(
            matches!(err, Some(InputError::Unparsable { index: 3, .. })),
            "{err:?}"
        );
        let ok = parse_documents(Path::new("f.yaml"), "a: 1\n---\nb: 2\n").unwrap_or_default();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].index, 1);
    }

    #[test]
    fn expands_lists() {
        let text = r#"{"kind":"List","items":[{"kind":"A"},{"kind":"B"}]}"#;
        let docs = parse_documents(Path::new("f.json"), text).unwrap_or_default();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn scalar_document_is_an_error() {
        assert!(parse_documents(Path::new("f.yaml"), "just a string\n").is_err());
    }
}
