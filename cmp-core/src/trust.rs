//! Trust anchors and certificate path validation for signature-protected
//! messages (RFC 9483 section 3.5, RFC 5280 section 6, simplified).
//!
//! [`validate_chain`] builds a path from a signer's certificate through
//! candidate intermediates (the message's extraCerts and the intermediates
//! of the [`TrustStore`]) to one of the store's anchors, and checks it:
//!
//! * every certificate's validity period contains `now` (the caller's clock;
//!   `cmp-core` never reads one);
//! * every signature verifies with the issuer's public key, through the
//!   [`CryptoProvider`];
//! * every issuer (intermediate and anchor) has basicConstraints `cA=TRUE`,
//!   keyCertSign when it has a keyUsage extension, and a
//!   pathLenConstraint, when it has one, that the path respects;
//! * the leaf's keyUsage and extendedKeyUsage allow what
//!   [`ValidationOptions`] requires;
//! * no certificate carries a critical extension this module does not
//!   understand, nor the same extension twice.
//!
//! Issuers are matched by name (`issuer` = `subject`) and, when both are
//! present, by authorityKeyIdentifier = subjectKeyIdentifier. When several
//! candidates match, the alternatives are tried depth first; the search is
//! bounded by [`ValidationOptions::max_path_len`] and
//! [`ValidationOptions::max_signature_checks`], and never visits a
//! certificate twice on one path, so cross-certified loops terminate.
//!
//! Not done here: revocation (CRL / OCSP), name constraints and policy
//! processing. A critical nameConstraints, policyConstraints,
//! policyMappings or inhibitAnyPolicy extension therefore makes the path
//! invalid (it is an unknown critical extension), rather than being ignored.
//!
//! Every failure is [`Error::SignerNotTrusted`] with one of the texts below
//! ([`NO_PATH`], [`EXPIRED`], ...).

use alloc::vec::Vec;

use const_oid::AssociatedOid;
use der::Encode;
use der::asn1::ObjectIdentifier;
use der::flagset::FlagSet;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    CrlDistributionPoints, ExtendedKeyUsage, ID_CE_ISSUER_ALT_NAME, ID_CE_SUBJECT_ALT_NAME,
    KeyUsage, KeyUsages, SubjectInfoAccessSyntax, SubjectKeyIdentifier,
};

use crate::alg;
use crate::crypto::{CryptoError, CryptoProvider};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// No chain of issuers leads from the certificate to a trust anchor.
pub const NO_PATH: &str = "no path to a trust anchor";
/// The trust store holds no anchors.
pub const NO_ANCHORS: &str = "no trust anchors configured";
/// `now` is after a certificate's notAfter.
pub const EXPIRED: &str = "certificate expired";
/// `now` is before a certificate's notBefore.
pub const NOT_YET_VALID: &str = "certificate not yet valid";
/// A certificate's signature does not verify with its issuer's public key.
pub const BAD_SIGNATURE: &str = "certificate signature does not verify";
/// A certificate's signature algorithm is not supported by the provider.
pub const UNSUPPORTED_SIGNATURE: &str = "certificate signature algorithm not supported";
/// The outer signatureAlgorithm differs from the tbsCertificate's signature field.
pub const SIGNATURE_ALGORITHM_MISMATCH: &str = "certificate signature algorithms disagree";
/// The signature BIT STRING has unused bits.
pub const MALFORMED_SIGNATURE: &str = "malformed certificate signature";
/// An issuer lacks basicConstraints with `cA=TRUE`.
pub const ISSUER_NOT_CA: &str = "issuer is not a CA";
/// An issuer's keyUsage lacks keyCertSign.
pub const ISSUER_NO_KEY_CERT_SIGN: &str = "issuer key usage lacks keyCertSign";
/// An issuer's pathLenConstraint is smaller than the number of CAs below it.
pub const PATH_LEN_CONSTRAINT: &str = "path length constraint exceeded";
/// The leaf's keyUsage does not contain the required usage.
pub const KEY_USAGE: &str = "certificate key usage does not permit the required use";
/// The leaf's extendedKeyUsage is absent or does not contain the required purpose.
pub const EXTENDED_KEY_USAGE: &str = "certificate extended key usage lacks the required purpose";
/// A certificate carries a critical extension this module does not process.
pub const UNKNOWN_CRITICAL_EXTENSION: &str = "unknown critical extension";
/// A certificate carries the same extension twice.
pub const DUPLICATE_EXTENSION: &str = "duplicate certificate extension";
/// An extension this module processes does not decode.
pub const MALFORMED_EXTENSION: &str = "malformed certificate extension";
/// Every path to an anchor would be longer than [`ValidationOptions::max_path_len`].
pub const PATH_TOO_LONG: &str = "certificate path too long";
/// The search tried [`ValidationOptions::max_signature_checks`] signatures without success.
pub const WORK_LIMIT: &str = "path building work limit exceeded";

