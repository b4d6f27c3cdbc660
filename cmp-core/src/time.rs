//! Time as the caller tells it.
//!
//! `cmp-core` never reads a clock: every operation that needs the time takes
//! a [`Timestamp`] from the caller.

use core::time::Duration;

use der::DateTime;
use der::asn1::GeneralizedTime;

use crate::error::{Error, Result};

/// Seconds since the Unix epoch (UTC), as told by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// From seconds since the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_secs(self) -> u64 {
        self.0
    }

    /// The current time from the system clock.
    #[cfg(feature = "std")]
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self(secs)
    }

    /// This time plus `secs` seconds (saturating).
    pub const fn plus_secs(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Absolute difference in seconds.
    pub const fn abs_diff(self, other: Self) -> u64 {
        self.0.abs_diff(other.0)
    }

    /// As an ASN.1 GeneralizedTime (for messageTime).
    pub fn to_generalized_time(self) -> Result<GeneralizedTime> {
        let dt = DateTime::from_unix_duration(Duration::from_secs(self.0))
            .map_err(|_| Error::Usage("time outside the range of GeneralizedTime"))?;
        Ok(GeneralizedTime::from_date_time(dt))
    }

    /// From an ASN.1 GeneralizedTime.
    pub fn from_generalized_time(t: &GeneralizedTime) -> Self {
        Self(t.to_unix_duration().as_secs())
    }
}
