//! The operating system's random number generator, through `getrandom`.

use cmp_core::crypto::CryptoError;
#[cfg(any(feature = "ed25519", feature = "ml-dsa"))]
use der::zeroize::Zeroizing;

pub(crate) use getrandom::SysRng;

/// Fill `dest` from the OS RNG.
pub(crate) fn fill(dest: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(dest).map_err(|_| CryptoError::Rng)
}

/// 32 fresh random bytes, wiped when dropped (a key seed).
#[cfg(any(feature = "ed25519", feature = "ml-dsa"))]
pub(crate) fn seed32() -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    fill(seed.as_mut_slice())?;
    Ok(seed)
}