fn untrusted(why: &'static str) -> Error {
    Error::SignerNotTrusted(why)
}

/// The certificates a relying party trusts: anchors, plus intermediates that
/// may help build paths (they are not trusted by themselves).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    intermediates: Vec<Certificate>,
}

impl TrustStore {
    /// A store trusting `anchors` (usually self-signed root certificates, but
    /// any certificate can be an anchor), with no intermediates.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        Self {
            anchors,
            intermediates: Vec::new(),
        }
    }

    /// This store with `intermediates` added as untrusted path-building material.
    pub fn with_intermediates(mut self, intermediates: Vec<Certificate>) -> Self {
        self.intermediates.extend(intermediates);
        self
    }

    /// Add one trust anchor.
    pub fn add_anchor(&mut self, anchor: Certificate) {
        self.anchors.push(anchor);
    }

    /// Add one untrusted intermediate for path building.
    pub fn add_intermediate(&mut self, intermediate: Certificate) {
        self.intermediates.push(intermediate);
    }

    /// The trust anchors.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The untrusted intermediates.
    pub fn intermediates(&self) -> &[Certificate] {
        &self.intermediates
    }

    /// Whether the store has no anchors (it then trusts nothing).
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Whether `cert` is (equal to) one of the anchors.
    pub fn is_anchor(&self, cert: &Certificate) -> bool {
        self.anchors.iter().any(|a| a == cert)
    }
}

/// What a validated path must allow, and how hard to search for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Key usages the leaf's keyUsage extension must all contain, when the
    /// leaf has that extension (a leaf without keyUsage is unrestricted).
    pub required_key_usage: Option<FlagSet<KeyUsages>>,
    /// A purpose the leaf's extendedKeyUsage must list (e.g. id-kp-cmcRA for
    /// an RA, RFC 9483 section 3.5). When set, a leaf without the extension
    /// fails, and anyExtendedKeyUsage does not stand in for the purpose.
    pub required_eku: Option<ObjectIdentifier>,
    /// Most certificates in a path, leaf and anchor included (default 8).
    pub max_path_len: usize,
    /// Most certificate signatures verified while searching for a path
    /// (default 64): the bound on work for hostile or tangled extraCerts.
    pub max_signature_checks: usize,
}

impl ValidationOptions {
    /// The options for the signer of a CMP message: the leaf's keyUsage, when
    /// present, must contain digitalSignature; no extended key usage required.
    pub fn for_cmp_signer() -> Self {
        Self::default()
    }

    /// These options with `eku` required in the leaf's extendedKeyUsage.
    pub fn with_required_eku(mut self, eku: ObjectIdentifier) -> Self {
        self.required_eku = Some(eku);
        self
    }
}

impl Default for ValidationOptions {
    /// digitalSignature required (when keyUsage is present), no EKU, paths of
    /// at most 8 certificates, at most 64 signature verifications.
    fn default() -> Self {
        Self {
            required_key_usage: Some(KeyUsages::DigitalSignature.into()),
            required_eku: None,
            max_path_len: 8,
            max_signature_checks: 64,
        }
    }
}

