//! CA announcements (RFC 9810 section 5.3.13–5.3.16): `AnnouncementBuilder`
//! makes protected ckuann / cann / rann / crlann messages (the CA side);
//! `AnnouncementValidator` checks one and says what it announces (the
//! end-entity side). Validation errors have codes 600–616
//! (`announceErrorTable()`); failures of the message itself keep the core
//! error's code.

use std::sync::Arc;

use cmp_core::announce::{
    Announcement as CoreAnnouncement, AnnouncementBuilder as CoreBuilder,
    AnnouncementValidator as CoreValidator,
};
use cmp_core::asn1::{PkiStatus, RootCaKeyUpdateContent};
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::trust::TrustStore;
use der::{Decode, DecodePem};
use napi::Either;
use napi::bindgen_prelude::{Buffer, Env, Null};
use napi_derive::napi;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::GeneralName;

use crate::client::provider;
use crate::conv::{
    Certs, PemOrDer, bytes_of, cert_of, certs_der, certs_of, der_of, looks_like_pem, millis,
    name_of, timestamp,
};
use crate::errors::{JsResult, Res, decode, usage};
use crate::keys::key_of;

/// How the CA protects its announcements: `key` and `cert` (and `chain`),
/// or a MAC `secret` (and `reference`).
#[napi(object, object_to_js = false)]
pub struct AnnouncementBuilderOptions {
    /// Signature: the CA's (or its RA's) private key, PEM or DER.
    pub key: Option<PemOrDer>,
    /// Signature: the certificate of `key`.
    pub cert: Option<PemOrDer>,
    /// Signature: intermediates sent after `cert` in extraCerts.
    pub chain: Option<Certs>,
    /// MAC: the shared secret.
    pub secret: Option<PemOrDer>,
    /// MAC: the reference value (senderKID).
    pub reference: Option<PemOrDer>,
    /// The recipient (default NULL-DN: a broadcast).
    pub recipient: Option<String>,
    /// Extra certificates for every announcement.
    pub extra_certs: Option<Certs>,
}

fn protector_of(o: &AnnouncementBuilderOptions) -> Res<Protector> {
    match (&o.secret, &o.key, &o.cert) {
        (None, Some(key), Some(cert)) => Ok(Protector::Signature {
            key: Arc::new(key_of(key)?),
            cert: cert_of(cert)?,
            chain: certs_of(o.chain.as_ref())?,
        }),
        (Some(secret), None, None) => Ok(Protector::Mac {
            reference: o
                .reference
                .as_ref()
                .map(|r| bytes_of(r).to_vec())
                .unwrap_or_default(),
            secret: bytes_of(secret).to_vec(),
            scheme: MacScheme::PBM_SHA256,
        }),
        _ => Err(usage(
            "an announcement is protected with key and cert, or with secret",
        )),
    }
}

fn crl_of(v: &PemOrDer) -> Res<CertificateList> {
    let b = bytes_of(v);
    if looks_like_pem(b) {
        CertificateList::from_pem(b).map_err(decode)
    } else {
        CertificateList::from_der(b).map_err(decode)
    }
}

/// The three certificates of a root CA key update (RFC 9810 section 4.4).
#[napi(object, object_to_js = false)]
pub struct RootKeyUpdateInput {
    /// The new self-signed root.
    pub new_with_new: PemOrDer,
    /// The new root key certified by the old root key.
    pub new_with_old: Option<PemOrDer>,
    /// The old root key certified by the new root key.
    pub old_with_new: Option<PemOrDer>,
}

/// What a revocation announcement says.
#[napi(object, object_to_js = false)]
pub struct RevocationInput {
    /// "revocationWarning" (imminent) or "revocationNotification" (done).
    #[napi(ts_type = "'revocationWarning' | 'revocationNotification'")]
    pub status: String,
    /// When the revocation takes effect, ms since the epoch.
    pub at: f64,
    /// Since when the certificate is considered bad, ms since the epoch.
    pub bad_since: f64,
}

