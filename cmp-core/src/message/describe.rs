//! A human-readable, multi-line rendering of a PKIMessage (for the CLI, logs
//! and the bindings' `repr`).

use alloc::string::String;
use core::fmt::Write;

use der::asn1::ObjectIdentifier;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use crate::asn1::{
    CertRepMessage, CertReqMsg, InfoTypeAndValue, PkiBody, PkiHeader, PkiMessage,
    ProofOfPossession, oid,
};

/// A readable name for the OIDs CMP messages carry, if known.
pub fn oid_name(o: &ObjectIdentifier) -> Option<&'static str> {
    Some(match *o {
        oid::PASSWORD_BASED_MAC => "PasswordBasedMac",
        oid::PBMAC1 => "PBMAC1",
        oid::PBKDF2 => "PBKDF2",
        oid::DH_BASED_MAC => "DHBasedMac",
        oid::KEM_BASED_MAC => "KemBasedMac",
        oid::SHA1 => "SHA-1",
        oid::SHA224 => "SHA-224",
        oid::SHA256 => "SHA-256",
        oid::SHA384 => "SHA-384",
        oid::SHA512 => "SHA-512",
        oid::HMAC_SHA1_IPSEC | oid::HMAC_WITH_SHA1 => "HMAC-SHA1",
        oid::HMAC_WITH_SHA224 => "HMAC-SHA224",
        oid::HMAC_WITH_SHA256 => "HMAC-SHA256",
        oid::HMAC_WITH_SHA384 => "HMAC-SHA384",
        oid::HMAC_WITH_SHA512 => "HMAC-SHA512",
        oid::RSA_ENCRYPTION => "rsaEncryption",
        oid::RSASSA_PSS => "RSASSA-PSS",
        oid::SHA224_WITH_RSA => "sha224WithRSAEncryption",
        oid::SHA256_WITH_RSA => "sha256WithRSAEncryption",
        oid::SHA384_WITH_RSA => "sha384WithRSAEncryption",
        oid::SHA512_WITH_RSA => "sha512WithRSAEncryption",
        oid::EC_PUBLIC_KEY => "id-ecPublicKey",
        oid::SECP256R1 => "P-256",
        oid::SECP384R1 => "P-384",
        oid::ECDSA_WITH_SHA224 => "ecdsa-with-SHA224",
        oid::ECDSA_WITH_SHA256 => "ecdsa-with-SHA256",
        oid::ECDSA_WITH_SHA384 => "ecdsa-with-SHA384",
        oid::ECDSA_WITH_SHA512 => "ecdsa-with-SHA512",
        oid::ED25519 => "Ed25519",
        oid::ML_DSA_44 => "ML-DSA-44",
        oid::ML_DSA_65 => "ML-DSA-65",
        oid::ML_DSA_87 => "ML-DSA-87",
        oid::IT_CA_PROT_ENC_CERT => "caProtEncCert",
        oid::IT_SIGN_KEY_PAIR_TYPES => "signKeyPairTypes",
        oid::IT_ENC_KEY_PAIR_TYPES => "encKeyPairTypes",
        oid::IT_PREFERRED_SYMM_ALG => "preferredSymmAlg",
        oid::IT_CA_KEY_UPDATE_INFO => "caKeyUpdateInfo",
        oid::IT_CURRENT_CRL => "currentCRL",
        oid::IT_UNSUPPORTED_OIDS => "unsupportedOIDs",
        oid::IT_KEY_PAIR_PARAM_REQ => "keyPairParamReq",
        oid::IT_KEY_PAIR_PARAM_REP => "keyPairParamRep",
        oid::IT_REV_PASSPHRASE => "revPassphrase",
        oid::IT_IMPLICIT_CONFIRM => "implicitConfirm",
        oid::IT_CONFIRM_WAIT_TIME => "confirmWaitTime",
        oid::IT_ORIG_PKI_MESSAGE => "origPKIMessage",
        oid::IT_SUPP_LANG_TAGS => "suppLangTags",
        oid::IT_CA_CERTS => "caCerts",
        oid::IT_ROOT_CA_KEY_UPDATE => "rootCaKeyUpdate",
        oid::IT_CERT_REQ_TEMPLATE => "certReqTemplate",
        oid::IT_ROOT_CA_CERT => "rootCaCert",
        oid::IT_CERT_PROFILE => "certProfile",
        oid::IT_CRL_STATUS_LIST => "crlStatusList",
        oid::IT_CRLS => "crls",
        oid::IT_KEM_CIPHERTEXT_INFO => "KemCiphertextInfo",
        oid::REG_CTRL_OLD_CERT_ID => "oldCertID",
        oid::REG_CTRL_REG_TOKEN => "regToken",
        oid::REG_CTRL_AUTHENTICATOR => "authenticator",
        oid::REG_CTRL_PROTOCOL_ENCR_KEY => "protocolEncrKey",
        oid::REG_CTRL_ALG_ID => "algId",
        oid::REG_CTRL_RSA_KEY_LEN => "rsaKeyLen",
        _ => return None,
    })
}

