//! CA announcements on the command line: `cmp announce` builds a protected
//! ckuann, cann, rann or crlann message into a file (the CA side), and
//! `cmp check-announcement` validates one and says what to do (the end
//! entity side). The file travels by any means: a web page, a mail, a
//! spool directory.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use cmp_core::Timestamp;
use cmp_core::announce::{Announcement, AnnouncementBuilder, AnnouncementValidator};
use cmp_core::asn1::{CaKeyUpdAnnContent, PkiStatus, RootCaKeyUpdateContent};
use cmp_core::crypto::CryptoProvider;
use cmp_core::protection::Protector;
use cmp_core::trust::TrustStore;
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider};
use der::{Decode, DecodePem};
use x509_cert::crl::CertificateList;

use crate::error::{CliError, CliResult, usage};
use crate::files;

/// How the announcement is signed and where it goes.
#[derive(Args, Debug, Clone)]
pub(crate) struct SignerArgs {
    /// The CA's CMP signer certificate (its subject is the sender)
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// Private key of --cert
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Intermediate certificates of --cert (PEM bundle), sent in extraCerts
    #[arg(long, value_name = "FILE")]
    untrusted: Vec<PathBuf>,
    /// Write the announcement (DER PKIMessage) here
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// `cmp announce`.
#[derive(Args, Debug)]
pub(crate) struct AnnounceArgs {
    #[command(subcommand)]
    what: AnnounceKind,
}

#[derive(Subcommand, Debug)]
enum AnnounceKind {
    /// ckuann: generate a new root key and announce newWithNew, newWithOld
    /// and oldWithNew
    RootUpdate {
        #[command(flatten)]
        signer: SignerArgs,
        /// The current (old) root CA certificate
        #[arg(long, value_name = "FILE")]
        root_cert: PathBuf,
        /// Private key of --root-cert
        #[arg(long, value_name = "FILE")]
        root_key: PathBuf,
        /// The new root key (default: a new key of --keyalg)
        #[arg(long, value_name = "FILE")]
        newkey: Option<PathBuf>,
        /// Algorithm of the generated key
        #[arg(long, value_name = "ALG", default_value = "ec:P-256")]
        keyalg: String,
        /// Write the generated new root key here (PKCS#8 PEM)
        #[arg(long, value_name = "FILE")]
        keyout: Option<PathBuf>,
        /// Write the new root certificate (newWithNew) here (PEM)
        #[arg(long, value_name = "FILE")]
        newwithnew: Option<PathBuf>,
        /// Write newWithOld here (PEM)
        #[arg(long, value_name = "FILE")]
        newwithold: Option<PathBuf>,
        /// Write oldWithNew here (PEM)
        #[arg(long, value_name = "FILE")]
        oldwithnew: Option<PathBuf>,
        /// Use the deprecated RFC 4210 form (cAKeyUpdAnnV2, pvno 2)
        #[arg(long)]
        v2: bool,
    },
    /// cann: announce a certificate
    Cert {
        #[command(flatten)]
        signer: SignerArgs,
        /// The certificate to announce
        #[arg(long, value_name = "FILE")]
        certin: PathBuf,
    },
    /// rann: announce that a certificate will be (or was) revoked
    Revocation {
        #[command(flatten)]
        signer: SignerArgs,
        /// The certificate concerned
        #[arg(long, value_name = "FILE")]
        certin: PathBuf,
        /// The revocation has happened (revocationNotification); default: it
        /// is imminent (revocationWarning)
        #[arg(long)]
        done: bool,
        /// Seconds from now until the revocation takes effect
        #[arg(long, value_name = "SECS", default_value_t = 0)]
        after: u64,
    },
    /// crlann: announce CRLs
    Crl {
        #[command(flatten)]
        signer: SignerArgs,
        /// A CRL (PEM or DER); repeatable
        #[arg(long, value_name = "FILE", required = true)]
        crlin: Vec<PathBuf>,
    },
}

/// `cmp check-announcement`.
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The announcement (DER PKIMessage)
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Trust anchors (PEM bundle; repeatable)
    #[arg(long, value_name = "FILE", required = true)]
    trusted: Vec<PathBuf>,
    /// Untrusted intermediates (PEM bundle; repeatable)
    #[arg(long, value_name = "FILE")]
    untrusted: Vec<PathBuf>,
    /// Largest accepted age (and clock skew) of messageTime, seconds; default:
    /// not checked (announcements may travel for a long time)
    #[arg(long, value_name = "SECS")]
    max_skew: Option<u64>,
    /// Root key update: write the new trust anchor (newWithNew) here (PEM)
    #[arg(long, value_name = "FILE")]
    newroot_out: Option<PathBuf>,
    /// Root key update: write newWithOld here (PEM)
    #[arg(long, value_name = "FILE")]
    newwithold: Option<PathBuf>,
    /// Root key update: write oldWithNew here (PEM), if present
    #[arg(long, value_name = "FILE")]
    oldwithnew: Option<PathBuf>,
    /// cann: write the announced certificate here (PEM)
    #[arg(long, value_name = "FILE")]
    certout: Option<PathBuf>,
}

