//! Certificate path validation: the fixed test PKI, and small PKIs made with
//! the `openssl` command for the cases the fixed one does not cover.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use cmp_core::asn1::oid;
use cmp_core::trust::{self, TrustStore, ValidationOptions, validate_chain};
use cmp_core::{Error, Result, Timestamp};
use cmp_crypto_rustcrypto::RustCryptoProvider;
use der::{Decode, DecodePem, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::KeyUsages;

const PROVIDER: RustCryptoProvider = RustCryptoProvider;

fn pki(name: &str) -> Certificate {
    let path = format!("{}/../tests/vectors/pki/{name}", env!("CARGO_MANIFEST_DIR"));
    Certificate::from_pem(std::fs::read(path).unwrap()).unwrap()
}

fn root() -> Certificate {
    pki("root.crt")
}
fn ca() -> Certificate {
    pki("ca.crt")
}
fn server() -> Certificate {
    pki("server.crt")
}

fn not_before(c: &Certificate) -> u64 {
    c.tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration()
        .as_secs()
}
fn not_after(c: &Certificate) -> u64 {
    c.tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration()
        .as_secs()
}

/// A time inside the validity period of every certificate given.
fn inside(certs: &[&Certificate]) -> Timestamp {
    let start = certs.iter().map(|c| not_before(c)).max().unwrap();
    let end = certs.iter().map(|c| not_after(c)).min().unwrap();
    assert!(start < end, "validity periods do not overlap");
    Timestamp::from_unix_secs(start + 60)
}

fn fixed_now() -> Timestamp {
    inside(&[&root(), &ca(), &server()])
}

/// The last byte of the DER flipped: inside the signature value.
fn tamper(c: &Certificate) -> Certificate {
    let mut der = c.to_der().unwrap();
    *der.last_mut().unwrap() ^= 0x01;
    Certificate::from_der(&der).unwrap()
}

fn validate(
    leaf: &Certificate,
    extra: &[Certificate],
    store: &TrustStore,
    now: Timestamp,
    opts: &ValidationOptions,
) -> Result<trust::ValidatedPath> {
    validate_chain(leaf, extra, store, now, opts, &PROVIDER)
}

#[track_caller]
fn assert_untrusted<T: std::fmt::Debug>(r: Result<T>, why: &str) {
    match r {
        Err(Error::SignerNotTrusted(got)) => assert_eq!(got, why),
        other => panic!("expected SignerNotTrusted({why:?}), got {other:?}"),
    }
}

// ----- the fixed test PKI -----

#[test]
fn server_validates_through_the_issuing_ca() {
    let store = TrustStore::new(vec![root()]);
    let path = validate(
        &server(),
        &[ca()],
        &store,
        fixed_now(),
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.len(), 3);
    assert!(!path.is_empty());
    assert_eq!(path.leaf(), &server());
    assert_eq!(path.anchor(), &root());
    assert_eq!(
        path.iter().cloned().collect::<Vec<_>>(),
        vec![server(), ca(), root()]
    );
    assert_eq!(path.into_certificates(), vec![server(), ca(), root()]);
}

#[test]
fn for_cmp_signer_and_default_agree() {
    let opts = ValidationOptions::for_cmp_signer();
    assert_eq!(opts, ValidationOptions::default());
    assert_eq!(
        opts.required_key_usage,
        Some(KeyUsages::DigitalSignature.into())
    );
    assert_eq!(opts.required_eku, None);
    assert_eq!(opts.max_path_len, 8);
}

#[test]
fn intermediates_of_the_store_are_used() {
    let store = TrustStore::new(vec![root()]).with_intermediates(vec![ca()]);
    assert_eq!(store.intermediates().len(), 1);
    let path = validate(
        &server(),
        &[],
        &store,
        fixed_now(),
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.len(), 3);

    let mut store = TrustStore::new(vec![root()]);
    store.add_intermediate(ca());
    assert!(
        validate(
            &server(),
            &[],
            &store,
            fixed_now(),
            &ValidationOptions::default()
        )
        .is_ok()
    );
}

#[test]
fn without_the_issuing_ca_there_is_no_path() {
    let store = TrustStore::new(vec![root()]);
    assert_untrusted(
        validate(
            &server(),
            &[],
            &store,
            fixed_now(),
            &ValidationOptions::default(),
        ),
        trust::NO_PATH,
    );
    // Unrelated extra certificates do not help.
    assert_untrusted(
        validate(
            &server(),
            &[pki("ee.crt")],
            &store,
            fixed_now(),
            &ValidationOptions::default(),
        ),
        trust::NO_PATH,
    );
}

#[test]
fn another_anchor_gives_no_path() {
    let store = TrustStore::new(vec![pki("ee.crt")]);
    assert!(!store.is_empty());
    assert_untrusted(
        validate(
            &server(),
            &[ca()],
            &store,
            fixed_now(),
            &ValidationOptions::default(),
        ),
        trust::NO_PATH,
    );
}

#[test]
fn empty_store_trusts_nothing() {
    let store = TrustStore::default();
    assert!(store.is_empty());
    assert_untrusted(
        validate(
            &server(),
            &[ca()],
            &store,
            fixed_now(),
            &ValidationOptions::default(),
        ),
        trust::NO_ANCHORS,
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let store = TrustStore::new(vec![root()]);
    let opts = ValidationOptions::default();
    let after = Timestamp::from_unix_secs(not_after(&server()) + 1);
    assert_untrusted(
        validate(&server(), &[ca()], &store, after, &opts),
        trust::EXPIRED,
    );
    let before = Timestamp::from_unix_secs(not_before(&server()) - 1);
    assert_untrusted(
        validate(&server(), &[ca()], &store, before, &opts),
        trust::NOT_YET_VALID,
    );
    // The boundaries themselves are inside the period.
    assert!(
        trust::check_validity(&server(), Timestamp::from_unix_secs(not_after(&server()))).is_ok()
    );
    assert!(
        trust::check_validity(&server(), Timestamp::from_unix_secs(not_before(&server()))).is_ok()
    );
}

#[test]
fn expired_anchor_is_reported() {
    // The root outlives the issuing CA; a leaf that is the root itself is
    // checked for validity too.
    let store = TrustStore::new(vec![root()]);
    let late = Timestamp::from_unix_secs(not_after(&root()) + 1);
    assert_untrusted(
        validate(&root(), &[], &store, late, &ValidationOptions::default()),
        trust::EXPIRED,
    );
}

#[test]
fn tampered_leaf_signature_is_rejected() {
    let store = TrustStore::new(vec![root()]);
    assert_untrusted(
        validate(
            &tamper(&server()),
            &[ca()],
            &store,
            fixed_now(),
            &ValidationOptions::default(),
        ),
        trust::BAD_SIGNATURE,
    );
}

#[test]
fn tampered_intermediate_signature_is_rejected() {
    let store = TrustStore::new(vec![root()]);
    assert_untrusted(
        validate(
            &server(),
            &[tamper(&ca())],
            &store,
            fixed_now(),
            &ValidationOptions::default(),
        ),
        trust::BAD_SIGNATURE,
    );
}

#[test]
fn a_bad_candidate_does_not_hide_a_good_one() {
    // Two certificates named "Test Issuing CA" with the same key identifier:
    // the first fails, the search goes on to the second.
    let store = TrustStore::new(vec![root()]);
    let extra = [tamper(&ca()), pki("ee.crt"), ca(), ca()];
    let path = validate(
        &server(),
        &extra,
        &store,
        fixed_now(),
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.into_certificates(), vec![server(), ca(), root()]);
}

#[test]
fn issuing_ca_as_leaf_has_digital_signature() {
    let store = TrustStore::new(vec![root()]);
    assert!(trust::has_key_usage(&ca(), KeyUsages::DigitalSignature).unwrap());
    let path = validate(
        &ca(),
        &[],
        &store,
        fixed_now(),
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.into_certificates(), vec![ca(), root()]);
}

#[test]
fn leaf_that_is_an_anchor_is_trusted_directly() {
    let store = TrustStore::new(vec![root(), server()]);
    assert!(store.is_anchor(&server()));
    let path = validate(
        &server(),
        &[],
        &store,
        fixed_now(),
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.len(), 1);
    assert_eq!(path.leaf(), path.anchor());
    assert_eq!(path.into_certificates(), vec![server()]);
}

#[test]
fn intermediate_that_is_an_anchor_ends_the_path() {
    let store = TrustStore::new(vec![root(), ca()]);
    let path = validate(
        &server(),
        &[ca()],
        &store,
        fixed_now(),
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.into_certificates(), vec![server(), ca()]);
}

#[test]
fn leaf_key_usage_and_extended_key_usage() {
    let store = TrustStore::new(vec![root()]);
    let now = fixed_now();
    // The server lacks keyCertSign.
    let opts = ValidationOptions {
        required_key_usage: Some(KeyUsages::KeyCertSign.into()),
        ..Default::default()
    };
    assert_untrusted(
        validate(&server(), &[ca()], &store, now, &opts),
        trust::KEY_USAGE,
    );
    assert!(!trust::has_key_usage(&server(), KeyUsages::KeyCertSign).unwrap());
    // No requirement: anything goes.
    let opts = ValidationOptions {
        required_key_usage: None,
        ..Default::default()
    };
    assert!(validate(&server(), &[ca()], &store, now, &opts).is_ok());

    // The server is an RA (id-kp-cmcRA), the end entity is not.
    let ra = ValidationOptions::for_cmp_signer().with_required_eku(oid::KP_CMC_RA);
    assert!(trust::has_extended_key_usage(&server(), &oid::KP_CMC_RA).unwrap());
    assert!(validate(&server(), &[ca()], &store, now, &ra).is_ok());
    assert_untrusted(
        validate(&pki("ee.crt"), &[ca()], &store, now, &ra),
        trust::EXTENDED_KEY_USAGE,
    );
    // The CA has no extendedKeyUsage at all.
    assert_untrusted(
        validate(&ca(), &[], &store, now, &ra),
        trust::EXTENDED_KEY_USAGE,
    );
}

#[test]
fn path_length_and_work_limits() {
    let store = TrustStore::new(vec![root()]);
    let now = fixed_now();
    let short = ValidationOptions {
        max_path_len: 2,
        ..Default::default()
    };
    assert_untrusted(
        validate(&server(), &[ca()], &store, now, &short),
        trust::PATH_TOO_LONG,
    );
    let exact = ValidationOptions {
        max_path_len: 3,
        ..Default::default()
    };
    assert!(validate(&server(), &[ca()], &store, now, &exact).is_ok());
    let none = ValidationOptions {
        max_path_len: 0,
        ..Default::default()
    };
    assert_untrusted(
        validate(&server(), &[ca()], &store, now, &none),
        trust::PATH_TOO_LONG,
    );

    let one_check = ValidationOptions {
        max_signature_checks: 1,
        ..Default::default()
    };
    assert_untrusted(
        validate(&server(), &[ca()], &store, now, &one_check),
        trust::WORK_LIMIT,
    );
    let two_checks = ValidationOptions {
        max_signature_checks: 2,
        ..Default::default()
    };
    assert!(validate(&server(), &[ca()], &store, now, &two_checks).is_ok());
}

#[test]
fn verify_certificate_signature_helper() {
    assert!(trust::verify_certificate_signature(&ca(), &root(), &PROVIDER).is_ok());
    assert!(trust::verify_certificate_signature(&root(), &root(), &PROVIDER).is_ok());
    assert_untrusted(
        trust::verify_certificate_signature(&server(), &root(), &PROVIDER),
        trust::BAD_SIGNATURE,
    );
}

// ----- generated PKIs -----

/// A scratch directory of certificates made with the `openssl` command.
struct Pki {
    dir: PathBuf,
    serial: u32,
}

impl Pki {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cmp-core-trust-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, serial: 1 }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .current_dir(&self.dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An EC P-256 key `name.key`, unless it exists.
    fn key(&self, name: &str) {
        let file = format!("{name}.key");
        if !self.path(&file).exists() {
            self.openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &file,
            ]);
        }
    }

    /// Certificate `name.crt` for key `key.key` with subject CN=`cn`,
    /// issued by `issuer` (`name.crt` + `key.key` of an earlier call), or
    /// self-signed when `issuer` is `None`; `ext` are extension lines of an
    /// OpenSSL config section.
    fn cert(
        &mut self,
        name: &str,
        key: &str,
        cn: &str,
        issuer: Option<(&str, &str)>,
        ext: &[&str],
    ) -> Certificate {
        self.key(key);
        let mut section = String::from("[v3]\nsubjectKeyIdentifier = hash\n");
        if issuer.is_some() {
            section.push_str("authorityKeyIdentifier = keyid\n");
        }
        for line in ext {
            section.push_str(line);
            section.push('\n');
        }
        let ext_file = format!("{name}.ext");
        std::fs::write(self.path(&ext_file), section).unwrap();
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        let key_file = format!("{key}.key");
        let subj = format!("/CN={cn}");
        let serial = self.serial.to_string();
        self.serial += 1;
        self.openssl(&[
            "req", "-new", "-key", &key_file, "-subj", &subj, "-out", &csr,
        ]);
        let (ca_crt, ca_key) = match issuer {
            Some((cert, key)) => (format!("{cert}.crt"), format!("{key}.key")),
            None => (String::new(), String::new()),
        };
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            &csr,
            "-days",
            "30",
            "-set_serial",
            &serial,
            "-sha256",
            "-extfile",
            &ext_file,
            "-extensions",
            "v3",
            "-out",
            &crt,
        ];
        if issuer.is_some() {
            args.extend(["-CA", &ca_crt, "-CAkey", &ca_key]);
        } else {
            args.extend(["-signkey", &key_file]);
        }
        self.openssl(&args);
        Certificate::from_pem(std::fs::read(self.path(&crt)).unwrap()).unwrap()
    }

    /// A self-signed root `name` (key `name`).
    fn root(&mut self, name: &str) -> Certificate {
        self.cert(
            name,
            name,
            name,
            None,
            &[
                "basicConstraints = critical, CA:TRUE",
                "keyUsage = critical, keyCertSign, cRLSign",
            ],
        )
    }

    /// A CA `name` (key `name`) issued by `issuer`.
    fn ca(&mut self, name: &str, issuer: &str) -> Certificate {
        self.cert(
            name,
            name,
            name,
            Some((issuer, issuer)),
            &[
                "basicConstraints = critical, CA:TRUE",
                "keyUsage = critical, keyCertSign, cRLSign",
            ],
        )
    }

    /// An end-entity signer `name` (key `name`) issued by `issuer`.
    fn leaf(&mut self, name: &str, issuer: &str) -> Certificate {
        self.cert(name, name, name, Some((issuer, issuer)), &LEAF_EXT)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const LEAF_EXT: [&str; 2] = [
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature",
];

/// A time inside every generated certificate's validity period.
fn now_for(certs: &[&Certificate]) -> Timestamp {
    inside(certs)
}

#[test]
fn generated_chain_validates() {
    let mut p = Pki::new("good");
    let root = p.root("Root");
    let sub = p.ca("Sub", "Root");
    let leaf = p.leaf("Leaf", "Sub");
    let now = now_for(&[&root, &sub, &leaf]);
    let store = TrustStore::new(vec![root.clone()]);
    let path = validate(
        &leaf,
        std::slice::from_ref(&sub),
        &store,
        now,
        &ValidationOptions::default(),
    )
    .unwrap();
    assert_eq!(path.into_certificates(), vec![leaf, sub, root]);
}

#[test]
fn issuer_that_is_not_a_ca_is_rejected() {
    let mut p = Pki::new("not-ca");
    let root = p.root("Root");
    let fake = p.cert("Fake", "Fake", "Fake", Some(("Root", "Root")), &LEAF_EXT);
    let leaf = p.leaf("Leaf", "Fake");
    // No basicConstraints at all.
    let bare = p.cert("Bare", "Bare", "Bare", Some(("Root", "Root")), &[]);
    let leaf2 = p.leaf("Leaf2", "Bare");
    let now = now_for(&[&root, &fake, &leaf, &bare, &leaf2]);
    let store = TrustStore::new(vec![root]);
    let opts = ValidationOptions::default();
    assert_untrusted(
        validate(&leaf, &[fake], &store, now, &opts),
        trust::ISSUER_NOT_CA,
    );
    assert_untrusted(
        validate(&leaf2, &[bare], &store, now, &opts),
        trust::ISSUER_NOT_CA,
    );
}

#[test]
fn anchor_that_is_not_a_ca_is_rejected() {
    let mut p = Pki::new("anchor-not-ca");
    let anchor = p.cert("Anchor", "Anchor", "Anchor", None, &LEAF_EXT);
    let leaf = p.leaf("Leaf", "Anchor");
    let now = now_for(&[&anchor, &leaf]);
    let store = TrustStore::new(vec![anchor]);
    assert_untrusted(
        validate(&leaf, &[], &store, now, &ValidationOptions::default()),
        trust::ISSUER_NOT_CA,
    );
}

#[test]
fn issuer_without_key_cert_sign_is_rejected() {
    let mut p = Pki::new("no-kcs");
    let root = p.root("Root");
    let sub = p.cert(
        "Sub",
        "Sub",
        "Sub",
        Some(("Root", "Root")),
        &[
            "basicConstraints = critical, CA:TRUE",
            "keyUsage = critical, digitalSignature",
        ],
    );
    let leaf = p.leaf("Leaf", "Sub");
    let now = now_for(&[&root, &sub, &leaf]);
    let store = TrustStore::new(vec![root]);
    assert_untrusted(
        validate(&leaf, &[sub], &store, now, &ValidationOptions::default()),
        trust::ISSUER_NO_KEY_CERT_SIGN,
    );
}

#[test]
fn unknown_critical_extension_is_rejected() {
    let mut p = Pki::new("critical");
    let root = p.root("Root");
    let odd_ca = p.cert(
        "OddCa",
        "OddCa",
        "OddCa",
        Some(("Root", "Root")),
        &[
            "basicConstraints = critical, CA:TRUE",
            "keyUsage = critical, keyCertSign",
            "1.3.6.1.4.1.55555.1 = critical, ASN1:NULL",
        ],
    );
    let leaf_under_odd = p.leaf("Leaf", "OddCa");
    let sub = p.ca("Sub", "Root");
    let odd_leaf = p.cert(
        "OddLeaf",
        "OddLeaf",
        "OddLeaf",
        Some(("Sub", "Sub")),
        &[
            LEAF_EXT[0],
            LEAF_EXT[1],
            "1.3.6.1.4.1.55555.2 = critical, ASN1:NULL",
        ],
    );
    // The same unknown extension, not critical, is fine.
    let mild_leaf = p.cert(
        "MildLeaf",
        "MildLeaf",
        "MildLeaf",
        Some(("Sub", "Sub")),
        &[LEAF_EXT[0], LEAF_EXT[1], "1.3.6.1.4.1.55555.2 = ASN1:NULL"],
    );
    // A critical nameConstraints is not processed, hence unknown.
    let constrained = p.cert(
        "Constrained",
        "Constrained",
        "Constrained",
        Some(("Root", "Root")),
        &[
            "basicConstraints = critical, CA:TRUE",
            "keyUsage = critical, keyCertSign",
            "nameConstraints = critical, permitted;DNS:example.com",
        ],
    );
    let leaf_under_constrained = p.leaf("Leaf2", "Constrained");
    let now = now_for(&[
        &root,
        &odd_ca,
        &leaf_under_odd,
        &sub,
        &odd_leaf,
        &mild_leaf,
        &constrained,
        &leaf_under_constrained,
    ]);
    let store = TrustStore::new(vec![root]);
    let opts = ValidationOptions::default();
    assert_untrusted(
        validate(&leaf_under_odd, &[odd_ca], &store, now, &opts),
        trust::UNKNOWN_CRITICAL_EXTENSION,
    );
    assert_untrusted(
        validate(&odd_leaf, std::slice::from_ref(&sub), &store, now, &opts),
        trust::UNKNOWN_CRITICAL_EXTENSION,
    );
    assert!(validate(&mild_leaf, &[sub], &store, now, &opts).is_ok());
    assert_untrusted(
        validate(&leaf_under_constrained, &[constrained], &store, now, &opts),
        trust::UNKNOWN_CRITICAL_EXTENSION,
    );
}

#[test]
fn long_chain_is_cut_at_max_path_len() {
    let mut p = Pki::new("long");
    let root = p.root("Root");
    let mut all = vec![root.clone()];
    let mut issuer = String::from("Root");
    for i in 1..=8 {
        let name = format!("Ca{i}");
        all.push(p.ca(&name, &issuer));
        issuer = name;
    }
    let leaf = p.leaf("Leaf", &issuer);
    let now = now_for(&all.iter().chain([&leaf]).collect::<Vec<_>>());
    let extra: Vec<Certificate> = all[1..].iter().rev().cloned().collect();
    let store = TrustStore::new(vec![root]);
    // Leaf + 8 intermediates + root = 10 certificates.
    assert_untrusted(
        validate(&leaf, &extra, &store, now, &ValidationOptions::default()),
        trust::PATH_TOO_LONG,
    );
    let opts = ValidationOptions {
        max_path_len: 10,
        ..Default::default()
    };
    let path = validate(&leaf, &extra, &store, now, &opts).unwrap();
    assert_eq!(path.len(), 10);
    assert_eq!(path.leaf(), &leaf);
}

#[test]
fn path_len_constraint_is_enforced() {
    let mut p = Pki::new("pathlen");
    let root = p.root("Root");
    let ext = [
        "basicConstraints = critical, CA:TRUE, pathlen:0",
        "keyUsage = critical, keyCertSign",
    ];
    let top = p.cert("Top", "Top", "Top", Some(("Root", "Root")), &ext);
    let below = p.ca("Below", "Top");
    let leaf = p.leaf("Leaf", "Below");
    let direct = p.leaf("Direct", "Top");
    let now = now_for(&[&root, &top, &below, &leaf, &direct]);
    let store = TrustStore::new(vec![root]);
    let opts = ValidationOptions::default();
    assert_untrusted(
        validate(&leaf, &[top.clone(), below], &store, now, &opts),
        trust::PATH_LEN_CONSTRAINT,
    );
    // pathlen:0 still lets Top issue end entities.
    assert!(validate(&direct, &[top], &store, now, &opts).is_ok());
}

#[test]
fn cross_certified_loop_terminates() {
    let mut p = Pki::new("loop");
    let root = p.root("Root");
    // Loop A is issued by Loop B and Loop B by Loop A; neither reaches Root.
    p.cert(
        "B0",
        "LoopB",
        "Loop B",
        None,
        &["basicConstraints = critical, CA:TRUE"],
    );
    let ca_ext = [
        "basicConstraints = critical, CA:TRUE",
        "keyUsage = critical, keyCertSign",
    ];
    let a = p.cert("A", "LoopA", "Loop A", Some(("B0", "LoopB")), &ca_ext);
    let b = p.cert("B", "LoopB", "Loop B", Some(("A", "LoopA")), &ca_ext);
    let leaf = p.cert("Leaf", "Leaf", "Leaf", Some(("A", "LoopA")), &LEAF_EXT);
    let now = now_for(&[&root, &a, &b, &leaf]);
    let store = TrustStore::new(vec![root]);
    let started = Instant::now();
    assert_untrusted(
        validate(&leaf, &[a, b], &store, now, &ValidationOptions::default()),
        trust::NO_PATH,
    );
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn tangled_same_name_certificates_hit_the_work_limit() {
    let mut p = Pki::new("mesh");
    let root = p.root("Root");
    // Eight self-signed "Mesh" certificates of one key: each verifies every
    // other, so the number of paths grows factorially.
    let ca_ext = [
        "basicConstraints = critical, CA:TRUE",
        "keyUsage = critical, keyCertSign",
    ];
    let mesh: Vec<Certificate> = (0..8)
        .map(|i| p.cert(&format!("Mesh{i}"), "Mesh", "Mesh", None, &ca_ext))
        .collect();
    let leaf = p.cert("Leaf", "Leaf", "Leaf", Some(("Mesh0", "Mesh")), &LEAF_EXT);
    let now = now_for(&mesh.iter().chain([&root, &leaf]).collect::<Vec<_>>());
    let store = TrustStore::new(vec![root]);
    let started = Instant::now();
    assert_untrusted(
        validate(&leaf, &mesh, &store, now, &ValidationOptions::default()),
        trust::WORK_LIMIT,
    );
    assert!(started.elapsed().as_secs() < 5);
    // With a generous budget the search is still bounded by the path length.
    let opts = ValidationOptions {
        max_path_len: 4,
        max_signature_checks: 10_000,
        ..Default::default()
    };
    assert_untrusted(
        validate(&leaf, &mesh, &store, now, &opts),
        trust::PATH_TOO_LONG,
    );
}

#[test]
fn helpers_report_their_errors() {
    let cert = server();
    assert_untrusted(
        trust::check_validity(&cert, Timestamp::from_unix_secs(not_after(&cert) + 1)),
        trust::EXPIRED,
    );
    assert_untrusted(
        trust::check_validity(&cert, Timestamp::from_unix_secs(0)),
        trust::NOT_YET_VALID,
    );
    assert!(trust::has_key_usage(&cert, KeyUsages::DigitalSignature).unwrap());
    assert!(
        !trust::has_key_usage(
            &cert,
            KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
        )
        .unwrap()
    );
    assert!(!trust::has_extended_key_usage(&ca(), &oid::KP_CMC_RA).unwrap());
}
