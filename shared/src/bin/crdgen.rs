//! Writes the CRDs of every kind to `manifests/crds/` (or the directory given as the only
//! argument). Run through `make crds`.

use std::path::PathBuf;
use std::process::ExitCode;

use neo4j_shared::crd;
use neo4j_shared::types::Kind;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let dir = match args.next().as_deref() {
        Some("-h" | "--help") => {
            println!(
                "usage: crdgen [DIR]\nWrites <plural>.neo4j.neo4j.com.yaml for each kind into DIR (default manifests/crds)."
            );
            return ExitCode::SUCCESS;
        }
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("manifests/crds"),
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("crdgen: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for kind in Kind::ALL {
        let path = dir.join(crd::file_name(kind));
        let text = match crd::yaml(kind) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("crdgen: cannot render {kind}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("crdgen: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
