//! Reading PKIMessages: parse, inspect, re-encode, verify protection.

use cmp_core::asn1::{CertOrEncCert, PkiBody, PkiStatusInfo};
use cmp_core::message::{ParsedMessage, describe, oid_name};
use cmp_core::protection;
use cmp_core::{Error, Limits};
use napi::bindgen_prelude::{Buffer, Env};
use napi_derive::napi;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use crate::client::provider;
use crate::conv::{
    InfoTypeAndValue, PemOrDer, bit_names, bytes_of, cert_of, certs_der, der_of, itav_out, millis,
};
use crate::errors::{JsResult, Res};

fn first_status(body: &PkiBody) -> Option<&PkiStatusInfo> {
    match body {
        PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
            r.response.first().map(|c| &c.status)
        }
        PkiBody::Rp(r) => r.status.first(),
        PkiBody::Error(e) => Some(&e.pki_status_info),
        PkiBody::CertConf(c) => c.first().and_then(|s| s.status_info.as_ref()),
        _ => None,
    }
}

fn general_name_str(g: &GeneralName) -> String {
    match g {
        GeneralName::DirectoryName(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// A decoded PKIMessage (read-only).
#[napi]
pub struct Message {
    parsed: ParsedMessage,
}

#[napi]
impl Message {
    /// Decode DER (size and nesting capped by the default limits).
    #[napi(factory)]
    pub fn parse(env: Env, data: Buffer) -> napi::Result<Self> {
        Ok(Self {
            parsed: ParsedMessage::decode(&data, &Limits::DEFAULT).js(&env)?,
        })
    }

    /// The DER it was parsed from.
    #[napi]
    pub fn encode(&self) -> Buffer {
        Buffer::from(self.parsed.der().to_vec())
    }

    /// DER re-encoded from the decoded value.
    #[napi]
    pub fn reencode(&self, env: Env) -> napi::Result<Buffer> {
        der_of(self.parsed.message()).js(&env)
    }

    /// A multi-line human-readable description.
    #[napi]
    pub fn describe(&self) -> String {
        describe(self.parsed.message())
    }

    /// Check MAC protection with `secret`; throws CMP_BAD_MESSAGE_CHECK and the like.
    #[napi]
    pub fn verify_mac(&self, env: Env, secret: PemOrDer) -> napi::Result<()> {
        let p = provider();
        protection::verify_mac(
            &self.parsed,
            bytes_of(&secret),
            p.as_ref(),
            &Limits::DEFAULT,
        )
        .js(&env)
    }

    /// Check the signature with `cert` (default: the signer's certificate in
    /// extraCerts). Only the signature: no path validation.
    #[napi]
    pub fn verify_signature(&self, env: Env, cert: Option<PemOrDer>) -> napi::Result<()> {
        let run = || -> Res<()> {
            let signer = match &cert {
                Some(c) => cert_of(c)?,
                None => protection::find_signer_cert(&self.parsed)
                    .cloned()
                    .ok_or(Error::UnknownCredential)?,
            };
            let p = provider();
            Ok(protection::verify_signature_with_cert(
                &self.parsed,
                &signer,
                p.as_ref(),
            )?)
        };
        run().js(&env)
    }

    /// The body type: "ir", "ip", "certConf", "pkiconf", "error", ...
    #[napi(getter)]
    pub fn body_type(&self) -> &'static str {
        self.parsed.body_type().name()
    }

    /// pvno (2 or 3).
    #[napi(getter)]
    pub fn pvno(&self) -> u32 {
        u32::try_from(self.parsed.pvno()).unwrap_or(u32::MAX)
    }

    /// The sender (RFC 4514 string for a directoryName).
    #[napi(getter)]
    pub fn sender(&self) -> String {
        general_name_str(&self.parsed.header().sender)
    }

    /// The recipient (RFC 4514 string for a directoryName).
    #[napi(getter)]
    pub fn recipient(&self) -> String {
        general_name_str(&self.parsed.header().recipient)
    }

    #[napi(getter)]
    pub fn transaction_id(&self) -> Option<Buffer> {
        self.parsed
            .transaction_id()
            .map(|b| Buffer::from(b.to_vec()))
    }

    #[napi(getter)]
    pub fn sender_nonce(&self) -> Option<Buffer> {
        self.parsed.sender_nonce().map(|b| Buffer::from(b.to_vec()))
    }

    #[napi(getter)]
    pub fn recip_nonce(&self) -> Option<Buffer> {
        self.parsed.recip_nonce().map(|b| Buffer::from(b.to_vec()))
    }

    #[napi(getter)]
    pub fn sender_kid(&self) -> Option<Buffer> {
        self.parsed.sender_kid().map(|b| Buffer::from(b.to_vec()))
    }

    /// messageTime in ms since the epoch.
    #[napi(getter)]
    pub fn message_time(&self) -> Option<f64> {
        self.parsed.message_time().map(millis)
    }

    /// The protection algorithm's OID, dotted.
    #[napi(getter)]
    pub fn protection_alg(&self) -> Option<String> {
        self.parsed.protection_alg_oid().map(|o| o.to_string())
    }

    /// The protection algorithm's name ("PasswordBasedMac", "ecdsa-with-SHA256", ...).
    #[napi(getter)]
    pub fn protection_alg_name(&self) -> Option<&'static str> {
        self.parsed.protection_alg_oid().and_then(|o| oid_name(&o))
    }

    /// Whether the sender asks for or grants implicit confirmation.
    #[napi(getter)]
    pub fn implicit_confirm(&self) -> bool {
        self.parsed.implicit_confirm()
    }

    /// The PKIStatus of the first response/status in the body, if any.
    #[napi(getter)]
    pub fn status(&self) -> Option<&'static str> {
        first_status(self.parsed.body()).map(|s| s.status.name())
    }

    /// PKIFailureInfo bit names of that status.
    #[napi(getter)]
    pub fn fail_info(&self) -> Vec<&'static str> {
        first_status(self.parsed.body())
            .map(bit_names)
            .unwrap_or_default()
    }

    /// extraCerts, DER.
    #[napi(getter)]
    pub fn extra_certs(&self, env: Env) -> napi::Result<Vec<Buffer>> {
        certs_der(self.parsed.extra_certs()).js(&env)
    }

    /// The certificates of an ip/cp/kup/ccp, DER.
    #[napi(getter)]
    pub fn certificates(&self, env: Env) -> napi::Result<Vec<Buffer>> {
        let certs: Vec<Certificate> = match self.parsed.body() {
            PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => r
                .response
                .iter()
                .filter_map(|c| c.certified_key_pair.as_ref())
                .filter_map(|k| match &k.cert_or_enc_cert {
                    CertOrEncCert::Certificate(c) => Some(c.clone()),
                    CertOrEncCert::EncryptedCert(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        certs_der(&certs).js(&env)
    }

    /// caPubs of an ip/cp/kup/ccp, DER.
    #[napi(getter)]
    pub fn ca_pubs(&self, env: Env) -> napi::Result<Vec<Buffer>> {
        match self.parsed.body() {
            PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
                certs_der(r.ca_pubs.as_deref().unwrap_or(&[])).js(&env)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// genm/genp content.
    #[napi(getter)]
    pub fn infos(&self, env: Env) -> napi::Result<Vec<InfoTypeAndValue>> {
        match self.parsed.body() {
            PkiBody::Genm(v) | PkiBody::Genp(v) => {
                v.iter().map(itav_out).collect::<Res<_>>().js(&env)
            }
            _ => Ok(Vec::new()),
        }
    }
}
