//! `cmp serve`: the reference CA server.
//!
//! CMP over HTTP (RFC 9811) on `/.well-known/cmp` (with any `/p/<name>` and
//! operation label) and OpenSSL's default `/pkix/`, answered by the
//! `cmp-core` [`Responder`] and decided by a [`ReferenceCa`] with the policy
//! of [`policy`]. Requests are handled one at a time on one worker thread;
//! HTTP connections are read by `tiny_http`'s own threads.
//!
//! [`start`] runs the server in-process (it returns once the socket is
//! bound); [`run`] is the `cmp serve` subcommand around it, with signal
//! handling.
//!
//! State lives in SQLite ([`state`], one instance) or, with
//! `--store postgres://...`, in PostgreSQL shared by several instances
//! ([`pg`]); [`backend`] picks one, [`records`] abstracts where the CA's
//! issued and revoked certificates are kept, and [`archive`] keeps the
//! archived keys (sealed) for key recovery.

mod archive;
mod backend;
mod pg;
mod policy;
mod records;
mod state;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cmp_core::asn1::{BodyType, RootCaKeyUpdateContent};
use cmp_core::crypto::{DecapsulationKey, SigningKey as _};
use cmp_core::protection::Protector;
use cmp_core::server::store::{Phase, StoreKey};
use cmp_core::server::{
    Reply, Responder, ResponderConfig, ResponderEvent, StaticSecrets, TransactionRecord,
    TransactionStore,
};
use cmp_core::transport::{CONTENT_TYPE, parse_path};
use cmp_core::trust::TrustStore;
use cmp_core::{Limits, Timestamp};
use cmp_crypto_rustcrypto::{
    ArchiveSealer, KemPrivateKey, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
};
use der::pem::LineEnding;
use der::{Decode, DecodePem, Encode, EncodePem};
use x509_cert::Certificate;

use self::archive::StoredArchive;
use self::backend::Backend;
use self::policy::Policy;
use self::records::{LocalRecords, Meta};
use self::state::keys;

/// Largest accepted request body.
const MAX_BODY: usize = 1 << 20;
/// How often expired transactions are swept.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// How long the worker waits for a request before looking at its flags.
const TICK: Duration = Duration::from_millis(100);
/// How long after its issue a certificate that no transaction holds and
/// that was neither confirmed nor revoked is withdrawn, at least (the
/// transaction lifetime when longer): ample time for the instance that
/// issued it to store the transaction that delivers it.
const UNDELIVERED_GRACE: Duration = Duration::from_secs(60);
/// How long open transactions live by default (the responder's default).
const TRANSACTION_LIFETIME_SECS: u64 = 600;

/// Run the reference CA server.
///
/// The first line on stdout is `listening on http://ADDR:PORT/.well-known/cmp`;
/// one line per finished transaction goes to stderr. SIGINT or SIGTERM stop
/// it gracefully (the request in flight is answered, the state saved).
#[derive(clap::Args, Debug)]
#[command(after_help = SERVE_AFTER_HELP)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on; port 0 lets the system choose
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Reference value (senderKID) of a MAC-protected client; pairs with the
    /// --secret in the same position (repeatable)
    #[arg(long = "ref", value_name = "REF")]
    refs: Vec<String>,
    /// Shared secret of the --ref in the same position: pass:TEXT, env:VAR,
    /// file:PATH or the text itself (repeatable)
    #[arg(long = "secret", value_name = "SECRET")]
    secrets: Vec<String>,
    /// Issuing CA certificate (PEM or DER); without it a demo hierarchy is
    /// generated (and kept in --state)
    #[arg(long, value_name = "FILE", requires = "ca_key")]
    ca_cert: Option<PathBuf>,
    /// Private key of --ca-cert (PKCS#8, SEC1 or PKCS#1; PEM or DER)
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    ca_key: Option<PathBuf>,
    /// Certificates above --ca-cert up to the root (PEM)
    #[arg(long, value_name = "FILE", requires = "ca_cert")]
    ca_chain: Option<PathBuf>,
    /// Write the root CA certificate (PEM) here, e.g. of the demo hierarchy
    #[arg(long, value_name = "FILE")]
    root_out: Option<PathBuf>,
    /// Trust anchors for signature-protected requests (PEM; repeatable);
    /// needs --cert and --key
    #[arg(long, value_name = "FILE", requires = "cert")]
    trusted: Vec<PathBuf>,
    /// The server's CMP signer certificate (signs replies to
    /// signature-protected requests)
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of --cert
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// More certificates (PEM; repeatable) for the extraCerts of ip/cp/kup
    /// and for chains of the signer and of clients
    #[arg(long, value_name = "FILE")]
    extracerts: Vec<PathBuf>,
    /// Make clients poll N times (checkAfter 1 s) before a certificate
    /// request is decided
    #[arg(long, value_name = "N", default_value_t = 0)]
    poll: u32,
    /// Grant implicit confirmation to clients that ask for it
    #[arg(long)]
    grant_implicit_confirm: bool,
    /// SQLite file for issued and revoked certificates and open
    /// transactions (created if missing); in memory without it
    #[arg(long, value_name = "FILE", conflicts_with = "store")]
    state: Option<PathBuf>,
    /// PostgreSQL database shared by several `cmp serve` instances, as a
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB URL (or env:VAR holding
    /// one): open transactions, issued and revoked certificates, the CA
    /// settings. The schema is created or migrated at start.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// How long an open transaction may wait for the client's next message,
    /// seconds; expired ones are swept (an unconfirmed certificate is revoked)
    #[arg(long, value_name = "SECS", default_value_t = TRANSACTION_LIFETIME_SECS)]
    transaction_lifetime: u64,
    /// Iteration count of the PBM / PBMAC1 protection of replies to
    /// MAC-protected requests (default 10000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(100..=100_000))]
    reply_mac_iterations: Option<u32>,
    /// The server's ML-KEM private key (PKCS#8, PEM or DER): a client that
    /// holds its certificate may send a ciphertext encapsulated to it with
    /// its (MAC- or signature-protected) request; the replies then carry
    /// the KEM-based MAC of that secret (RFC 9810 section 5.1.3.4), which
    /// authenticates the server. Requests protected only by that KEM-based
    /// MAC are refused (notAuthorized): it does not authenticate the client
    #[arg(long, value_name = "FILE")]
    kem_key: Option<PathBuf>,
    /// Exit after answering N HTTP requests
    #[arg(long, value_name = "N")]
    max_requests: Option<u64>,
    /// A root CA key update to offer to genm rootCaKeyUpdate: a PEM bundle
    /// of newWithNew, newWithOld and (optionally) oldWithNew, in this order
    /// (e.g. the files `cmp announce root-update` writes, concatenated)
    #[arg(long, value_name = "FILE")]
    root_update: Option<PathBuf>,
    /// Also answer requests exchanged as files in DIR (`cmp ir --server
    /// file:DIR`): every NAME.req.der without a NAME.rsp.der gets one
    #[arg(long, value_name = "DIR")]
    spool: Option<PathBuf>,
}

