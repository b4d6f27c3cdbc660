//! `cmp`: a CMP (RFC 9810) client and reference server.

mod announce_cmd;
mod client_cmd;
mod demo;
mod error;
mod files;
mod http;
mod serve;
mod spool;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cmp_core::client::EnrollKind;

use crate::client_cmd::{EnrollArgs, GenmArgs, KrrArgs, P10crArgs, RrArgs};
use crate::error::{CliResult, EXIT_LOCAL};

const AFTER_HELP: &str = "\
Exit status: 0 success, 1 usage or local error, 2 rejected by the server,
3 response failed protection or validation checks, 4 transport failure.
Errors are printed as one line: cmp: <ERROR_NAME>: <text>.";

/// CMP (RFC 9810) client and reference CA server.
#[derive(Parser, Debug)]
#[command(name = "cmp", version, about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// A whole certificate life cycle on embedded defaults, no set-up: a demo CA
    /// served on loopback, then ir + certConf, kur, genm and rr against it.
    Demo {
        /// Also print every CMP message exchanged (to stderr).
        #[arg(short, long)]
        verbose: bool,
    },
    /// Initial enrollment: request a first certificate (ir/ip).
    #[command(after_help = AFTER_HELP)]
    Ir(EnrollArgs),
    /// Enrollment from an entity that already has a certificate (cr/cp).
    #[command(after_help = AFTER_HELP)]
    Cr(EnrollArgs),
    /// Key update: renew --oldcert with a new key (kur/kup).
    #[command(after_help = AFTER_HELP)]
    Kur(EnrollArgs),
    /// Cross-certification: a CA asks another CA to certify its key (ccr/ccp);
    /// --subject and --newkey are the requesting CA's name and key.
    #[command(after_help = AFTER_HELP)]
    Ccr(EnrollArgs),
    /// Enrollment with a PKCS#10 CSR (p10cr/cp).
    #[command(after_help = AFTER_HELP)]
    P10cr(P10crArgs),
    /// Revoke a certificate (rr/rp).
    #[command(after_help = AFTER_HELP)]
    Rr(RrArgs),
    /// Ask the server for CA certificates, root CA updates, templates or CRLs (genm/genp).
    #[command(after_help = AFTER_HELP)]
    Genm(GenmArgs),
    /// Recover archived private keys (krr/krp).
    #[command(after_help = AFTER_HELP)]
    Krr(KrrArgs),
    /// Run the reference CA server (CMP over HTTP, RFC 9811).
    Serve(serve::ServeArgs),
    /// Build a CA announcement file: root CA key update (ckuann), certificate
    /// (cann), revocation (rann) or CRLs (crlann).
    Announce(announce_cmd::AnnounceArgs),
    /// Validate an announcement file against trust anchors and say what it announces.
    #[command(after_help = AFTER_HELP)]
    CheckAnnouncement(announce_cmd::CheckArgs),
}

/// Run one subcommand; errors are reported by `main`.
fn run(command: Command) -> CliResult<()> {
    match command {
        // handled in `main`: it keeps its own error type
        Command::Demo { .. } => Ok(()),
        Command::Ir(args) => client_cmd::run_enroll(EnrollKind::Ir, &args),
        Command::Cr(args) => client_cmd::run_enroll(EnrollKind::Cr, &args),
        Command::Kur(args) => client_cmd::run_enroll(EnrollKind::Kur, &args),
        Command::Ccr(args) => client_cmd::run_enroll(EnrollKind::Ccr, &args),
        Command::P10cr(args) => client_cmd::run_p10cr(&args),
        Command::Rr(args) => client_cmd::run_rr(&args),
        Command::Genm(args) => client_cmd::run_genm(&args),
        Command::Krr(args) => client_cmd::run_krr(&args),
        Command::Serve(args) => serve::run(args).map_err(error::CliError::Io),
        Command::Announce(args) => announce_cmd::run_announce(&args),
        Command::CheckAnnouncement(args) => announce_cmd::run_check(&args),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version go to stdout and succeed; usage errors exit 1
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_LOCAL)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Command::Demo { verbose } = cli.command {
        return match demo::run(verbose) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cmp: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