fn provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

fn builder(signer: &SignerArgs) -> CliResult<AnnouncementBuilder> {
    let cert = files::read_cert(&signer.cert)?;
    let key = files::read_key(&signer.key)?;
    let pool = files::read_cert_files(&signer.untrusted)?;
    let chain = files::own_chain(&cert, &pool);
    let protector = Protector::Signature {
        key: Arc::new(key),
        cert,
        chain,
    };
    Ok(AnnouncementBuilder::new(provider(), protector))
}

fn write_pem(path: Option<&PathBuf>, cert: &x509_cert::Certificate) -> CliResult<()> {
    match path {
        Some(p) => files::write_certs(p, std::slice::from_ref(cert)),
        None => Ok(()),
    }
}

fn read_crl(path: &PathBuf) -> CliResult<CertificateList> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))?;
    let parsed = if bytes.starts_with(b"-----BEGIN") {
        CertificateList::from_pem(&bytes).map_err(|e| e.to_string())
    } else {
        CertificateList::from_der(&bytes).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| CliError::Io(format!("{}: not a CRL: {e}", path.display())))
}

/// `cmp announce ...`.
pub(crate) fn run_announce(args: &AnnounceArgs) -> CliResult<()> {
    let now = Timestamp::now();
    let (signer, bytes, what) = match &args.what {
        AnnounceKind::RootUpdate {
            signer,
            root_cert,
            root_key,
            newkey,
            keyalg,
            keyout,
            newwithnew,
            newwithold,
            oldwithnew,
            v2,
        } => {
            let old = ReferenceCa::new(
                files::read_key(root_key)?,
                files::read_cert(root_cert)?,
                Vec::new(),
            )
            .map_err(|e| CliError::Usage(format!("--root-cert/--root-key: {e}")))?;
            let key = match newkey {
                Some(p) => files::read_key(p)?,
                None => {
                    let alg = KeyAlgorithm::from_name(keyalg)
                        .ok_or_else(|| usage(format!("unknown --keyalg {keyalg:?}")))?;
                    let key = PrivateKey::generate(alg)
                        .map_err(|e| CliError::from(cmp_core::Error::from(e)))?;
                    match keyout {
                        Some(p) => files::write_key(p, &key)?,
                        None => {
                            return Err(usage(
                                "the new root key must be kept: --keyout FILE (or --newkey FILE)",
                            ));
                        }
                    }
                    key
                }
            };
            let update = old
                .root_key_update(key, now)
                .map_err(|e| CliError::Usage(format!("root key update: {e}")))?;
            write_pem(newwithnew.as_ref(), &update.new_with_new)?;
            write_pem(newwithold.as_ref(), &update.new_with_old)?;
            write_pem(oldwithnew.as_ref(), &update.old_with_new)?;
            let b = builder(signer)?;
            let bytes = if *v2 {
                b.root_key_update_v2(
                    CaKeyUpdAnnContent {
                        old_with_new: update.old_with_new,
                        new_with_old: update.new_with_old,
                        new_with_new: update.new_with_new,
                    },
                    now,
                )?
            } else {
                b.root_key_update(
                    RootCaKeyUpdateContent {
                        new_with_new: update.new_with_new,
                        new_with_old: Some(update.new_with_old),
                        old_with_new: Some(update.old_with_new),
                    },
                    now,
                )?
            };
            (signer, bytes, "root CA key update (ckuann)")
        }
        AnnounceKind::Cert { signer, certin } => {
            let cert = files::read_cert(certin)?;
            let bytes = builder(signer)?.certificate(cert, now)?;
            (signer, bytes, "certificate announcement (cann)")
        }
        AnnounceKind::Revocation {
            signer,
            certin,
            done,
            after,
        } => {
            let cert = files::read_cert(certin)?;
            let status = if *done {
                PkiStatus::RevocationNotification
            } else {
                PkiStatus::RevocationWarning
            };
            let bytes = builder(signer)?.revocation(
                &cert,
                status,
                now.plus_secs(*after),
                now,
                None,
                now,
            )?;
            (signer, bytes, "revocation announcement (rann)")
        }
        AnnounceKind::Crl { signer, crlin } => {
            let crls = crlin.iter().map(read_crl).collect::<CliResult<Vec<_>>>()?;
            let bytes = builder(signer)?.crls(crls, now)?;
            (signer, bytes, "CRL announcement (crlann)")
        }
    };
    files::write_file(&signer.out, &bytes, false)?;
    println!("{what} written to {}", signer.out.display());
    Ok(())
}

