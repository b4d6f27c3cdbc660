//! The client subcommands: `ir`, `cr`, `kur`, `ccr`, `p10cr`, `rr`, `genm` and `krr`.
//!
//! Each builds a [`ClientConfig`] from the arguments, starts a
//! [`ClientTransaction`] and drives it over HTTP (or through files in a
//! spool directory, see [`crate::spool`]): send what
//! `poll_transmit` gives, feed the answer to `handle_response`, sleep when
//! the server asks to wait, accept issued certificates, until the
//! transaction has finished. Then the outcome is summarised on stdout and
//! written to the requested files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use cmp_core::Limits;
use cmp_core::Timestamp;
use cmp_core::asn1::genm::{CrlSource, CrlStatus, InfoValue};
use cmp_core::asn1::{InfoTypeAndValue, PkiStatusInfo, oid};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    GenmRequest, IssuedCertificate, KeyRecoveryRequest, RecoveredKeys, RevokeRequest,
};
use cmp_core::crypto::{CryptoProvider, SecureRandom, SigningKey};
use cmp_core::message::{ParsedMessage, describe, oid_name};
use cmp_core::name::parse_dn;
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::trust::TrustStore;
use cmp_crypto_rustcrypto::envelope::key_type_identifier;
use cmp_crypto_rustcrypto::{EnvelopeKey, KeyAlgorithm, PrivateKey, RustCryptoProvider};
use der::Encode;
use der::asn1::ObjectIdentifier;
use der::pem::LineEnding;
use x509_cert::Certificate;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::error::{CliError, CliResult, usage};
use crate::files;
use crate::http::{self, HttpUrl};
use crate::spool;

// ----- arguments -----

/// Where the server is and how the exchange is run and logged.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Server and transport")]
pub(crate) struct ConnArgs {
    /// CMP endpoint: http://HOST:PORT/PATH (e.g. http://127.0.0.1:8080/.well-known/cmp),
    /// or file:DIR to exchange messages as files in DIR (answered by `cmp serve --spool DIR`)
    #[arg(long, value_name = "URL")]
    pub(crate) server: String,
    /// Give up when the whole transaction (polling included) takes longer (0: no limit)
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<u64>,
    /// Give up when one HTTP exchange takes longer
    #[arg(long = "msg-timeout", value_name = "SECS", default_value_t = 120)]
    pub(crate) msg_timeout: u64,
    /// Print every message sent and received to stderr
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
    /// Save every request sent as DER into DIR (NN-BODY.der)
    #[arg(long, value_name = "DIR")]
    pub(crate) reqout: Option<PathBuf>,
    /// Save every response received as DER into DIR (NN-BODY.der)
    #[arg(long, value_name = "DIR")]
    pub(crate) rspout: Option<PathBuf>,
}

/// MAC schemes for `--mac`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacArg {
    /// PasswordBasedMac (RFC 9810 5.1.3.1), SHA-256 and HMAC-SHA256
    Pbm,
    /// PBMAC1 (RFC 9481 6.1.1) with PBKDF2 and HMAC-SHA256
    Pbmac1,
}

/// How requests are protected and responses authenticated.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Protection and trust")]
pub(crate) struct ProtArgs {
    /// Reference value (senderKID) of the shared secret (MAC protection)
    #[arg(long = "ref", value_name = "REF")]
    pub(crate) reference: Option<String>,
    /// Shared secret: pass:TEXT, env:VAR, file:PATH or the text itself
    #[arg(long, value_name = "SECRET")]
    pub(crate) secret: Option<String>,
    /// MAC algorithm for --secret
    #[arg(long, value_enum, default_value_t = MacArg::Pbm)]
    pub(crate) mac: MacArg,
    /// Our certificate for signature protection (PEM or DER; with --key)
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// Private key of --cert (PEM or DER, PKCS#8, SEC1 or PKCS#1)
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// Extra intermediate certificates (PEM bundle), for our chain and the server's; repeatable
    #[arg(long, value_name = "FILE")]
    pub(crate) untrusted: Vec<PathBuf>,
    /// Trust anchors for signature-protected responses (PEM bundle); repeatable
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted: Vec<PathBuf>,
    /// Recipient name in the header (default: NULL-DN)
    #[arg(long, value_name = "DN")]
    pub(crate) recipient: Option<String>,
    /// Accept responses only from this sender name
    #[arg(long = "expect-sender", value_name = "DN")]
    pub(crate) expect_sender: Option<String>,
}

/// ir, cr and kur.
#[derive(Args, Debug, Clone)]
pub(crate) struct EnrollArgs {
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    #[command(flatten)]
    pub(crate) prot: ProtArgs,
    /// The key to certify (PEM or DER); default: a new key of --keyalg
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub(crate) newkey: Option<PathBuf>,
    /// Algorithm of the generated key: ec:P-256, ec:P-384, rsa2048, rsa3072, ed25519, ml-dsa-44/65/87
    #[arg(
        long,
        value_name = "ALG",
        default_value = "ec:P-256",
        help_heading = "Request"
    )]
    pub(crate) keyalg: String,
    /// Subject to request, /CN=a/O=b (OpenSSL) or CN=a,O=b (RFC 4514); default: that of --oldcert
    #[arg(long, value_name = "DN", help_heading = "Request")]
    pub(crate) subject: Option<String>,
    /// Certificate to update (kur; default --cert); for ir/cr only a subject default
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub(crate) oldcert: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) issue: IssueArgs,
    /// Write the generated key here (PKCS#8 PEM), before the request is sent
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) keyout: Option<PathBuf>,
    /// Central key generation (RFC 9483 4.1.6): the PKI generates a key of --keyalg's type
    /// and returns it encrypted for our --key (RSA, EC) or --secret
    #[arg(long = "central-keygen", help_heading = "Request")]
    pub(crate) central_keygen: bool,
    /// Central key generation: write the delivered private key here (PKCS#8 PEM)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) newkeyout: Option<PathBuf>,
    /// Archive the new private key at the CA (pkiArchiveOptions, RFC 4211 6.4), encrypted
    /// under the MAC --secret or for --archive-cert; `cmp krr` recovers it
    #[arg(long = "archive-key", help_heading = "Request")]
    pub(crate) archive_key: bool,
    /// --archive-key: encrypt the key for this certificate (the CA's; RSA: key transport,
    /// EC: key agreement) instead of the MAC secret
    #[arg(
        long,
        value_name = "FILE",
        requires = "archive_key",
        help_heading = "Request"
    )]
    pub(crate) archive_cert: Option<PathBuf>,
}

