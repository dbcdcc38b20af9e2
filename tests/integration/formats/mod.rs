//! The standard formats other catalogues read, each judged by a tool of its
//! users: CSV files parsed by Python's csv module, schema.org JSON-LD
//! expanded by PyLD, publiccode.yml drafts checked against the standard,
//! the DCAT-AP catalogue read by rdflib and validated by pySHACL, the REST
//! API's OpenAPI description checked by openapi-spec-validator.

mod dcat;
mod exports;
mod jsonld;
mod publiccode;
mod rest;

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::venv_tool;

/// Runs the Python program `program` of the test environment's venv on
/// `input`; its output when it succeeds.
pub fn python(program: &str, input: &[u8]) -> String {
    let mut child = Command::new(venv_tool("python"))
        .args(["-c", program])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv's python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input)
        .expect("python reads its input");
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}