struct Oid<'a>(&'a ObjectIdentifier);

impl core::fmt::Display for Oid<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match oid_name(self.0) {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

struct Hex<'a>(&'a [u8]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Bytes as hex, followed by their text when all of it is printable ASCII.
struct Octets<'a>(&'a [u8]);

impl core::fmt::Display for Octets<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", Hex(self.0))?;
        if !self.0.is_empty() && self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            f.write_str(" (\"")?;
            for b in self.0 {
                f.write_char(char::from(*b))?;
            }
            f.write_str("\")")?;
        }
        Ok(())
    }
}

struct Gn<'a>(&'a GeneralName);

impl core::fmt::Display for Gn<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            GeneralName::DirectoryName(n) if n.is_empty() => f.write_str("NULL-DN"),
            GeneralName::DirectoryName(n) => write!(f, "{n}"),
            GeneralName::Rfc822Name(s) => write!(f, "email:{}", s.as_str()),
            GeneralName::DnsName(s) => write!(f, "DNS:{}", s.as_str()),
            GeneralName::UniformResourceIdentifier(s) => write!(f, "URI:{}", s.as_str()),
            GeneralName::IpAddress(ip) => write!(f, "IP:{}", Hex(ip.as_bytes())),
            GeneralName::RegisteredId(o) => write!(f, "RID:{o}"),
            other => write!(f, "{other:?}"),
        }
    }
}

fn cert_line(out: &mut String, indent: &str, c: &Certificate) -> core::fmt::Result {
    let tbs = c.tbs_certificate();
    writeln!(
        out,
        "{indent}subject {}, issuer {}, serial {}",
        tbs.subject(),
        tbs.issuer(),
        Hex(tbs.serial_number().as_bytes())
    )
}

/// Render `msg` as indented text, one field per line.
pub fn describe(msg: &PkiMessage) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_message(&mut out, msg, "");
    out
}

fn write_message(out: &mut String, msg: &PkiMessage, indent: &str) -> core::fmt::Result {
    writeln!(out, "{indent}PKIMessage {}", msg.body.body_type().name())?;
    write_header(out, &msg.header, indent)?;
    write_body(out, &msg.body, indent)?;
    match &msg.protection {
        Some(p) => writeln!(out, "{indent}  protection: {} bytes", p.raw_bytes().len())?,
        None => writeln!(out, "{indent}  protection: none")?,
    }
    if let Some(certs) = &msg.extra_certs {
        writeln!(out, "{indent}  extraCerts: {}", certs.len())?;
        for c in certs {
            cert_line(out, &alloc::format!("{indent}    "), c)?;
        }
    }
    Ok(())
}

fn write_header(out: &mut String, h: &PkiHeader, indent: &str) -> core::fmt::Result {
    let pvno_name = match h.pvno {
        1 => " (cmp1999)",
        2 => " (cmp2000)",
        3 => " (cmp2021)",
        _ => "",
    };
    writeln!(out, "{indent}  header:")?;
    writeln!(out, "{indent}    pvno: {}{pvno_name}", h.pvno)?;
    writeln!(out, "{indent}    sender: {}", Gn(&h.sender))?;
    writeln!(out, "{indent}    recipient: {}", Gn(&h.recipient))?;
    if let Some(t) = &h.message_time {
        writeln!(out, "{indent}    messageTime: {}", t.to_date_time())?;
    }
    if let Some(a) = &h.protection_alg {
        writeln!(out, "{indent}    protectionAlg: {}", Oid(&a.oid))?;
    }
    let octets: [(&str, &Option<der::asn1::OctetString>); 5] = [
        ("senderKID", &h.sender_kid),
        ("recipKID", &h.recip_kid),
        ("transactionID", &h.transaction_id),
        ("senderNonce", &h.sender_nonce),
        ("recipNonce", &h.recip_nonce),
    ];
    for (name, value) in octets {
        if let Some(v) = value {
            writeln!(out, "{indent}    {name}: {}", Octets(v.as_bytes()))?;
        }
    }
    if let Some(text) = &h.free_text {
        writeln!(out, "{indent}    freeText: {text:?}")?;
    }
    if let Some(info) = &h.general_info {
        write_itavs(out, "generalInfo", info, indent)?;
    }
    Ok(())
}