const SERVE_AFTER_HELP: &str = "\
Paths: POST application/pkixcmp to /.well-known/cmp, /.well-known/cmp/<label>,
/.well-known/cmp/p/<name>[/<label>] or /pkix/. Other methods: 405; other
paths: 404; bodies over 1 MiB: 413.
Exit status: 0 after SIGINT/SIGTERM or --max-requests, 1 on a start-up error.";

/// Where the issuing CA comes from.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once
pub(crate) enum CaSource {
    /// This key and certificate, and the certificates above it up to the root.
    Files {
        key: PrivateKey,
        cert: Certificate,
        chain: Vec<Certificate>,
    },
    /// A demo hierarchy (EC P-256): restored from the state database when it
    /// holds one, else generated (and saved there).
    Demo,
}

/// Everything the server needs, loaded.
#[derive(Debug)]
pub(crate) struct ServerConfig {
    /// `ADDR:PORT` to bind.
    pub(crate) listen: String,
    pub(crate) ca: CaSource,
    /// Where to write the root certificate (PEM).
    pub(crate) root_out: Option<PathBuf>,
    /// MAC clients: (reference, secret).
    pub(crate) secrets: Vec<(Vec<u8>, Vec<u8>)>,
    /// Trust anchors for signature-protected requests.
    pub(crate) trusted: Vec<Certificate>,
    /// Our CMP signer.
    pub(crate) signer: Option<(PrivateKey, Certificate)>,
    /// Additional certificates for extraCerts and chain building.
    pub(crate) extra_certs: Vec<Certificate>,
    /// Polls before a certificate request is decided.
    pub(crate) poll: u32,
    pub(crate) grant_implicit_confirm: bool,
    /// SQLite state file.
    pub(crate) state: Option<PathBuf>,
    /// PostgreSQL URL (or env:VAR) of a shared store.
    pub(crate) store: Option<String>,
    /// Stop after this many HTTP requests.
    pub(crate) max_requests: Option<u64>,
    /// Log transactions on stderr.
    pub(crate) log: bool,
    /// How long a transaction may stay open, seconds (600).
    pub(crate) transaction_lifetime: u64,
    /// Directory of request files to answer (file exchange).
    pub(crate) spool: Option<PathBuf>,
    /// The root CA key update offered to genm rootCaKeyUpdate.
    pub(crate) root_update: Option<RootCaKeyUpdateContent>,
    /// PBM / PBMAC1 iteration count of MAC-protected replies (10,000).
    pub(crate) reply_mac_iterations: Option<u32>,
    /// Our ML-KEM key, for clients that encapsulate to it.
    pub(crate) kem_key: Option<KemPrivateKey>,
}

#[allow(dead_code)] // in-process use (tests, the README's demo)
impl ServerConfig {
    /// A loopback server with a demo CA and one MAC client, in memory.
    pub(crate) fn demo(listen: &str, reference: &[u8], secret: &[u8]) -> Self {
        Self {
            listen: listen.to_owned(),
            ca: CaSource::Demo,
            root_out: None,
            secrets: vec![(reference.to_vec(), secret.to_vec())],
            trusted: Vec::new(),
            signer: None,
            extra_certs: Vec::new(),
            poll: 0,
            grant_implicit_confirm: false,
            state: None,
            store: None,
            max_requests: None,
            log: false,
            transaction_lifetime: TRANSACTION_LIFETIME_SECS,
            spool: None,
            root_update: None,
            reply_mac_iterations: None,
            kem_key: None,
        }
    }
}

impl ServerConfig {
    /// Load the files named by `args`.
    pub(crate) fn from_args(args: &ServeArgs) -> Result<Self, String> {
        if args.refs.len() != args.secrets.len() {
            return Err(format!(
                "--ref and --secret come in pairs (got {} --ref, {} --secret)",
                args.refs.len(),
                args.secrets.len()
            ));
        }
        let mut secrets = Vec::new();
        for (reference, secret) in args.refs.iter().zip(&args.secrets) {
            if reference.is_empty() {
                return Err(String::from("--ref must not be empty"));
            }
            secrets.push((reference.as_bytes().to_vec(), read_secret(secret)?));
        }
        let ca = match (&args.ca_cert, &args.ca_key) {
            (Some(cert), Some(key)) => CaSource::Files {
                key: read_key(key)?,
                cert: read_one_cert(cert)?,
                chain: match &args.ca_chain {
                    Some(p) => read_certs(p)?,
                    None => Vec::new(),
                },
            },
            (None, None) => CaSource::Demo,
            _ => return Err(String::from("--ca-cert and --ca-key go together")),
        };
        let signer = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => Some((read_key(key)?, read_one_cert(cert)?)),
            (None, None) => None,
            _ => return Err(String::from("--cert and --key go together")),
        };
        let mut trusted = Vec::new();
        for p in &args.trusted {
            trusted.extend(read_certs(p)?);
        }
        let mut extra_certs = Vec::new();
        for p in &args.extracerts {
            extra_certs.extend(read_certs(p)?);
        }
        Ok(Self {
            listen: args.listen.clone(),
            ca,
            root_out: args.root_out.clone(),
            secrets,
            trusted,
            signer,
            extra_certs,
            poll: args.poll,
            grant_implicit_confirm: args.grant_implicit_confirm,
            state: args.state.clone(),
            store: args.store.clone(),
            max_requests: args.max_requests,
            log: true,
            transaction_lifetime: args.transaction_lifetime,
            spool: args.spool.clone(),
            root_update: match &args.root_update {
                Some(p) => Some(read_root_update(p)?),
                None => None,
            },
            reply_mac_iterations: args.reply_mac_iterations,
            kem_key: args.kem_key.as_deref().map(read_kem_key).transpose()?,
        })
    }
}

/// Stops a running server (from any thread, e.g. a signal handler).
#[derive(Clone, Debug)]
pub(crate) struct ShutdownHandle(Arc<AtomicBool>);

