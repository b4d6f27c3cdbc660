//! Reading credentials and writing results: PEM (or DER) in, PEM out.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cmp_crypto_rustcrypto::PrivateKey;
use der::pem::LineEnding;
use der::{Decode, EncodePem};
use x509_cert::Certificate;
use x509_cert::request::CertReq;

use crate::error::{CliError, CliResult};

fn read(path: &Path) -> CliResult<Vec<u8>> {
    fs::read(path).map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))
}

fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// All certificates in a file: a PEM bundle, or one DER certificate.
pub(crate) fn read_certs(path: &Path) -> CliResult<Vec<Certificate>> {
    let bytes = read(path)?;
    let certs = if is_pem(&bytes) {
        Certificate::load_pem_chain(&bytes).map_err(|e| {
            CliError::Io(format!(
                "{}: not a PEM certificate bundle: {e}",
                path.display()
            ))
        })?
    } else {
        vec![
            Certificate::from_der(&bytes)
                .map_err(|e| CliError::Io(format!("{}: not a certificate: {e}", path.display())))?,
        ]
    };
    if certs.is_empty() {
        return Err(CliError::Io(format!(
            "{}: no certificate found",
            path.display()
        )));
    }
    Ok(certs)
}

/// Exactly one certificate (the first of a bundle).
pub(crate) fn read_cert(path: &Path) -> CliResult<Certificate> {
    let mut certs = read_certs(path)?;
    Ok(certs.swap_remove(0))
}

/// The certificates of several files, in order.
pub(crate) fn read_cert_files(paths: &[PathBuf]) -> CliResult<Vec<Certificate>> {
    let mut all = Vec::new();
    for p in paths {
        all.extend(read_certs(p)?);
    }
    Ok(all)
}

/// A private key: PKCS#8, SEC1 or PKCS#1, PEM or DER (unencrypted).
pub(crate) fn read_key(path: &Path) -> CliResult<PrivateKey> {
    let bytes = read(path)?;
    let result = if is_pem(&bytes) {
        let text = String::from_utf8(bytes)
            .map_err(|_| CliError::Io(format!("{}: PEM that is not text", path.display())))?;
        if text.contains("ENCRYPTED") {
            return Err(CliError::Io(format!(
                "{}: encrypted private keys are not supported",
                path.display()
            )));
        }
        PrivateKey::from_pem(&text)
    } else {
        PrivateKey::from_der(&bytes)
    };
    result.map_err(|e| CliError::Io(format!("{}: not a usable private key: {e}", path.display())))
}

/// A PKCS#10 CSR, DER or PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`).
pub(crate) fn read_csr(path: &Path) -> CliResult<CertReq> {
    let bytes = read(path)?;
    let der = if is_pem(&bytes) {
        let (label, der) = der::pem::decode_vec(&bytes)
            .map_err(|e| CliError::Io(format!("{}: bad PEM: {e}", path.display())))?;
        if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
            return Err(CliError::Io(format!(
                "{}: PEM label {label:?} is not a CSR",
                path.display()
            )));
        }
        der
    } else {
        bytes
    };
    CertReq::from_der(&der)
        .map_err(|e| CliError::Io(format!("{}: not a PKCS#10 CSR: {e}", path.display())))
}

/// A shared secret: `pass:TEXT`, `env:VAR`, `file:PATH` (first line), or the text itself.
pub(crate) fn read_secret(spec: &str) -> CliResult<Vec<u8>> {
    let secret = if let Some(p) = spec.strip_prefix("pass:") {
        p.as_bytes().to_vec()
    } else if let Some(var) = spec.strip_prefix("env:") {
        std::env::var(var)
            .map_err(|_| {
                CliError::Usage(format!(
                    "--secret env:{var}: environment variable not set (or not UTF-8)"
                ))
            })?
            .into_bytes()
    } else if let Some(p) = spec.strip_prefix("file:") {
        let text = fs::read_to_string(p)
            .map_err(|e| CliError::Io(format!("cannot read secret file {p}: {e}")))?;
        text.lines().next().unwrap_or_default().as_bytes().to_vec()
    } else {
        spec.as_bytes().to_vec()
    };
    if secret.is_empty() {
        return Err(CliError::Usage("the secret is empty".into()));
    }
    Ok(secret)
}

/// Certificates as a PEM bundle.
pub(crate) fn certs_to_pem(certs: &[Certificate]) -> CliResult<String> {
    let mut out = String::new();
    for c in certs {
        out.push_str(
            &c.to_pem(LineEnding::LF)
                .map_err(|e| CliError::Io(format!("cannot PEM-encode a certificate: {e}")))?,
        );
    }
    Ok(out)
}

/// Write certificates as a PEM bundle.
pub(crate) fn write_certs(path: &Path, certs: &[Certificate]) -> CliResult<()> {
    write_file(path, certs_to_pem(certs)?.as_bytes(), false)
}

/// Write a private key as PKCS#8 PEM, readable by the owner only.
pub(crate) fn write_key(path: &Path, key: &PrivateKey) -> CliResult<()> {
    let pem = key
        .to_pkcs8_pem()
        .map_err(|e| CliError::Io(format!("cannot encode the private key: {e}")))?;
    write_file(path, pem.as_bytes(), true)
}

/// Write `bytes` to `path` (replacing it); `private`: mode 0600 on Unix.
pub(crate) fn write_file(path: &Path, bytes: &[u8], private: bool) -> CliResult<()> {
    let fail = |e: std::io::Error| CliError::Io(format!("cannot write {}: {e}", path.display()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.flush().map_err(fail)
}

/// The issuers of `cert` found in `pool` by name, issuer first, without a
/// self-signed root: the chain a sender puts after its own certificate.
pub(crate) fn own_chain(cert: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut chain = cmp_core::trust::issuer_chain(cert, pool);
    if chain
        .last()
        .is_some_and(|c| c.tbs_certificate().issuer() == c.tbs_certificate().subject())
    {
        chain.pop();
    }
    chain
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pki(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/vectors/pki")
            .join(name)
    }

    #[test]
    fn reads_the_test_pki() {
        assert_eq!(read_certs(&pki("chain.crt")).unwrap().len(), 2);
        let cert = read_cert(&pki("issued.crt")).unwrap();
        let key = read_key(&pki("issued.key")).unwrap();
        use cmp_core::crypto::SigningKey;
        assert_eq!(
            &key.public_key(),
            cert.tbs_certificate().subject_public_key_info()
        );
        let csr = read_csr(&pki("csr.der")).unwrap();
        assert_eq!(csr.info.subject, *cert.tbs_certificate().subject());
    }

    #[test]
    fn secrets() {
        assert_eq!(read_secret("pass:1234-5678").unwrap(), b"1234-5678");
        assert_eq!(read_secret("plain").unwrap(), b"plain");
        // SAFETY-free: a variable only this test uses
        assert!(read_secret("env:CMP_CLI_TEST_SURELY_UNSET_VARIABLE").is_err());
        assert!(read_secret("pass:").is_err());
    }
}