fn write_itavs(
    out: &mut String,
    label: &str,
    itavs: &[InfoTypeAndValue],
    indent: &str,
) -> core::fmt::Result {
    writeln!(
        out,
        "{indent}    {label}: {} entr{}",
        itavs.len(),
        if itavs.len() == 1 { "y" } else { "ies" }
    )?;
    for itav in itavs {
        let value = if itav.info_value.is_some() {
            ""
        } else {
            " (no value)"
        };
        writeln!(out, "{indent}      {}{value}", Oid(&itav.info_type))?;
    }
    Ok(())
}

fn write_requests(out: &mut String, reqs: &[CertReqMsg], indent: &str) -> core::fmt::Result {
    for r in reqs {
        let t = &r.cert_req.cert_template;
        writeln!(
            out,
            "{indent}    request certReqId {}:",
            r.cert_req.cert_req_id
        )?;
        if let Some(s) = &t.subject {
            writeln!(out, "{indent}      subject: {s}")?;
        }
        if let Some(k) = &t.public_key {
            let curve = k
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(c) => writeln!(
                    out,
                    "{indent}      publicKey: {} {}",
                    Oid(&k.algorithm.oid),
                    Oid(&c)
                )?,
                None => writeln!(out, "{indent}      publicKey: {}", Oid(&k.algorithm.oid))?,
            }
        }
        if let Some(sn) = &t.serial_number {
            writeln!(out, "{indent}      serialNumber: {}", Hex(sn.as_bytes()))?;
        }
        if let Some(ext) = &t.extensions {
            writeln!(out, "{indent}      extensions: {}", ext.len())?;
        }
        if let Some(ctrls) = &r.cert_req.controls {
            for c in ctrls {
                writeln!(out, "{indent}      control: {}", Oid(&c.oid))?;
            }
        }
        let popo = match &r.popo {
            None => alloc::string::String::from("none"),
            Some(ProofOfPossession::RaVerified(_)) => "raVerified".into(),
            Some(ProofOfPossession::Signature(s)) => {
                alloc::format!("signature ({})", Oid(&s.algorithm_identifier.oid))
            }
            Some(ProofOfPossession::KeyEncipherment(_)) => "keyEncipherment".into(),
            Some(ProofOfPossession::KeyAgreement(_)) => "keyAgreement".into(),
        };
        writeln!(out, "{indent}      popo: {popo}")?;
    }
    Ok(())
}

fn write_responses(out: &mut String, rep: &CertRepMessage, indent: &str) -> core::fmt::Result {
    if let Some(ca_pubs) = &rep.ca_pubs {
        writeln!(out, "{indent}    caPubs: {}", ca_pubs.len())?;
        for c in ca_pubs {
            cert_line(out, &alloc::format!("{indent}      "), c)?;
        }
    }
    for r in &rep.response {
        writeln!(
            out,
            "{indent}    response certReqId {}: {}",
            r.cert_req_id, r.status
        )?;
        if let Some(ckp) = &r.certified_key_pair {
            match &ckp.cert_or_enc_cert {
                crate::asn1::CertOrEncCert::Certificate(c) => {
                    cert_line(out, &alloc::format!("{indent}      certificate: "), c)?
                }
                crate::asn1::CertOrEncCert::EncryptedCert(_) => {
                    writeln!(out, "{indent}      encryptedCert")?
                }
            }
            if ckp.private_key.is_some() {
                writeln!(out, "{indent}      privateKey: (encrypted)")?;
            }
        }
    }
    Ok(())
}

