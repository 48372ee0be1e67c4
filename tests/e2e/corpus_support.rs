//! The manifest corpus under `tests/corpus/` (format: `tests/corpus/README.md`): loading its
//! documents and their declared verdicts, reading what `neo4j-webhook check` and
//! `kubectl apply` answered as the same kind of verdict, and comparing the two.
//!
//! Used by the `check` runner (`webhook/tests/corpus.rs`, which includes this file) and by the
//! API-server runner (`tests/e2e/corpus.rs`). Standard library, serde_json and serde-saphyr only.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Kinds applied to the namespace without context objects; the other four kinds are applied
/// next to the context instances (`tests/corpus/context/`) they refer to.
pub const INSTANCE_KINDS: [&str; 2] = ["Neo4jEnterpriseCluster", "Neo4jEnterpriseStandalone"];

/// Namespace for clusters and standalones (empty of anything else).
pub const INSTANCE_NAMESPACE: &str = "corpus-instances";
/// Namespace holding the context instances, for backups, restores, databases and plugins.
pub const REFS_NAMESPACE: &str = "corpus-refs";

pub fn is_instance_kind(kind: &str) -> bool {
    INSTANCE_KINDS.contains(&kind)
}

/// The namespace a document of `kind` is applied to by the API-server runner.
pub fn namespace_for(kind: &str) -> &'static str {
    if is_instance_kind(kind) {
        INSTANCE_NAMESPACE
    } else {
        REFS_NAMESPACE
    }
}

/// One expected or observed finding: a rule id and, when known, the field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Token {
    pub rule: String,
    pub path: Option<String>,
}

impl Token {
    pub fn new(rule: &str, path: &str) -> Token {
        Token {
            rule: rule.to_string(),
            path: (!path.is_empty()).then(|| path.to_string()),
        }
    }

    /// Whether this expected token covers the observed finding `f`: same rule, and (when the
    /// token names a path) the finding is at that path or below it.
    pub fn covers(&self, f: &Token) -> bool {
        if self.rule != f.rule {
            return false;
        }
        match (&self.path, &f.path) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(got)) => {
                got == want
                    || got
                        .strip_prefix(want.as_str())
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            }
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}@{p}", self.rule),
            None => f.write_str(&self.rule),
        }
    }
}

/// A verdict: what a document is expected to get, or what one path answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted; the warnings (empty for a plain `allowed`).
    Admitted(Vec<Token>),
    /// Refused; every reason.
    Denied(Vec<Token>),
    /// No verdict: the input could not be read, or the answer could not be understood.
    Unanswered(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |tokens: &[Token]| {
            tokens
                .iter()
                .map(Token::to_string)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Verdict::Admitted(w) if w.is_empty() => f.write_str("allowed"),
            Verdict::Admitted(w) => write!(f, "warned: {}", list(w)),
            Verdict::Denied(e) => write!(f, "denied: {}", list(e)),
            Verdict::Unanswered(why) => write!(f, "no answer: {why}"),
        }
    }
}

