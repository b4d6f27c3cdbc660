//! Transfer helpers for RFC 9811 (CMP over HTTP), sans-IO: the content
//! type, the well-known paths and operation labels, and what an HTTP reply
//! means for a CMP client. [`coap`] does the same for CMP over CoAP
//! (RFC 9482), with block-wise transfer.

pub mod coap;

use alloc::format;
use alloc::string::String;

use crate::asn1::BodyType;

/// The media type of every CMP request and response.
pub const CONTENT_TYPE: &str = "application/pkixcmp";

/// The well-known path prefix.
pub const WELL_KNOWN_PATH: &str = "/.well-known/cmp";

/// The RFC 9811 operation label for a request body, for
/// `/.well-known/cmp[/p/<name>]/<label>` (IANA "CMP Well-Known URI Path
/// Segments").
pub fn operation_label(body: BodyType) -> Option<&'static str> {
    Some(match body {
        BodyType::Ir => "initialization",
        BodyType::Cr => "certification",
        BodyType::Kur => "keyupdate",
        BodyType::P10cr => "pkcs10",
        BodyType::Rr => "revocation",
        BodyType::Nested => "nested",
        _ => return None,
    })
}

/// Labels for general messages (genm kinds).
pub const GENM_LABELS: [&str; 4] = [
    "getcacerts",
    "getrootupdate",
    "getcertreqtemplate",
    "getcrls",
];

/// The request path for an optional CA/profile name and an optional label.
///
/// `name` and `label` must be single path segments (no `/`).
pub fn request_path(name: Option<&str>, label: Option<&str>) -> String {
    let mut path = String::from(WELL_KNOWN_PATH);
    if let Some(n) = name {
        path.push_str("/p/");
        path.push_str(n);
    }
    if let Some(l) = label {
        path.push('/');
        path.push_str(l);
    }
    path
}

/// A request path a CMP server accepts, split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmpPath<'a> {
    /// The `/p/<name>` segment, if present.
    pub name: Option<&'a str>,
    /// The operation label, if present.
    pub label: Option<&'a str>,
}

/// Parse a request path: `/.well-known/cmp`, `/.well-known/cmp/<label>`,
/// `/.well-known/cmp/p/<name>` or `/.well-known/cmp/p/<name>/<label>`.
/// Labels are not restricted to the registered ones (servers accept all).
pub fn parse_path(path: &str) -> Option<CmpPath<'_>> {
    let path = path.split('?').next().unwrap_or(path);
    let rest = path.strip_prefix(WELL_KNOWN_PATH)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Some(CmpPath {
            name: None,
            label: None,
        });
    }
    let rest = rest.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let first = parts.next()?;
    let result = if first == "p" {
        let name = parts.next().filter(|s| !s.is_empty())?;
        let label = parts.next().filter(|s| !s.is_empty());
        CmpPath {
            name: Some(name),
            label,
        }
    } else {
        CmpPath {
            name: None,
            label: Some(first).filter(|s| !s.is_empty()),
        }
    };
    if parts.next().is_some() {
        return None;
    }
    Some(result)
}

/// What an HTTP response means for a CMP client (RFC 9811 section 3.3/3.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    /// 200 with `application/pkixcmp`: the body is a PKIMessage to handle.
    CmpMessage,
    /// Any other status or content type: a transport failure (the body, if
    /// any, is not a CMP message and must not be parsed as one).
    TransportError(String),
}

/// Classify an HTTP response by status code and Content-Type.
pub fn classify_response(status: u16, content_type: Option<&str>) -> HttpOutcome {
    let media = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    match (status, media.as_deref()) {
        (200, Some(CONTENT_TYPE)) => HttpOutcome::CmpMessage,
        (200, other) => HttpOutcome::TransportError(format!(
            "HTTP 200 with content type {} instead of {CONTENT_TYPE}",
            other.unwrap_or("(none)")
        )),
        (s, _) => HttpOutcome::TransportError(format!("HTTP status {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        assert_eq!(request_path(None, None), "/.well-known/cmp");
        assert_eq!(
            request_path(Some("ca1"), Some("initialization")),
            "/.well-known/cmp/p/ca1/initialization"
        );
        assert_eq!(
            parse_path("/.well-known/cmp"),
            Some(CmpPath {
                name: None,
                label: None
            })
        );
        assert_eq!(
            parse_path("/.well-known/cmp/"),
            Some(CmpPath {
                name: None,
                label: None
            })
        );
        assert_eq!(
            parse_path("/.well-known/cmp/keyupdate"),
            Some(CmpPath {
                name: None,
                label: Some("keyupdate")
            })
        );
        assert_eq!(
            parse_path("/.well-known/cmp/p/ca1"),
            Some(CmpPath {
                name: Some("ca1"),
                label: None
            })
        );
        assert_eq!(
            parse_path("/.well-known/cmp/p/ca1/revocation"),
            Some(CmpPath {
                name: Some("ca1"),
                label: Some("revocation")
            })
        );
        assert_eq!(parse_path("/other"), None);
        assert_eq!(parse_path("/.well-known/cmpx"), None);
        assert_eq!(parse_path("/.well-known/cmp/p/"), None);
        assert_eq!(parse_path("/.well-known/cmp/a/b"), None);
    }

    #[test]
    fn responses_are_classified() {
        assert_eq!(
            classify_response(200, Some("application/pkixcmp")),
            HttpOutcome::CmpMessage
        );
        assert_eq!(
            classify_response(200, Some("Application/PKIXCMP; charset=x")),
            HttpOutcome::CmpMessage
        );
        assert!(matches!(
            classify_response(200, Some("text/html")),
            HttpOutcome::TransportError(_)
        ));
        assert!(matches!(
            classify_response(500, Some("application/pkixcmp")),
            HttpOutcome::TransportError(_)
        ));
        assert!(matches!(
            classify_response(200, None),
            HttpOutcome::TransportError(_)
        ));
    }
}