/// krr.
#[derive(Args, Debug, Clone)]
pub(crate) struct KrrArgs {
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    #[command(flatten)]
    pub(crate) prot: ProtArgs,
    /// Whose keys to recover, /CN=a/O=b or CN=a,O=b; default: the subject of --cert
    #[arg(long, value_name = "DN", help_heading = "Request")]
    pub(crate) subject: Option<String>,
    /// Write the certificates of the recovered keys here (PEM bundle, in the server's order)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) certout: Option<PathBuf>,
    /// Write the recovered private keys here (PKCS#8 PEM, one after another, same order)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) newkeyout: Option<PathBuf>,
}

/// What every certificate request shares: confirmation and where the
/// issued certificate, its chain and caPubs go.
#[derive(Args, Debug, Clone)]
pub(crate) struct IssueArgs {
    /// Ask the server to skip the certConf/pkiConf exchange
    #[arg(long = "implicit-confirm", help_heading = "Request")]
    pub(crate) implicit_confirm: bool,
    /// Write the issued certificate here (PEM)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) certout: Option<PathBuf>,
    /// Write the issuer chain of the new certificate here (PEM bundle, issuer first)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) chainout: Option<PathBuf>,
    /// Write the CA certificates of the response (caPubs) here (PEM bundle)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) cacertsout: Option<PathBuf>,
}

/// p10cr.
#[derive(Args, Debug, Clone)]
pub(crate) struct P10crArgs {
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    #[command(flatten)]
    pub(crate) prot: ProtArgs,
    /// The PKCS#10 request to send (DER or PEM)
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub(crate) csr: PathBuf,
    #[command(flatten)]
    pub(crate) issue: IssueArgs,
}

/// rr.
#[derive(Args, Debug, Clone)]
pub(crate) struct RrArgs {
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    #[command(flatten)]
    pub(crate) prot: ProtArgs,
    /// Certificate to revoke (default: --cert)
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub(crate) oldcert: Option<PathBuf>,
    /// CRL reason code (RFC 5280 5.3.1): 0 unspecified, 1 keyCompromise, 2 cACompromise,
    /// 3 affiliationChanged, 4 superseded, 5 cessationOfOperation, 6 certificateHold,
    /// 8 removeFromCRL, 9 privilegeWithdrawn, 10 aACompromise
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=10), help_heading = "Request")]
    pub(crate) revreason: Option<u8>,
}

/// genm.
#[derive(Args, Debug, Clone)]
pub(crate) struct GenmArgs {
    #[command(flatten)]
    pub(crate) conn: ConnArgs,
    #[command(flatten)]
    pub(crate) prot: ProtArgs,
    /// What to ask for: caCerts, rootCaKeyUpdate, certReqTemplate, crlStatusList or an OID;
    /// repeatable or comma-separated; none sends an empty genm
    #[arg(
        long = "genm-type",
        value_name = "TYPE",
        value_delimiter = ',',
        help_heading = "Request"
    )]
    pub(crate) genm_type: Vec<String>,
    /// rootCaKeyUpdate: the root CA certificate we trust now (sent as id-it-rootCaCert;
    /// an update received is checked against it: newWithOld, newWithNew, oldWithNew)
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub(crate) oldwithold: Option<PathBuf>,
    /// crlStatusList: the certificate whose CRL is wanted (its CRL distribution point or
    /// issuer is sent); default: --cert
    #[arg(long, value_name = "FILE", help_heading = "Request")]
    pub(crate) crlcert: Option<PathBuf>,
    /// Write the caCerts received here (PEM bundle)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) cacertsout: Option<PathBuf>,
    /// Write the new root certificate (newWithNew) of a rootCaKeyUpdate here (PEM)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) newwithnew: Option<PathBuf>,
    /// Write newWithOld of a rootCaKeyUpdate here (PEM)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) newwithold: Option<PathBuf>,
    /// Write oldWithNew of a rootCaKeyUpdate here (PEM)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) oldwithnew: Option<PathBuf>,
    /// Write the CRLs received here (PEM)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub(crate) crlout: Option<PathBuf>,
}

// ----- subcommands -----

