//! CA life-cycle operations of the [`ReferenceCa`]: a self-signed root that
//! issues directly, certificates for other CAs (cross-certification and
//! subordinate CAs), and the root CA key update of RFC 9810 section 4.4
//! (newWithNew, newWithOld, oldWithNew).

use alloc::vec::Vec;

use cmp_core::crypto::SigningKey;
use cmp_core::time::Timestamp;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::name::Name;

use super::{
    CA_VALIDITY_SECS, CaError, ReferenceCa, ca_extensions, common_name, key_identifier,
    random_serial, sign_certificate, validity,
};
use crate::keys::{KeyAlgorithm, PrivateKey};

/// The three certificates of a root CA key update and the CA that issues
/// with the new key.
#[derive(Clone, Debug)]
pub struct RootKeyUpdate {
    /// The new root certificate: new key, self-signed.
    pub new_with_new: Certificate,
    /// The new public key certified with the old private key (lets holders
    /// of the old root accept paths up to the new one).
    pub new_with_old: Certificate,
    /// The old public key certified with the new private key (lets holders
    /// of the new root accept paths up to the old one).
    pub old_with_new: Certificate,
    /// The root CA issuing with the new key under `new_with_new`.
    pub ca: ReferenceCa,
}

impl ReferenceCa {
    /// Generate a self-signed root CA "CN=`name`" with a fresh key of type
    /// `alg` that issues end-entity and CA certificates itself (basic
    /// constraints CA, no path length limit; valid for ten years).
    pub fn generate_root(name: &str, now: Timestamp, alg: KeyAlgorithm) -> Result<Self, CaError> {
        let key = PrivateKey::generate(alg)?;
        let subject = common_name(name)?;
        let spki = key.public_key();
        let id = key_identifier(&spki);
        let cert = sign_certificate(
            &key,
            subject.clone(),
            subject,
            spki,
            random_serial()?,
            validity(now, CA_VALIDITY_SECS, None)?,
            ca_extensions(&id, &id, None)?,
        )?;
        Self::new(key, cert, Vec::new())
    }

    /// Certify another CA's `public_key` under `subject`: a CA certificate
    /// (basicConstraints cA TRUE with `path_len`, keyUsage keyCertSign,
    /// cRLSign, digitalSignature) valid from `now` for ten years but not
    /// past this CA's own certificate. Used for cross-certificates (the
    /// answer to a ccr) and for subordinate CAs.
    ///
    /// The certificate is not recorded among the issued ones.
    pub fn issue_ca_certificate(
        &self,
        subject: Name,
        public_key: SubjectPublicKeyInfoOwned,
        path_len: Option<u8>,
        now: Timestamp,
    ) -> Result<Certificate, CaError> {
        if subject.is_empty() {
            return Err(CaError::BadTemplate("a CA certificate needs a subject"));
        }
        let id = key_identifier(&public_key);
        sign_certificate(
            &self.key,
            self.name().clone(),
            subject,
            public_key,
            random_serial()?,
            self.end_entity_validity(now, CA_VALIDITY_SECS)?,
            ca_extensions(&id, &self.key_id, path_len)?,
        )
    }