/// A path that validated: the leaf, the intermediates in order, and the
/// trust anchor it ends in. When the leaf is itself an anchor, the path is
/// that one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedPath {
    /// The leaf and the intermediates, leaf first (empty when the leaf is the anchor).
    below_anchor: Vec<Certificate>,
    anchor: Certificate,
}

impl ValidatedPath {
    /// The leaf certificate (the one validated).
    pub fn leaf(&self) -> &Certificate {
        self.below_anchor.first().unwrap_or(&self.anchor)
    }

    /// The trust anchor the path ends in.
    pub fn anchor(&self) -> &Certificate {
        &self.anchor
    }

    /// Number of certificates in the path, leaf and anchor included (at least 1).
    pub fn len(&self) -> usize {
        self.below_anchor.len() + 1
    }

    /// Always `false`: a path holds at least its anchor.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The certificates from the leaf to the anchor.
    pub fn iter(&self) -> impl Iterator<Item = &Certificate> {
        self.below_anchor
            .iter()
            .chain(core::iter::once(&self.anchor))
    }

    /// The certificates from the leaf to the anchor, by value.
    pub fn into_certificates(self) -> Vec<Certificate> {
        let mut certs = self.below_anchor;
        certs.push(self.anchor);
        certs
    }
}

/// Check that `now` lies within `cert`'s validity period (both ends inclusive,
/// RFC 5280 section 4.1.2.5).
///
/// Errors: [`Error::SignerNotTrusted`] with [`NOT_YET_VALID`] or [`EXPIRED`].
pub fn check_validity(cert: &Certificate, now: Timestamp) -> Result<()> {
    let validity = cert.tbs_certificate().validity();
    if now.unix_secs() < validity.not_before.to_unix_duration().as_secs() {
        return Err(untrusted(NOT_YET_VALID));
    }
    if now.unix_secs() > validity.not_after.to_unix_duration().as_secs() {
        return Err(untrusted(EXPIRED));
    }
    Ok(())
}

/// Whether `cert`'s keyUsage permits all of `usage`: `true` when the
/// extension is absent (no restriction) or contains every requested bit.
///
/// Errors: [`Error::SignerNotTrusted`] with [`MALFORMED_EXTENSION`] when the
/// extension does not decode or appears twice.
pub fn has_key_usage(cert: &Certificate, usage: impl Into<FlagSet<KeyUsages>>) -> Result<bool> {
    let usage = usage.into();
    match cert
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map_err(|_| untrusted(MALFORMED_EXTENSION))?
    {
        None => Ok(true),
        Some((_, ku)) => Ok(ku.0.contains(usage)),
    }
}

/// Whether `cert`'s extendedKeyUsage lists `purpose` (`false` when the
/// extension is absent).
///
/// Errors: [`Error::SignerNotTrusted`] with [`MALFORMED_EXTENSION`].
pub fn has_extended_key_usage(cert: &Certificate, purpose: &ObjectIdentifier) -> Result<bool> {
    match cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|_| untrusted(MALFORMED_EXTENSION))?
    {
        None => Ok(false),
        Some((_, eku)) => Ok(eku.0.iter().any(|p| p == purpose)),
    }
}

/// Verify `cert`'s signature with `issuer`'s public key.
///
/// Errors: [`Error::SignerNotTrusted`] with [`BAD_SIGNATURE`],
/// [`UNSUPPORTED_SIGNATURE`], [`SIGNATURE_ALGORITHM_MISMATCH`] or
/// [`MALFORMED_SIGNATURE`].
pub fn verify_certificate_signature(
    cert: &Certificate,
    issuer: &Certificate,
    provider: &dyn CryptoProvider,
) -> Result<()> {
    let alg_id = cert.signature_algorithm();
    if alg_id != cert.tbs_certificate().signature() {
        return Err(untrusted(SIGNATURE_ALGORITHM_MISMATCH));
    }
    let alg =
        alg::signature_from_identifier(alg_id).map_err(|_| untrusted(UNSUPPORTED_SIGNATURE))?;
    let signature = cert
        .signature()
        .as_bytes()
        .ok_or(untrusted(MALFORMED_SIGNATURE))?;
    let tbs = cert.tbs_certificate().to_der().map_err(Error::Encode)?;
    let spki = issuer.tbs_certificate().subject_public_key_info();
    provider
        .verify_signature(alg, alg_id, spki, &tbs, signature)
        .map_err(|e| match e {
            CryptoError::Unsupported(_) => untrusted(UNSUPPORTED_SIGNATURE),
            _ => untrusted(BAD_SIGNATURE),
        })
}

