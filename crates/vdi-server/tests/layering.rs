//! The fake sqlservr does not lean on the client library it tests (issue 19, defect 3): the two
//! halves meet only through `vdi-link` and the shared memory of `vdi-shm`. `cargo tree` with its
//! default edges (normal, build and dev) must not reach `vdi-client` from `vdi-server`.

use std::path::Path;
use std::process::Command;

/// The packages `cargo tree -p <package>` reaches, one name per entry, deduplicated.
fn reached_from(package: &str) -> Vec<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--prefix", "none", "--format", "{p}"])
        .args(["-e", "normal,build,dev", "-p", package])
        .arg("--manifest-path")
        .arg(&workspace)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn vdi_server_does_not_depend_on_vdi_client() {
    let reached = reached_from("vdi-server");
    // The listing is what we think it is: the server reaches the shared layer below it.
    for below in ["vdi-link", "vdi-shm", "vdi-proto"] {
        assert!(
            reached.iter().any(|p| p == below),
            "{below} missing: {reached:?}"
        );
    }
    assert!(
        !reached
            .iter()
            .any(|p| p == "vdi-client" || p == "libsqlvdi"),
        "vdi-server reaches the client library: {reached:?}"
    );
}

#[test]
fn the_shared_layer_depends_on_neither_side() {
    let reached = reached_from("vdi-link");
    for side in ["vdi-client", "vdi-server"] {
        assert!(
            !reached.iter().any(|p| p == side),
            "vdi-link reaches {side}: {reached:?}"
        );
    }
}
