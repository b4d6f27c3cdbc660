//! AES key wrap (RFC 3394) and AES-CBC with PKCS#7 padding, for CMS
//! EnvelopedData: delivered private keys (`envelope`) and KEMRecipientInfo.

use alloc::vec::Vec;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use cmp_core::crypto::CryptoError;

const BAD_KEY: CryptoError = CryptoError::InvalidKey("AES keys have 16, 24 or 32 bytes");
const BAD_IV: CryptoError = CryptoError::InvalidKey("AES-CBC needs a 16-byte IV");
const UNWRAP: CryptoError = CryptoError::Other("AES key unwrap: integrity check failed");
const PADDING: CryptoError = CryptoError::Other("AES-CBC: bad padding");

fn wrap_with<C>(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    aes_kw::AesKw<C>: KeyInit,
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockCipherDecrypt,
{
    let kw = aes_kw::AesKw::<C>::new_from_slice(kek).map_err(|_| BAD_KEY)?;
    let mut out = alloc::vec![0u8; key.len() + aes_kw::IV_LEN];
    let n = kw
        .wrap_key(key, &mut out)
        .map_err(|_| CryptoError::InvalidKey("AES key wrap input"))?
        .len();
    out.truncate(n);
    Ok(out)
}

fn unwrap_with<C>(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    aes_kw::AesKw<C>: KeyInit,
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockCipherDecrypt,
{
    let kw = aes_kw::AesKw::<C>::new_from_slice(kek).map_err(|_| BAD_KEY)?;
    let mut out = alloc::vec![0u8; wrapped.len()];
    let n = kw.unwrap_key(wrapped, &mut out).map_err(|_| UNWRAP)?.len();
    out.truncate(n);
    Ok(out)
}

pub(crate) fn key_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match kek.len() {
        16 => wrap_with::<aes::Aes128>(kek, key),
        24 => wrap_with::<aes::Aes192>(kek, key),
        32 => wrap_with::<aes::Aes256>(kek, key),
        _ => Err(BAD_KEY),
    }
}

pub(crate) fn key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match kek.len() {
        16 => unwrap_with::<aes::Aes128>(kek, wrapped),
        24 => unwrap_with::<aes::Aes192>(kek, wrapped),
        32 => unwrap_with::<aes::Aes256>(kek, wrapped),
        _ => Err(BAD_KEY),
    }
}

pub(crate) fn cbc_encrypt(key: &[u8], iv: &[u8], pt: &[u8]) -> Result<Vec<u8>, CryptoError> {
    fn run<C>(key: &[u8], iv: &[u8], pt: &[u8]) -> Result<Vec<u8>, CryptoError>
    where
        cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt,
        C: aes::cipher::BlockCipherEncrypt,
    {
        let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| BAD_IV)?;
        Ok(enc.encrypt_padded_vec::<Pkcs7>(pt))
    }
    match key.len() {
        16 => run::<aes::Aes128>(key, iv, pt),
        24 => run::<aes::Aes192>(key, iv, pt),
        32 => run::<aes::Aes256>(key, iv, pt),
        _ => Err(BAD_KEY),
    }
}

pub(crate) fn cbc_decrypt(key: &[u8], iv: &[u8], ct: &[u8]) -> Result<Vec<u8>, CryptoError> {
    fn run<C>(key: &[u8], iv: &[u8], ct: &[u8]) -> Result<Vec<u8>, CryptoError>
    where
        cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
        C: aes::cipher::BlockCipherDecrypt,
    {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| BAD_IV)?;
        dec.decrypt_padded_vec::<Pkcs7>(ct).map_err(|_| PADDING)
    }
    match key.len() {
        16 => run::<aes::Aes128>(key, iv, ct),
        24 => run::<aes::Aes192>(key, iv, ct),
        32 => run::<aes::Aes256>(key, iv, ct),
        _ => Err(BAD_KEY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3394 section 4.6: 256 bits of key data with a 256-bit KEK.
    #[test]
    fn key_wrap_matches_rfc_3394() {
        let kek = hex::decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
            .unwrap();
        let key = hex::decode("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
            .unwrap();
        let expected = hex::decode(
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        )
        .unwrap();
        assert_eq!(key_wrap(&kek, &key).unwrap(), expected);
        assert_eq!(key_unwrap(&kek, &expected).unwrap(), key);
        let mut bad = expected.clone();
        bad[3] ^= 1;
        assert_eq!(key_unwrap(&kek, &bad), Err(UNWRAP));
        assert_eq!(key_wrap(&kek[..10], &key), Err(BAD_KEY));
    }

    #[test]
    fn cbc_round_trips_and_detects_bad_padding() {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 100] {
            let pt = alloc::vec![0x5au8; len];
            let ct = cbc_encrypt(&key, &iv, &pt).unwrap();
            assert_eq!(ct.len(), (len / 16 + 1) * 16);
            assert_eq!(cbc_decrypt(&key, &iv, &ct).unwrap(), pt);
        }
        let ct = cbc_encrypt(&key, &iv, b"hello").unwrap();
        assert_eq!(cbc_decrypt(&[8u8; 32], &iv, &ct), Err(PADDING));
        assert_eq!(cbc_encrypt(&key, &iv[..8], b"x"), Err(BAD_IV));
    }
}