/// Extensions whose criticality this module honours: it either processes
/// them or they cannot restrict a path as validated here.
fn is_known_extension(oid: &ObjectIdentifier) -> bool {
    [
        BasicConstraints::OID,
        KeyUsage::OID,
        ExtendedKeyUsage::OID,
        SubjectKeyIdentifier::OID,
        AuthorityKeyIdentifier::OID,
        ID_CE_SUBJECT_ALT_NAME,
        ID_CE_ISSUER_ALT_NAME,
        // With the default policy inputs (any policy acceptable, no explicit
        // policy required) certificatePolicies cannot invalidate a path.
        CertificatePolicies::OID,
        CrlDistributionPoints::OID,
        AuthorityInfoAccessSyntax::OID,
        SubjectInfoAccessSyntax::OID,
    ]
    .contains(oid)
}

/// Checks every certificate of a path gets: validity, extension sanity.
fn check_certificate(cert: &Certificate, now: Timestamp) -> Result<()> {
    check_validity(cert, now)?;
    let extensions = cert
        .tbs_certificate()
        .extensions()
        .map(|e| e.as_slice())
        .unwrap_or(&[]);
    for (i, ext) in extensions.iter().enumerate() {
        if extensions
            .iter()
            .skip(i + 1)
            .any(|other| other.extn_id == ext.extn_id)
        {
            return Err(untrusted(DUPLICATE_EXTENSION));
        }
        if ext.critical && !is_known_extension(&ext.extn_id) {
            return Err(untrusted(UNKNOWN_CRITICAL_EXTENSION));
        }
    }
    let tbs = cert.tbs_certificate();
    let malformed = |_| untrusted(MALFORMED_EXTENSION);
    tbs.get_extension::<BasicConstraints>().map_err(malformed)?;
    tbs.get_extension::<KeyUsage>().map_err(malformed)?;
    tbs.get_extension::<ExtendedKeyUsage>().map_err(malformed)?;
    tbs.get_extension::<SubjectKeyIdentifier>()
        .map_err(malformed)?;
    tbs.get_extension::<AuthorityKeyIdentifier>()
        .map_err(malformed)?;
    Ok(())
}

/// What the leaf must allow.
fn check_leaf_usage(leaf: &Certificate, opts: &ValidationOptions) -> Result<()> {
    if let Some(usage) = opts.required_key_usage
        && !has_key_usage(leaf, usage)?
    {
        return Err(untrusted(KEY_USAGE));
    }
    if let Some(purpose) = &opts.required_eku
        && !has_extended_key_usage(leaf, purpose)?
    {
        return Err(untrusted(EXTENDED_KEY_USAGE));
    }
    Ok(())
}

/// What an issuer must be, with `cas_below` non-self-issued intermediates
/// between it and the leaf.
fn check_issuer(issuer: &Certificate, cas_below: usize) -> Result<()> {
    let bc = issuer
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .map_err(|_| untrusted(MALFORMED_EXTENSION))?;
    let Some((_, bc)) = bc else {
        return Err(untrusted(ISSUER_NOT_CA));
    };
    if !bc.ca {
        return Err(untrusted(ISSUER_NOT_CA));
    }
    if !has_key_usage(issuer, KeyUsages::KeyCertSign)? {
        return Err(untrusted(ISSUER_NO_KEY_CERT_SIGN));
    }
    if let Some(limit) = bc.path_len_constraint
        && cas_below > usize::from(limit)
    {
        return Err(untrusted(PATH_LEN_CONSTRAINT));
    }
    Ok(())
}

fn is_self_issued(cert: &Certificate) -> bool {
    cert.tbs_certificate().issuer() == cert.tbs_certificate().subject()
}

