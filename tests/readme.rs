//! The README's examples are reproducible as printed.

use std::process::Command;

const README: &str = include_str!("../README.md");

/// The first plain (language-less) fenced block after `marker`, without its fences.
fn block_after(marker: &str) -> String {
    let rest = &README[README.find(marker).expect("marker in the README")..];
    let start = rest.find("\n\n```\n").expect("a plain block") + 6;
    let end = rest[start..].find("```").unwrap() + start;
    rest[start..end].to_owned()
}

#[test]
fn the_transcript_example_is_what_the_demo_prints() {
    let command = "vdisim demo --simulator --transcript --size-mib 1 --devices 1 | grep -E '^    [CS] ' | head -6";
    assert!(README.contains(command), "the README shows another command");
    let out = Command::new(env!("CARGO_BIN_EXE_vdisim"))
        .args([
            "demo",
            "--simulator",
            "--transcript",
            "--size-mib",
            "1",
            "--devices",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: String = text
        .lines()
        .filter(|l| l.starts_with("    C ") || l.starts_with("    S "))
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        lines,
        block_after("## Reading a transcript\n\n`vdisim demo")
    );
}
