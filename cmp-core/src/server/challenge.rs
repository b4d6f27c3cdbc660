//! The responder's side of challenge-response proof-of-possession
//! ([`crate::pop_challenge`]): a request asking for it is answered with a
//! popdecc instead of being handed to the application, and the popdecr
//! with the right INTEGERs hands the original request to the application.
//!
//! The transaction record is stored in phase
//! [`Phase::AwaitingPopResponse`]; the INTEGERs the answer must hold are
//! kept beside it in the store (DER of `SEQUENCE OF INTEGER`) under
//! [`challenge_key`], for the transaction's lifetime.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use der::asn1::Int;
use der::{Decode, Encode};

use super::store::{Phase, TransactionRecord};
use super::{
    Handled, PendingRequest, Reply, ReplyContext, Responder, ResponderConfig, build_reply,
};
use crate::asn1::cmp::pvno;
use crate::asn1::{BodyType, PkiBody};
use crate::error::{Error, Result};
use crate::message::ParsedMessage;
use crate::time::Timestamp;
use crate::verify::Authenticated;

/// The store key of the expected answers of transaction `transaction_id`.
fn challenge_key(transaction_id: &[u8]) -> Vec<u8> {
    super::store::StoreKey::PopChallenge(transaction_id).to_key()
}

/// Whether `pending` proves possession by challenge-response.
pub(crate) fn requested(pending: &PendingRequest) -> bool {
    pending
        .cert_request()
        .is_some_and(crate::pop_challenge::requests_challenge_resp)
}

/// Open the transaction of `pending` with a popdecc (pvno 3) challenging
/// the key of its request.
pub(crate) fn send_challenge(
    cfg: &ResponderConfig,
    pending: &PendingRequest,
    now: Timestamp,
) -> Result<Handled> {
    let key = pending
        .public_key()
        .ok_or(Error::BadCertTemplate("public key missing"))?;
    let (challenge, expected) =
        crate::pop_challenge::new_challenge(key, &cfg.sender(), cfg.provider.as_ref())?;
    let mut ctx = pending.reply_context().clone();
    ctx.pvno = pvno::CMP2021;
    let (bytes, nonce) = build_reply(
        cfg,
        &ctx,
        PkiBody::Popdecc(alloc::vec![challenge]),
        false,
        now,
    )?;
    let record = pending.open_record(Phase::AwaitingPopResponse, nonce)?;
    let expires = now.plus_secs(cfg.transaction_lifetime);
    let tid = &ctx.transaction_id;
    if !cfg
        .store
        .insert_new(tid, record.to_bytes()?, expires, now)?
    {
        return Err(Error::TransactionIdInUse);
    }
    let answers = alloc::vec![expected].to_der().map_err(Error::Encode)?;
    if !cfg
        .store
        .insert_new(&challenge_key(tid), answers, expires, now)?
    {
        return Err(Error::TransactionIdInUse);
    }
    Ok(Handled::Reply(Reply {
        bytes,
        body: BodyType::Popdecc,
        transaction_id: tid.clone(),
        error: None,
        event: None,
        inner: Vec::new(),
    }))
}

/// Check a popdecr. The right answers give the original request for the
/// application to decide; a wrong one ends the transaction with `BadPop`.
/// A popdecr where no challenge is open is an unexpected body.
pub(crate) fn check_response(
    responder: &Responder,
    msg: &ParsedMessage,
    ctx: &ReplyContext,
    auth: Authenticated,
    now: Timestamp,
) -> Result<Handled> {
    let PkiBody::Popdecr(answers) = msg.body() else {
        return Err(Error::UnexpectedBody {
            got: msg.body_type().name(),
        });
    };
    let cfg = &responder.config;
    let tid = &ctx.transaction_id;
    let (record, loaded) = responder.load_raw(ctx, now)?;
    if record.phase()? != Phase::AwaitingPopResponse {
        return Err(Error::UnexpectedBody { got: "popdecr" });
    }
    super::check_recip_nonce(msg, &record)?;
    let key = challenge_key(tid);
    let expected = cfg
        .store
        .get(&key, now)?
        .ok_or_else(|| Error::Store(String::from("the challenge of the transaction is missing")))?;
    let expected = Vec::<Int>::from_der(&expected)
        .map_err(|_| Error::Store(String::from("corrupt challenge record")))?;
    if let Err(e) = crate::pop_challenge::check_answers(&expected, answers, cfg.provider.as_ref()) {
        // No second guess: the transaction is over (kept until expiry so
        // that its transactionID is not reused).
        let done = TransactionRecord {
            phase: Phase::Done as u8,
            ..record
        };
        cfg.store.replace(
            tid,
            &loaded,
            done.to_bytes()?,
            now.plus_secs(cfg.transaction_lifetime),
            now,
        )?;
        cfg.store.remove(&key)?;
        return Err(e);
    }
    let original = ParsedMessage::decode(record.request.as_bytes(), &cfg.limits)?;
    // The original request's context, with this message's nonce and protection.
    let mut decide_ctx = ctx.clone();
    decide_ctx.implicit_confirm_asked = original.implicit_confirm();
    let polls = record.polls;
    let pending = PendingRequest::new(
        Arc::clone(cfg),
        decide_ctx,
        original,
        auth,
        Some(record),
        polls,
    )?;
    Ok(Handled::Decide(pending))
}
