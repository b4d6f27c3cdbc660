//! Object identifiers used by CMP, CRMF and the algorithms of RFC 9481.
//!
//! `const-oid` 0.10 lacks the RFC 9480/9810 additions (id-it 17–24, PBMAC1,
//! KemBasedMac, id-kp-cmKGA), so every OID the crate relies on is defined
//! here, in one place.

use der::asn1::ObjectIdentifier as Oid;

macro_rules! oids {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        $($(#[$doc])* pub const $name: Oid = Oid::new_unwrap($value);)*
    };
}

oids! {
    // --- MAC-based protection (RFC 4210/9810, RFC 9481) ---
    /// id-PasswordBasedMac (RFC 4211 / RFC 9481 section 6.1.1).
    PASSWORD_BASED_MAC = "1.2.840.113533.7.66.13";
    /// id-DHBasedMac (RFC 9810 section 5.1.3.2).
    DH_BASED_MAC = "1.2.840.113533.7.66.30";
    /// id-KemBasedMac (RFC 9810 section 5.1.3.4).
    KEM_BASED_MAC = "1.2.840.113533.7.66.16";
    /// id-PBMAC1 (RFC 8018, RFC 9481 section 6.1.2).
    PBMAC1 = "1.2.840.113549.1.5.14";
    /// id-PBKDF2 (RFC 8018).
    PBKDF2 = "1.2.840.113549.1.5.12";

    // --- digests ---
    /// id-sha1.
    SHA1 = "1.3.14.3.2.26";
    /// id-sha224.
    SHA224 = "2.16.840.1.101.3.4.2.4";
    /// id-sha256.
    SHA256 = "2.16.840.1.101.3.4.2.1";
    /// id-sha384.
    SHA384 = "2.16.840.1.101.3.4.2.2";
    /// id-sha512.
    SHA512 = "2.16.840.1.101.3.4.2.3";

    // --- HMAC ---
    /// hmac-sha1 (RFC 2104 arc used by OpenSSL's PBM default).
    HMAC_SHA1_IPSEC = "1.3.6.1.5.5.8.1.2";
    /// id-hmacWithSHA1 (RFC 8018).
    HMAC_WITH_SHA1 = "1.2.840.113549.2.7";
    /// id-hmacWithSHA224 (RFC 4231).
    HMAC_WITH_SHA224 = "1.2.840.113549.2.8";
    /// id-hmacWithSHA256 (RFC 4231).
    HMAC_WITH_SHA256 = "1.2.840.113549.2.9";
    /// id-hmacWithSHA384 (RFC 4231).
    HMAC_WITH_SHA384 = "1.2.840.113549.2.10";
    /// id-hmacWithSHA512 (RFC 4231).
    HMAC_WITH_SHA512 = "1.2.840.113549.2.11";

    // --- signatures and public keys ---
    /// rsaEncryption.
    RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
    /// id-RSASSA-PSS.
    RSASSA_PSS = "1.2.840.113549.1.1.10";
    /// id-mgf1.
    MGF1 = "1.2.840.113549.1.1.8";
    /// sha224WithRSAEncryption.
    SHA224_WITH_RSA = "1.2.840.113549.1.1.14";
    /// sha256WithRSAEncryption.
    SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
    /// sha384WithRSAEncryption.
    SHA384_WITH_RSA = "1.2.840.113549.1.1.12";
    /// sha512WithRSAEncryption.
    SHA512_WITH_RSA = "1.2.840.113549.1.1.13";
    /// id-ecPublicKey.
    EC_PUBLIC_KEY = "1.2.840.10045.2.1";
    /// secp256r1 (P-256).
    SECP256R1 = "1.2.840.10045.3.1.7";
    /// secp384r1 (P-384).
    SECP384R1 = "1.3.132.0.34";
    /// ecdsa-with-SHA224.
    ECDSA_WITH_SHA224 = "1.2.840.10045.4.3.1";
    /// ecdsa-with-SHA256.
    ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
    /// ecdsa-with-SHA384.
    ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";
    /// ecdsa-with-SHA512.
    ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4";
    /// id-Ed25519.
    ED25519 = "1.3.101.112";
    /// id-ml-dsa-44 (FIPS 204, RFC 9881).
    ML_DSA_44 = "2.16.840.1.101.3.4.3.17";
    /// id-ml-dsa-65.
    ML_DSA_65 = "2.16.840.1.101.3.4.3.18";
    /// id-ml-dsa-87.
    ML_DSA_87 = "2.16.840.1.101.3.4.3.19";
    /// id-alg-ml-kem-512 (FIPS 203).
    ML_KEM_512 = "2.16.840.1.101.3.4.4.1";
    /// id-alg-ml-kem-768.
    ML_KEM_768 = "2.16.840.1.101.3.4.4.2";
    /// id-alg-ml-kem-1024.
    ML_KEM_1024 = "2.16.840.1.101.3.4.4.3";
    /// id-alg-hkdf-with-sha256 (RFC 8619), a KDF for KemBMParameter.
    HKDF_WITH_SHA256 = "1.2.840.113549.1.9.16.3.28";
    /// id-alg-hkdf-with-sha384 (RFC 8619).
    HKDF_WITH_SHA384 = "1.2.840.113549.1.9.16.3.29";
    /// id-alg-hkdf-with-sha512 (RFC 8619).
    HKDF_WITH_SHA512 = "1.2.840.113549.1.9.16.3.30";

    // --- id-it: InfoTypeAndValue types (RFC 9810 section 5.3.19, RFC 9483) ---
    /// id-it-caProtEncCert.
    IT_CA_PROT_ENC_CERT = "1.3.6.1.5.5.7.4.1";
    /// id-it-signKeyPairTypes.
    IT_SIGN_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.2";
    /// id-it-encKeyPairTypes.
    IT_ENC_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.3";
    /// id-it-preferredSymmAlg.
    IT_PREFERRED_SYMM_ALG = "1.3.6.1.5.5.7.4.4";
    /// id-it-caKeyUpdateInfo (deprecated by rootCaKeyUpdate).
    IT_CA_KEY_UPDATE_INFO = "1.3.6.1.5.5.7.4.5";
    /// id-it-currentCRL.
    IT_CURRENT_CRL = "1.3.6.1.5.5.7.4.6";
    /// id-it-unsupportedOIDs.
    IT_UNSUPPORTED_OIDS = "1.3.6.1.5.5.7.4.7";
    /// id-it-keyPairParamReq.
    IT_KEY_PAIR_PARAM_REQ = "1.3.6.1.5.5.7.4.10";
    /// id-it-keyPairParamRep.
    IT_KEY_PAIR_PARAM_REP = "1.3.6.1.5.5.7.4.11";
    /// id-it-revPassphrase.
    IT_REV_PASSPHRASE = "1.3.6.1.5.5.7.4.12";
    /// id-it-implicitConfirm.
    IT_IMPLICIT_CONFIRM = "1.3.6.1.5.5.7.4.13";
    /// id-it-confirmWaitTime.
    IT_CONFIRM_WAIT_TIME = "1.3.6.1.5.5.7.4.14";
    /// id-it-origPKIMessage.
    IT_ORIG_PKI_MESSAGE = "1.3.6.1.5.5.7.4.15";
    /// id-it-suppLangTags.
    IT_SUPP_LANG_TAGS = "1.3.6.1.5.5.7.4.16";
    /// id-it-caCerts (RFC 9480).
    IT_CA_CERTS = "1.3.6.1.5.5.7.4.17";
    /// id-it-rootCaKeyUpdate (RFC 9480).
    IT_ROOT_CA_KEY_UPDATE = "1.3.6.1.5.5.7.4.18";
    /// id-it-certReqTemplate (RFC 9480).
    IT_CERT_REQ_TEMPLATE = "1.3.6.1.5.5.7.4.19";
    /// id-it-rootCaCert (RFC 9480).
    IT_ROOT_CA_CERT = "1.3.6.1.5.5.7.4.20";
    /// id-it-certProfile (RFC 9480).
    IT_CERT_PROFILE = "1.3.6.1.5.5.7.4.21";
    /// id-it-crlStatusList (RFC 9480).
    IT_CRL_STATUS_LIST = "1.3.6.1.5.5.7.4.22";
    /// id-it-crls (RFC 9480).
    IT_CRLS = "1.3.6.1.5.5.7.4.23";
    /// id-it-KemCiphertextInfo (RFC 9810).
    IT_KEM_CIPHERTEXT_INFO = "1.3.6.1.5.5.7.4.24";

    // --- CRMF registration controls and info (RFC 4211 section 6, 7) ---
    /// id-regCtrl-regToken.
    REG_CTRL_REG_TOKEN = "1.3.6.1.5.5.7.5.1.1";
    /// id-regCtrl-authenticator.
    REG_CTRL_AUTHENTICATOR = "1.3.6.1.5.5.7.5.1.2";
    /// id-regCtrl-pkiPublicationInfo.
    REG_CTRL_PKI_PUBLICATION_INFO = "1.3.6.1.5.5.7.5.1.3";
    /// id-regCtrl-pkiArchiveOptions.
    REG_CTRL_PKI_ARCHIVE_OPTIONS = "1.3.6.1.5.5.7.5.1.4";
    /// id-regCtrl-oldCertID.
    REG_CTRL_OLD_CERT_ID = "1.3.6.1.5.5.7.5.1.5";
    /// id-regCtrl-protocolEncrKey.
    REG_CTRL_PROTOCOL_ENCR_KEY = "1.3.6.1.5.5.7.5.1.6";
    /// id-regCtrl-algId (RFC 9480).
    REG_CTRL_ALG_ID = "1.3.6.1.5.5.7.5.1.11";
    /// id-regCtrl-rsaKeyLen (RFC 9480).
    REG_CTRL_RSA_KEY_LEN = "1.3.6.1.5.5.7.5.1.12";
    /// id-regInfo-utf8Pairs.
    REG_INFO_UTF8_PAIRS = "1.3.6.1.5.5.7.5.2.1";
    /// id-regInfo-certReq.
    REG_INFO_CERT_REQ = "1.3.6.1.5.5.7.5.2.2";

    // --- extended key usages ---
    /// id-kp-cmcCA (RFC 6402).
    KP_CMC_CA = "1.3.6.1.5.5.7.3.27";
    /// id-kp-cmcRA (RFC 6402): authorises an RA / CMP signer.
    KP_CMC_RA = "1.3.6.1.5.5.7.3.28";
    /// id-kp-cmKGA (RFC 9480): authorises a key generation authority.
    KP_CM_KGA = "1.3.6.1.5.5.7.3.32";
}
