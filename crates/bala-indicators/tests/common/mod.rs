//! Shared helpers for tests that read the reference data in `shared/reference`.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn reference(path: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/"
    ))
    .join(path)
}

pub fn read(path: &str) -> Vec<u8> {
    let p = reference(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

pub fn read_text(path: &str) -> String {
    String::from_utf8(read(path)).expect("UTF-8")
}

/// File names in a reference folder with the given extension, sorted.
pub fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(reference(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    out.sort();
    out
}

/// Equal within a relative tolerance, for values computed in floating point.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}
