//! Proof-of-possession for KEM keys by the direct method, challenge-response
//! (RFC 9810 section 5.2.8.3; bodies popdecc and popdecr, sections 5.3.5
//! and 5.3.6).
//!
//! The end entity asks for it with `keyEncipherment` / `subsequentMessage
//! challengeResp`. Before the application decides, the responder sends a
//! popdecc with one `Challenge` per request: a fresh random INTEGER A and
//! the responder's name (`Rand`) encrypted to the public key of the request
//! in `encryptedRand` (CMS EnvelopedData with a KEMRecipientInfo, the same
//! construction as the encrypted certificate of [`crate::pop_kem`]), the
//! `witness` (the one-way function `owf` over the DER encoding of A) and
//! an empty `challenge` (the deprecated field; the message has pvno 3). The
//! end entity decrypts, checks the name and the witness, and returns A in a
//! popdecr; the responder compares and only then lets the request be
//! decided. The certificate then goes out in the clear.

use alloc::vec::Vec;

use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::pkix::name::GeneralName;

use crate::alg;
use crate::asn1::{CertReqMsg, Challenge, PopoPrivKey, ProofOfPossession, Rand, SubsequentMessage};
use crate::crypto::{CryptoProvider, DecapsulationKey, DigestAlgorithm};
use crate::error::{Error, Result};

/// The one-way function of the witnesses this crate sends.
pub const WITNESS_DIGEST: DigestAlgorithm = DigestAlgorithm::Sha256;

/// Bytes of randomness in the INTEGER A of a challenge.
const RAND_LEN: usize = 16;

/// The `keyEncipherment` POP asking for a challenge
/// (`subsequentMessage challengeResp`).
pub fn challenge_resp_pop() -> ProofOfPossession {
    ProofOfPossession::KeyEncipherment(PopoPrivKey::SubsequentMessage(
        SubsequentMessage::ChallengeResp,
    ))
}

/// Whether `req` asks to prove possession by challenge-response.
pub fn requests_challenge_resp(req: &CertReqMsg) -> bool {
    matches!(
        req.popo,
        Some(ProofOfPossession::KeyEncipherment(
            PopoPrivKey::SubsequentMessage(SubsequentMessage::ChallengeResp)
        ))
    )
}

/// The witness of A: `owf` over the DER encoding of the INTEGER.
fn witness(owf: DigestAlgorithm, a: &Int, provider: &dyn CryptoProvider) -> Result<Vec<u8>> {
    let der = a.to_der().map_err(Error::Encode)?;
    Ok(provider.digest(owf, &[&der])?)
}

/// A fresh challenge for the KEM key `recipient`, naming `sender` (the
/// sender of the popdecc) in the encrypted `Rand`; returns the challenge
/// and the INTEGER A the answer must hold (the responder side).
///
/// Errors: `UnsupportedAlgorithm` when `recipient` is no KEM key this crate
/// knows, `Crypto` from the provider.
pub fn new_challenge(
    recipient: &SubjectPublicKeyInfoOwned,
    sender: &GeneralName,
    provider: &dyn CryptoProvider,
) -> Result<(Challenge, Int)> {
    let mut bytes = [0u8; RAND_LEN];
    provider.fill(&mut bytes)?;
    // positive and of full length: the first byte is 0x40..=0x7f
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x3f) | 0x40;
    }
    let a = Int::new(&bytes).map_err(Error::Encode)?;
    let rand = Rand {
        int: a.clone(),
        sender: sender.clone(),
    }
    .to_der()
    .map_err(Error::Encode)?;
    let encrypted = crate::pop_kem::encrypt_for_kem_key(&rand, recipient, provider)?;
    let challenge = Challenge {
        owf: Some(alg::digest_algorithm_identifier(WITNESS_DIGEST)),
        witness: OctetString::new(witness(WITNESS_DIGEST, &a, provider)?).map_err(Error::Encode)?,
        challenge: OctetString::new(Vec::new()).map_err(Error::Encode)?,
        encrypted_rand: Some(encrypted),
    };
    Ok((challenge, a))
}

/// Answer a popdecc (the end entity side): decrypt each challenge with the
/// key of the request at the same position, check that the `Rand` names
/// `sender` (the sender of the popdecc) and that A matches the witness
/// (under the challenge's `owf`, else the one of the challenge before), and
/// return the INTEGERs for the popdecr, in order.
///
/// Errors: `IncorrectData` when the number of challenges is not the number
/// of keys, a challenge does not decrypt, holds no `Rand`, its witness does
/// not match or the first challenge names no `owf`; `WrongSender` when the
/// `Rand` names someone else; `UnsupportedAlgorithm` for the deprecated
/// form without `encryptedRand`, or an unknown `owf` or encryption.
pub fn answer_challenges(
    challenges: &[Challenge],
    keys: &[&dyn DecapsulationKey],
    sender: &GeneralName,
    provider: &dyn CryptoProvider,
) -> Result<Vec<Int>> {
    if challenges.len() != keys.len() {
        return Err(Error::IncorrectData(
            "popdecc must hold one challenge per request",
        ));
    }
    let mut owf = None;
    let mut answers = Vec::with_capacity(challenges.len());
    for (challenge, key) in challenges.iter().zip(keys) {
        if let Some(id) = &challenge.owf {
            owf = Some(alg::digest_from_oid(&id.oid)?);
        }
        let owf = owf.ok_or(Error::IncorrectData(
            "the first challenge names no one-way function",
        ))?;
        let envelope = challenge.encrypted_rand.as_ref().ok_or_else(|| {
            Error::UnsupportedAlgorithm(
                "a challenge without encryptedRand (the deprecated form)".into(),
            )
        })?;
        let plain = crate::pop_kem::decrypt_with_kem_key(envelope, *key, provider)?;
        let rand = Rand::from_der(&plain)
            .map_err(|_| Error::IncorrectData("the decrypted challenge is no Rand"))?;
        if &rand.sender != sender {
            return Err(Error::WrongSender);
        }
        if witness(owf, &rand.int, provider)? != challenge.witness.as_bytes() {
            return Err(Error::IncorrectData(
                "the challenge's witness does not match its integer",
            ));
        }
        answers.push(rand.int);
    }
    Ok(answers)
}

/// Check a popdecr against the INTEGERs of the challenges sent (the
/// responder side).
///
/// Errors: `BadPop` when the number of answers or any answer differs.
pub fn check_answers(expected: &[Int], got: &[Int], provider: &dyn CryptoProvider) -> Result<()> {
    let all = expected.len() == got.len()
        && expected.iter().zip(got).fold(true, |ok, (e, g)| {
            provider.constant_time_eq(e.as_bytes(), g.as_bytes()) & ok
        });
    if all { Ok(()) } else { Err(Error::BadPop) }
}