/// `cmp ir|cr|kur|ccr`.
pub(crate) fn run_enroll(kind: EnrollKind, args: &EnrollArgs) -> CliResult<()> {
    let mut exchange = Exchange::new(&args.conn)?;
    let prot = Protection::load(&args.prot)?;
    let mut config = prot.config(&args.conn)?;
    config.implicit_confirm = args.issue.implicit_confirm;

    let old_cert = match (&args.oldcert, kind) {
        (Some(p), _) => Some(files::read_cert(p)?),
        (None, EnrollKind::Kur) => prot.cert.clone(),
        (None, _) => None,
    };
    if kind == EnrollKind::Kur && old_cert.is_none() {
        return Err(usage(
            "kur needs the certificate to update: --oldcert FILE (or --cert)",
        ));
    }
    let subject = match &args.subject {
        Some(s) => Some(parse_dn(s)?),
        None => old_cert
            .as_ref()
            .map(|c| c.tbs_certificate().subject().clone()),
    };

    if args.central_keygen {
        if args.archive_key {
            return Err(usage(
                "--archive-key sends a key of ours: the PKI archives keys it generates itself",
            ));
        }
        return run_central_keygen(kind, args, subject, old_cert, config, exchange, &prot);
    }
    if args.newkeyout.is_some() {
        return Err(usage(
            "--newkeyout writes a key the PKI generated: add --central-keygen",
        ));
    }
    let key = match &args.newkey {
        Some(p) => {
            if args.keyout.is_some() {
                return Err(usage(
                    "--keyout writes a generated key; with --newkey no key is generated",
                ));
            }
            files::read_key(p)?
        }
        None => {
            let alg = KeyAlgorithm::from_name(&args.keyalg)
                .ok_or_else(|| usage(format!("unknown --keyalg {:?}", args.keyalg)))?;
            let key =
                PrivateKey::generate(alg).map_err(|e| CliError::from(cmp_core::Error::from(e)))?;
            match &args.keyout {
                Some(p) => files::write_key(p, &key)?,
                None => eprintln!(
                    "cmp: warning: the generated {} key is not saved (use --keyout FILE)",
                    alg.name()
                ),
            }
            key
        }
    };
    let archive = if args.archive_key {
        Some(archive_control(&key, args, &config)?)
    } else {
        None
    };
    let key: Arc<dyn SigningKey> = Arc::new(key);

    let mut request = EnrollRequest::new(kind, subject, key);
    request.controls.extend(archive);
    // ir and cr: --oldcert only gives the default subject
    if kind == EnrollKind::Kur {
        request.old_cert = old_cert;
    }
    let mut tx = ClientTransaction::start_enroll(config, &request, Timestamp::now())?;
    let outcome = drive(&mut tx, &mut exchange).map_err(|e| prot.hint(e))?;
    let issued = outcome
        .issued
        .ok_or_else(|| internal("the transaction completed without a certificate"))?;
    report_issued(&issued, outcome.polls);
    write_issued(&issued, &args.issue)?;
    if let Some(p) = &args.keyout {
        println!("  key written to {}", p.display());
    }
    Ok(())
}

/// The pkiArchiveOptions control of `--archive-key`: `key` encrypted for
/// `--archive-cert`, else under the MAC secret.
fn archive_control(
    key: &PrivateKey,
    args: &EnrollArgs,
    config: &ClientConfig,
) -> CliResult<cmp_core::asn1::AttributeTypeAndValue> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| CliError::from(cmp_core::Error::from(e)))?;
    let cert = args
        .archive_cert
        .as_deref()
        .map(files::read_cert)
        .transpose()?;
    cmp_core::archive::client_control(config, &der, cert.as_ref())?.ok_or_else(|| {
        usage("--archive-key without a MAC --secret needs --archive-cert (the CA's certificate)")
    })
}

/// `cmp ir|cr|kur --central-keygen`.
fn run_central_keygen(
    kind: EnrollKind,
    args: &EnrollArgs,
    subject: Option<Name>,
    old_cert: Option<Certificate>,
    config: ClientConfig,
    mut exchange: Exchange,
    prot: &Protection,
) -> CliResult<()> {
    if args.newkey.is_some() || args.keyout.is_some() {
        return Err(usage(
            "--central-keygen: the PKI makes the key; use --newkeyout, not --newkey/--keyout",
        ));
    }
    let alg = KeyAlgorithm::from_name(&args.keyalg)
        .ok_or_else(|| usage(format!("unknown --keyalg {:?}", args.keyalg)))?;
    let mut request = EnrollRequest::central_keygen(
        kind,
        subject,
        Some(key_type_identifier(alg)),
        prot.opener.clone(),
    );
    if kind == EnrollKind::Kur {
        request.old_cert = old_cert;
    }
    let mut tx = ClientTransaction::start_enroll(config, &request, Timestamp::now())?;
    let outcome = drive(&mut tx, &mut exchange).map_err(|e| prot.hint(e))?;
    let issued = outcome
        .issued
        .ok_or_else(|| internal("the transaction completed without a certificate"))?;
    report_issued(&issued, outcome.polls);
    write_issued(&issued, &args.issue)?;
    let delivered = issued
        .private_key
        .as_ref()
        .ok_or_else(|| internal("central key generation completed without a key"))?;
    let key = PrivateKey::from_pkcs8_der(delivered.as_bytes())
        .map_err(|e| CliError::from(cmp_core::Error::from(e)))?;
    println!("  key: generated by the PKI ({})", alg.name());
    match &args.newkeyout {
        Some(p) => {
            files::write_key(p, &key)?;
            println!("  key written to {}", p.display());
        }
        None => eprintln!("cmp: warning: the delivered key is not saved (use --newkeyout FILE)"),
    }
    Ok(())
}