fn write_body(out: &mut String, body: &PkiBody, indent: &str) -> core::fmt::Result {
    writeln!(out, "{indent}  body: {}", body.body_type().name())?;
    match body {
        PkiBody::Ir(r) | PkiBody::Cr(r) | PkiBody::Kur(r) | PkiBody::Krr(r) | PkiBody::Ccr(r) => {
            write_requests(out, r, indent)
        }
        PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
            write_responses(out, r, indent)
        }
        PkiBody::P10cr(csr) => writeln!(out, "{indent}    subject: {}", csr.info.subject),
        PkiBody::Rr(details) => {
            for d in details {
                let t = &d.cert_details;
                let serial = t
                    .serial_number
                    .as_ref()
                    .map(|s| alloc::format!("{}", Hex(s.as_bytes())));
                let issuer = t.issuer.as_ref().map(|i| alloc::format!("{i}"));
                writeln!(
                    out,
                    "{indent}    revoke serial {} issuer {}",
                    serial.as_deref().unwrap_or("?"),
                    issuer.as_deref().unwrap_or("?")
                )?;
            }
            Ok(())
        }
        PkiBody::Rp(rp) => {
            for s in &rp.status {
                writeln!(out, "{indent}    status: {s}")?;
            }
            Ok(())
        }
        PkiBody::Genm(itavs) | PkiBody::Genp(itavs) => write_itavs(out, "content", itavs, indent),
        PkiBody::Error(e) => {
            writeln!(out, "{indent}    status: {}", e.pki_status_info)?;
            if let Some(code) = e.error_code {
                writeln!(out, "{indent}    errorCode: {code}")?;
            }
            if let Some(d) = &e.error_details {
                writeln!(out, "{indent}    errorDetails: {d:?}")?;
            }
            Ok(())
        }
        PkiBody::CertConf(statuses) => {
            for s in statuses {
                let st = s.status_info.as_ref().map(|i| alloc::format!("{i}"));
                writeln!(
                    out,
                    "{indent}    certReqId {}: certHash {} status {}",
                    s.cert_req_id,
                    Hex(s.cert_hash.as_bytes()),
                    st.as_deref().unwrap_or("accepted (implied)")
                )?;
            }
            Ok(())
        }
        PkiBody::PollReq(p) => {
            for r in p {
                writeln!(out, "{indent}    certReqId {}", r.cert_req_id)?;
            }
            Ok(())
        }
        PkiBody::PollRep(p) => {
            for r in p {
                writeln!(
                    out,
                    "{indent}    certReqId {}: checkAfter {} s",
                    r.cert_req_id, r.check_after
                )?;
            }
            Ok(())
        }
        PkiBody::Nested(msgs) => {
            let inner = alloc::format!("{indent}    ");
            for m in msgs {
                write_message(out, m, &inner)?;
            }
            Ok(())
        }
        PkiBody::Ckuann(content) => {
            let (form, new_with_new, new_with_old, old_with_new) = match content {
                crate::asn1::CaKeyUpdContent::V2(c) => (
                    "cAKeyUpdAnnV2",
                    &c.new_with_new,
                    Some(&c.new_with_old),
                    Some(&c.old_with_new),
                ),
                crate::asn1::CaKeyUpdContent::V3(c) => (
                    "cAKeyUpdAnnV3",
                    &c.new_with_new,
                    c.new_with_old.as_ref(),
                    c.old_with_new.as_ref(),
                ),
            };
            writeln!(out, "{indent}    form: {form}")?;
            cert_line(
                out,
                &alloc::format!("{indent}    newWithNew: "),
                new_with_new,
            )?;
            for (label, cert) in [("newWithOld", new_with_old), ("oldWithNew", old_with_new)] {
                match cert {
                    Some(c) => cert_line(out, &alloc::format!("{indent}    {label}: "), c)?,
                    None => writeln!(out, "{indent}    {label}: absent")?,
                }
            }
            Ok(())
        }
        PkiBody::Cann(cert) => cert_line(out, &alloc::format!("{indent}    certificate: "), cert),
        PkiBody::Rann(r) => writeln!(
            out,
            "{indent}    {:?}: serial {} issuer {}",
            r.status,
            Hex(r.cert_id.serial_number.as_bytes()),
            Gn(&r.cert_id.issuer)
        ),
        PkiBody::Crlann(crls) => {
            for crl in crls {
                let revoked = crl
                    .tbs_cert_list
                    .revoked_certificates
                    .as_ref()
                    .map_or(0, alloc::vec::Vec::len);
                writeln!(
                    out,
                    "{indent}    CRL issuer {}, {revoked} revoked",
                    crl.tbs_cert_list.issuer
                )?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
