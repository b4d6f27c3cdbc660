//! Where the responder keeps the state of open transactions.
//!
//! State is serialized to bytes (DER of [`TransactionRecord`]) so that any
//! store that can hold a byte string under a key with an expiry works:
//! memory, a file, SQLite, PostgreSQL, Redis. Several responder front ends
//! can share one store.

use alloc::string::String;
use alloc::vec::Vec;

use der::asn1::OctetString;
use der::{Decode, Encode, Sequence};
use x509_cert::Certificate;

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Storage for transaction state, keyed by transactionID.
///
/// Implementations must make `insert_new` atomic (it decides
/// transactionIdInUse across front ends) and should drop records whose
/// expiry has passed in `sweep`.
pub trait TransactionStore: Send + Sync {
    /// The record of a transaction, if present and not expired at `now`.
    fn get(&self, id: &[u8], now: Timestamp) -> Result<Option<Vec<u8>>>;
    /// Insert a new record; `Ok(false)` when one exists (and is not expired).
    fn insert_new(
        &self,
        id: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Replace an existing record.
    fn update(&self, id: &[u8], record: Vec<u8>, expires: Timestamp) -> Result<()>;
    /// Replace the record only if it is still `expected` and not expired at
    /// `now` (compare-and-swap); `Ok(false)` when another front end changed
    /// or removed it meanwhile. Stores shared by several front ends must
    /// make this atomic (one conditional UPDATE, a row lock); the default
    /// compares and updates in two steps, which is enough for one process
    /// with one writer.
    fn replace(
        &self,
        id: &[u8],
        expected: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        if self.get(id, now)?.as_deref() != Some(expected) {
            return Ok(false);
        }
        self.update(id, record, expires)?;
        Ok(true)
    }
    /// Remove a record.
    fn remove(&self, id: &[u8]) -> Result<()>;
    /// Remove every record expired at `now`; returns how many were removed.
    fn sweep(&self, now: Timestamp) -> Result<usize>;
    /// Number of records held (expired ones included until swept).
    fn len(&self) -> Result<usize>;
    /// Whether no record is held.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// What a key of a [`TransactionStore`] names. Besides each transaction's
/// own record (under its transactionID) the responder keeps side entries
/// that live and expire with the transaction, under the transactionID
/// prefixed with a tag and a zero byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKey<'a> {
    /// The [`TransactionRecord`] of this transactionID.
    Transaction(&'a [u8]),
    /// The KEM shared secret of this transactionID (RFC 9810 section 5.1.3.4).
    KemSecret(&'a [u8]),
    /// The expected answers to the popdecc challenge of this transactionID.
    PopChallenge(&'a [u8]),
}

/// The tag of [`StoreKey::KemSecret`] entries.
const KEM_SECRET_TAG: &[u8] = b"kem-ss\0";
/// The tag of [`StoreKey::PopChallenge`] entries.
const POP_CHALLENGE_TAG: &[u8] = b"popdecc\0";

impl<'a> StoreKey<'a> {
    /// What `key` names.
    pub fn parse(key: &'a [u8]) -> Self {
        if let Some(tid) = key.strip_prefix(KEM_SECRET_TAG) {
            Self::KemSecret(tid)
        } else if let Some(tid) = key.strip_prefix(POP_CHALLENGE_TAG) {
            Self::PopChallenge(tid)
        } else {
            Self::Transaction(key)
        }
    }

    /// The transactionID the entry belongs to.
    pub fn transaction_id(&self) -> &'a [u8] {
        match *self {
            Self::Transaction(t) | Self::KemSecret(t) | Self::PopChallenge(t) => t,
        }
    }

    /// The key itself.
    pub fn to_key(&self) -> Vec<u8> {
        let (tag, tid) = match *self {
            Self::Transaction(t) => (&b""[..], t),
            Self::KemSecret(t) => (KEM_SECRET_TAG, t),
            Self::PopChallenge(t) => (POP_CHALLENGE_TAG, t),
        };
        let mut key = Vec::with_capacity(tag.len() + tid.len());
        key.extend_from_slice(tag);
        key.extend_from_slice(tid);
        key
    }
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// The application has not issued yet (polling).
    AwaitingDecision = 1,
    /// A certificate was issued; certConf is awaited.
    AwaitingConfirm = 2,
    /// Finished; kept until expiry so a replayed request is refused.
    Done = 3,
    /// A popdecc challenge was sent (direct POP); the popdecr is awaited
    /// before the application decides.
    AwaitingPopResponse = 4,
}

impl Phase {
    fn from_u8(v: u8) -> Result<Self> {
        match v {
            1 => Ok(Self::AwaitingDecision),
            2 => Ok(Self::AwaitingConfirm),
            3 => Ok(Self::Done),
            4 => Ok(Self::AwaitingPopResponse),
            _ => Err(Error::Store(String::from("unknown transaction phase"))),
        }
    }
}

/// The serialized state of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TransactionRecord {
    /// [`Phase`] as a number.
    pub phase: u8,
    /// The senderNonce of our last reply (the client's next recipNonce).
    pub last_nonce: OctetString,
    /// The request that started the transaction (DER), for re-deciding on poll.
    pub request: OctetString,
    /// certReqId of the request.
    pub cert_req_id: i64,
    /// The issued certificate while certConf is awaited.
    pub issued: Option<Certificate>,
    /// How often the client has polled.
    pub polls: u32,
    /// The requester's signer path (signer first, trust anchor last) as
    /// validated for an earlier request of this transaction. A later request
    /// signed with the same certificate is validated against it without
    /// verifying the path's certificate signatures again; its own signature,
    /// and the path's validity at that time, are still checked. Absent for
    /// MAC-protected transactions and in records written before it existed.
    pub signer_path: Option<Vec<Certificate>>,
}

impl TransactionRecord {
    /// The phase.
    pub fn phase(&self) -> Result<Phase> {
        Phase::from_u8(self.phase)
    }

    /// Serialize.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.to_der().map_err(Error::Encode)
    }

    /// Deserialize.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_der(bytes).map_err(|_| Error::Store(String::from("corrupt transaction record")))
    }
}