/// `cmp krr`.
pub(crate) fn run_krr(args: &KrrArgs) -> CliResult<()> {
    let mut exchange = Exchange::new(&args.conn)?;
    let prot = Protection::load(&args.prot)?;
    let config = prot.config(&args.conn)?;
    let subject = match &args.subject {
        Some(s) => Some(parse_dn(s)?),
        None => prot
            .cert
            .as_ref()
            .map(|c| c.tbs_certificate().subject().clone()),
    };
    if subject.is_none() {
        return Err(usage(
            "krr needs whose keys to recover: --subject DN (or --cert)",
        ));
    }
    let request = KeyRecoveryRequest::new(subject, prot.opener.clone());
    let mut tx = ClientTransaction::start_krr(config, &request, Timestamp::now())?;
    let outcome = drive(&mut tx, &mut exchange).map_err(|e| prot.hint(e))?;
    let recovered = outcome
        .recovered
        .ok_or_else(|| internal("the transaction completed without recovered keys"))?;
    println!(
        "keys recovered: {} ({} key{})",
        recovered.status,
        recovered.keys.len(),
        plural(recovered.keys.len())
    );
    let mut certs = Vec::new();
    let mut pem = String::new();
    for k in &recovered.keys {
        println!("  {}", cert_line(&k.cert));
        certs.push(k.cert.clone());
        let key = PrivateKey::from_pkcs8_der(k.private_key.as_bytes())
            .map_err(|e| CliError::from(cmp_core::Error::from(e)))?;
        let text = key
            .to_pkcs8_pem()
            .map_err(|e| CliError::from(cmp_core::Error::from(e)))?;
        pem.push_str(&text);
    }
    if let Some(p) = &args.certout {
        files::write_certs(p, &certs)?;
        println!("  certificates written to {}", p.display());
    }
    match &args.newkeyout {
        Some(p) => {
            files::write_file(p, pem.as_bytes(), true)?;
            println!("  keys written to {}", p.display());
        }
        None => eprintln!("cmp: warning: the recovered keys are not saved (use --newkeyout FILE)"),
    }
    Ok(())
}

/// `cmp p10cr`.
pub(crate) fn run_p10cr(args: &P10crArgs) -> CliResult<()> {
    let mut exchange = Exchange::new(&args.conn)?;
    let prot = Protection::load(&args.prot)?;
    let mut config = prot.config(&args.conn)?;
    config.implicit_confirm = args.issue.implicit_confirm;
    let csr = files::read_csr(&args.csr)?;
    let mut tx = ClientTransaction::start_p10cr(config, csr, Timestamp::now())?;
    let outcome = drive(&mut tx, &mut exchange).map_err(|e| prot.hint(e))?;
    let issued = outcome
        .issued
        .ok_or_else(|| internal("the transaction completed without a certificate"))?;
    report_issued(&issued, outcome.polls);
    write_issued(&issued, &args.issue)
}

/// `cmp rr`.
pub(crate) fn run_rr(args: &RrArgs) -> CliResult<()> {
    let mut exchange = Exchange::new(&args.conn)?;
    let prot = Protection::load(&args.prot)?;
    let config = prot.config(&args.conn)?;
    let cert = match &args.oldcert {
        Some(p) => files::read_cert(p)?,
        None => prot.cert.clone().ok_or_else(|| {
            usage("rr needs the certificate to revoke: --oldcert FILE (or --cert)")
        })?,
    };
    let request = RevokeRequest {
        cert: cert.clone(),
        reason: args.revreason,
    };
    let mut tx = ClientTransaction::start_rr(config, &request, Timestamp::now())?;
    let outcome = drive(&mut tx, &mut exchange).map_err(|e| prot.hint(e))?;
    let status = outcome
        .revoked
        .ok_or_else(|| internal("the transaction completed without a revocation status"))?;
    let tbs = cert.tbs_certificate();
    println!("revocation accepted: {status}");
    println!("  certificate: {}", tbs.subject());
    println!("  issuer:      {}", tbs.issuer());
    println!("  serial:      {}", hex(tbs.serial_number().as_bytes()));
    if let Some(r) = args.revreason {
        println!("  reason:      {} ({r})", reason_name(r));
    }
    Ok(())
}

/// `cmp genm`.
pub(crate) fn run_genm(args: &GenmArgs) -> CliResult<()> {
    let mut exchange = Exchange::new(&args.conn)?;
    let prot = Protection::load(&args.prot)?;
    let items = genm_items(args, &prot)?;
    let config = prot.config(&args.conn)?;
    let mut tx = ClientTransaction::start_genm(config, items, Timestamp::now())?;
    let outcome = drive(&mut tx, &mut exchange).map_err(|e| prot.hint(e))?;
    let content = outcome
        .general
        .ok_or_else(|| internal("the transaction completed without a general response"))?;
    report_genp(&content, args)
}

fn internal(what: &str) -> CliError {
    CliError::Internal(what.to_owned())
}

// ----- protection -----

/// Credentials and trust loaded from the files given.
struct Protection {
    protector: Protector,
    /// Our certificate (signature protection), also a default for --oldcert.
    cert: Option<Certificate>,
    untrusted: Vec<Certificate>,
    trusted: Vec<Certificate>,
    recipient: Option<Name>,
    expected_sender: Option<Name>,
    /// Opens keys the PKI delivers: our --key with --cert, or the --secret.
    opener: Arc<EnvelopeKey>,
}

impl Protection {
    fn load(args: &ProtArgs) -> CliResult<Self> {
        let untrusted = files::read_cert_files(&args.untrusted)?;
        let trusted = files::read_cert_files(&args.trusted)?;
        let mac = args.reference.is_some() || args.secret.is_some();
        let sig = args.cert.is_some() || args.key.is_some();
        if mac && sig {
            return Err(usage(
                "choose one protection: --ref/--secret (MAC) or --cert/--key (signature)",
            ));
        }
        let (protector, cert, opener) = if mac {
            let (Some(reference), Some(secret)) = (&args.reference, &args.secret) else {
                return Err(usage("MAC protection needs both --ref and --secret"));
            };
            let secret = files::read_secret(secret)?;
            let opener = Arc::new(EnvelopeKey::password(&secret));
            let scheme = match args.mac {
                MacArg::Pbm => MacScheme::PBM_SHA256,
                MacArg::Pbmac1 => MacScheme::PBMAC1_SHA256,
            };
            (
                Protector::Mac {
                    reference: reference.as_bytes().to_vec(),
                    secret,
                    scheme,
                },
                None,
                opener,
            )
        } else if sig {
            let (Some(cert_path), Some(key_path)) = (&args.cert, &args.key) else {
                return Err(usage("signature protection needs both --cert and --key"));
            };
            let mut cert_file = files::read_certs(cert_path)?;
            let cert = cert_file.remove(0);
            let key = files::read_key(key_path)?;
            if &key.public_key() != cert.tbs_certificate().subject_public_key_info() {
                return Err(usage(format!(
                    "--key {} does not belong to --cert {}",
                    key_path.display(),
                    cert_path.display()
                )));
            }
            let mut pool = cert_file;
            pool.extend(untrusted.iter().cloned());
            let chain = files::own_chain(&cert, &pool);
            let opener = Arc::new(EnvelopeKey::private_key(key.clone(), cert.clone()));
            let key: Arc<dyn SigningKey> = Arc::new(key);
            (
                Protector::Signature {
                    key,
                    cert: cert.clone(),
                    chain,
                },
                Some(cert),
                opener,
            )
        } else {
            return Err(usage(
                "no protection given: use --ref REF --secret SECRET, or --cert FILE --key FILE",
            ));
        };
        let recipient = args.recipient.as_deref().map(parse_dn).transpose()?;
        let expected_sender = args.expect_sender.as_deref().map(parse_dn).transpose()?;
        Ok(Self {
            protector,
            cert,
            untrusted,
            trusted,
            recipient,
            expected_sender,
            opener,
        })
    }