/// Whether `issuer` may have issued `child` by name and key identifier.
fn may_have_issued(issuer: &Certificate, child: &Certificate) -> bool {
    if issuer.tbs_certificate().subject() != child.tbs_certificate().issuer() {
        return false;
    }
    // Key identifiers narrow the choice only when both are present and
    // decode; a malformed one is rejected by check_certificate anyway.
    let aki = child
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
        .ok()
        .flatten()
        .and_then(|(_, aki)| aki.key_identifier);
    let ski = issuer
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .ok()
        .flatten()
        .map(|(_, ski)| ski.0);
    match (aki, ski) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// A certificate the search may use as an issuer.
struct Candidate<'a> {
    cert: &'a Certificate,
    anchor: bool,
    on_path: bool,
}

/// The failure to report when no path is found: the one met deepest in the
/// search (the first of those at equal depth).
struct Failure {
    depth: usize,
    why: Option<&'static str>,
}

impl Failure {
    fn record(&mut self, depth: usize, err: Error) {
        let why = match err {
            Error::SignerNotTrusted(why) => why,
            _ => BAD_SIGNATURE,
        };
        if self.why.is_none() || depth > self.depth {
            self.depth = depth;
            self.why = Some(why);
        }
    }
}

/// Validate `leaf` to one of `store`'s anchors at time `now`.
///
/// `extra` are untrusted certificates that may serve as intermediates (the
/// message's extraCerts, say); the store's intermediates are used too.
/// A leaf equal to an anchor is trusted directly, after its validity,
/// extensions and usage are checked. Otherwise the path found is checked as
/// the [module documentation](self) describes, and returned leaf first.
///
/// Errors: [`Error::SignerNotTrusted`] with [`NO_PATH`] when no candidate
/// path reaches an anchor, or the reason the most promising candidate path
/// failed ([`EXPIRED`], [`BAD_SIGNATURE`], [`ISSUER_NOT_CA`],
/// [`PATH_TOO_LONG`], ...); [`WORK_LIMIT`] when the search gave up. The
/// leaf's own failures ([`EXPIRED`], [`NOT_YET_VALID`], [`KEY_USAGE`],
/// [`EXTENDED_KEY_USAGE`], [`UNKNOWN_CRITICAL_EXTENSION`]) are reported first.
pub fn validate_chain(
    leaf: &Certificate,
    extra: &[Certificate],
    store: &TrustStore,
    now: Timestamp,
    opts: &ValidationOptions,
    provider: &dyn CryptoProvider,
) -> Result<ValidatedPath> {
    validate_chain_with_known(leaf, extra, store, now, opts, provider, &[])
}

