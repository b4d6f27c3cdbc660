//! Distinguished names from text, as people write them: OpenSSL's
//! `/CN=a/O=b` form (most significant RDN first) and RFC 4514's `CN=a,O=b`
//! (most significant last). The CLI and every binding parse subject and
//! recipient names with [`parse_dn`].
//!
//! ```
//! let a = cmp_core::name::parse_dn("/C=DE/O=Example/CN=Device 1").unwrap();
//! let b = cmp_core::name::parse_dn("CN=Device 1, O=Example, C=DE").unwrap();
//! assert_eq!(a, b);
//! assert_eq!(a.to_string(), "CN=Device 1,O=Example,C=DE");
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use core::str::FromStr;

use der::{Decode, Encode};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// A name [`parse_dn`] could not read; the message quotes the input and
/// says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError(String);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for NameError {}

/// Parse a DN in OpenSSL form (starting with `/`) or RFC 4514 form.
///
/// OpenSSL form: `/TYPE=value/TYPE=value...`, `+` joins attributes of one
/// multi-valued RDN, `\` escapes the next character (`\/`, `\+`, `\\`).
/// RFC 4514 form: `TYPE=value,TYPE=value...` with RFC 4514 escapes (`\,`,
/// `\2C`), spaces after separators tolerated. TYPE is a short name (CN, O,
/// OU, C, L, ST, serialNumber, emailAddress, DC, UID, ...) or a dotted OID.
///
/// # Errors
/// [`NameError`] for an empty name, a part without `=`, an unknown attribute
/// type, a value that cannot be encoded, or a malformed multi-valued RDN.
pub fn parse_dn(text: &str) -> Result<Name, NameError> {
    let text = text.trim();
    let bad = |e: &dyn fmt::Display| NameError(format!("bad DN {text:?}: {e}"));
    if text.is_empty() {
        return Err(NameError("empty distinguished name".to_string()));
    }
    let rdns = if let Some(rest) = text.strip_prefix('/') {
        parse_openssl(rest).map_err(|e| bad(&e))?
    } else {
        parse_rfc4514(text).map_err(|e| bad(&e))?
    };
    let der = RdnSequence::from(rdns).to_der().map_err(|e| bad(&e))?;
    Name::from_der(&der).map_err(|e| bad(&e))
}

/// Split at unescaped `sep` (a backslash escapes the next character).
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(s.get(start..i).unwrap_or_default());
            start = i + c.len_utf8();
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

/// One `TYPE=value` with an already RFC 4514-escaped value.
fn ava(type_name: &str, escaped_value: &str) -> Result<AttributeTypeAndValue, String> {
    let type_name = type_name.trim();
    if type_name.is_empty() {
        return Err("missing attribute type".into());
    }
    AttributeTypeAndValue::from_str(&format!("{type_name}={escaped_value}"))
        .map_err(|_| format!("unknown attribute type or bad value in {type_name}={escaped_value}"))
}

fn rdn(avas: Vec<AttributeTypeAndValue>) -> Result<RelativeDistinguishedName, String> {
    RelativeDistinguishedName::try_from(avas).map_err(|e| format!("bad multi-valued RDN: {e}"))
}

fn parse_openssl(text: &str) -> Result<Vec<RelativeDistinguishedName>, String> {
    let mut rdns = Vec::new();
    for part in split_unescaped(text, '/') {
        if part.is_empty() {
            continue;
        }
        let mut avas = Vec::new();
        for item in split_unescaped(part, '+') {
            let Some((type_name, value)) = item.split_once('=') else {
                return Err(format!("{item:?} lacks '='"));
            };
            // OpenSSL: an empty value drops the attribute
            let value = unescape_openssl(value);
            if value.is_empty() {
                continue;
            }
            avas.push(ava(type_name, &hex_escape(&value))?);
        }
        if !avas.is_empty() {
            rdns.push(rdn(avas)?);
        }
    }
    if rdns.is_empty() {
        return Err("no attributes".into());
    }
    Ok(rdns)
}

fn unescape_openssl(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every byte as `\XX`: RFC 4514-valid whatever the value contains.
fn hex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        let _ = write!(out, "\\{b:02X}");
    }
    out
}

fn parse_rfc4514(text: &str) -> Result<Vec<RelativeDistinguishedName>, String> {
    let mut rdns = Vec::new();
    for part in split_unescaped(text, ',') {
        let mut avas = Vec::new();
        for item in split_unescaped(part, '+') {
            let item = item.trim_start();
            let Some((type_name, value)) = item.split_once('=') else {
                return Err(format!("{item:?} lacks '='"));
            };
            // tolerate spaces around separators, but keep an escaped trailing space
            let value = if value.ends_with("\\ ") {
                value
            } else {
                value.trim_end()
            };
            avas.push(ava(type_name, value)?);
        }
        rdns.push(rdn(avas)?);
    }
    rdns.reverse();
    Ok(rdns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(dn: &str) -> String {
        parse_dn(dn).unwrap().to_string()
    }

    #[test]
    fn openssl_form() {
        assert_eq!(show("/CN=Test Device"), "CN=Test Device");
        // most significant first in OpenSSL form, last in RFC 4514
        assert_eq!(
            show("/C=DE/O=Example Org/CN=Device 1"),
            "CN=Device 1,O=Example Org,C=DE"
        );
        assert_eq!(show("/O=a\\/b/CN=x\\+y"), "CN=x\\+y,O=a/b");
        assert_eq!(
            show("/CN=a+serialNumber=42/O=b"),
            "O=b,CN=a+SERIALNUMBER=42"
        );
        assert_eq!(show("/CN=Tést, Inc."), "CN=Tést\\, Inc.");
        assert_eq!(show("/2.5.4.3=by oid"), "CN=by oid");
        assert_eq!(show("/cn=lower"), "CN=lower");
        // empty values drop the attribute, as in OpenSSL
        assert_eq!(show("/O=/CN=only"), "CN=only");
    }

    #[test]
    fn rfc4514_form() {
        assert_eq!(
            show("CN=Device 1,O=Example Org,C=DE"),
            "CN=Device 1,O=Example Org,C=DE"
        );
        assert_eq!(
            show("CN=Device 1, O=Example Org"),
            "CN=Device 1,O=Example Org"
        );
        assert_eq!(show("CN=a\\,b,O=c"), "CN=a\\,b,O=c");
        assert_eq!(show("CN=a\\2Cb"), "CN=a\\,b");
    }

    #[test]
    fn both_forms_give_the_same_der() {
        let a = parse_dn("/C=DE/O=Org/CN=Dev").unwrap();
        let b = parse_dn("CN=Dev,O=Org,C=DE").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_der().unwrap(), b.to_der().unwrap());
    }

    #[test]
    fn matches_the_test_pki_subject() {
        // the mock server's issued.crt has CN=Test Device as a UTF8String
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/pki/issued.crt"
        ))
        .unwrap();
        let cert = x509_cert::Certificate::load_pem_chain(&pem)
            .unwrap()
            .remove(0);
        assert_eq!(
            &parse_dn("/CN=Test Device").unwrap(),
            cert.tbs_certificate().subject()
        );
        assert_eq!(
            &parse_dn("CN=Test Device").unwrap(),
            cert.tbs_certificate().subject()
        );
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "/",
            "//",
            "/CN",
            "/XX=1",
            "CN",
            "=x",
            "CN=a,,O=b",
            "/1.2.x=3",
            "/=v",
        ] {
            assert!(parse_dn(bad).is_err(), "{bad:?}");
        }
    }
}
