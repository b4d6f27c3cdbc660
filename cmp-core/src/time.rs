//! Time as the caller tells it.
//!
//! `cmp-core` never reads a clock: every operation that needs the time takes
//! a [`Timestamp`] from the caller.

use core::time::Duration;

use der::DateTime;
use der::asn1::GeneralizedTime;

use crate::error::{Error, Result};

/// A point in time (UTC, millisecond resolution), as told by the caller.
///
/// Protocol fields (messageTime, checkAfter, confirmWaitTime) have second
/// resolution; the milliseconds make sure a wait is never cut short by
/// truncation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    millis: u64,
}

impl Timestamp {
    /// From seconds since the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self {
            millis: secs.saturating_mul(1000),
        }
    }

    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_millis(millis: u64) -> Self {
        Self { millis }
    }

    /// Whole seconds since the Unix epoch.
    pub const fn unix_secs(self) -> u64 {
        self.millis / 1000
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> u64 {
        self.millis
    }

    /// The current time from the system clock.
    #[cfg(feature = "std")]
    pub fn now() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self { millis }
    }

    /// This time plus `secs` seconds (saturating).
    pub const fn plus_secs(self, secs: u64) -> Self {
        Self {
            millis: self.millis.saturating_add(secs.saturating_mul(1000)),
        }
    }

    /// How long from `self` until `later` (zero when `later` is not later).
    pub fn until(self, later: Self) -> Duration {
        Duration::from_millis(later.millis.saturating_sub(self.millis))
    }

    /// Absolute difference in whole seconds.
    pub const fn abs_diff(self, other: Self) -> u64 {
        self.millis.abs_diff(other.millis) / 1000
    }

    /// As an ASN.1 GeneralizedTime (for messageTime), truncated to seconds.
    pub fn to_generalized_time(self) -> Result<GeneralizedTime> {
        let dt = DateTime::from_unix_duration(Duration::from_secs(self.unix_secs()))
            .map_err(|_| Error::Usage("time outside the range of GeneralizedTime"))?;
        Ok(GeneralizedTime::from_date_time(dt))
    }

    /// From an ASN.1 GeneralizedTime.
    pub fn from_generalized_time(t: &GeneralizedTime) -> Self {
        Self::from_unix_secs(t.to_unix_duration().as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_keep_their_milliseconds() {
        let t = Timestamp::from_unix_millis(10_700);
        assert_eq!(t.unix_secs(), 10);
        let until = t.plus_secs(1);
        assert_eq!(until.unix_millis(), 11_700);
        assert_eq!(t.until(until), Duration::from_secs(1));
        assert_eq!(until.until(t), Duration::ZERO);
        assert_eq!(
            Timestamp::from_unix_secs(5).abs_diff(Timestamp::from_unix_millis(7_900)),
            2
        );
        let g = until.to_generalized_time().unwrap();
        assert_eq!(
            Timestamp::from_generalized_time(&g),
            Timestamp::from_unix_secs(11)
        );
    }
}