    /// Add a hint to errors whose cause is likely a missing argument.
    fn hint(&self, e: CliError) -> CliError {
        match e {
            CliError::Cmp(e)
                if *e == cmp_core::Error::WrongIntegrity && self.trusted.is_empty() =>
            {
                CliError::Hinted(
                    e,
                    "signed responses need the server's trust anchor: --trusted FILE",
                )
            }
            CliError::Cmp(e) if *e == cmp_core::Error::WrongIntegrity && self.cert.is_some() => {
                CliError::Hinted(
                    e,
                    "MAC-protected responses are accepted only with --ref/--secret protection",
                )
            }
            other => other,
        }
    }

    fn config(&self, conn: &ConnArgs) -> CliResult<ClientConfig> {
        let provider: Arc<dyn CryptoProvider> = Arc::new(RustCryptoProvider);
        let mut config = ClientConfig::new(provider, self.protector.clone());
        config.untrusted = self.untrusted.clone();
        if !self.trusted.is_empty() {
            config.server_trust = Some(TrustStore::new(self.trusted.clone()));
        }
        config.recipient = self.recipient.clone();
        config.expected_sender = self.expected_sender.clone().map(GeneralName::DirectoryName);
        config.total_timeout = conn.timeout.filter(|t| *t > 0);
        Ok(config)
    }
}

// ----- genm -----

fn genm_items(args: &GenmArgs, prot: &Protection) -> CliResult<Vec<InfoTypeAndValue>> {
    let mut items = Vec::new();
    for spec in &args.genm_type {
        let spec = spec.trim();
        let request = match spec.to_ascii_lowercase().as_str() {
            "" => continue,
            "cacerts" => GenmRequest::CaCerts,
            "rootcakeyupdate" | "rootcacert" => GenmRequest::RootCaUpdate {
                old_root: args
                    .oldwithold
                    .as_deref()
                    .map(files::read_cert)
                    .transpose()?,
            },
            "certreqtemplate" => GenmRequest::CertReqTemplate,
            "crlstatuslist" | "crls" => {
                let cert = match &args.crlcert {
                    Some(p) => files::read_cert(p)?,
                    None => prot.cert.clone().ok_or_else(|| {
                        usage("--genm-type crlStatusList needs --crlcert FILE (or --cert)")
                    })?,
                };
                GenmRequest::CrlUpdate(vec![crl_status_for(&cert)])
            }
            _ => {
                let info_type = ObjectIdentifier::new(spec).map_err(|_| {
                    usage(format!(
                        "unknown --genm-type {spec:?} (caCerts, rootCaKeyUpdate, certReqTemplate, crlStatusList or a dotted OID)"
                    ))
                })?;
                GenmRequest::Other(InfoTypeAndValue {
                    info_type,
                    info_value: None,
                })
            }
        };
        items.push(request.to_itav()?);
    }
    Ok(items)
}

/// The CRLStatus for the CRL covering `cert`: its first CRL distribution
/// point, else its issuer (RFC 9483 section 4.3.4).
fn crl_status_for(cert: &Certificate) -> CrlStatus {
    let tbs = cert.tbs_certificate();
    let dpn = match tbs.get_extension::<CrlDistributionPoints>() {
        Ok(Some((_, dps))) => dps.0.into_iter().find_map(|dp| dp.distribution_point),
        _ => None,
    };
    let source = match dpn {
        Some(d) => CrlSource::Dpn(d),
        None => CrlSource::Issuer(vec![GeneralName::DirectoryName(tbs.issuer().clone())]),
    };
    CrlStatus {
        source,
        this_update: None,
    }
}