/// Parses the value of an `# expect:` line: `allowed`, `warned: t, …` or `denied: t, …`, each
/// token `rule` or `rule@path`.
pub fn parse_expect(text: &str) -> Result<Verdict, String> {
    let text = text.trim();
    if text == "allowed" {
        return Ok(Verdict::Admitted(Vec::new()));
    }
    let (word, list) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?}: expected allowed, warned: … or denied: …"))?;
    let tokens = list
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (rule, path) = t.split_once('@').unwrap_or((t, ""));
            let kebab = !rule.is_empty()
                && rule
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if kebab {
                Ok(Token::new(rule, path))
            } else {
                Err(format!(
                    "{t:?} is not a rule id (kebab-case, optionally @path)"
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if tokens.is_empty() {
        return Err(format!("{text:?}: {word} needs at least one rule id"));
    }
    match word.trim() {
        "warned" => Ok(Verdict::Admitted(tokens)),
        "denied" => Ok(Verdict::Denied(tokens)),
        other => Err(format!("{other:?}: expected allowed, warned or denied")),
    }
}

/// Compares an observed verdict with the expected one: same outcome, every expected token
/// covers at least one observed finding, and every observed finding is covered. Warnings of a
/// denied object are not compared.
pub fn compare(expected: &Verdict, observed: &Verdict) -> Result<(), String> {
    let (want, got) = match (expected, observed) {
        (Verdict::Admitted(w), Verdict::Admitted(g)) | (Verdict::Denied(w), Verdict::Denied(g)) => {
            (w, g)
        }
        _ => {
            return Err(format!(
                "outcome: expected {}, got {}",
                outcome(expected),
                outcome(observed)
            ));
        }
    };
    let missing: Vec<String> = want
        .iter()
        .filter(|t| !got.iter().any(|f| t.covers(f)))
        .map(Token::to_string)
        .collect();
    let extra: Vec<String> = got
        .iter()
        .filter(|f| !want.iter().any(|t| t.covers(f)))
        .map(Token::to_string)
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(format!(
        "missing [{}], unexpected [{}]",
        missing.join(", "),
        extra.join(", ")
    ))
}

fn outcome(v: &Verdict) -> &'static str {
    match v {
        Verdict::Admitted(_) => "admitted",
        Verdict::Denied(_) => "denied",
        Verdict::Unanswered(_) => "no answer",
    }
}

/// The same outcome and the same findings (rule and path), as sets.
pub fn same_verdict(a: &Verdict, b: &Verdict) -> bool {
    let set = |t: &[Token]| t.iter().cloned().collect::<BTreeSet<_>>();
    match (a, b) {
        (Verdict::Admitted(x), Verdict::Admitted(y)) | (Verdict::Denied(x), Verdict::Denied(y)) => {
            set(x) == set(y)
        }
        _ => false,
    }
}

/// `# expect-field: dotted.path = <JSON value>`: a value the stored object must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldExpect {
    pub path: String,
    pub value: Value,
}

impl FieldExpect {
    fn parse(text: &str) -> Result<FieldExpect, String> {
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected `path = <JSON value>`"))?;
        let value = serde_json::from_str(value.trim())
            .map_err(|e| format!("{text:?}: the value is not JSON: {e}"))?;
        Ok(FieldExpect {
            path: path.trim().to_string(),
            value,
        })
    }

    /// Checks the stored (defaulted) object.
    pub fn check(&self, stored: &Value) -> Result<(), String> {
        let pointer: String = self.path.split('.').map(|p| format!("/{p}")).collect();
        match stored.pointer(&pointer) {
            Some(v) if *v == self.value => Ok(()),
            Some(v) => Err(format!("{} is {v}, expected {}", self.path, self.value)),
            None => Err(format!("{} is not set, expected {}", self.path, self.value)),
        }
    }
}

/// One document of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// File, relative to the corpus root.
    pub file: PathBuf,
    /// 1-based position of the document in its file.
    pub index: usize,
    /// The document's text, comments included, exactly as in the file.
    pub text: String,
    pub kind: String,
    pub name: String,
    /// The `# case:` or `# source:` line.
    pub about: String,
    pub expect: Verdict,
    pub fields: Vec<FieldExpect>,
    /// For an UPDATE: the stored object (from `<file>.old.yaml`, same position).
    pub old: Option<Box<Case>>,
}

impl Case {
    /// `file#index`, how tables and messages name the document.
    pub fn id(&self) -> String {
        format!("{}#{}", self.file.display(), self.index)
    }