/// `cmp check-announcement`.
pub(crate) fn run_check(args: &CheckArgs) -> CliResult<()> {
    let bytes = std::fs::read(&args.input)
        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", args.input.display())))?;
    let anchors = files::read_cert_files(&args.trusted)?;
    let mut validator = AnnouncementValidator::new(provider(), TrustStore::new(anchors));
    validator.untrusted = files::read_cert_files(&args.untrusted)?;
    validator.max_time_skew = args.max_skew;
    let event = validator
        .validate(&bytes, Timestamp::now())
        .map_err(|e| CliError::Announce(Box::new(e)))?;
    match event {
        Announcement::RootKeyUpdate(u) => {
            println!("root CA key update: install the new trust anchor");
            println!("  old root: {}", u.old_root.tbs_certificate().subject());
            println!(
                "  new root: {} (valid until {})",
                u.new_root.tbs_certificate().subject(),
                u.new_root.tbs_certificate().validity().not_after
            );
            write_pem(args.newroot_out.as_ref(), &u.new_root)?;
            write_pem(args.newwithold.as_ref(), &u.new_with_old)?;
            if let Some(own) = &u.old_with_new {
                write_pem(args.oldwithnew.as_ref(), own)?;
            }
        }
        Announcement::CertificateAnnounced { cert, path } => {
            println!(
                "certificate announced: {} (serial {}), validated along {} certificate(s)",
                cert.tbs_certificate().subject(),
                cert.tbs_certificate().serial_number(),
                path.len()
            );
            write_pem(args.certout.as_ref(), &cert)?;
        }
        Announcement::RevocationAnnounced {
            status,
            cert_id,
            will_be_revoked_at,
            ..
        } => {
            let what = if status == PkiStatus::RevocationNotification {
                "revoked"
            } else {
                "to be revoked"
            };
            println!(
                "certificate {what}: serial {} at {} (unix time)",
                crate::serve::hex(cert_id.serial_number.as_bytes()),
                will_be_revoked_at.unix_secs()
            );
        }
        Announcement::CrlAnnounced(crls) => {
            println!("{} CRL(s) announced", crls.len());
            for crl in &crls {
                println!(
                    "  issuer {}, {} revoked",
                    crl.tbs_cert_list.issuer,
                    crl.tbs_cert_list
                        .revoked_certificates
                        .as_ref()
                        .map_or(0, Vec::len)
                );
            }
        }
    }
    Ok(())
}