fn report_genp(content: &[InfoTypeAndValue], args: &GenmArgs) -> CliResult<()> {
    if content.is_empty() {
        println!("general response: no entries");
        return Ok(());
    }
    println!(
        "general response: {} entr{}",
        content.len(),
        if content.len() == 1 { "y" } else { "ies" }
    );
    for itav in content {
        let typed = InfoValue::from_itav(itav);
        match typed {
            Ok(Some(InfoValue::CaCerts(None))) => println!("  caCerts: none"),
            Ok(Some(InfoValue::CaCerts(Some(certs)))) => {
                println!(
                    "  caCerts: {} certificate{}",
                    certs.len(),
                    plural(certs.len())
                );
                for c in &certs {
                    println!("    {}", cert_line(c));
                }
                if let Some(p) = &args.cacertsout {
                    files::write_certs(p, &certs)?;
                    println!("    written to {}", p.display());
                }
            }
            Ok(Some(InfoValue::RootCaKeyUpdate(None))) => {
                println!("  rootCaKeyUpdate: no update available")
            }
            Ok(Some(InfoValue::RootCaKeyUpdate(Some(u)))) => {
                println!("  rootCaKeyUpdate:");
                // With the root we trust now, the update gets the checks of a ckuann.
                if let Some(p) = &args.oldwithold {
                    let old = files::read_cert(p)?;
                    let provider: Arc<dyn CryptoProvider> = Arc::new(RustCryptoProvider);
                    cmp_core::announce::validate_root_key_update(
                        &u,
                        &TrustStore::new(vec![old]),
                        Timestamp::now(),
                        provider.as_ref(),
                    )
                    .map_err(|e| CliError::Announce(Box::new(e)))?;
                    println!("    checked: newWithOld links the new root to the old one");
                }
                println!("    newWithNew: {}", cert_line(&u.new_with_new));
                let parts = [
                    (
                        "newWithOld",
                        u.new_with_old.as_ref(),
                        args.newwithold.as_deref(),
                    ),
                    (
                        "oldWithNew",
                        u.old_with_new.as_ref(),
                        args.oldwithnew.as_deref(),
                    ),
                ];
                if let Some(p) = &args.newwithnew {
                    files::write_certs(p, std::slice::from_ref(&u.new_with_new))?;
                    println!("    newWithNew written to {}", p.display());
                }
                for (label, cert, out) in parts {
                    match cert {
                        Some(c) => {
                            println!("    {label}: {}", cert_line(c));
                            if let Some(p) = out {
                                files::write_certs(p, std::slice::from_ref(c))?;
                                println!("    {label} written to {}", p.display());
                            }
                        }
                        None => println!("    {label}: absent"),
                    }
                }
            }
            Ok(Some(InfoValue::CertReqTemplate(None))) => {
                println!("  certReqTemplate: none (no template required)")
            }
            Ok(Some(InfoValue::CertReqTemplate(Some(t)))) => {
                println!("  certReqTemplate:");
                let ct = &t.cert_template;
                if let Some(s) = &ct.subject {
                    println!("    subject: {s}");
                }
                if let Some(k) = &ct.public_key {
                    println!("    publicKey: {}", oid_text(&k.algorithm.oid));
                }
                if let Some(ext) = &ct.extensions {
                    for e in ext {
                        println!(
                            "    extension: {}{}",
                            oid_text(&e.extn_id),
                            if e.critical { " (critical)" } else { "" }
                        );
                    }
                }
                for ctl in t.key_spec.iter().flatten() {
                    println!("    keySpec: {}", oid_text(&ctl.oid));
                }
            }
            Ok(Some(InfoValue::Crls(None))) => println!("  crls: none (the CRL is up to date)"),
            Ok(Some(InfoValue::Crls(Some(crls)))) => {
                println!("  crls: {} CRL{}", crls.len(), plural(crls.len()));
                let mut pem = String::new();
                for crl in &crls {
                    let tbs = &crl.tbs_cert_list;
                    println!(
                        "    issuer {}, thisUpdate {}, {} revoked",
                        tbs.issuer,
                        tbs.this_update,
                        tbs.revoked_certificates.as_ref().map_or(0, Vec::len)
                    );
                    let der = crl
                        .to_der()
                        .map_err(|e| CliError::from(cmp_core::Error::Encode(e)))?;
                    let text = der::pem::encode_string("X509 CRL", LineEnding::LF, &der)
                        .map_err(|e| CliError::Io(format!("cannot PEM-encode a CRL: {e}")))?;
                    pem.push_str(&text);
                }
                if let Some(p) = &args.crlout {
                    files::write_file(p, pem.as_bytes(), false)?;
                    println!("    written to {}", p.display());
                }
            }
            Ok(Some(InfoValue::RootCaCert(Some(c)))) => println!("  rootCaCert: {}", cert_line(&c)),
            Ok(Some(InfoValue::CertProfile(names))) => {
                println!("  certProfile: {}", names.join(", "))
            }
            Ok(Some(InfoValue::CrlStatusList(list))) => {
                println!(
                    "  crlStatusList: {} entr{}",
                    list.len(),
                    if list.len() == 1 { "y" } else { "ies" }
                );
            }
            Ok(_) | Err(_) => {
                let value = match &itav.info_value {
                    Some(v) if typed.is_err() => {
                        format!("{} bytes (not the expected structure)", v.value().len())
                    }
                    Some(v) => format!("{} bytes", v.value().len()),
                    None => "no value".to_owned(),
                };
                println!("  {}: {value}", oid_text(&itav.info_type));
            }
        }
    }
    Ok(())
}

// ----- the exchange -----

/// HTTP transport plus logging and saving of messages.
/// Where requests go: an HTTP server, or a spool directory (file exchange).
enum Target {
    Http(HttpUrl),
    Spool {
        dir: PathBuf,
        /// Random name prefix of this run's files.
        id: String,
    },
}

struct Exchange {
    target: Target,
    total_deadline: Option<Instant>,
    msg_timeout: Duration,
    verbose: bool,
    reqout: Option<PathBuf>,
    rspout: Option<PathBuf>,
    count: usize,
}

