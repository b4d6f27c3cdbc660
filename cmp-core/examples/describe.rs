//! Print DER-encoded PKIMessages in readable form:
//! `cargo run -p cmp-core --example describe -- FILE.der...`
use cmp_core::Limits;
use cmp_core::message::{ParsedMessage, describe};

fn main() -> std::process::ExitCode {
    let mut status = std::process::ExitCode::SUCCESS;
    for path in std::env::args().skip(1) {
        let result = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                ParsedMessage::decode(&bytes, &Limits::DEFAULT).map_err(|e| e.to_string())
            });
        match result {
            Ok(msg) => println!("{path}:\n{}", describe(msg.message())),
            Err(e) => {
                eprintln!("{path}: {e}");
                status = std::process::ExitCode::FAILURE;
            }
        }
    }
    status
}
