//! The cryptographic floor of the full transaction: the signature and MAC
//! operations it cannot avoid, on the very messages one run exchanges,
//! without anything else.
//!
//! - MAC: each of the four messages is MAC'd by its sender and checked by
//!   its receiver (PBM key derivation + HMAC, twice per message), plus the
//!   POP signature of the new key and its check.
//! - Signatures: the four protection signatures and their checks, the POP
//!   signature and its check, and one path validation per side (two
//!   certificate signatures each: ee → ca → root and server → ca → root).

use std::hint::black_box;
use std::sync::Arc;

use cmp_core::Limits;
use cmp_core::alg::signature_from_identifier;
use cmp_core::asn1::{PbmParameter, PkiBody};
use cmp_core::crypto::{
    CryptoProvider, DigestAlgorithm, HmacAlgorithm, SignatureAlgorithm, SigningKey,
};
use cmp_core::message::ParsedMessage;
use cmp_crypto_rustcrypto::RustCryptoProvider;
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::{Fixture, SECRET, cert, key, provider};

/// One MAC: derive the key from the secret and the message's salt, then
/// HMAC the message's protected part.
struct MacOp {
    owf: DigestAlgorithm,
    input: Vec<u8>,
    iterations: u64,
    mac: HmacAlgorithm,
    data: Vec<u8>,
}

impl MacOp {
    fn of(bytes: &[u8]) -> Self {
        let msg = ParsedMessage::decode(bytes, &Limits::DEFAULT).unwrap();
        let alg = msg.header().protection_alg.clone().unwrap();
        let params = alg.parameters.unwrap().to_der().unwrap();
        let pbm = PbmParameter::from_der(&params).unwrap();
        let mut input = SECRET.to_vec();
        input.extend_from_slice(pbm.salt.as_bytes());
        Self {
            owf: cmp_core::alg::digest_from_oid(&pbm.owf.oid).unwrap(),
            input,
            iterations: pbm.iteration_count,
            mac: cmp_core::alg::hmac_from_oid(&pbm.mac.oid).unwrap(),
            data: msg.protected_part().to_vec(),
        }
    }
}

/// A signature to make with `key` over `data` and check with `cert`.
struct SigOp {
    key: Arc<dyn SigningKey>,
    cert: Certificate,
    data: Vec<u8>,
    signature: Vec<u8>,
}

/// A certificate signature to check with its issuer's key.
struct CertOp {
    alg: SignatureAlgorithm,
    alg_id: AlgorithmIdentifierOwned,
    issuer: Certificate,
    tbs: Vec<u8>,
    signature: Vec<u8>,
}

/// Everything both floors need, prepared from one run of each transaction.
pub struct Floor {
    p: RustCryptoProvider,
    mac_ops: Vec<MacOp>,
    mac500_ops: Vec<MacOp>,
    pop: SigOp,
    sig_ops: Vec<SigOp>,
    cert_ops: Vec<CertOp>,
}

fn verify(p: &RustCryptoProvider, op: &SigOp, signature: &[u8]) {
    p.verify_signature(
        op.key.algorithm(),
        &op.key.algorithm_identifier(),
        op.cert.tbs_certificate().subject_public_key_info(),
        &op.data,
        signature,
    )
    .unwrap();
}

impl Floor {
    pub fn new() -> Self {
        let p = RustCryptoProvider;
        let wire = Fixture::new(false, provider(), None).run();
        let mac_ops = wire.iter().map(|m| MacOp::of(m)).collect();
        let mac500_ops = Fixture::for_case("mac500", provider())
            .run()
            .iter()
            .map(|m| MacOp::of(m))
            .collect();
        let ir = ParsedMessage::decode(&wire[0], &Limits::DEFAULT).unwrap();
        let PkiBody::Ir(reqs) = ir.body() else {
            panic!("not an ir")
        };
        let pop_key = key("issued.key");
        let pop_data = reqs[0].cert_req.to_der().unwrap();
        let pop = SigOp {
            signature: pop_key.sign(&pop_data).unwrap(),
            key: pop_key,
            cert: cert("issued.crt"),
            data: pop_data,
        };
        verify(&p, &pop, &pop.signature);

        let wire = Fixture::new(true, provider(), None).run();
        let mut sig_ops = Vec::new();
        for (i, m) in wire.iter().enumerate() {
            let msg = ParsedMessage::decode(m, &Limits::DEFAULT).unwrap();
            let (k, crt) = if i % 2 == 0 {
                (key("ee.key"), cert("ee.crt"))
            } else {
                (key("server.key"), cert("server.crt"))
            };
            let op = SigOp {
                key: k,
                cert: crt,
                data: msg.protected_part().to_vec(),
                signature: msg.protection().unwrap().to_vec(),
            };
            verify(&p, &op, &op.signature);
            sig_ops.push(op);
        }
        let cert_ops = [
            ("ee.crt", "ca.crt"),
            ("ca.crt", "root.crt"),
            ("server.crt", "ca.crt"),
            ("ca.crt", "root.crt"),
        ]
        .into_iter()
        .map(|(c, issuer)| {
            let c = cert(c);
            let alg_id = c.signature_algorithm().clone();
            CertOp {
                alg: signature_from_identifier(&alg_id).unwrap(),
                alg_id,
                issuer: cert(issuer),
                tbs: c.tbs_certificate().to_der().unwrap(),
                signature: c.signature().raw_bytes().to_vec(),
            }
        })
        .collect();
        Self {
            p,
            mac_ops,
            mac500_ops,
            pop,
            sig_ops,
            cert_ops,
        }
    }

    fn pop(&self) {
        black_box(self.pop.key.sign(&self.pop.data).unwrap());
        verify(&self.p, &self.pop, &self.pop.signature);
    }

    /// The MAC transaction's floor.
    pub fn mac(&self) {
        self.mac_with(&self.mac_ops);
    }

    /// The floor of the MAC transaction with OpenSSL's PBM parameters.
    pub fn mac500(&self) {
        self.mac_with(&self.mac500_ops);
    }

    /// The floor of a transaction case (see [`Fixture::for_case`]).
    pub fn case(&self, case: &str) {
        match case {
            "sig" => self.sig(),
            "mac500" => self.mac500(),
            _ => self.mac(),
        }
    }

    fn mac_with(&self, ops: &[MacOp]) {
        for op in ops {
            for _ in 0..2 {
                let k = self
                    .p
                    .iterate_digest(op.owf, &op.input, op.iterations)
                    .unwrap();
                black_box(self.p.hmac(op.mac, &k, &[&op.data]).unwrap());
            }
        }
        self.pop();
    }

    /// The signature transaction's floor.
    pub fn sig(&self) {
        for op in &self.sig_ops {
            black_box(op.key.sign(&op.data).unwrap());
            verify(&self.p, op, &op.signature);
        }
        self.pop();
        for op in &self.cert_ops {
            self.p
                .verify_signature(
                    op.alg,
                    &op.alg_id,
                    op.issuer.tbs_certificate().subject_public_key_info(),
                    &op.tbs,
                    &op.signature,
                )
                .unwrap();
        }
    }
}