impl Exchange {
    fn new(conn: &ConnArgs) -> CliResult<Self> {
        let target = match conn.server.strip_prefix("file:") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if !dir.is_dir() {
                    return Err(usage(format!(
                        "--server file:{}: no such directory",
                        dir.display()
                    )));
                }
                let mut id = [0u8; 8];
                RustCryptoProvider
                    .fill(&mut id)
                    .map_err(|e| CliError::from(cmp_core::Error::Crypto(e)))?;
                Target::Spool {
                    dir,
                    id: id.iter().map(|b| format!("{b:02x}")).collect(),
                }
            }
            Some(_) => return Err(usage("--server file:DIR needs a directory")),
            None => Target::Http(
                HttpUrl::parse(&conn.server).map_err(|e| usage(format!("--server: {e}")))?,
            ),
        };
        if conn.msg_timeout == 0 {
            return Err(usage("--msg-timeout must be at least 1 second"));
        }
        for dir in [&conn.reqout, &conn.rspout].into_iter().flatten() {
            std::fs::create_dir_all(dir).map_err(|e| {
                CliError::Io(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        Ok(Self {
            target,
            total_deadline: conn
                .timeout
                .filter(|t| *t > 0)
                .map(|t| Instant::now() + Duration::from_secs(t)),
            msg_timeout: Duration::from_secs(conn.msg_timeout),
            verbose: conn.verbose,
            reqout: conn.reqout.clone(),
            rspout: conn.rspout.clone(),
            count: 0,
        })
    }

    /// POST one request, return the response bytes.
    fn send(&mut self, request: &[u8]) -> CliResult<Vec<u8>> {
        self.count += 1;
        self.trace("request", request, self.reqout.clone())?;
        let mut deadline = Instant::now() + self.msg_timeout;
        if let Some(total) = self.total_deadline {
            deadline = deadline.min(total);
        }
        let response = match &self.target {
            Target::Http(url) => http::post_pkixcmp(url, request, deadline).map_err(|e| {
                if e.is_timeout() {
                    // a silent or slow server: the same typed error as the total deadline
                    CliError::Hinted(
                        Box::new(cmp_core::Error::Timeout),
                        "the server did not answer in time",
                    )
                } else {
                    CliError::Transport(format!("{}: {e}", self.url_text()))
                }
            })?,
            Target::Spool { dir, id } => {
                let path = spool::request_path(dir, id, self.count);
                spool::write_atomic(&path, request).map_err(CliError::Io)?;
                let answer = spool::response_path(&path)
                    .ok_or_else(|| internal("spool file name without a response name"))?;
                if self.verbose {
                    eprintln!(
                        "... request in {}, waiting for {}",
                        path.display(),
                        answer.display()
                    );
                }
                let response = spool::wait_for(&answer, deadline)
                    .map_err(CliError::Transport)?
                    .ok_or_else(|| {
                        CliError::Transport(format!(
                            "no {} before the timeout (the request stays in {})",
                            answer.display(),
                            path.display()
                        ))
                    })?;
                // both files are ours now: leave the directory clean
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(&answer);
                response
            }
        };
        self.trace("response", &response, self.rspout.clone())?;
        Ok(response)
    }

    fn url_text(&self) -> String {
        let url = match &self.target {
            Target::Http(url) => url,
            Target::Spool { dir, .. } => return format!("file:{}", dir.display()),
        };
        let host = if url.host.contains(':') {
            format!("[{}]", url.host)
        } else {
            url.host.clone()
        };
        format!("http://{host}:{}{}", url.port, url.path)
    }

    fn trace(&self, what: &str, der: &[u8], dir: Option<PathBuf>) -> CliResult<()> {
        let parsed = ParsedMessage::decode(der, &Limits::DEFAULT).ok();
        let body = parsed.as_ref().map_or("unparsed", |m| m.body_type().name());
        if self.verbose {
            let arrow = if what == "request" { "-->" } else { "<--" };
            eprintln!(
                "{arrow} {what} {} ({body}, {} bytes)",
                self.count,
                der.len()
            );
            match &parsed {
                Some(m) => eprint!("{}", describe(m.message())),
                None => eprintln!("  (not a PKIMessage this library can decode)"),
            }
        }
        if let Some(dir) = dir {
            let path = dir.join(format!("{:02}-{body}.der", self.count));
            files::write_file(&path, der, false)?;
        }
        Ok(())
    }

    /// Sleep until `at` or the total deadline, whichever is first.
    fn sleep_until(&self, at: Timestamp) -> CliResult<()> {
        let mut wait = Timestamp::now().until(at);
        if let Some(total) = self.total_deadline {
            let left = total.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CliError::from(cmp_core::Error::Timeout));
            }
            wait = wait.min(left);
        }
        if self.verbose && wait >= Duration::from_millis(500) {
            eprintln!("... waiting {:.1} s", wait.as_secs_f64());
        }
        std::thread::sleep(wait);
        Ok(())
    }
}

/// What the transaction produced.
#[derive(Default)]
struct Outcome {
    issued: Option<IssuedCertificate>,
    revoked: Option<PkiStatusInfo>,
    general: Option<Vec<InfoTypeAndValue>>,
    recovered: Option<RecoveredKeys>,
    /// How often the server told us to wait.
    polls: usize,
}

/// Run the transaction to its end.
fn drive(tx: &mut ClientTransaction, exchange: &mut Exchange) -> CliResult<Outcome> {
    let mut outcome = Outcome::default();
    let mut waiting = false;
    let mut idle_rounds = 0u32;
    while !tx.is_finished() {
        if let Some(request) = tx.poll_transmit() {
            idle_rounds = 0;
            let response = exchange.send(&request)?;
            let event = tx.handle_response(&response, Timestamp::now())?;
            waiting = on_event(tx, event, &mut outcome, exchange.verbose)?;
            continue;
        }
        // Nothing to send: only a wait the server asked for can make progress.
        let next = tx.poll_timeout();
        match next {
            Some(at) if waiting && idle_rounds < 10_000 => {
                idle_rounds += 1;
                exchange.sleep_until(at)?;
                // second-granular timestamps: never spin faster than this
                if idle_rounds > 1 {
                    std::thread::sleep(Duration::from_millis(20));
                }
                tx.handle_timeout(Timestamp::now())?;
            }
            _ => {
                return Err(internal(
                    "the transaction stalled: nothing to send and nothing to wait for",
                ));
            }
        }
    }
    if !tx.is_completed() {
        return Err(internal(
            "the transaction stalled: nothing to send and nothing to wait for",
        ));
    }
    Ok(outcome)
}

