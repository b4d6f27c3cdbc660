//! The README's main job: a whole certificate life cycle on embedded
//! defaults, with no set-up. A demo CA (generated in memory) is served over
//! HTTP on loopback by the reference server, and the client library
//! enrolls (ir + certConf), updates the key (kur), queries the CA
//! certificates (genm) and revokes (rr) through it, printing every step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cmp_core::asn1::InfoValue;
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    GenmRequest, IssuedCertificate, RevokeRequest,
};
use cmp_core::crypto::CryptoProvider;
use cmp_core::message::{ParsedMessage, describe};
use cmp_core::protection::Protector;
use cmp_core::trust::TrustStore;
use cmp_core::{Limits, Timestamp};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider};
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::client_cmd::hex;
use crate::http::{HttpUrl, post_pkixcmp};
use crate::serve::{self, CaSource, ServerConfig};

const REFERENCE: &[u8] = b"demo-device";
const SECRET: &[u8] = b"demo-enrollment-secret";

/// Run the whole life cycle; `verbose` also prints every message.
pub(crate) fn run(verbose: bool) -> Result<(), String> {
    let now = Timestamp::now();
    let err = |e: &dyn std::fmt::Display| e.to_string();

    // --- a demo PKI and the reference server on loopback ---
    let (ca, root) = ReferenceCa::generate_hierarchy("cmp-rs Demo", now, KeyAlgorithm::EcP256)
        .map_err(|e| err(&e))?;
    let (signer_key, signer_cert) = ca
        .generate_cmp_signer(name("CN=cmp-rs Demo CMP Server")?, now)
        .map_err(|e| err(&e))?;
    let mut config = ServerConfig::demo("127.0.0.1:0", REFERENCE, SECRET);
    config.ca = CaSource::Files {
        key: ca.signing_key().clone(),
        cert: ca.certificate().clone(),
        chain: ca.chain().iter().skip(1).cloned().collect(),
    };
    config.trusted = vec![root.clone()];
    config.signer = Some((signer_key, signer_cert));
    let server = serve::start(config)?;
    let url = HttpUrl::parse(&server.url()).map_err(|e| e.0)?;
    println!("1. reference CA server listening on {}", server.url());
    println!("   root CA: {}", root.tbs_certificate().subject());
    println!(
        "   issuing CA: {}",
        ca.certificate().tbs_certificate().subject()
    );

    let provider: Arc<dyn CryptoProvider> = Arc::new(RustCryptoProvider);
    let trust = TrustStore::new(vec![root.clone()]);
    let mut session = Session { url, verbose };

    // --- ir: a new device enrolls with the shared secret ---
    let key = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| err(&e))?);
    let mut mac_config = ClientConfig::new(provider.clone(), Protector::mac(REFERENCE, SECRET));
    mac_config.server_trust = Some(trust.clone());
    let subject = name("CN=Demo Device,O=cmp-rs")?;
    let request = EnrollRequest::new(EnrollKind::Ir, Some(subject), key.clone());
    let mut tx = ClientTransaction::start_ir(mac_config.clone(), request, Timestamp::now())
        .map_err(|e| err(&e))?;
    let issued = session.enroll(&mut tx)?;
    println!(
        "\n2. ir (PasswordBasedMac, reference {}): certificate issued and confirmed",
        text(REFERENCE)
    );
    print_cert(&issued.cert);
    println!(
        "   chain: {} certificate(s), caPubs: {}",
        issued.chain.len(),
        issued.ca_pubs.len()
    );

    // --- kur: the device renews with a new key, signing with its certificate ---
    let new_key = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| err(&e))?);
    let mut sig_config = ClientConfig::new(
        provider.clone(),
        Protector::Signature {
            key: key.clone(),
            cert: issued.cert.clone(),
            chain: issued.chain.clone(),
        },
    );
    sig_config.server_trust = Some(trust.clone());
    let mut kur = EnrollRequest::new(EnrollKind::Kur, None, new_key.clone());
    kur.old_cert = Some(issued.cert.clone());
    let mut tx =
        ClientTransaction::start_enroll(sig_config, &kur, Timestamp::now()).map_err(|e| err(&e))?;
    let renewed = session.enroll(&mut tx)?;
    println!("\n3. kur (signed with the old certificate): new certificate for the new key");
    print_cert(&renewed.cert);

    // --- genm: ask for the CA certificates ---
    let ask = GenmRequest::CaCerts.to_itav().map_err(|e| err(&e))?;
    let mut tx = ClientTransaction::start_genm(mac_config.clone(), vec![ask], Timestamp::now())
        .map_err(|e| err(&e))?;
    let content = match session.drive(&mut tx)? {
        Some(ClientEvent::GeneralResponse(c)) => c,
        other => return Err(format!("unexpected outcome of genm: {other:?}")),
    };
    println!("\n4. genm caCerts: the CA answered");
    for itav in &content {
        if let Ok(Some(InfoValue::CaCerts(Some(certs)))) = InfoValue::from_itav(itav) {
            for c in certs {
                println!("   - {}", c.tbs_certificate().subject());
            }
        }
    }

    // --- rr: revoke the renewed certificate (keyCompromise), signed with it ---
    let mut rr_config = ClientConfig::new(
        provider,
        Protector::Signature {
            key: new_key,
            cert: renewed.cert.clone(),
            chain: renewed.chain.clone(),
        },
    );
    rr_config.server_trust = Some(trust);
    let rr = RevokeRequest {
        cert: renewed.cert.clone(),
        reason: Some(1),
    };
    let mut tx =
        ClientTransaction::start_rr(rr_config, &rr, Timestamp::now()).map_err(|e| err(&e))?;
    match session.drive(&mut tx)? {
        Some(ClientEvent::Revoked { status }) => {
            println!("\n5. rr (reason keyCompromise): {status}");
            println!(
                "   serial {} revoked",
                hex(renewed.cert.tbs_certificate().serial_number().as_bytes())
            );
        }
        other => return Err(format!("unexpected outcome of rr: {other:?}")),
    }

    server.shutdown()?;
    println!("\nlife cycle complete: enrolled, renewed, queried, revoked; server stopped");
    Ok(())
}

