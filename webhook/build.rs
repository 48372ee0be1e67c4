//! Lays out the `neo4j-webhook` binary's code so that what serving runs sits together.
//!
//! `symbol-order.txt` lists the functions the server executes serving HTTP/1.1 and HTTP/2
//! reviews, most executed first, then those only start-up runs (written by `make
//! symbol-order`). The linker (LLD, Rust's default on x86_64 Linux) places them first in
//! `.text`. The kernel maps a binary's code in 64 KiB windows around each page it faults in, so
//! with the executed functions scattered through 18 MB of code, about half of it became
//! resident; packed together they take about 3 MiB. Names not in the binary (after a change, or
//! with another compiler) are skipped: the order is a layout, never a correctness matter.
//! `NEO4J_WEBHOOK_SYMBOL_ORDER=off` links without it.
//!
//! The same link packs the binary's relative relocations (`-z pack-relative-relocs`, DT_RELR):
//! a position-independent binary carries one 24-byte entry for every pointer the loader
//! adjusts at start-up (vtables, string tables, about 22,000 of them), and the loader reads
//! every entry, so the whole 530 KiB table stayed resident for the life of the process. Packed,
//! it is a few KiB. The loader must know DT_RELR: glibc 2.36 or later (Debian 12, which the
//! image is built on and runs on). `NEO4J_WEBHOOK_PACK_RELOCS=off` links without it.

use std::path::Path;

fn main() {
    let order = Path::new(env!("CARGO_MANIFEST_DIR")).join("symbol-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-env-changed=NEO4J_WEBHOOK_SYMBOL_ORDER");
    println!("cargo:rerun-if-env-changed=NEO4J_WEBHOOK_PACK_RELOCS");
    let target = std::env::var("TARGET").unwrap_or_default();
    // Only where the linker is known to be LLD: rustc's default for this target.
    let lld = target == "x86_64-unknown-linux-gnu";
    let wanted = std::env::var("NEO4J_WEBHOOK_SYMBOL_ORDER").as_deref() != Ok("off");
    if wanted && lld && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=neo4j-webhook=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=neo4j-webhook=-Wl,--no-warn-symbol-ordering");
    }
    let pack = std::env::var("NEO4J_WEBHOOK_PACK_RELOCS").as_deref() != Ok("off");
    if pack && lld {
        println!("cargo:rustc-link-arg-bin=neo4j-webhook=-Wl,-z,pack-relative-relocs");
    }
}
