//! `cmp`: a CMP (RFC 9810) client and reference server.

mod demo;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// CMP (RFC 9810) client and reference CA server.
#[derive(Parser, Debug)]
#[command(name = "cmp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a protected ir, parse it back and print it (no set-up needed).
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo => demo::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cmp: {e}");
            ExitCode::FAILURE
        }
    }
}