/// Records by transactionID: (serialized record, expiry).
#[cfg(feature = "std")]
type Records = alloc::collections::BTreeMap<Vec<u8>, (Vec<u8>, Timestamp)>;

/// The in-memory store (the default), bounded in size.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct MemoryStore {
    records: std::sync::Mutex<Records>,
    max_records: usize,
}

#[cfg(feature = "std")]
impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(100_000)
    }
}

#[cfg(feature = "std")]
impl MemoryStore {
    /// A store holding at most `max_records` open transactions; when full,
    /// expired records are swept and then new transactions are refused.
    pub fn new(max_records: usize) -> Self {
        Self {
            records: std::sync::Mutex::new(Records::new()),
            max_records,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Records>> {
        self.records
            .lock()
            .map_err(|_| Error::Store(String::from("store lock poisoned")))
    }
}

#[cfg(feature = "std")]
impl TransactionStore for MemoryStore {
    fn get(&self, id: &[u8], now: Timestamp) -> Result<Option<Vec<u8>>> {
        Ok(self
            .lock()?
            .get(id)
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.clone()))
    }

    fn insert_new(
        &self,
        id: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let mut map = self.lock()?;
        if map.get(id).is_some_and(|(_, exp)| *exp > now) {
            return Ok(false);
        }
        if map.len() >= self.max_records {
            map.retain(|_, (_, exp)| *exp > now);
            if map.len() >= self.max_records {
                return Err(Error::Store(String::from("too many open transactions")));
            }
        }
        map.insert(id.to_vec(), (record, expires));
        Ok(true)
    }

    fn update(&self, id: &[u8], record: Vec<u8>, expires: Timestamp) -> Result<()> {
        self.lock()?.insert(id.to_vec(), (record, expires));
        Ok(())
    }

    fn replace(
        &self,
        id: &[u8],
        expected: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let mut map = self.lock()?;
        match map.get_mut(id) {
            Some(entry) if entry.1 > now && entry.0 == expected => {
                *entry = (record, expires);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn remove(&self, id: &[u8]) -> Result<()> {
        self.lock()?.remove(id);
        Ok(())
    }

    fn sweep(&self, now: Timestamp) -> Result<usize> {
        let mut map = self.lock()?;
        let before = map.len();
        map.retain(|_, (_, exp)| *exp > now);
        Ok(before - map.len())
    }

    fn len(&self) -> Result<usize> {
        Ok(self.lock()?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::StoreKey;

    #[test]
    fn store_keys_round_trip() {
        // The stored form is fixed: stores written by earlier versions keep working.
        assert_eq!(StoreKey::parse(b"kem-ss\0tid"), StoreKey::KemSecret(b"tid"));
        assert_eq!(
            StoreKey::parse(b"popdecc\0tid"),
            StoreKey::PopChallenge(b"tid")
        );
        assert_eq!(StoreKey::parse(b"tid"), StoreKey::Transaction(b"tid"));
        assert_eq!(StoreKey::parse(b"kem-ss"), StoreKey::Transaction(b"kem-ss"));
        for key in [
            StoreKey::KemSecret(b"\x01\x02"),
            StoreKey::PopChallenge(b""),
            StoreKey::Transaction(b"abc"),
        ] {
            assert_eq!(StoreKey::parse(&key.to_key()), key);
            assert_eq!(
                key.transaction_id(),
                StoreKey::parse(&key.to_key()).transaction_id()
            );
        }
        assert_eq!(
            crate::kem::session_key(b"t"),
            StoreKey::KemSecret(b"t").to_key()
        );
    }
}
