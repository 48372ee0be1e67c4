//! The fixed shell scripts of the backup and restore Jobs, run by a real POSIX shell (`/bin/sh`)
//! on a scratch directory: the newest artifact is picked, retention keeps what it promises, and
//! the Cypher script parses. Values reach the scripts only as environment variables, as in the
//! pods.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use neo4j_shared::render::backup::CLEANUP_SCRIPT;
use neo4j_shared::render::restore::{CYPHER_SCRIPT, PICK_LATEST_SCRIPT};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("neo4j-scripts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }
    fn file(&self, name: &str, minutes_old: u32) {
        let path = self.0.join(name);
        std::fs::write(&path, b"x").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let status = Command::new("touch")
            .arg("-d")
            .arg(format!("{minutes_old} minutes ago"))
            .arg(&path)
            .status()
            .unwrap_or_else(|e| panic!("touch: {e}"));
        assert!(status.success());
    }
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sh(script: &str, args: &[&str], env: &[(&str, &Path)], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("/bin/sh: {e}"))
}

#[test]
fn the_newest_artifact_of_the_database_is_restored() {
    let dir = Scratch::new("pick");
    dir.file("sales-2026-01-01T00-00-00.backup", 30);
    dir.file("sales-2026-01-02T00-00-00.backup", 20);
    // Another database whose name starts the same, newer: never picked.
    dir.file("sales-eu-2026-03-01T00-00-00.backup", 10);
    dir.file("notes.txt", 5);
    let out = sh(
        PICK_LATEST_SCRIPT,
        &["restore", "echo", "neo4j-admin", "sales"],
        &[("BACKUP_DIR", &dir.0)],
        &[("SOURCE_DATABASE", "sales")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = format!(
        "neo4j-admin sales --from-path={}/sales-2026-01-02T00-00-00.backup",
        dir.0.display()
    );
    assert!(stdout.lines().any(|l| l == want), "{stdout}");
}

#[test]
fn no_artifact_fails_with_a_message() {
    let dir = Scratch::new("none");
    dir.file("other-2026-01-01T00-00-00.backup", 1);
    let log = dir.0.join("termination-log");
    let out = sh(
        PICK_LATEST_SCRIPT,
        &["restore", "echo"],
        &[("BACKUP_DIR", &dir.0), ("TERMINATION_LOG", &log)],
        &[("SOURCE_DATABASE", "sales")],
    );
    assert!(!out.status.success());
    let message = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(message.contains("no backup of database sales"), "{message}");
}

#[test]
fn a_value_with_shell_syntax_stays_a_value() {
    let dir = Scratch::new("inject");
    let marker = dir.0.join("pwned");
    let out = sh(
        PICK_LATEST_SCRIPT,
        &["restore", "echo"],
        &[("BACKUP_DIR", &dir.0)],
        &[("SOURCE_DATABASE", &format!("x; touch {}", marker.display()))],
    );
    assert!(!out.status.success());
    assert!(!marker.exists(), "the value ran as a command");
}

#[test]
fn retention_keeps_the_newest_by_count_and_never_the_last_by_age() {
    let dir = Scratch::new("count");
    for (i, age) in [50, 40, 30, 20, 10].iter().enumerate() {
        dir.file(&format!("sales-2026-01-0{}T00-00-00.backup", i + 1), *age);
    }
    dir.file("keep.txt", 100);
    let out = sh(
        CLEANUP_SCRIPT,
        &[],
        &[("BACKUP_DIR", &dir.0)],
        &[("MAX_COUNT", "2")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        dir.names(),
        [
            "keep.txt",
            "sales-2026-01-04T00-00-00.backup",
            "sales-2026-01-05T00-00-00.backup"
        ]
    );

    let dir = Scratch::new("age");
    dir.file("a-2026-01-01T00-00-00.backup", 300);
    dir.file("a-2026-01-02T00-00-00.backup", 200);
    dir.file("a-2026-01-03T00-00-00.backup", 30);
    let out = sh(
        CLEANUP_SCRIPT,
        &[],
        &[("BACKUP_DIR", &dir.0)],
        &[("MAX_AGE_MINUTES", "60")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(dir.names(), ["a-2026-01-03T00-00-00.backup"]);

    // Everything is old: the newest backup stays.
    let dir = Scratch::new("old");
    dir.file("a-2026-01-01T00-00-00.backup", 300);
    dir.file("a-2026-01-02T00-00-00.backup", 200);
    let out = sh(
        CLEANUP_SCRIPT,
        &[],
        &[("BACKUP_DIR", &dir.0)],
        &[("MAX_AGE_MINUTES", "60")],
    );
    assert!(out.status.success());
    assert_eq!(dir.names(), ["a-2026-01-02T00-00-00.backup"]);
}

#[test]
fn retention_on_a_missing_directory_does_nothing() {
    let dir = Scratch::new("missing");
    let out = sh(
        CLEANUP_SCRIPT,
        &[],
        &[("BACKUP_DIR", &dir.0.join("nope"))],
        &[("MAX_COUNT", "1")],
    );
    assert!(out.status.success());
}

#[test]
fn the_cypher_script_parses() {
    let out = Command::new("/bin/sh")
        .arg("-n")
        .arg("-c")
        .arg(CYPHER_SCRIPT)
        .output()
        .unwrap_or_else(|e| panic!("/bin/sh: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
