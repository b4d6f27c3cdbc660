//! Conversions between JS values and the Rust types.

use cmp_core::Timestamp;
use cmp_core::asn1::{FailureBit, InfoTypeAndValue as CoreItav, PkiStatusInfo};
use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, DecodePem, Encode};
use napi::Either;
use napi::bindgen_prelude::{Buffer, Either3};
use napi_derive::napi;
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::errors::{Res, decode, encode, usage};

/// PEM text or DER bytes (`PemOrDer` in index.d.ts, declared in helpers.d.ts).
pub(crate) type PemOrDer = Either<String, Buffer>;

/// One certificate, or several (an array, or one PEM text holding several);
/// `Certs` in index.d.ts, declared in helpers.d.ts.
pub(crate) type Certs = Either3<String, Buffer, Vec<PemOrDer>>;

/// `now` in milliseconds since the epoch, default the system clock.
pub(crate) fn timestamp(now: Option<f64>) -> Res<Timestamp> {
    match now {
        None => Ok(Timestamp::now()),
        Some(ms) if ms.is_finite() && ms >= 0.0 => {
            // f64 -> u64 saturates
            Ok(Timestamp::from_unix_millis(ms.round() as u64))
        }
        Some(_) => Err(usage("now must be a non-negative number of milliseconds")),
    }
}

/// A timestamp as milliseconds since the epoch.
pub(crate) fn millis(t: Timestamp) -> f64 {
    t.unix_millis() as f64
}

pub(crate) fn bytes_of(v: &PemOrDer) -> &[u8] {
    match v {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

pub(crate) fn looks_like_pem(b: &[u8]) -> bool {
    b.windows(11).any(|w| w == b"-----BEGIN ")
}

pub(crate) fn cert_of(v: &PemOrDer) -> Res<Certificate> {
    let b = bytes_of(v);
    if looks_like_pem(b) {
        Certificate::from_pem(b).map_err(decode)
    } else {
        Certificate::from_der(b).map_err(decode)
    }
}

fn certs_of_bytes(b: &[u8]) -> Res<Vec<Certificate>> {
    if looks_like_pem(b) {
        Certificate::load_pem_chain(b).map_err(decode)
    } else {
        Ok(vec![Certificate::from_der(b).map_err(decode)?])
    }
}

pub(crate) fn certs_of(v: Option<&Certs>) -> Res<Vec<Certificate>> {
    match v {
        None => Ok(Vec::new()),
        Some(Either3::A(s)) => certs_of_bytes(s.as_bytes()),
        Some(Either3::B(b)) => certs_of_bytes(b),
        Some(Either3::C(list)) => {
            let mut out = Vec::new();
            for item in list {
                out.extend(certs_of_bytes(bytes_of(item))?);
            }
            Ok(out)
        }
    }
}

pub(crate) fn der_of<T: Encode>(v: &T) -> Res<Buffer> {
    v.to_der().map(Buffer::from).map_err(encode)
}

pub(crate) fn certs_der(cs: &[Certificate]) -> Res<Vec<Buffer>> {
    cs.iter().map(der_of).collect()
}

/// A distinguished name from an RFC 4514 string or OpenSSL's `/CN=a/O=b` form.
pub(crate) fn name_of(s: &str) -> Res<Name> {
    cmp_core::name::parse_dn(s).map_err(|e| usage(e.to_string()))
}

pub(crate) fn oid_of(s: &str) -> Res<ObjectIdentifier> {
    ObjectIdentifier::new(s).map_err(|e| usage(format!("bad OID {s:?}: {e}")))
}

pub(crate) fn failure_bit_of(name: &str) -> Res<FailureBit> {
    FailureBit::ALL
        .iter()
        .copied()
        .find(|b| b.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| usage(format!("unknown PKIFailureInfo bit {name:?}")))
}

pub(crate) fn bit_names(s: &PkiStatusInfo) -> Vec<&'static str> {
    s.failure_bits().iter().map(|b| b.name()).collect()
}

/// Every PKIFailureInfo bit name, in bit order (`badAlg` is bit 0).
#[napi]
pub(crate) fn failure_bits() -> Vec<&'static str> {
    FailureBit::ALL.iter().map(|b| b.name()).collect()
}

/// An InfoTypeAndValue of a general message or response.
#[napi(object)]
pub struct InfoTypeAndValue {
    /// The infoType OID, dotted.
    pub oid: String,
    /// The DER of infoValue, if present.
    pub value: Option<Buffer>,
}

pub(crate) fn itav_of(v: &InfoTypeAndValue) -> Res<CoreItav> {
    let info_value = match &v.value {
        Some(b) => Some(Any::from_der(b).map_err(decode)?),
        None => None,
    };
    Ok(CoreItav {
        info_type: oid_of(&v.oid)?,
        info_value,
    })
}

pub(crate) fn itav_out(i: &CoreItav) -> Res<InfoTypeAndValue> {
    Ok(InfoTypeAndValue {
        oid: i.info_type.to_string(),
        value: i.info_value.as_ref().map(der_of).transpose()?,
    })
}