/// The CA side: builds protected announcement messages (DER).
#[napi]
pub struct AnnouncementBuilder {
    inner: CoreBuilder,
}

#[napi]
impl AnnouncementBuilder {
    #[napi(constructor)]
    pub fn new(env: Env, options: AnnouncementBuilderOptions) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let mut inner = CoreBuilder::new(provider(), protector_of(&options)?);
            inner.recipient = options.recipient.as_deref().map(name_of).transpose()?;
            inner.extra_certs = certs_of(options.extra_certs.as_ref())?;
            Ok(Self { inner })
        };
        run().js(&env)
    }

    /// ckuann (pvno 3, RootCaKeyUpdateContent): the root CA changed its key.
    #[napi]
    pub fn root_key_update(
        &self,
        env: Env,
        update: RootKeyUpdateInput,
        now: Option<f64>,
    ) -> napi::Result<Buffer> {
        let run = || -> Res<Buffer> {
            let content = RootCaKeyUpdateContent {
                new_with_new: cert_of(&update.new_with_new)?,
                new_with_old: update.new_with_old.as_ref().map(cert_of).transpose()?,
                old_with_new: update.old_with_new.as_ref().map(cert_of).transpose()?,
            };
            Ok(Buffer::from(
                self.inner.root_key_update(content, timestamp(now)?)?,
            ))
        };
        run().js(&env)
    }

    /// cann: a certificate was issued.
    #[napi]
    pub fn certificate(&self, env: Env, cert: PemOrDer, now: Option<f64>) -> napi::Result<Buffer> {
        let run = || -> Res<Buffer> {
            Ok(Buffer::from(
                self.inner.certificate(cert_of(&cert)?, timestamp(now)?)?,
            ))
        };
        run().js(&env)
    }

    /// rann: `cert` will be or has been revoked.
    #[napi]
    pub fn revocation(
        &self,
        env: Env,
        cert: PemOrDer,
        revocation: RevocationInput,
        now: Option<f64>,
    ) -> napi::Result<Buffer> {
        let run = || -> Res<Buffer> {
            let status = match revocation.status.as_str() {
                "revocationWarning" => PkiStatus::RevocationWarning,
                "revocationNotification" => PkiStatus::RevocationNotification,
                other => {
                    return Err(usage(format!(
                        "status must be 'revocationWarning' or 'revocationNotification', not {other:?}"
                    )));
                }
            };
            Ok(Buffer::from(self.inner.revocation(
                &cert_of(&cert)?,
                status,
                timestamp(Some(revocation.at))?,
                timestamp(Some(revocation.bad_since))?,
                None,
                timestamp(now)?,
            )?))
        };
        run().js(&env)
    }

    /// crlann: new CRLs (PEM or DER each).
    #[napi]
    pub fn crls(&self, env: Env, crls: Vec<PemOrDer>, now: Option<f64>) -> napi::Result<Buffer> {
        let run = || -> Res<Buffer> {
            let list = crls.iter().map(crl_of).collect::<Res<Vec<_>>>()?;
            Ok(Buffer::from(self.inner.crls(list, timestamp(now)?)?))
        };
        run().js(&env)
    }
}

/// Trust and policy of the end entity checking announcements.
#[napi(object, object_to_js = false)]
pub struct AnnouncementValidatorOptions {
    /// Trust anchors: for the signer, announced certificates and CRLs, and
    /// the old root of a key update.
    pub trust: Certs,
    /// Untrusted intermediates.
    pub untrusted: Option<Certs>,
    /// Accept MAC-protected announcements with this shared secret.
    pub secret: Option<PemOrDer>,
    /// Largest accepted messageTime skew in seconds (default 600; null: not checked).
    pub max_time_skew: Option<Either<u32, Null>>,
}