    /// Every field expectation against the stored object.
    pub fn check_fields(&self, stored: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .fields
            .iter()
            .filter_map(|f| f.check(stored).err())
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// The whole corpus: the cases (creates first, then updates) and the context instances.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub root: PathBuf,
    pub cases: Vec<Case>,
    /// Context documents (parsed like cases; each must be admitted with no warning).
    pub context: Vec<Case>,
}

impl Corpus {
    pub fn context_dir(&self) -> PathBuf {
        self.root.join("context")
    }
}

/// Splits a YAML stream at `---` lines, keeping each document's text as written.
pub fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

fn parse_case(root: &Path, file: &Path, index: usize, text: &str) -> Result<Case, String> {
    let rel = file.strip_prefix(root).unwrap_or(file).to_path_buf();
    let at = format!("{}#{index}", rel.display());
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| l.trim().is_empty() || l.starts_with('#'))
        .collect();
    let directive = |name: &str| -> Vec<String> {
        header
            .iter()
            .filter_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .collect()
    };
    let expects = directive("# expect:");
    let [expect] = expects.as_slice() else {
        return Err(format!(
            "{at}: needs exactly one `# expect:` line before the document, found {}",
            expects.len()
        ));
    };
    let expect = parse_expect(expect).map_err(|e| format!("{at}: {e}"))?;
    let fields = directive("# expect-field:")
        .iter()
        .map(|f| FieldExpect::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{at}: {e}"))?;
    let about = directive("# case:")
        .into_iter()
        .chain(directive("# source:"))
        .next()
        .unwrap_or_default();
    let object: Value = serde_saphyr::from_str(text).map_err(|e| format!("{at}: not YAML: {e}"))?;
    if object.pointer("/metadata/namespace").is_some() {
        return Err(format!(
            "{at}: has metadata.namespace; corpus documents leave it out (the runners choose it)"
        ));
    }
    let get = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok(Case {
        file: rel,
        index,
        text: text.to_string(),
        kind: get("/kind"),
        name: get("/metadata/name"),
        about,
        expect,
        fields,
        old: None,
    })
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            yaml_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}

fn read_cases(root: &Path, file: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    split_documents(&text)
        .iter()
        .enumerate()
        .map(|(i, doc)| parse_case(root, file, i + 1, doc))
        .collect()
}

/// Loads the corpus under `root`. Errors are mistakes in the corpus itself (a missing
/// `# expect:`, a namespace, an `.old.yaml` that does not pair up), not verdicts.
pub fn load(root: &Path) -> Result<Corpus, String> {
    let mut files = Vec::new();
    yaml_files(root, &mut files)?;
    let context_dir = root.join("context");
    let (mut creates, mut updates, mut context) = (Vec::new(), Vec::new(), Vec::new());
    for file in &files {
        let name = file.to_string_lossy();
        if name.ends_with(".old.yaml") {
            continue;
        }
        let mut cases = read_cases(root, file)?;
        if file.starts_with(&context_dir) {
            context.extend(cases);
            continue;
        }
        let old_file = PathBuf::from(format!("{}.old.yaml", name.trim_end_matches(".yaml")));
        if old_file.exists() {
            let olds = read_cases(root, &old_file)?;
            if olds.len() != cases.len() {
                return Err(format!(
                    "{}: {} documents, but {} in {}",
                    file.display(),
                    cases.len(),
                    olds.len(),
                    old_file.display()
                ));
            }
            for (case, old) in cases.iter_mut().zip(olds) {
                if (old.kind.as_str(), old.name.as_str())
                    != (case.kind.as_str(), case.name.as_str())
                {
                    return Err(format!(
                        "{}: the stored object is {} {:?}, the update {} {:?}",
                        case.id(),
                        old.kind,
                        old.name,
                        case.kind,
                        case.name
                    ));
                }
                case.old = Some(Box::new(old));
            }
            updates.extend(cases);
        } else {
            creates.extend(cases);
        }
    }
    for case in creates.iter().chain(&updates) {
        if case.about.is_empty() {
            return Err(format!(
                "{}: needs a `# case:` or `# source:` line saying what it is",
                case.id()
            ));
        }
    }
    // An UPDATE's stored object is created for real; no other document may share its identity
    // (a dry-run create of that name would become an update of it).
    for u in &updates {
        if let Some(other) = creates
            .iter()
            .chain(&context)
            .chain(updates.iter().filter(|o| o.id() != u.id()))
            .find(|o| o.kind == u.kind && o.name == u.name)
        {
            return Err(format!(
                "{}: {} {:?} is also used by {}; give the update its own name",
                u.id(),
                u.kind,
                u.name,
                other.id()
            ));
        }
    }
    creates.extend(updates);
    Ok(Corpus {
        root: root.to_path_buf(),
        cases: creates,
        context,
    })
}

/// The line-oriented findings of `Warning:` lines or a denial message: `<rule>: <path>…`.
fn finding_of_line(line: &str) -> Option<Token> {
    let (rule, rest) = line.split_once(": ")?;
    let kebab = !rule.is_empty()
        && rule
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    kebab.then(|| Token::new(rule, &leading_path(rest)))
}

/// The field path a message starts with: up to the first `:` or space outside brackets.
fn leading_path(text: &str) -> String {
    let mut depth = 0usize;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' | ' ' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    text[..end].to_string()
}

/// Reads `neo4j-webhook check --output json` for the document `kind`/`name`: its report line,
/// or the error that stopped the run.
pub fn check_verdict(
    code: Option<i32>,
    stdout: &str,
    stderr: &str,
    kind: &str,
    name: &str,
) -> Verdict {
    if code == Some(2) {
        let first = stderr.lines().next().unwrap_or("exit 2").trim();
        return Verdict::Unanswered(format!("check exit 2: {first}"));
    }
    let report = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["kind"] == kind && r["name"] == name);
    let Some(r) = report else {
        let why = stderr.lines().next().unwrap_or("no report").trim();
        return Verdict::Unanswered(format!("check gave no report ({why})"));
    };
    if r["allowed"].as_bool() == Some(true) {
        let warnings = r["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(finding_of_line)
            .collect();
        Verdict::Admitted(warnings)
    } else {
        let reasons = r["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                Token::new(
                    f["rule"].as_str().unwrap_or_default(),
                    f["field"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        Verdict::Denied(reasons)
    }
}

/// Reads what `kubectl apply` printed as a verdict. A webhook denial gives its rule ids; a
/// strict-decoding refusal gives `unknown-field@<path>` per field; a CRD schema refusal gives
/// `schema-<class>@<path>` per error ([`schema_rule`]); kubectl's own refusals of the API
/// version and of a missing name give the rule ids the webhook uses for them.
pub fn kubectl_verdict(success: bool, stderr: &str) -> Verdict {
    if success {
        let warnings = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("Warning: "))
            .filter_map(finding_of_line)
            .collect();
        return Verdict::Admitted(warnings);
    }
    if let Some((_, message)) = stderr.split_once("denied the request: ") {
        let reasons: Vec<Token> = message.lines().filter_map(finding_of_line).collect();
        if !reasons.is_empty() {
            return Verdict::Denied(reasons);
        }
    }
    if let Some((_, fields)) = stderr.split_once("strict decoding error: ") {
        let mut reasons = Vec::new();
        for part in fields.lines().next().unwrap_or_default().split(", ") {
            for (prefix, rule) in [
                ("unknown field \"", "unknown-field"),
                ("duplicate field \"", "duplicate-field"),
            ] {
                if let Some(path) = part.strip_prefix(prefix) {
                    reasons.push(Token::new(rule, path.trim_end_matches('"')));
                }
            }
        }
        if !reasons.is_empty() {
            return Verdict::Denied(reasons);
        }
    }
    if let Some((_, errors)) = stderr.split_once(" is invalid: ") {
        let entries: Vec<&str> = if errors.trim_start().starts_with('*') || errors.starts_with('\n')
        {
            errors
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("* "))
                .collect()
        } else {
            errors.lines().take(1).collect()
        };
        let reasons: Vec<Token> = entries
            .iter()
            .filter_map(|e| e.split_once(": "))
            .filter(|(path, _)| path.trim() != "<nil>")
            .map(|(path, detail)| Token::new(schema_rule(path.trim(), detail), path.trim()))
            .collect();
        if !reasons.is_empty() {
            return Verdict::Denied(reasons);
        }
    }
    if stderr.contains("no matches for kind") {
        return Verdict::Denied(vec![Token::new("api-version-unsupported", "apiVersion")]);
    }
    if stderr.contains("resource name may not be empty") {
        return Verdict::Denied(vec![Token::new("metadata-name-required", "metadata.name")]);
    }
    let first = stderr.lines().next().unwrap_or("failed, nothing on stderr");
    Verdict::Unanswered(format!("kubectl: {}", first.trim()))
}

/// The rule id `check` gives an API-server refusal of the CRD schema, from the error's text
/// (`<path>: <detail>`; the classes of the `schema` table of the rule catalogue).
pub fn schema_rule(path: &str, detail: &str) -> &'static str {
    if detail.starts_with("Required value") {
        "schema-required"
    } else if detail.starts_with("Unsupported value") {
        "schema-enum"
    } else if detail.starts_with("Too long") || detail.contains(" chars long") {
        "schema-length"
    } else if detail.starts_with("Too many") || detail.contains(" in body should have at") {
        "schema-size"
    } else if detail.starts_with("Duplicate value") {
        "schema-duplicate"
    } else if detail.contains(" in body must be of type ") {
        "schema-type"
    } else if detail.contains(" in body should be greater than")
        || detail.contains(" in body should be less than")
    {
        "schema-range"
    } else if detail.contains(" in body should match ") {
        "schema-pattern"
    } else if path == "metadata.name" {
        "metadata-name-invalid"
    } else {
        // Any other "Invalid value" on a field of ours is a CEL rule's message.
        "schema-rule"
    }
}