impl ShutdownHandle {
    /// Ask the server to stop: it answers the request in flight, saves its
    /// state and ends.
    pub(crate) fn shutdown(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A server started by [`start`]. Dropping it stops the server and waits.
#[derive(Debug)]
pub(crate) struct RunningServer {
    addr: SocketAddr,
    chain: Vec<Certificate>,
    stop: ShutdownHandle,
    worker: Option<JoinHandle<Result<(), String>>>,
}

#[allow(dead_code)] // in-process use (tests, the README's demo)
impl RunningServer {
    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR:PORT/.well-known/cmp`.
    pub(crate) fn url(&self) -> String {
        format!(
            "http://{}{}",
            self.addr,
            cmp_core::transport::WELL_KNOWN_PATH
        )
    }

    /// The issuing CA certificate, then the chain up to the root.
    pub(crate) fn ca_chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The root certificate: the trust anchor for what the server issues.
    pub(crate) fn root(&self) -> Option<&Certificate> {
        self.chain.last()
    }

    /// A handle to stop the server.
    pub(crate) fn shutdown_handle(&self) -> ShutdownHandle {
        self.stop.clone()
    }

    /// Stop the server and wait for it.
    pub(crate) fn shutdown(mut self) -> Result<(), String> {
        self.stop.shutdown();
        self.join()
    }

    /// Wait until the server stops (a [`ShutdownHandle`], --max-requests).
    pub(crate) fn wait(mut self) -> Result<(), String> {
        self.join()
    }

    fn join(&mut self) -> Result<(), String> {
        match self.worker.take() {
            Some(w) => w
                .join()
                .map_err(|_| String::from("the server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.stop.shutdown();
            let _ = self.join();
        }
    }
}

/// `cmp serve`.
pub(crate) fn run(args: ServeArgs) -> Result<(), String> {
    let config = ServerConfig::from_args(&args)?;
    let server = start(config)?;
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || handle.shutdown())
        .map_err(|e| format!("cannot install the signal handler: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", server.url())
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    drop(out);
    server.wait()
}

/// Start a server: set up the CA and state, bind the socket, and handle
/// requests on a new thread until shut down.
pub(crate) fn start(config: ServerConfig) -> Result<RunningServer, String> {
    if !config.trusted.is_empty() && config.signer.is_none() {
        return Err(String::from(
            "--trusted needs --cert and --key: replies to signature-protected clients are signed",
        ));
    }
    if config.secrets.is_empty() && config.trusted.is_empty() {
        return Err(String::from(
            "no client could authenticate: give --ref/--secret and/or --trusted with --cert/--key",
        ));
    }
    if let Some((key, cert)) = &config.signer
        && key.public_key() != *cert.tbs_certificate().subject_public_key_info()
    {
        return Err(String::from("--key does not match --cert"));
    }
    if let Some(dir) = &config.spool
        && !dir.is_dir()
    {
        return Err(format!("--spool {}: no such directory", dir.display()));
    }
    let now = Timestamp::now();
    let backend = Backend::open(config.state.as_deref(), config.store.as_deref())?;
    let ca = backend.with_setup_lock(|| set_up_ca(config.ca, &backend, now))?;
    let records = backend.records();
    let archive = StoredArchive::new(
        backend.archive_rows()?,
        ArchiveSealer::for_ca_key(ca.signing_key())
            .map_err(|e| format!("the key archive's key: {e}"))?,
    );
    if let Some(path) = &config.root_out {
        let pem = ca
            .root()
            .to_pem(LineEnding::LF)
            .map_err(|e| format!("encoding the root certificate: {e}"))?;
        std::fs::write(path, pem).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }

    let chain = ca.chain().to_vec();
    let mut pool = chain.clone();
    pool.extend(config.extra_certs.iter().cloned());

    let store: Arc<dyn TransactionStore> = backend.transactions();
    let mut rc = ResponderConfig::new(Arc::new(RustCryptoProvider), store);
    rc.transaction_lifetime = config.transaction_lifetime.max(1);
    rc.reply_mac_iterations = config.reply_mac_iterations;
    let kem_algorithm = config.kem_key.as_ref().map(DecapsulationKey::algorithm);
    if let Some(key) = config.kem_key {
        rc.kem_key = Some(Arc::new(key));
    }
    if !config.secrets.is_empty() {
        let mut table = StaticSecrets::default();
        for (reference, secret) in &config.secrets {
            table = table.with(reference, secret);
        }
        rc.secrets = Some(Arc::new(table));
    }
    if !config.trusted.is_empty() {
        rc.client_trust = Some(TrustStore::new(config.trusted.clone()));
    }
    rc.untrusted = pool.clone();
    rc.name = Some(ca.name().clone());
    if let Some((key, cert)) = config.signer {
        rc.name = Some(cert.tbs_certificate().subject().clone());
        let signer_chain = crate::files::own_chain(&cert, &pool);
        rc.signer = Some(Protector::Signature {
            key: Arc::new(key),
            cert,
            chain: signer_chain,
        });
    }
    rc.grant_implicit_confirm = config.grant_implicit_confirm;
    rc.extra_certs = pool;
    rc.ca_pubs = chain
        .last()
        .filter(|root| is_self_signed(root))
        .cloned()
        .into_iter()
        .collect();
    let responder = Responder::new(rc);

    let http = tiny_http::Server::http(config.listen.as_str())
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = http
        .server_addr()
        .to_ip()
        .ok_or_else(|| format!("{} is not an IP address", config.listen))?;

    if config.log {
        let issued = records.issued_count(&ca).map_err(|e| e.to_string())?;
        let revoked = records.revoked(&ca).map_err(|e| e.to_string())?.len();
        eprintln!(
            "cmp serve: CA \"{}\" ({} issued, {} revoked){}; MAC references: {}; signer: {}; KEM key: {}; poll: {}; implicit confirmation: {}",
            ca.name(),
            issued,
            revoked,
            backend.describe(config.state.as_deref()),
            if config.secrets.is_empty() {
                String::from("none")
            } else {
                config
                    .secrets
                    .iter()
                    .map(|(r, _)| String::from_utf8_lossy(r).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            responder
                .config()
                .signer
                .as_ref()
                .and_then(|s| s.signer_subject())
                .map_or_else(|| String::from("none"), |n| format!("\"{n}\"")),
            kem_algorithm.map_or("none", |a| a.name()),
            config.poll,
            if config.grant_implicit_confirm {
                "granted"
            } else {
                "not granted"
            },
        );
    }

    let stop = ShutdownHandle(Arc::new(AtomicBool::new(false)));
    let mut worker = Worker {
        http: Some(http),
        responder,
        policy: {
            let mut policy = Policy::new(ca, records, archive, config.poll);
            policy.root_update = config.root_update;
            policy
        },
        backend,
        log: TxLog {
            open: HashMap::new(),
            enabled: config.log,
            lifetime: Duration::from_secs(config.transaction_lifetime.max(1)),
        },
        stop: stop.clone(),
        max_requests: config.max_requests,
        spool: config.spool,
    };
    let thread = std::thread::Builder::new()
        .name(String::from("cmp-serve"))
        .spawn(move || worker.run())
        .map_err(|e| format!("cannot start the server thread: {e}"))?;
    Ok(RunningServer {
        addr,
        chain,
        stop,
        worker: Some(thread),
    })
}

/// The CA from `source`, with the records saved in `db`.
fn set_up_ca(source: CaSource, backend: &Backend, now: Timestamp) -> Result<ReferenceCa, String> {
    let db = backend.meta();
    let ca = match source {
        CaSource::Files { key, cert, chain } => {
            ReferenceCa::new(key, cert, chain).map_err(|e| format!("--ca-cert/--ca-key: {e}"))?
        }
        CaSource::Demo => demo_ca(db, now)?,
    };
    let cert_der = ca
        .certificate()
        .to_der()
        .map_err(|e| format!("encoding the CA certificate: {e}"))?;
    if let Some(saved) = db.get_meta(keys::CA_CERT)?
        && saved != cert_der
    {
        let other = Certificate::from_der(&saved)
            .map(|c| c.tbs_certificate().subject().to_string())
            .unwrap_or_else(|_| String::from("?"));
        return Err(format!(
            "the state file holds the records of another CA (\"{other}\")"
        ));
    }
    // The records are rows (records.rs); a state file of an earlier
    // version keeps them as one blob, moved into the rows once.
    if let Backend::Sqlite(sqlite) = backend
        && let Some(state) = db.get_meta(keys::CA_STATE)?
    {
        LocalRecords::new(Arc::clone(sqlite)).import_legacy(&ca, &state)?;
    }
    db.put_meta(&[(keys::CA_CERT, &cert_der)])?;
    Ok(ca)
}

/// The demo hierarchy saved in `db`, or a new one (saved there).
fn demo_ca(db: &dyn Meta, now: Timestamp) -> Result<ReferenceCa, String> {
    if let (Some(key), Some(cert), Some(root)) = (
        db.get_meta(keys::DEMO_KEY)?,
        db.get_meta(keys::DEMO_CERT)?,
        db.get_meta(keys::DEMO_ROOT)?,
    ) {
        let key = PrivateKey::from_der(&key).map_err(|e| format!("saved demo CA key: {e}"))?;
        let cert = Certificate::from_der(&cert).map_err(|e| format!("saved demo CA: {e}"))?;
        let root = Certificate::from_der(&root).map_err(|e| format!("saved demo root: {e}"))?;
        return ReferenceCa::new(key, cert, vec![root]).map_err(|e| format!("saved demo CA: {e}"));
    }
    let (ca, root) = ReferenceCa::generate_hierarchy("cmp serve demo", now, KeyAlgorithm::EcP256)
        .map_err(|e| format!("cannot generate the demo CA: {e}"))?;
    let key = ca
        .signing_key()
        .to_pkcs8_der()
        .map_err(|e| format!("encoding the demo CA key: {e}"))?;
    let enc = |c: &Certificate| c.to_der().map_err(|e| format!("encoding the demo CA: {e}"));
    db.put_meta(&[
        (keys::DEMO_KEY, key.as_slice()),
        (keys::DEMO_CERT, &enc(ca.certificate())?),
        (keys::DEMO_ROOT, &enc(&root)?),
    ])?;
    Ok(ca)
}

fn is_self_signed(cert: &Certificate) -> bool {
    cert.tbs_certificate().issuer() == cert.tbs_certificate().subject()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

// ----- files -----

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Certificates from a PEM file (one or more) or a DER file (one).
fn read_certs(path: &Path) -> Result<Vec<Certificate>, String> {
    let bytes = read_file(path)?;
    let certs = if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        Certificate::load_pem_chain(&bytes)
    } else {
        Certificate::from_der(&bytes).map(|c| vec![c])
    }
    .map_err(|e| format!("{}: not a certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(certs)
}

/// Exactly one certificate (the first of a PEM file).
/// newWithNew, newWithOld and optionally oldWithNew from a PEM bundle.
fn read_root_update(path: &Path) -> Result<RootCaKeyUpdateContent, String> {
    let mut certs = read_certs(path)?.into_iter();
    let (Some(new_with_new), Some(new_with_old)) = (certs.next(), certs.next()) else {
        return Err(format!(
            "{}: a root update needs newWithNew and newWithOld",
            path.display()
        ));
    };
    let old_with_new = certs.next();
    if certs.next().is_some() {
        return Err(format!(
            "{}: more than three certificates in a root update",
            path.display()
        ));
    }
    Ok(RootCaKeyUpdateContent {
        new_with_new,
        new_with_old: Some(new_with_old),
        old_with_new,
    })
}

fn read_one_cert(path: &Path) -> Result<Certificate, String> {
    let bytes = read_file(path)?;
    Certificate::from_pem(&bytes)
        .or_else(|_| Certificate::from_der(&bytes))
        .map_err(|e| format!("{}: not a certificate: {e}", path.display()))
}

fn read_kem_key(path: &Path) -> Result<KemPrivateKey, String> {
    let bytes = read_file(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => KemPrivateKey::from_pem(text),
        _ => KemPrivateKey::from_pkcs8_der(&bytes),
    }
    .map_err(|e| format!("{}: not a usable ML-KEM private key: {e}", path.display()))
}

fn read_key(path: &Path) -> Result<PrivateKey, String> {
    let bytes = read_file(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => PrivateKey::from_pem(text),
        _ => PrivateKey::from_der(&bytes),
    }
    .map_err(|e| format!("{}: not a usable private key: {e}", path.display()))
}

/// A shared secret: `pass:TEXT`, `env:VAR`, `file:PATH` (first line), or
/// the text itself.
fn read_secret(spec: &str) -> Result<Vec<u8>, String> {
    let secret = if let Some(text) = spec.strip_prefix("pass:") {
        text.as_bytes().to_vec()
    } else if let Some(var) = spec.strip_prefix("env:") {
        std::env::var(var)
            .map_err(|_| format!("--secret env:{var}: environment variable not set"))?
            .into_bytes()
    } else if let Some(path) = spec.strip_prefix("file:") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read secret file {path}: {e}"))?;
        text.lines().next().unwrap_or_default().as_bytes().to_vec()
    } else {
        spec.as_bytes().to_vec()
    };
    if secret.is_empty() {
        return Err(String::from("a --secret is empty"));
    }
    Ok(secret)
}

// ----- the worker -----

struct Worker {
    /// `None` once stopped (dropping it closes the listening socket).
    http: Option<tiny_http::Server>,
    responder: Responder,
    policy: Policy,
    backend: Backend,
    log: TxLog,
    stop: ShutdownHandle,
    max_requests: Option<u64>,
    spool: Option<PathBuf>,
}

impl Worker {
    fn run(&mut self) -> Result<(), String> {
        let mut handled: u64 = 0;
        let mut next_sweep = Instant::now();
        loop {
            if Instant::now() >= next_sweep {
                self.sweep();
                next_sweep = Instant::now() + SWEEP_INTERVAL.min(self.log.lifetime);
            }
            if self.stop.0.load(Ordering::SeqCst)
                || self.max_requests.is_some_and(|max| handled >= max)
            {
                break;
            }
            handled = handled.saturating_add(self.answer_spool());
            if self.max_requests.is_some_and(|max| handled >= max) {
                break;
            }
            let Some(http) = &self.http else { break };
            match http.recv_timeout(TICK) {
                Ok(Some(request)) => {
                    self.handle_http(request);
                    handled = handled.saturating_add(1);
                }
                Ok(None) => {}
                Err(e) => {
                    if self.log.enabled {
                        eprintln!("cmp serve: HTTP: {e}");
                    }
                }
            }
        }
        // Stop accepting (closes the listening socket), then save.
        self.http = None;
        self.policy.save()?;
        self.backend.flush()?;
        if self.log.enabled {
            eprintln!("cmp serve: stopped after {handled} request(s)");
        }
        Ok(())
    }

    /// Drop expired transactions; certificates issued but never confirmed
    /// are revoked (RFC 9483 section 4.1.1: a missing certConf is a rejection).
    fn sweep(&mut self) {
        let now = Timestamp::now();
        let expired = match self.backend.take_expired(now) {
            Ok(e) => e,
            Err(e) => {
                if self.log.enabled {
                    eprintln!("cmp serve: sweeping expired transactions: {e}");
                }
                return;
            }
        };
        for (id, record) in expired {
            if let Some(note) = expiry_note(&mut self.policy, &id, &record, now) {
                self.log.expire(&id, note);
            }
        }
        // A certificate recorded but never delivered (a crash between
        // issuing and updating its transaction) is revoked once any
        // transaction that could deliver it would have expired.
        let grace = self.log.lifetime.max(UNDELIVERED_GRACE).as_secs();
        let before = Timestamp::from_unix_secs(now.unix_secs().saturating_sub(grace));
        for note in self.policy.withdraw_undelivered(before, now) {
            if self.log.enabled {
                eprintln!("cmp serve: {note}");
            }
        }
        self.log.prune();
    }

    fn handle_http(&mut self, mut request: tiny_http::Request) {
        let url = request.url().to_owned();
        // absolute-form request targets: keep the path
        let path = url
            .strip_prefix("http://")
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(&url);
        let path_only = path.split('?').next().unwrap_or(path);
        if parse_path(path_only).is_none() && path_only != "/pkix/" && path_only != "/pkix" {
            return respond_empty(request, 404, None);
        }
        if *request.method() != tiny_http::Method::Post {
            return respond_empty(request, 405, Some(("Allow", "POST")));
        }
        let content_type = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Content-Type"))
            .map(|h| h.value.as_str().to_owned());
        if let Some(ct) = content_type {
            let media = ct.split(';').next().unwrap_or_default().trim();
            if !media.eq_ignore_ascii_case(CONTENT_TYPE) {
                return respond_empty(request, 415, None);
            }
        }
        if request.body_length().is_some_and(|n| n > MAX_BODY) {
            return respond_empty(request, 413, Some(("Connection", "close")));
        }
        let mut body = Vec::new();
        let limit = u64::try_from(MAX_BODY)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        if let Err(e) = request.as_reader().take(limit).read_to_end(&mut body) {
            if self.log.enabled {
                eprintln!("cmp serve: reading a request: {e}");
            }
            return respond_empty(request, 400, Some(("Connection", "close")));
        }
        if body.len() > MAX_BODY {
            return respond_empty(request, 413, Some(("Connection", "close")));
        }

        // A panic in the library must not take the server down: answer 500.
        let handled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle_cmp(&body)));
        let Ok(reply) = handled else {
            if self.log.enabled {
                eprintln!("cmp serve: internal error (panic) while handling a request");
            }
            return respond_empty(request, 500, None);
        };
        if reply.bytes.is_empty() {
            return respond_empty(request, 500, None);
        }
        let mut response = tiny_http::Response::from_data(reply.bytes);
        if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], CONTENT_TYPE.as_bytes())
        {
            response.add_header(h);
        }
        if let Err(e) = request.respond(response)
            && self.log.enabled
        {
            eprintln!("cmp serve: sending a reply: {e}");
        }
    }

    /// Answer the unanswered request files of the spool directory; returns
    /// how many were answered.
    fn answer_spool(&mut self) -> u64 {
        let Some(dir) = self.spool.clone() else {
            return 0;
        };
        let pending = match crate::spool::unanswered(&dir) {
            Ok(p) => p,
            Err(e) => {
                if self.log.enabled {
                    eprintln!("cmp serve: spool: {e}");
                }
                return 0;
            }
        };
        let mut answered = 0u64;
        for request in pending {
            let Some(answer) = crate::spool::response_path(&request) else {
                continue;
            };
            // like an HTTP body: at most MAX_BODY bytes (checked before reading)
            let too_large = std::fs::metadata(&request)
                .map(|m| usize::try_from(m.len()).map_or(true, |n| n > MAX_BODY))
                .unwrap_or(false);
            if too_large {
                let _ = std::fs::rename(&request, request.with_extension("failed"));
                if self.log.enabled {
                    eprintln!("cmp serve: spool: {} is too large", request.display());
                }
                continue;
            }
            let Ok(body) = std::fs::read(&request) else {
                // vanished meanwhile (the client gave up)
                continue;
            };
            let handled =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle_cmp(&body)));
            let bytes = match handled {
                Ok(reply) if !reply.bytes.is_empty() => reply.bytes,
                _ => {
                    // set it aside so that it is not tried again and again
                    let failed = request.with_extension("failed");
                    let _ = std::fs::rename(&request, &failed);
                    if self.log.enabled {
                        eprintln!(
                            "cmp serve: spool: no answer to {} (moved to {})",
                            request.display(),
                            failed.display()
                        );
                    }
                    continue;
                }
            };
            if let Err(e) = crate::spool::write_atomic(&answer, &bytes) {
                if self.log.enabled {
                    eprintln!("cmp serve: spool: {e}");
                }
                continue;
            }
            answered = answered.saturating_add(1);
        }
        answered
    }

    /// Handle one CMP message and log what it did.
    fn handle_cmp(&mut self, body: &[u8]) -> Reply {
        let now = Timestamp::now();
        let request_body = cmp_core::message::ParsedMessage::decode(body, &Limits::DEFAULT)
            .ok()
            .map(|m| m.body_type());
        let responder = self.responder.clone();
        let policy = &mut self.policy;
        policy.outcomes.clear();
        let mut reply = responder
            .handle_request_with(body, now, &mut |pending, now| policy.decide(pending, now));
        if request_body == Some(BodyType::PollReq)
            && matches!(reply.error, Some(cmp_core::Error::TransactionIdInUse))
        {
            // Another instance moved the transaction on while this one
            // decided (its certificate was withdrawn): answer the pollReq
            // from the transaction's current state instead.
            reply = responder
                .handle_request_with(body, now, &mut |pending, now| policy.decide(pending, now));
        }
        let outcomes = std::mem::take(&mut self.policy.outcomes);

        let mut notes: Vec<String> = outcomes.iter().map(|o| o.text.clone()).collect();
        if let Some(e) = &reply.error
            && outcomes.is_empty()
        {
            notes.push(format!("error ({}): {e}", e.failure_bit().name()));
        }
        for r in std::iter::once(&reply).chain(reply.inner.iter()) {
            match &r.event {
                Some(ResponderEvent::Confirmed(cert)) => {
                    self.policy.confirmed(cert, now);
                    notes.push(String::from("confirmed"));
                }
                Some(ResponderEvent::ConfirmationRejected { cert, .. }) => {
                    let what = self.policy.revoke_unconfirmed(cert, now);
                    notes.push(format!("rejected by the client in certConf; {what}"));
                }
                // the policy's outcome says so already
                Some(ResponderEvent::ImplicitlyConfirmed(_)) | None => {}
                Some(ResponderEvent::ClientError(f)) => {
                    notes.push(format!("the client sent an error: {f}"));
                }
            }
        }
        let finished = match reply.body {
            BodyType::Ip | BodyType::Cp | BodyType::Kup | BodyType::Ccp => {
                outcomes.last().is_some_and(|o| o.finished)
            }
            BodyType::PollRep => false,
            _ => true,
        };
        let step = format!(
            "{}->{}",
            request_body.map_or("?", BodyType::name),
            reply.body.name()
        );
        self.log.step(&reply.transaction_id, step, notes, finished);
        reply
    }
}

/// What to log about an expired store entry (revoking a certificate that
/// was never confirmed): `None` for a side entry (a KEM shared secret, a
/// popdecc challenge's answers), which expires with its transaction and
/// is not logged on its own.
fn expiry_note(
    policy: &mut Policy,
    id: &[u8],
    record: &[u8],
    now: Timestamp,
) -> Option<Option<String>> {
    if !matches!(StoreKey::parse(id), StoreKey::Transaction(_)) {
        return None;
    }
    Some(match TransactionRecord::from_bytes(record) {
        Ok(r) => match (r.phase(), &r.issued) {
            (Ok(Phase::AwaitingConfirm), Some(cert)) => Some(format!(
                "expired without certConf: {}",
                policy.revoke_unconfirmed(cert, now)
            )),
            (Ok(Phase::AwaitingDecision), _) => {
                Some(String::from("expired while the client was polling"))
            }
            (Ok(Phase::AwaitingPopResponse), _) => Some(String::from(
                "expired without an answer to the popdecc challenge",
            )),
            _ => None,
        },
        Err(_) => Some(String::from("expired (unreadable record)")),
    })
}

fn respond_empty(request: tiny_http::Request, status: u16, header: Option<(&str, &str)>) {
    let mut response = tiny_http::Response::empty(status);
    if let Some((name, value)) = header
        && let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
    {
        response.add_header(h);
    }
    // the client may be gone; nothing to do about it
    let _ = request.respond(response);
}

// ----- the transaction log -----

/// Open transactions' exchanges, logged in one line when they finish.
struct TxLog {
    open: HashMap<Vec<u8>, TxEntry>,
    enabled: bool,
    /// How long transactions live.
    lifetime: Duration,
}

struct TxEntry {
    steps: Vec<String>,
    notes: Vec<String>,
    last_seen: Instant,
}

impl TxLog {
    fn step(&mut self, id: &[u8], step: String, notes: Vec<String>, finished: bool) {
        if id.is_empty() {
            self.print(id, &[step], &notes);
            return;
        }
        let entry = self.open.entry(id.to_vec()).or_insert_with(|| TxEntry {
            steps: Vec::new(),
            notes: Vec::new(),
            last_seen: Instant::now(),
        });
        entry.steps.push(step);
        entry.notes.extend(notes);
        entry.last_seen = Instant::now();
        if finished && let Some(entry) = self.open.remove(id) {
            self.print(id, &entry.steps, &entry.notes);
        }
    }

    /// The transaction `id` expired; log it if it was still open or `note` says something.
    fn expire(&mut self, id: &[u8], note: Option<String>) {
        let entry = self.open.remove(id);
        if entry.is_none() && note.is_none() {
            return;
        }
        let (steps, mut notes) = entry.map(|e| (e.steps, e.notes)).unwrap_or_default();
        notes.extend(note);
        self.print(id, &steps, &notes);
    }

    /// Forget entries far older than any transaction can live.
    fn prune(&mut self) {
        let limit = self.lifetime.saturating_mul(2);
        self.open.retain(|_, e| e.last_seen.elapsed() < limit);
    }

    fn print(&self, id: &[u8], steps: &[String], notes: &[String]) {
        if !self.enabled {
            return;
        }
        let id = if id.is_empty() {
            String::from("-")
        } else {
            hex(id)
        };
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(": {}", notes.join("; "))
        };
        eprintln!("cmp serve: transaction {id} [{}]{notes}", steps.join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;
    use std::str::FromStr;

    use cmp_core::asn1::{CertReqTemplateContent, FailureBit, InfoValue, PkiStatusInfo, oid};
    use cmp_core::client::{
        ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
        RevokeRequest,
    };
    use cmp_core::crypto::SigningKey;
    use x509_cert::crl::CertificateList;
    use x509_cert::name::Name;

    /// POST `body` to the server over HTTP/1.0; the response body.
    fn post(addr: SocketAddr, body: &[u8]) -> Result<Vec<u8>, String> {
        let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        let head = format!(
            "POST /.well-known/cmp HTTP/1.0\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body))
            .map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .map_err(|e| e.to_string())?;
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no end of headers")?;
        let (head, rest) = response.split_at(split);
        let head = String::from_utf8_lossy(head);
        if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
            return Err(format!("HTTP: {head}"));
        }
        Ok(rest.get(4..).unwrap_or_default().to_vec())
    }

    /// Run `tx` to its end, answering issued certificates with `confirm`.
    fn drive(
        addr: SocketAddr,
        tx: &mut ClientTransaction,
        confirm: &Confirmation,
    ) -> Result<Vec<ClientEvent>, cmp_core::Error> {
        let mut events = Vec::new();
        for _ in 0..10 {
            let Some(request) = tx.poll_transmit() else {
                return Ok(events);
            };
            let reply = post(addr, &request).map_err(cmp_core::Error::Store)?;
            let now = Timestamp::now();
            let event = tx.handle_response(&reply, now)?;
            if let ClientEvent::CertificateIssued(_) = &event {
                events.push(event);
                let next = tx.confirm(confirm.clone(), now)?;
                events.push(next);
            } else {
                events.push(event);
            }
        }
        Err(cmp_core::Error::Store(String::from(
            "transaction did not end",
        )))
    }

    fn issued(events: &[ClientEvent]) -> Option<Certificate> {
        events.iter().find_map(|e| match e {
            ClientEvent::CertificateIssued(i) => Some(i.cert.clone()),
            _ => None,
        })
    }

    fn genp(events: &[ClientEvent]) -> Vec<cmp_core::asn1::InfoTypeAndValue> {
        events
            .iter()
            .find_map(|e| match e {
                ClientEvent::GeneralResponse(items) => Some(items.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn serial(cert: &Certificate) -> Vec<u8> {
        cert.tbs_certificate().serial_number().as_bytes().to_vec()
    }

    fn crl_serials(crl: &CertificateList) -> Vec<Vec<u8>> {
        crl.tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| r.serial_number.as_bytes().to_vec())
            .collect()
    }

    /// The demo server in-process: what OpenSSL cannot show — a certificate
    /// rejected in certConf is revoked, CRLs, the template, unsupported OIDs,
    /// kur of a revoked certificate.
    #[test]
    fn in_process_demo() -> Result<(), String> {
        let server = start(ServerConfig::demo("127.0.0.1:0", b"1234", b"1234-5678"))?;
        let addr = server.addr();
        assert!(server.url().ends_with("/.well-known/cmp"));
        let root = server.root().cloned().ok_or("no root")?;
        assert!(is_self_signed(&root));
        let config = Arc::new(ClientConfig::new(
            Arc::new(RustCryptoProvider),
            Protector::mac(b"1234", b"1234-5678"),
        ));
        let e = |e: cmp_core::Error| e.to_string();
        let key = |_: ()| -> Result<Arc<dyn SigningKey>, String> {
            Ok(Arc::new(
                PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| e.to_string())?,
            ))
        };
        let subject = Name::from_str("CN=In Process").map_err(|e| e.to_string())?;

        // ir, accepted
        let request = EnrollRequest::new(EnrollKind::Ir, Some(subject.clone()), key(())?);
        let mut tx =
            ClientTransaction::start_enroll(Arc::clone(&config), &request, Timestamp::now())
                .map_err(e)?;
        let events = drive(addr, &mut tx, &Confirmation::Accept).map_err(e)?;
        let accepted = issued(&events).ok_or("nothing issued")?;
        assert_eq!(accepted.tbs_certificate().subject(), &subject);
        let chain = server.ca_chain();
        assert_eq!(
            Some(accepted.tbs_certificate().issuer()),
            chain.first().map(|c| c.tbs_certificate().subject())
        );

        // ir, rejected in certConf: the server revokes it
        let request = EnrollRequest::new(EnrollKind::Ir, Some(subject.clone()), key(())?);
        let mut tx =
            ClientTransaction::start_enroll(Arc::clone(&config), &request, Timestamp::now())
                .map_err(e)?;
        let reject = Confirmation::Reject(PkiStatusInfo::rejection(
            FailureBit::BadCertTemplate,
            "not what I asked for",
        ));
        let events = drive(addr, &mut tx, &reject);
        let rejected = events
            .as_ref()
            .ok()
            .and_then(|ev| issued(ev))
            .ok_or_else(|| format!("{events:?}"))?;

        // rr of the accepted one (MAC), then again: certRevoked
        let rr = RevokeRequest {
            cert: accepted.clone(),
            reason: Some(1),
        };
        let mut tx =
            ClientTransaction::start_rr(Arc::clone(&config), &rr, Timestamp::now()).map_err(e)?;
        let events = drive(addr, &mut tx, &Confirmation::Accept).map_err(e)?;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::Revoked { .. }))
        );
        let mut tx =
            ClientTransaction::start_rr(Arc::clone(&config), &rr, Timestamp::now()).map_err(e)?;
        let again = drive(addr, &mut tx, &Confirmation::Accept);
        assert!(
            matches!(&again, Err(cmp_core::Error::Peer(f))
                if f.status.failure_bits() == vec![FailureBit::CertRevoked]),
            "{again:?}"
        );

        // kur of the revoked certificate, named in oldCertID (MAC): certRevoked
        let mut kur = EnrollRequest::new(EnrollKind::Kur, None, key(())?);
        kur.old_cert = Some(accepted.clone());
        let mut tx = ClientTransaction::start_enroll(Arc::clone(&config), &kur, Timestamp::now())
            .map_err(e)?;
        let refused = drive(addr, &mut tx, &Confirmation::Accept);
        assert!(
            matches!(&refused, Err(cmp_core::Error::Peer(f))
                if f.status.failure_bits() == vec![FailureBit::CertRevoked]),
            "{refused:?}"
        );

        // genm: template, CRLs (both revoked certificates), an unknown OID
        let unknown = der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4");
        let content = vec![
            InfoValue::CertReqTemplate(None)
                .to_itav()
                .map_err(|e| e.to_string())?,
            InfoValue::CrlStatusList(vec![cmp_core::asn1::CrlStatus {
                source: cmp_core::asn1::CrlSource::Issuer(vec![
                    x509_cert::ext::pkix::name::GeneralName::DirectoryName(
                        chain
                            .first()
                            .map(|c| c.tbs_certificate().subject().clone())
                            .unwrap_or_default(),
                    ),
                ]),
                this_update: None,
            }])
            .to_itav()
            .map_err(|e| e.to_string())?,
            cmp_core::asn1::InfoTypeAndValue {
                info_type: unknown,
                info_value: None,
            },
        ];
        let mut tx = ClientTransaction::start_genm(Arc::clone(&config), content, Timestamp::now())
            .map_err(e)?;
        let items = genp(&drive(addr, &mut tx, &Confirmation::Accept).map_err(e)?);
        assert_eq!(items.len(), 3, "{items:?}");
        let mut seen = 0;
        for item in &items {
            match InfoValue::from_itav(item).map_err(|e| e.to_string())? {
                Some(InfoValue::CertReqTemplate(Some(CertReqTemplateContent {
                    cert_template,
                    key_spec: Some(spec),
                }))) => {
                    assert_eq!(cert_template.subject, Some(Name::default()));
                    assert_eq!(spec.first().map(|a| a.oid), Some(oid::REG_CTRL_ALG_ID));
                    seen += 1;
                }
                Some(InfoValue::Crls(Some(crls))) => {
                    let listed = crls.first().map(crl_serials).unwrap_or_default();
                    assert!(
                        listed.contains(&serial(&accepted)),
                        "accepted not in the CRL"
                    );
                    assert!(
                        listed.contains(&serial(&rejected)),
                        "rejected not in the CRL"
                    );
                    seen += 1;
                }
                None if item.info_type == oid::IT_UNSUPPORTED_OIDS => {
                    let any = item.info_value.as_ref().ok_or("no value")?;
                    let oids = Vec::<der::asn1::ObjectIdentifier>::from_der(
                        &any.to_der().map_err(|e| e.to_string())?,
                    )
                    .map_err(|e| e.to_string())?;
                    assert_eq!(oids, vec![unknown]);
                    seen += 1;
                }
                other => return Err(format!("unexpected genp item {other:?}")),
            }
        }
        assert_eq!(seen, 3);
        server.shutdown()
    }

    /// A certificate whose certConf never comes is revoked when its
    /// transaction expires.
    #[test]
    fn unconfirmed_certificate_is_revoked_on_expiry() -> Result<(), String> {
        let mut config = ServerConfig::demo("127.0.0.1:0", b"1234", b"1234-5678");
        config.transaction_lifetime = 1;
        let server = start(config)?;
        let e = |e: cmp_core::Error| e.to_string();
        let client = Arc::new(ClientConfig::new(
            Arc::new(RustCryptoProvider),
            Protector::mac(b"1234", b"1234-5678"),
        ));
        let key: Arc<dyn SigningKey> =
            Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| e.to_string())?);
        let subject = Name::from_str("CN=Silent").map_err(|e| e.to_string())?;
        let request = EnrollRequest::new(EnrollKind::Ir, Some(subject), key);
        let mut tx =
            ClientTransaction::start_enroll(Arc::clone(&client), &request, Timestamp::now())
                .map_err(e)?;
        let ip = post(server.addr(), &tx.poll_transmit().ok_or("no ir")?)?;
        let ClientEvent::CertificateIssued(issued) =
            tx.handle_response(&ip, Timestamp::now()).map_err(e)?
        else {
            return Err(String::from("no certificate in ip"));
        };
        // no certConf; the transaction expires after 1 s, the sweep runs every second
        std::thread::sleep(Duration::from_millis(3000));
        let content = vec![
            InfoValue::CrlStatusList(vec![cmp_core::asn1::CrlStatus {
                source: cmp_core::asn1::CrlSource::Issuer(Vec::new()),
                this_update: None,
            }])
            .to_itav()
            .map_err(|e| e.to_string())?,
        ];
        let mut tx = ClientTransaction::start_genm(client, content, Timestamp::now()).map_err(e)?;
        let items = genp(&drive(server.addr(), &mut tx, &Confirmation::Accept).map_err(e)?);
        let crl = items
            .iter()
            .find_map(|i| match InfoValue::from_itav(i) {
                Ok(Some(InfoValue::Crls(Some(crls)))) => crls.into_iter().next(),
                _ => None,
            })
            .ok_or("no CRL")?;
        assert!(crl_serials(&crl).contains(&serial(&issued.cert)));
        server.shutdown()
    }

    /// The sweep on SQLite: a certificate recorded but held by no
    /// transaction and never confirmed (a crash between issuing and storing
    /// its transaction) is revoked once old enough; one awaiting certConf in
    /// an open transaction, a confirmed one, and a recent one are not. Side
    /// entries of the store are not logged as transactions.
    #[test]
    fn sweep_of_undelivered_certificates_and_side_entries() -> Result<(), String> {
        use cmp_core::server::store::StoreKey;
        use cmp_crypto_rustcrypto::IssueRequest;
        use der::asn1::OctetString;

        let now = Timestamp::now();
        let earlier = Timestamp::from_unix_secs(now.unix_secs() - 120);
        let db = Arc::new(state::Db::open(None)?);
        let backend = Backend::Sqlite(Arc::clone(&db));
        let (ca, _) = ReferenceCa::generate_hierarchy("Sweep", now, KeyAlgorithm::EcP256)
            .map_err(|e| e.to_string())?;
        let sealer = ArchiveSealer::for_ca_key(ca.signing_key()).map_err(|e| e.to_string())?;
        let archive = StoredArchive::new(backend.archive_rows()?, sealer);
        let mut policy = Policy::new(ca, backend.records(), archive, 0);
        let mut records = backend.records();
        let mut issue = |policy: &mut Policy, cn: &str, at: Timestamp| {
            let key = PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| e.to_string())?;
            let subject = Name::from_str(cn).map_err(|e| e.to_string())?;
            records
                .issue(
                    &mut policy.ca,
                    &IssueRequest::new(subject, key.public_key()),
                    at,
                )
                .map_err(|e| e.to_string())
        };
        let orphan = issue(&mut policy, "CN=Orphan", earlier)?;
        let held = issue(&mut policy, "CN=Held", earlier)?;
        let confirmed = issue(&mut policy, "CN=Confirmed", earlier)?;
        let recent = issue(&mut policy, "CN=Recent", now)?;
        policy.confirmed(&confirmed, earlier);
        let record = TransactionRecord {
            phase: Phase::AwaitingConfirm as u8,
            last_nonce: OctetString::new(vec![1; 16]).map_err(|e| e.to_string())?,
            request: OctetString::new(vec![0x30, 0]).map_err(|e| e.to_string())?,
            cert_req_id: 0,
            issued: Some(held.clone()),
            polls: 0,
            signer_path: None,
        };
        let bytes = record.to_bytes().map_err(|e| e.to_string())?;
        assert!(
            db.insert_new(b"held", bytes, now.plus_secs(600), now)
                .map_err(|e| e.to_string())?
        );

        let before = Timestamp::from_unix_secs(now.unix_secs() - 60);
        let notes = policy.withdraw_undelivered(before, now);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("\"CN=Orphan\" was issued but never delivered"));
        let revoked = |c: &Certificate| {
            records
                .is_revoked(&policy.ca, c.tbs_certificate().serial_number().as_bytes())
                .map_err(|e| e.to_string())
        };
        assert!(revoked(&orphan)?);
        for c in [&held, &confirmed, &recent] {
            assert!(!revoked(c)?, "{}", c.tbs_certificate().subject());
        }
        // settled: not found again
        assert!(policy.withdraw_undelivered(before, now).is_empty());

        // side entries expire silently; a damaged record is reported
        let kem = StoreKey::KemSecret(b"t").to_key();
        let pop = StoreKey::PopChallenge(b"t").to_key();
        assert_eq!(expiry_note(&mut policy, &kem, b"secret", now), None);
        assert_eq!(expiry_note(&mut policy, &pop, b"answers", now), None);
        assert_eq!(
            expiry_note(&mut policy, b"t", b"garbage", now),
            Some(Some(String::from("expired (unreadable record)")))
        );
        Ok(())
    }

    /// With --state, a restart between ip and certConf loses nothing: the
    /// demo CA, the open transaction and the issued certificate survive.
    #[test]
    fn restart_between_ip_and_cert_conf() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("cmp-serve-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let state = dir.join("state.sqlite");
        let _ = std::fs::remove_file(&state);
        let config = || {
            let mut c = ServerConfig::demo("127.0.0.1:0", b"1234", b"1234-5678");
            c.state = Some(state.clone());
            c
        };
        let e = |e: cmp_core::Error| e.to_string();
        let client = Arc::new(ClientConfig::new(
            Arc::new(RustCryptoProvider),
            Protector::mac(b"1234", b"1234-5678"),
        ));
        let key: Arc<dyn SigningKey> =
            Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| e.to_string())?);
        let subject = Name::from_str("CN=Restart").map_err(|e| e.to_string())?;
        let request = EnrollRequest::new(EnrollKind::Ir, Some(subject), key);
        let mut tx =
            ClientTransaction::start_enroll(Arc::clone(&client), &request, Timestamp::now())
                .map_err(e)?;

        let first = start(config())?;
        let root = first.root().cloned();
        let ir = tx.poll_transmit().ok_or("no ir")?;
        let ip = post(first.addr(), &ir)?;
        first.shutdown()?;
        let now = Timestamp::now();
        let ClientEvent::CertificateIssued(issued) = tx.handle_response(&ip, now).map_err(e)?
        else {
            return Err(String::from("no certificate in ip"));
        };
        tx.confirm(Confirmation::Accept, now).map_err(e)?;

        let second = start(config())?;
        assert_eq!(second.root().cloned(), root, "the demo CA was not kept");
        let events = drive(second.addr(), &mut tx, &Confirmation::Accept).map_err(e)?;
        assert!(tx.is_finished(), "{events:?}");
        // the certificate is known: it can be revoked
        let rr = RevokeRequest {
            cert: issued.cert,
            reason: None,
        };
        let mut tx = ClientTransaction::start_rr(client, &rr, Timestamp::now()).map_err(e)?;
        let events = drive(second.addr(), &mut tx, &Confirmation::Accept).map_err(e)?;
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::Revoked { .. }))
        );
        second.shutdown()?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