/// What a validated announcement tells; switch on `kind`.
#[napi(discriminant = "kind", discriminant_case = "camelCase")]
pub enum Announcement {
    /// ckuann: install `newRoot` as trust anchor.
    RootKeyUpdate {
        /// The trust anchor being replaced, DER.
        old_root: Buffer,
        /// The new trust anchor (newWithNew), DER.
        new_root: Buffer,
        /// The new key certified with the old one, DER.
        new_with_old: Buffer,
        /// The old key certified with the new one, DER, or null.
        old_with_new: Option<Buffer>,
    },
    /// cann: a certificate was issued and validates.
    CertificateAnnounced {
        /// The certificate, DER.
        certificate: Buffer,
        /// Its validated path, leaf first, anchor last, DER.
        path: Vec<Buffer>,
    },
    /// rann: a certificate is revoked, or will be.
    RevocationAnnounced {
        /// "revocationWarning" or "revocationNotification".
        status: String,
        /// The issuer of the certificate (RFC 4514 for a directoryName).
        issuer: String,
        /// Its serial number, big-endian bytes.
        serial_number: Buffer,
        /// When the revocation takes effect, ms since the epoch.
        will_be_revoked_at: f64,
        /// Since when the certificate is bad, ms since the epoch.
        bad_since: f64,
    },
    /// crlann: new CRLs, each signed by a trusted CA.
    CrlAnnounced {
        /// The CRLs, DER.
        crls: Vec<Buffer>,
    },
}

fn announcement_of(a: CoreAnnouncement) -> Res<Announcement> {
    Ok(match a {
        CoreAnnouncement::RootKeyUpdate(u) => Announcement::RootKeyUpdate {
            old_root: der_of(&u.old_root)?,
            new_root: der_of(&u.new_root)?,
            new_with_old: der_of(&u.new_with_old)?,
            old_with_new: u.old_with_new.as_ref().map(der_of).transpose()?,
        },
        CoreAnnouncement::CertificateAnnounced { cert, path } => {
            Announcement::CertificateAnnounced {
                certificate: der_of(&cert)?,
                path: certs_der(&path)?,
            }
        }
        CoreAnnouncement::RevocationAnnounced {
            status,
            cert_id,
            will_be_revoked_at,
            bad_since,
            ..
        } => Announcement::RevocationAnnounced {
            status: status.name().to_owned(),
            issuer: match &cert_id.issuer {
                GeneralName::DirectoryName(n) => n.to_string(),
                other => format!("{other:?}"),
            },
            serial_number: Buffer::from(cert_id.serial_number.as_bytes().to_vec()),
            will_be_revoked_at: millis(will_be_revoked_at),
            bad_since: millis(bad_since),
        },
        CoreAnnouncement::CrlAnnounced(crls) => Announcement::CrlAnnounced {
            crls: crls.iter().map(der_of).collect::<Res<_>>()?,
        },
    })
}

/// The end-entity side: checks an announcement (protection, signer chain,
/// header, content) and says what it announces; throws CMP_* errors
/// (600–616 for the content, the core codes for the message).
#[napi]
pub struct AnnouncementValidator {
    inner: CoreValidator,
}

#[napi]
impl AnnouncementValidator {
    #[napi(constructor)]
    pub fn new(env: Env, options: AnnouncementValidatorOptions) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let anchors = certs_of(Some(&options.trust))?;
            if anchors.is_empty() {
                return Err(usage("trust needs at least one certificate"));
            }
            let mut inner = CoreValidator::new(provider(), TrustStore::new(anchors));
            inner.untrusted = certs_of(options.untrusted.as_ref())?;
            inner.secret = options.secret.as_ref().map(|s| bytes_of(s).to_vec());
            inner.max_time_skew = match &options.max_time_skew {
                None => Some(600),
                Some(Either::A(s)) => Some(u64::from(*s)),
                Some(Either::B(_)) => None,
            };
            Ok(Self { inner })
        };
        run().js(&env)
    }

    /// Check the announcement (DER) and return what it announces.
    #[napi]
    pub fn validate(
        &self,
        env: Env,
        message: Buffer,
        now: Option<f64>,
    ) -> napi::Result<Announcement> {
        let run = || -> Res<Announcement> {
            announcement_of(self.inner.validate(&message, timestamp(now)?)?)
        };
        run().js(&env)
    }
}