/// Runs `neo4j-webhook check --output json` on one document, as a user would on a file holding
/// it: with the context instances for the kinds that refer to one, and `--old` for an UPDATE.
/// Returns the verdict and the document's report (for its patch), using `scratch` for files.
pub fn run_check(
    bin: &Path,
    corpus: &Corpus,
    case: &Case,
    scratch: &Path,
) -> (Verdict, Option<Value>) {
    let write = |name: &str, text: &str| {
        let path = scratch.join(name);
        std::fs::write(&path, text).map(|()| path)
    };
    let doc = match write("document.yaml", &case.text) {
        Ok(p) => p,
        Err(e) => return (Verdict::Unanswered(format!("scratch file: {e}")), None),
    };
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["check", "--output", "json"]);
    if let Some(old) = &case.old {
        match write("stored.yaml", &old.text) {
            Ok(p) => {
                cmd.arg("--old").arg(p);
            }
            Err(e) => return (Verdict::Unanswered(format!("scratch file: {e}")), None),
        }
    }
    if !is_instance_kind(&case.kind) {
        cmd.arg(corpus.context_dir());
    }
    let out = match cmd.arg(&doc).output() {
        Ok(o) => o,
        Err(e) => {
            return (
                Verdict::Unanswered(format!("cannot run {}: {e}", bin.display())),
                None,
            );
        }
    };
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let verdict = check_verdict(out.status.code(), &stdout, &stderr, &case.kind, &case.name);
    let report = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["kind"] == case.kind.as_str() && r["name"] == case.name.as_str());
    (verdict, report)
}

