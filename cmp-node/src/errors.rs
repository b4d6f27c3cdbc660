//! The one conversion from `cmp_core::Error` to JS `Error` objects, and the
//! error table (`docs/errors.md`) as data.

use cmp_core::announce::AnnounceError;
use cmp_core::crypto::CryptoError;
use cmp_core::transport::coap::CoapError;
use cmp_core::{Error, ErrorKind, PeerFailure};
use napi::bindgen_prelude::{Env, JsValue, Object, Status};
use napi_derive::napi;

/// What went wrong in a binding call, before it becomes a JS error.
#[derive(Debug)]
pub(crate) enum Fail {
    /// An error of the core (its code and name come from the table).
    Cmp(Error),
    /// A bad argument value: reported as `CMP_USAGE` with this text.
    Usage(String),
    /// An announcement failed validation (codes 600–616; a failure of the
    /// message itself has the core error's code).
    Announce(AnnounceError),
    /// CoAP block-wise framing failed (codes 700–708).
    Coap(CoapError),
}

impl From<AnnounceError> for Fail {
    fn from(e: AnnounceError) -> Self {
        match e {
            AnnounceError::Message(inner) => Self::Cmp(*inner),
            other => Self::Announce(other),
        }
    }
}

impl From<CoapError> for Fail {
    fn from(e: CoapError) -> Self {
        Self::Coap(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Self::Cmp(e)
    }
}

impl From<CryptoError> for Fail {
    fn from(e: CryptoError) -> Self {
        Self::Cmp(Error::Crypto(e))
    }
}

pub(crate) type Res<T> = std::result::Result<T, Fail>;

pub(crate) fn usage(msg: impl Into<String>) -> Fail {
    Fail::Usage(msg.into())
}

pub(crate) fn decode(e: der::Error) -> Fail {
    Fail::Cmp(Error::Decode(e))
}

pub(crate) fn encode(e: der::Error) -> Fail {
    Fail::Cmp(Error::Encode(e))
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Local => "local",
        ErrorKind::Remote => "remote",
        ErrorKind::Peer => "peer",
    }
}

impl Fail {
    /// The JS error object, as a `napi::Error` that throws exactly it.
    pub(crate) fn into_js(self, env: &Env) -> napi::Error {
        match self.build(env) {
            Ok(e) => e,
            Err(e) => e,
        }
    }

    fn build(self, env: &Env) -> napi::Result<napi::Error> {
        let (core, message) = match self {
            Fail::Cmp(e) => {
                let m = e.to_string();
                (e, m)
            }
            Fail::Usage(m) => (Error::Usage("bad argument"), m),
            Fail::Announce(e) => return coded(env, e.to_string(), e.name(), e.code()),
            Fail::Coap(e) => return coded(env, e.to_string(), e.name(), e.code()),
        };
        let mut obj: Object<'_> =
            env.create_error(napi::Error::new(Status::GenericFailure, message))?;
        obj.set("name", "CmpError")?;
        obj.set("code", core.name())?;
        obj.set("cmpCode", u32::from(core.code()))?;
        obj.set("kind", kind_name(core.kind()))?;
        obj.set("failureBit", core.failure_bit().name())?;
        if let Error::Peer(f) | Error::UnauthenticatedError(f) = &core {
            set_peer(&mut obj, f)?;
        }
        Ok(napi::Error::from(obj.to_unknown()))
    }
}

/// An error of the announcement or CoAP tables: `code`, `cmpCode` and
/// `kind` "remote" (what was received is at fault); no `failureBit`, as no
/// CMP response answers these.
fn coded(env: &Env, message: String, name: &str, code: u16) -> napi::Result<napi::Error> {
    let mut obj: Object<'_> =
        env.create_error(napi::Error::new(Status::GenericFailure, message))?;
    obj.set("name", "CmpError")?;
    obj.set("code", name)?;
    obj.set("cmpCode", u32::from(code))?;
    obj.set("kind", "remote")?;
    Ok(napi::Error::from(obj.to_unknown()))
}

fn set_peer(obj: &mut Object<'_>, f: &PeerFailure) -> napi::Result<()> {
    obj.set("status", f.status.status.name())?;
    obj.set("failInfo", crate::conv::bit_names(&f.status))?;
    obj.set(
        "statusString",
        f.status.status_string.clone().unwrap_or_default(),
    )?;
    // errorCode is an INTEGER; JS numbers hold it when it is sane
    obj.set("errorCode", f.error_code.map(|c| c as f64))?;
    obj.set("errorDetails", f.error_details.clone())?;
    obj.set("body", f.body.name())?;
    Ok(())
}

/// Map a binding result to a napi result that throws the CMP error object.
pub(crate) trait JsResult<T> {
    fn js(self, env: &Env) -> napi::Result<T>;
}

impl<T, E: Into<Fail>> JsResult<T> for std::result::Result<T, E> {
    fn js(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| e.into().into_js(env))
    }
}

/// One row of the error table (`docs/errors.md`).
#[napi(object)]
pub(crate) struct ErrorTableRow {
    /// The stable number, e.g. 303.
    pub code: u32,
    /// The stable name, e.g. `CMP_BAD_MESSAGE_CHECK` (the JS error's `code`).
    pub name: String,
    /// `local`, `remote` or `peer`.
    #[napi(ts_type = "'local' | 'remote' | 'peer'")]
    pub kind: String,
    /// The PKIFailureInfo bit a responder answers this error with.
    pub failure_bit: String,
}

/// Every error the native code can throw, in code order (the rows of docs/errors.md).
#[napi]
pub(crate) fn error_table() -> Vec<ErrorTableRow> {
    Error::catalogue()
        .iter()
        .map(|e| ErrorTableRow {
            code: u32::from(e.code()),
            name: e.name().to_owned(),
            kind: kind_name(e.kind()).to_owned(),
            failure_bit: e.failure_bit().name().to_owned(),
        })
        .collect()
}

/// One row of the announcement or CoAP error table (`docs/errors.md`).
#[napi(object)]
pub(crate) struct CodeRow {
    /// The stable number, e.g. 600.
    pub code: u32,
    /// The stable name, e.g. `CMP_NOT_AN_ANNOUNCEMENT` (the JS error's `code`).
    pub name: String,
}

/// The errors of announcement validation (`AnnouncementValidator.validate`),
/// 600–616, in code order.
#[napi]
pub(crate) fn announce_error_table() -> Vec<CodeRow> {
    AnnounceError::catalogue()
        .iter()
        .filter(|e| !matches!(e, AnnounceError::Message(_)))
        .map(|e| CodeRow {
            code: u32::from(e.code()),
            name: e.name().to_owned(),
        })
        .collect()
}

/// The errors of CoAP block-wise framing (`coapSplit`, `CoapReassembler`),
/// 700–708, in code order.
#[napi]
pub(crate) fn coap_error_table() -> Vec<CodeRow> {
    CoapError::catalogue()
        .iter()
        .map(|e| CodeRow {
            code: u32::from(e.code()),
            name: e.name().to_owned(),
        })
        .collect()
}
