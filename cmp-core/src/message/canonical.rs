//! The canonical-DER check of a received message: encoding the decoded
//! value must give back exactly the received bytes.
//!
//! The encoder writes into [`MatchWriter`], which compares each piece it is
//! given with the received input instead of storing it, and stops at the
//! first difference: nothing is allocated and no second copy is compared.

use der::{Encode, Writer};

use crate::error::{Error, Result};

/// The error of a value whose encoding differs from the received bytes.
fn noncanonical() -> der::Error {
    der::Error::from(der::ErrorKind::Noncanonical {
        tag: der::Tag::Sequence,
    })
}

/// A [`Writer`] that accepts only the bytes of `rest`, in order.
struct MatchWriter<'a> {
    /// The received bytes not yet matched.
    rest: &'a [u8],
    /// Set when a write differed from the received bytes (or ran past them).
    differs: bool,
}

impl Writer for MatchWriter<'_> {
    fn write(&mut self, slice: &[u8]) -> der::Result<()> {
        match self.rest.split_at_checked(slice.len()) {
            Some((head, tail)) if head == slice => {
                self.rest = tail;
                Ok(())
            }
            _ => {
                self.differs = true;
                Err(noncanonical())
            }
        }
    }

    fn write_byte(&mut self, byte: u8) -> der::Result<()> {
        match self.rest.split_first() {
            Some((&first, tail)) if first == byte => {
                self.rest = tail;
                Ok(())
            }
            _ => {
                self.differs = true;
                Err(noncanonical())
            }
        }
    }
}

/// Check that `value` encodes to exactly `received`.
///
/// A difference (the input spelled out a DEFAULT, used a non-minimal form
/// the decoders tolerate, carried bytes the value does not keep) is
/// [`Error::Decode`] with [`der::ErrorKind::Noncanonical`]; a failure of the
/// encoder itself is [`Error::Encode`].
pub(crate) fn check<T: Encode + ?Sized>(value: &T, received: &[u8]) -> Result<()> {
    let mut writer = MatchWriter {
        rest: received,
        differs: false,
    };
    match value.encode(&mut writer) {
        Ok(()) if writer.rest.is_empty() => Ok(()),
        Ok(()) => Err(Error::Decode(noncanonical())),
        Err(_) if writer.differs => Err(Error::Decode(noncanonical())),
        Err(e) => Err(Error::Encode(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::OctetString;

    #[test]
    fn accepts_exactly_the_encoding() {
        let v = OctetString::new(alloc::vec![1u8, 2, 3]).unwrap();
        let der = v.to_der().unwrap();
        assert_eq!(check(&v, &der), Ok(()));
    }

    #[test]
    fn refuses_any_difference_short_or_long_input() {
        let v = OctetString::new(alloc::vec![1u8, 2, 3]).unwrap();
        let der = v.to_der().unwrap();
        let is_noncanonical = |r: Result<()>| {
            matches!(r, Err(Error::Decode(e))
                if matches!(e.kind(), der::ErrorKind::Noncanonical { .. }))
        };
        // one byte changed, in the header and in the value
        for i in 0..der.len() {
            let mut other = der.clone();
            other[i] ^= 0x01;
            assert!(is_noncanonical(check(&v, &other)), "byte {i}");
        }
        // input shorter or longer than the encoding
        assert!(is_noncanonical(check(&v, &der[..der.len() - 1])));
        let mut longer = der.clone();
        longer.push(0);
        assert!(is_noncanonical(check(&v, &longer)));
        assert!(is_noncanonical(check(&v, &[])));
    }
}