    /// Update the key of this root CA to `new_key` (RFC 9810 section 4.4):
    /// the new self-signed root certificate (newWithNew), the new key
    /// certified with the old one (newWithOld, ending when the old root
    /// does) and the old key certified with the new one (oldWithNew, also
    /// ending when the old root does), all under this CA's name.
    ///
    /// Fails with [`CaError::BadCaCredentials`] unless this CA is a
    /// self-signed root issuing directly, or if `new_key` is the current key.
    pub fn root_key_update(
        &self,
        new_key: PrivateKey,
        now: Timestamp,
    ) -> Result<RootKeyUpdate, CaError> {
        let tbs = self.cert.tbs_certificate();
        if tbs.issuer() != tbs.subject() || self.chain.len() > 1 {
            return Err(CaError::BadCaCredentials(
                "a root key update needs a self-signed root CA",
            ));
        }
        let old_spki = tbs.subject_public_key_info().clone();
        let new_spki = new_key.public_key();
        if new_spki == old_spki {
            return Err(CaError::BadCaCredentials(
                "the new root key is the current one",
            ));
        }
        let name = self.name().clone();
        let new_id = key_identifier(&new_spki);
        let old_end =
            Timestamp::from_unix_secs(tbs.validity().not_after.to_unix_duration().as_secs());

        let new_with_new = sign_certificate(
            &new_key,
            name.clone(),
            name.clone(),
            new_spki.clone(),
            random_serial()?,
            validity(now, CA_VALIDITY_SECS, None)?,
            ca_extensions(&new_id, &new_id, None)?,
        )?;
        let new_with_old = sign_certificate(
            &self.key,
            name.clone(),
            name.clone(),
            new_spki,
            random_serial()?,
            validity(now, CA_VALIDITY_SECS, Some(old_end))?,
            ca_extensions(&new_id, &self.key_id, None)?,
        )?;
        let old_with_new = sign_certificate(
            &new_key,
            name.clone(),
            name,
            old_spki,
            random_serial()?,
            validity(now, CA_VALIDITY_SECS, Some(old_end))?,
            ca_extensions(&self.key_id, &new_id, None)?,
        )?;
        let ca = Self::new(new_key, new_with_new.clone(), Vec::new())?;
        Ok(RootKeyUpdate {
            new_with_new,
            new_with_old,
            old_with_new,
            ca,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmp_core::trust::{
        TrustStore, ValidationOptions, validate_chain, verify_certificate_signature,
    };

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(1_760_000_000)
    }

    #[test]
    fn key_update_links_old_and_new_roots() {
        let old = ReferenceCa::generate_root("Test Root", now(), KeyAlgorithm::EcP256).unwrap();
        let new_key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let upd = old.root_key_update(new_key, now()).unwrap();
        let p = crate::provider();
        verify_certificate_signature(&upd.new_with_new, &upd.new_with_new, p).unwrap();
        verify_certificate_signature(&upd.new_with_old, old.certificate(), p).unwrap();
        verify_certificate_signature(&upd.old_with_new, &upd.new_with_new, p).unwrap();
        assert_eq!(
            upd.new_with_old.tbs_certificate().subject_public_key_info(),
            upd.new_with_new.tbs_certificate().subject_public_key_info()
        );
        assert_eq!(
            upd.old_with_new.tbs_certificate().subject_public_key_info(),
            old.certificate()
                .tbs_certificate()
                .subject_public_key_info()
        );
        // A certificate issued with the new key validates for a holder of the
        // old root through newWithOld.
        let mut new_ca = upd.ca;
        let ee = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let cert = new_ca
            .issue(
                &crate::IssueRequest::new("CN=ee".parse().unwrap(), ee.public_key()),
                now(),
            )
            .unwrap();
        let old_store = TrustStore::new(alloc::vec![old.certificate().clone()]);
        let opts = ValidationOptions::default();
        assert!(validate_chain(&cert, &[], &old_store, now(), &opts, p).is_err());
        validate_chain(
            &cert,
            core::slice::from_ref(&upd.new_with_old),
            &old_store,
            now(),
            &opts,
            p,
        )
        .unwrap();
    }

    #[test]
    fn only_roots_update_their_key() {
        let (ca, _root) =
            ReferenceCa::generate_hierarchy("Sub", now(), KeyAlgorithm::EcP256).unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        assert!(matches!(
            ca.root_key_update(key, now()),
            Err(CaError::BadCaCredentials(_))
        ));
        let root = ReferenceCa::generate_root("R", now(), KeyAlgorithm::EcP256).unwrap();
        let same = root.signing_key().clone();
        assert!(matches!(
            root.root_key_update(same, now()),
            Err(CaError::BadCaCredentials(_))
        ));
    }

    #[test]
    fn ca_certificates_are_cas() {
        let root = ReferenceCa::generate_root("R", now(), KeyAlgorithm::EcP256).unwrap();
        let other = ReferenceCa::generate_root("Other", now(), KeyAlgorithm::EcP256).unwrap();
        let cross = root
            .issue_ca_certificate(
                other.name().clone(),
                other
                    .certificate()
                    .tbs_certificate()
                    .subject_public_key_info()
                    .clone(),
                Some(0),
                now(),
            )
            .unwrap();
        verify_certificate_signature(&cross, root.certificate(), crate::provider()).unwrap();
        // A CA built on the cross-certificate is accepted.
        ReferenceCa::new(
            other.signing_key().clone(),
            cross,
            alloc::vec![root.certificate().clone()],
        )
        .unwrap();
        assert!(matches!(
            root.issue_ca_certificate(
                Name::default(),
                other
                    .certificate()
                    .tbs_certificate()
                    .subject_public_key_info()
                    .clone(),
                None,
                now()
            ),
            Err(CaError::BadTemplate(_))
        ));
    }
}