/// One row of the mismatch table.
#[derive(Debug, Clone)]
pub struct Row {
    pub document: String,
    pub expected: String,
    /// One cell per path that answered (`check`, and the API server in the e2e run).
    pub answers: Vec<String>,
    pub problems: Vec<String>,
}

/// The mismatch table: one row per document that does not match, columns aligned, each
/// answer marked `=` when it matches the expectation and `≠` when it does not.
pub fn table(headers: &[&str], rows: &[Row]) -> String {
    let mut cells: Vec<Vec<String>> = vec![
        ["document", "expected"]
            .iter()
            .chain(headers)
            .map(|s| s.to_string())
            .collect(),
    ];
    for r in rows {
        let mut line = vec![r.document.clone(), r.expected.clone()];
        line.extend(r.answers.iter().cloned());
        cells.push(line);
    }
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .filter_map(|l| l.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, line) in cells.iter().enumerate() {
        let padded: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(c, s)| format!("{s:<w$}", w = widths[c]))
            .collect();
        out.push_str(padded.join(" | ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("-|-"));
            out.push('\n');
        } else if let Some(r) = rows.get(i - 1) {
            for p in &r.problems {
                out.push_str(&format!("    {p}\n"));
            }
        }
    }
    out
}

/// Marks an answer cell: `= …` when it matches the expectation, `≠ …` otherwise.
pub fn mark(expected: &Verdict, observed: &Verdict) -> String {
    match compare(expected, observed) {
        Ok(()) => format!("= {observed}"),
        Err(_) => format!("≠ {observed}"),
    }
}