/// Handle one event; true when the server asked us to wait.
fn on_event(
    tx: &mut ClientTransaction,
    event: ClientEvent,
    outcome: &mut Outcome,
    verbose: bool,
) -> CliResult<bool> {
    match event {
        ClientEvent::Continue | ClientEvent::Completed => Ok(false),
        ClientEvent::Waiting { until } => {
            outcome.polls += 1;
            if verbose {
                let secs = Timestamp::now().until(until).as_secs_f64();
                eprintln!("... the server asks to wait ({secs:.1} s), then poll");
            }
            Ok(true)
        }
        ClientEvent::CertificateIssued(issued) => {
            outcome.issued = Some(issued);
            let next = tx.confirm(Confirmation::Accept, Timestamp::now())?;
            on_event(tx, next, outcome, verbose)
        }
        ClientEvent::Revoked { status } => {
            outcome.revoked = Some(status);
            Ok(false)
        }
        ClientEvent::GeneralResponse(content) => {
            outcome.general = Some(content);
            Ok(false)
        }
        ClientEvent::KeysRecovered(keys) => {
            outcome.recovered = Some(keys);
            Ok(false)
        }
    }
}

// ----- output -----

fn report_issued(issued: &IssuedCertificate, polls: usize) {
    let tbs = issued.cert.tbs_certificate();
    println!("certificate issued: {}", issued.status);
    println!("  subject: {}", tbs.subject());
    println!("  issuer:  {}", tbs.issuer());
    println!("  serial:  {}", hex(tbs.serial_number().as_bytes()));
    println!(
        "  valid:   {} to {}",
        tbs.validity().not_before,
        tbs.validity().not_after
    );
    if polls > 0 {
        println!("  polled:  {polls} time{}", plural(polls));
    }
    let confirmation = if issued.implicit_confirm_granted {
        "implicit (granted by the server)"
    } else {
        "explicit (certConf answered by pkiConf)"
    };
    println!("  confirmation: {confirmation}");
}

fn write_issued(issued: &IssuedCertificate, out: &IssueArgs) -> CliResult<()> {
    if let Some(p) = &out.certout {
        files::write_certs(p, std::slice::from_ref(&issued.cert))?;
        println!("  certificate written to {}", p.display());
    }
    if let Some(p) = &out.chainout {
        if issued.chain.is_empty() {
            eprintln!(
                "cmp: warning: the response carries no issuer certificates; {} is empty",
                p.display()
            );
        }
        files::write_certs(p, &issued.chain)?;
        println!(
            "  chain ({} certificate{}) written to {}",
            issued.chain.len(),
            plural(issued.chain.len()),
            p.display()
        );
    }
    if let Some(p) = &out.cacertsout {
        files::write_certs(p, &issued.ca_pubs)?;
        println!(
            "  caPubs ({} certificate{}) written to {}",
            issued.ca_pubs.len(),
            plural(issued.ca_pubs.len()),
            p.display()
        );
    }
    Ok(())
}

fn cert_line(c: &Certificate) -> String {
    let tbs = c.tbs_certificate();
    format!(
        "subject {}, issuer {}, serial {}",
        tbs.subject(),
        tbs.issuer(),
        hex(tbs.serial_number().as_bytes())
    )
}

fn oid_text(o: &ObjectIdentifier) -> String {
    let known = match *o {
        oid::IT_CA_CERTS => Some("caCerts"),
        oid::IT_ROOT_CA_KEY_UPDATE => Some("rootCaKeyUpdate"),
        oid::IT_ROOT_CA_CERT => Some("rootCaCert"),
        oid::IT_CERT_REQ_TEMPLATE => Some("certReqTemplate"),
        oid::IT_CERT_PROFILE => Some("certProfile"),
        oid::IT_CRL_STATUS_LIST => Some("crlStatusList"),
        oid::IT_CRLS => Some("crls"),
        oid::IT_IMPLICIT_CONFIRM => Some("implicitConfirm"),
        oid::IT_CONFIRM_WAIT_TIME => Some("confirmWaitTime"),
        _ => oid_name(o),
    };
    match known {
        Some(name) => format!("{name} ({o})"),
        None => o.to_string(),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn reason_name(r: u8) -> &'static str {
    match r {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pki(name: &str) -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/vectors/pki")
            .join(name)
    }

    #[test]
    fn own_chain_leaves_out_the_root() {
        let ee = files::read_cert(&pki("ee.crt")).unwrap();
        let pool = files::read_certs(&pki("chain.crt")).unwrap();
        let chain = files::own_chain(&ee, &pool);
        assert_eq!(chain.len(), 1);
        assert_eq!(
            chain[0].tbs_certificate().subject().to_string(),
            "CN=Test Issuing CA"
        );
    }

    #[test]
    fn crl_status_falls_back_to_the_issuer() {
        let ee = files::read_cert(&pki("ee.crt")).unwrap();
        let status = crl_status_for(&ee);
        match status.source {
            CrlSource::Issuer(names) => {
                assert_eq!(
                    names,
                    vec![GeneralName::DirectoryName(
                        ee.tbs_certificate().issuer().clone()
                    )]
                );
            }
            CrlSource::Dpn(_) => unreachable!("the test certificates have no CRL DP"),
        }
    }

    #[test]
    fn hex_and_names() {
        assert_eq!(hex(&[0x6c, 0x0a]), "6C0A");
        assert_eq!(oid_text(&oid::IT_CA_CERTS), "caCerts (1.3.6.1.5.5.7.4.17)");
        assert_eq!(reason_name(1), "keyCompromise");
    }
}