/// [`validate_chain`], skipping the signature check of any link (certificate,
/// its issuer) that follows each other in `known`, a path (leaf first) whose
/// signatures were already verified, e.g. the signer's path validated for an
/// earlier message of the same transaction.
///
/// A certificate's signature is a fixed function of the certificate and
/// its issuer's key, so the result is the same as [`validate_chain`]'s;
/// everything else (validity at `now`, extensions, usage, path constraints,
/// the work limit) is checked as there.
pub fn validate_chain_with_known(
    leaf: &Certificate,
    extra: &[Certificate],
    store: &TrustStore,
    now: Timestamp,
    opts: &ValidationOptions,
    provider: &dyn CryptoProvider,
    known: &[Certificate],
) -> Result<ValidatedPath> {
    if store.is_empty() {
        return Err(untrusted(NO_ANCHORS));
    }
    if opts.max_path_len == 0 {
        return Err(untrusted(PATH_TOO_LONG));
    }
    check_certificate(leaf, now)?;
    check_leaf_usage(leaf, opts)?;
    if store.is_anchor(leaf) {
        return Ok(ValidatedPath {
            below_anchor: Vec::new(),
            anchor: leaf.clone(),
        });
    }

    // Anchors first, so that a path ends at the first anchor it meets;
    // duplicates dropped, and the leaf itself never used as its own issuer.
    let mut pool: Vec<Candidate<'_>> = Vec::new();
    for (cert, anchor) in store.anchors.iter().map(|c| (c, true)).chain(
        extra
            .iter()
            .chain(store.intermediates.iter())
            .map(|c| (c, false)),
    ) {
        if !pool.iter().any(|c| c.cert == cert) {
            pool.push(Candidate {
                cert,
                anchor,
                on_path: cert == leaf,
            });
        }
    }

    // Iterative depth-first search. `path` holds the pool indices of the
    // intermediates above the leaf; `next` the next pool index to try at
    // each level (one more entry than `path`: the leaf's level).
    let mut path: Vec<usize> = Vec::new();
    let mut next: Vec<usize> = alloc::vec![0];
    let mut checks = 0usize;
    let mut failure = Failure {
        depth: 0,
        why: None,
    };

    while let Some(cursor) = next.last_mut() {
        let current = match path.last() {
            None => leaf,
            Some(&i) => match pool.get(i) {
                Some(c) => c.cert,
                None => break,
            },
        };
        let index = *cursor;
        let Some(candidate) = pool.get(index) else {
            // Every candidate at this level tried: backtrack.
            next.pop();
            if let Some(i) = path.pop()
                && let Some(c) = pool.get_mut(i)
            {
                c.on_path = false;
            }
            continue;
        };
        *cursor += 1;
        if candidate.on_path || !may_have_issued(candidate.cert, current) {
            continue;
        }
        // Certificates in the path if this candidate is added.
        let depth = path.len() + 2;
        if depth > opts.max_path_len {
            failure.record(depth, untrusted(PATH_TOO_LONG));
            continue;
        }
        let cas_below = path
            .iter()
            .filter_map(|&i| pool.get(i))
            .filter(|c| !is_self_issued(c.cert))
            .count();
        if let Err(e) = check_certificate(candidate.cert, now)
            .and_then(|()| check_issuer(candidate.cert, cas_below))
        {
            failure.record(depth, e);
            continue;
        }
        if checks >= opts.max_signature_checks {
            return Err(untrusted(WORK_LIMIT));
        }
        checks += 1;
        let verified_before = known
            .windows(2)
            .any(|w| matches!(w, [c, i] if c == current && i == candidate.cert));
        if !verified_before
            && let Err(e) = verify_certificate_signature(current, candidate.cert, provider)
        {
            failure.record(depth, e);
            continue;
        }
        if candidate.anchor {
            let mut below_anchor = Vec::with_capacity(depth - 1);
            below_anchor.push(leaf.clone());
            below_anchor.extend(
                path.iter()
                    .filter_map(|&i| pool.get(i))
                    .map(|c| c.cert.clone()),
            );
            return Ok(ValidatedPath {
                below_anchor,
                anchor: candidate.cert.clone(),
            });
        }
        if let Some(c) = pool.get_mut(index) {
            c.on_path = true;
        }
        path.push(index);
        next.push(0);
    }
    Err(untrusted(failure.why.unwrap_or(NO_PATH)))
}

/// The issuer chain of `cert` found in `pool` by name, issuer first, up to
/// and including a self-issued root if the pool has one (at most 8 deep).
/// Names only: nothing is verified (see [`validate_chain`] for that).
pub fn issuer_chain(cert: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    issuer_chain_in(cert, &[pool])
}

/// [`issuer_chain`] over several pools searched in order, as if they were
/// one (without copying them into one).
pub(crate) fn issuer_chain_in(cert: &Certificate, pools: &[&[Certificate]]) -> Vec<Certificate> {
    let mut chain: Vec<Certificate> = Vec::new();
    let mut current = cert;
    for _ in 0..8 {
        let tbs = current.tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            break;
        }
        let Some(issuer) = pools
            .iter()
            .flat_map(|pool| pool.iter())
            .find(|c| c.tbs_certificate().subject() == tbs.issuer())
        else {
            break;
        };
        if chain.contains(issuer) {
            break;
        }
        chain.push(issuer.clone());
        current = issuer;
    }
    chain
}