/// The HTTP side of the demo client.
struct Session {
    url: HttpUrl,
    verbose: bool,
}

impl Session {
    /// Run a transaction to its end; returns the last event that is not
    /// `Continue`/`Completed` (the outcome), accepting issued certificates.
    fn drive(&mut self, tx: &mut ClientTransaction) -> Result<Option<ClientEvent>, String> {
        let mut outcome = None;
        for _ in 0..32 {
            let Some(request) = tx.poll_transmit() else {
                if tx.is_finished() {
                    return Ok(outcome);
                }
                let at = tx.poll_timeout().ok_or("the transaction is stuck")?;
                std::thread::sleep(Timestamp::now().until(at));
                tx.handle_timeout(Timestamp::now())
                    .map_err(|e| e.to_string())?;
                continue;
            };
            self.show("->", &request);
            let deadline = Instant::now() + Duration::from_secs(30);
            let response = post_pkixcmp(&self.url, &request, deadline).map_err(|e| e.0)?;
            self.show("<-", &response);
            match tx
                .handle_response(&response, Timestamp::now())
                .map_err(|e| format!("{}: {e}", e.name()))?
            {
                ClientEvent::CertificateIssued(i) => {
                    outcome = Some(ClientEvent::CertificateIssued(i));
                    tx.confirm(Confirmation::Accept, Timestamp::now())
                        .map_err(|e| e.to_string())?;
                }
                ClientEvent::Continue | ClientEvent::Completed | ClientEvent::Waiting { .. } => {}
                other => outcome = Some(other),
            }
        }
        Err(String::from("the transaction did not finish"))
    }

    fn enroll(&mut self, tx: &mut ClientTransaction) -> Result<IssuedCertificate, String> {
        match self.drive(tx)? {
            Some(ClientEvent::CertificateIssued(i)) if tx.is_completed() => Ok(i),
            other => Err(format!("no certificate: {other:?}")),
        }
    }

    fn show(&self, direction: &str, der: &[u8]) {
        if !self.verbose {
            return;
        }
        if let Ok(msg) = ParsedMessage::decode(der, &Limits::DEFAULT) {
            eprintln!(
                "{direction} {}",
                describe(msg.message()).trim_end().replace('\n', "\n   ")
            );
        }
    }
}

fn name(dn: &str) -> Result<Name, String> {
    cmp_core::name::parse_dn(dn).map_err(|e| e.to_string())
}

fn print_cert(c: &Certificate) {
    let tbs = c.tbs_certificate();
    println!("   subject: {}", tbs.subject());
    println!("   issuer:  {}", tbs.issuer());
    println!("   serial:  {}", hex(tbs.serial_number().as_bytes()));
    println!(
        "   valid:   {} to {}",
        tbs.validity().not_before.to_date_time(),
        tbs.validity().not_after.to_date_time()
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
