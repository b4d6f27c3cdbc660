/*
 * The rest of the life cycle through the C API, against the reference CA
 * (`cmp serve`, MAC reference 1234, secret 1234-5678) on 127.0.0.1:
 *
 *   ccr       cross-certification request for a CA key of our own: ccr,
 *             ccp with a certificate of that key; certConf, pkiConf.
 *   keygen    ir with central key generation (EC P-256): the PKI's key
 *             arrives in CMP_OUTPUT_PRIVATE_KEY, decrypted with the shared
 *             secret; it loads as a signing key whose public key is the
 *             certificate's; certConf, pkiConf.
 *   krr       key recovery of that subject: CMP_EVENT_KEYS_RECOVERED with
 *             exactly the key and certificate of the keygen step.
 *   krr-none  key recovery of a subject without archived keys: the server's
 *             rejection (badCertId) as CMP_PEER_ERROR.
 *   wrong-pw  central key generation with a wrong envelope password: the
 *             key does not open, the certConf rejects the certificate, and
 *             the pkiConf ends the transaction with CMP_KEY_DECRYPT_FAILED.
 *   ml-dsa    ir for an ML-DSA-44 key with a signature POP.
 *   archive   ir archiving its key under the MAC secret, cr archiving
 *             another key for the issuing CA's certificate (key agreement);
 *             krr recovers both, each the key of its certificate.
 *   usage     argument errors of the new functions.
 *
 * usage: lifecycle ROOT_PEM PORT PKI_DIR
 *   (ROOT_PEM: `cmp serve --root-out`; PKI_DIR: tests/vectors/pki, whose
 *   new.key and issued.key are the keys archived)
 */
#include "serve_test.h"

/* Output `which` item `index` into buf. */
static int output(const cmp_transaction *tx, cmp_output which, size_t index, uint8_t *buf,
                  size_t cap, size_t *len) {
  CHECK(cmp_transaction_output(tx, which, index, buf, cap, len));
  EXPECT(*len > 0);
  return 0;
}

/* Whether the SPKI of `key` occurs in the DER certificate `cert`. */
static int key_in_cert(const cmp_signing_key *key, const uint8_t *cert, size_t cert_len) {
  static uint8_t spki[8192];
  size_t spki_len = 0;
  CHECK(cmp_signing_key_public_key(key, spki, sizeof spki, &spki_len));
  EXPECT(spki_len > 0 && contains(cert, cert_len, spki, spki_len));
  return 0;
}

/* An enrollment of a key of our own, issued and confirmed. */
static int enroll_own(cmp_enroll_kind kind, cmp_body_type req, cmp_key_algorithm alg,
                      const char *subject) {
  static uint8_t cert[16384];
  size_t cert_len, n;
  cmp_client_config *config = NULL;
  cmp_signing_key *key = NULL;
  cmp_transaction *tx = NULL;
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_signing_key_generate(alg, &key) != CMP_OK) {
    fail("cmp_signing_key_generate", CMP_CRYPTO);
    goto out;
  }
  if (cmp_transaction_new_enroll(config, kind, key, subject, NULL, 0, now(), &tx) != CMP_OK) {
    fail("cmp_transaction_new_enroll", CMP_USAGE);
    goto out;
  }
  if (step(tx, req, NULL, CMP_EVENT_CERTIFICATE_ISSUED) != 0) goto out;
  if (cmp_transaction_output_count(tx, CMP_OUTPUT_PRIVATE_KEY, &n) != CMP_OK || n != 0) goto out;
  if (output(tx, CMP_OUTPUT_CERTIFICATE, 0, cert, sizeof cert, &cert_len) != 0) goto out;
  if (key_in_cert(key, cert, cert_len) != 0) goto out;
  if (confirm(tx) != 0) goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_signing_key_free(key);
  cmp_client_config_free(config);
  return ok;
}

/* The same subject in OpenSSL's form (for the request) and in RFC 4514 form
 * with a space (for the krr, which finds the keys archived under it). */
static const char *keygen_subject = "/O=Example/CN=C Keygen Device";
static const char *keygen_subject_rfc4514 = "CN=C Keygen Device, O=Example";
static uint8_t keygen_key[8192], keygen_cert[8192];
static size_t keygen_key_len, keygen_cert_len;

static int keygen(void) {
  size_t n;
  cmp_client_config *config = NULL;
  cmp_envelope_key *opener = NULL;
  cmp_transaction *tx = NULL;
  cmp_signing_key *key = NULL;
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_envelope_key_new_password((const uint8_t *)secret, strlen(secret), &opener) != CMP_OK)
    goto out;
  if (cmp_transaction_new_central_keygen(config, CMP_ENROLL_IR, CMP_KEY_EC_P256, keygen_subject,
                                         NULL, 0, opener, now(), &tx) != CMP_OK) {
    fail("cmp_transaction_new_central_keygen", CMP_USAGE);
    goto out;
  }
  cmp_envelope_key_free(opener); /* the transaction keeps its own copy */
  opener = NULL;
  if (step(tx, CMP_BODY_IR, NULL, CMP_EVENT_CERTIFICATE_ISSUED) != 0) goto out;
  if (cmp_transaction_output_count(tx, CMP_OUTPUT_PRIVATE_KEY, &n) != CMP_OK || n != 1) goto out;
  if (output(tx, CMP_OUTPUT_PRIVATE_KEY, 0, keygen_key, sizeof keygen_key, &keygen_key_len) != 0)
    goto out;
  if (output(tx, CMP_OUTPUT_CERTIFICATE, 0, keygen_cert, sizeof keygen_cert, &keygen_cert_len) !=
      0)
    goto out;
  if (cmp_signing_key_from_bytes(keygen_key, keygen_key_len, &key) != CMP_OK) {
    fail("cmp_signing_key_from_bytes (delivered key)", CMP_CRYPTO);
    goto out;
  }
  if (key_in_cert(key, keygen_cert, keygen_cert_len) != 0) goto out;
  if (confirm(tx) != 0) goto out;
  ok = 0;
out:
  cmp_signing_key_free(key);
  cmp_transaction_free(tx);
  cmp_envelope_key_free(opener);
  cmp_client_config_free(config);
  return ok;
}

static int krr(void) {
  static uint8_t buf[8192];
  size_t n, len;
  cmp_client_config *config = NULL;
  cmp_envelope_key *opener = NULL;
  cmp_transaction *tx = NULL;
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_envelope_key_new_password((const uint8_t *)secret, strlen(secret), &opener) != CMP_OK)
    goto out;
  if (cmp_transaction_new_krr(config, keygen_subject_rfc4514, opener, now(), &tx) != CMP_OK) {
    fail("cmp_transaction_new_krr", CMP_USAGE);
    goto out;
  }
  if (step(tx, CMP_BODY_KRR, NULL, CMP_EVENT_KEYS_RECOVERED) != 0) goto out;
  if (!cmp_transaction_is_finished(tx) || !cmp_transaction_is_completed(tx)) goto out;
  if (cmp_transaction_output_count(tx, CMP_OUTPUT_RECOVERED_KEY, &n) != CMP_OK || n != 1) goto out;
  if (cmp_transaction_output_count(tx, CMP_OUTPUT_RECOVERED_CERT, &n) != CMP_OK || n != 1)
    goto out;
  if (output(tx, CMP_OUTPUT_RECOVERED_KEY, 0, buf, sizeof buf, &len) != 0) goto out;
  if (len != keygen_key_len || memcmp(buf, keygen_key, len) != 0) {
    fprintf(stderr, "krr: the recovered key is not the generated one\n");
    goto out;
  }
  if (output(tx, CMP_OUTPUT_RECOVERED_CERT, 0, buf, sizeof buf, &len) != 0) goto out;
  if (len != keygen_cert_len || memcmp(buf, keygen_cert, len) != 0) {
    fprintf(stderr, "krr: the recovered certificate is not the issued one\n");
    goto out;
  }
  if (cmp_transaction_output(tx, CMP_OUTPUT_RECOVERED_KEY, 1, buf, sizeof buf, &len) !=
      CMP_USAGE)
    goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_envelope_key_free(opener);
  cmp_client_config_free(config);
  return ok;
}

static int krr_none(void) {
  cmp_client_config *config = NULL;
  cmp_envelope_key *opener = NULL;
  cmp_transaction *tx = NULL;
  cmp_result rc;
  cmp_event ev;
  int32_t status = -1;
  uint32_t fail_info = 0;
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_envelope_key_new_password((const uint8_t *)secret, strlen(secret), &opener) != CMP_OK)
    goto out;
  if (cmp_transaction_new_krr(config, "CN=Nobody Archived", opener, now(), &tx) != CMP_OK) goto out;
  if (exchange(tx, CMP_BODY_KRR, NULL, &rc, &ev) != 0) goto out;
  if (rc != CMP_PEER_ERROR) {
    fprintf(stderr, "krr-none: got %s, expected CMP_PEER_ERROR\n", cmp_result_name(rc));
    goto out;
  }
  if (cmp_transaction_peer_status(tx, &status, &fail_info) != CMP_OK) goto out;
  if (status != 2 || !(fail_info & (1u << 4))) { /* rejection, badCertId */
    fprintf(stderr, "krr-none: status %d fail_info %#x\n", (int)status, (unsigned)fail_info);
    goto out;
  }
  if (!cmp_transaction_is_finished(tx) || cmp_transaction_is_completed(tx)) goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_envelope_key_free(opener);
  cmp_client_config_free(config);
  return ok;
}

static int wrong_password(void) {
  const char *wrong = "not-the-secret";
  cmp_client_config *config = NULL;
  cmp_envelope_key *opener = NULL;
  cmp_transaction *tx = NULL;
  cmp_result rc;
  cmp_event ev;
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_envelope_key_new_password((const uint8_t *)wrong, strlen(wrong), &opener) != CMP_OK)
    goto out;
  if (cmp_transaction_new_central_keygen(config, CMP_ENROLL_CR, 0, "CN=C Wrong Password", NULL, 0,
                                         opener, now(), &tx) != CMP_OK)
    goto out;
  if (exchange(tx, CMP_BODY_CR, NULL, &rc, &ev) != 0) goto out;
  /* The key does not open: the transaction rejects the certificate in its
   * certConf by itself (event CONTINUE), and ends with the error. */
  if (rc != CMP_OK || ev != CMP_EVENT_CONTINUE) {
    fprintf(stderr, "wrong-pw: %s, event %u\n", cmp_result_name(rc), (unsigned)ev);
    goto out;
  }
  if (exchange(tx, CMP_BODY_CERTCONF, NULL, &rc, &ev) != 0) goto out;
  if (rc != CMP_KEY_DECRYPT_FAILED || !cmp_transaction_is_finished(tx) ||
      cmp_transaction_is_completed(tx)) {
    fprintf(stderr, "wrong-pw: %s after pkiConf\n", cmp_result_name(rc));
    goto out;
  }
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_envelope_key_free(opener);
  cmp_client_config_free(config);
  return ok;
}

static const char *pki_dir;

/* Whether the DER public keys of two software keys (any encoding) agree. */
static int same_key(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
  static uint8_t pa[1024], pb[1024];
  size_t la = 0, lb = 0;
  cmp_signing_key *ka = NULL, *kb = NULL;
  int same = cmp_signing_key_from_bytes(a, a_len, &ka) == CMP_OK &&
             cmp_signing_key_from_bytes(b, b_len, &kb) == CMP_OK &&
             cmp_signing_key_public_key(ka, pa, sizeof pa, &la) == CMP_OK &&
             cmp_signing_key_public_key(kb, pb, sizeof pb, &lb) == CMP_OK && la == lb &&
             memcmp(pa, pb, la) == 0;
  cmp_signing_key_free(ka);
  cmp_signing_key_free(kb);
  return same;
}

static const char *archive_subject = "CN=C Archiving Device,O=Example";

/* An enrollment of PKI_DIR/key_file archiving that key for `ca_cert` (or
 * the MAC secret); the issued certificate's chain goes to chain/chain_len. */
static int enroll_archived(cmp_enroll_kind kind, cmp_body_type req, const char *key_file,
                           const uint8_t *ca_cert, size_t ca_cert_len, uint8_t *chain,
                           size_t chain_cap, size_t *chain_len) {
  static uint8_t key[4096];
  size_t key_len;
  cmp_client_config *config = NULL;
  cmp_transaction *tx = NULL;
  int ok = -1;
  if (read_in(pki_dir, key_file, key, sizeof key, &key_len) != 0) return -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_transaction_new_enroll_archived(config, kind, key, key_len, ca_cert, ca_cert_len,
                                          archive_subject, NULL, 0, now(), &tx) != CMP_OK) {
    fail("cmp_transaction_new_enroll_archived", CMP_USAGE);
    goto out;
  }
  if (step(tx, req, NULL, CMP_EVENT_CERTIFICATE_ISSUED) != 0) goto out;
  if (chain && output(tx, CMP_OUTPUT_CHAIN, 0, chain, chain_cap, chain_len) != 0) goto out;
  if (confirm(tx) != 0) goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_client_config_free(config);
  return ok;
}

static int archive(void) {
  static uint8_t issuing_ca[8192], buf[8192], want[4096];
  size_t ca_len = 0, len, want_len, n;
  cmp_client_config *config = NULL;
  cmp_envelope_key *opener = NULL;
  cmp_transaction *tx = NULL;
  int ok = -1;
  /* under the MAC secret; then for the issuing CA (EC P-256: key agreement) */
  if (enroll_archived(CMP_ENROLL_IR, CMP_BODY_IR, "new.key", NULL, 0, issuing_ca,
                      sizeof issuing_ca, &ca_len) != 0)
    return -1;
  if (enroll_archived(CMP_ENROLL_CR, CMP_BODY_CR, "issued.key", issuing_ca, ca_len, NULL, 0,
                      NULL) != 0)
    return -1;
  /* krr: both keys, in issuance order, each the key of its certificate */
  if (mac_config(&config) != 0) goto out;
  if (cmp_envelope_key_new_password((const uint8_t *)secret, strlen(secret), &opener) != CMP_OK)
    goto out;
  if (cmp_transaction_new_krr(config, archive_subject, opener, now(), &tx) != CMP_OK) goto out;
  if (step(tx, CMP_BODY_KRR, NULL, CMP_EVENT_KEYS_RECOVERED) != 0) goto out;
  if (cmp_transaction_output_count(tx, CMP_OUTPUT_RECOVERED_KEY, &n) != CMP_OK || n != 2) {
    fprintf(stderr, "archive: %zu keys recovered, expected 2\n", n);
    goto out;
  }
  const char *files[] = {"new.key", "issued.key"};
  for (size_t i = 0; i < 2; i++) {
    if (read_in(pki_dir, files[i], want, sizeof want, &want_len) != 0) goto out;
    if (output(tx, CMP_OUTPUT_RECOVERED_KEY, i, buf, sizeof buf, &len) != 0) goto out;
    if (!same_key(buf, len, want, want_len)) {
      fprintf(stderr, "archive: recovered key %zu is not %s\n", i, files[i]);
      goto out;
    }
  }
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_envelope_key_free(opener);
  cmp_client_config_free(config);
  return ok;
}

static int usage_errors(void) {
  cmp_client_config *config = NULL;
  cmp_envelope_key *opener = (cmp_envelope_key *)1;
  cmp_transaction *tx = (cmp_transaction *)1;
  if (mac_config(&config) != 0) return -1;
  int ok = -1;
  if (cmp_envelope_key_new_password(NULL, 0, &opener) != CMP_USAGE || opener != NULL) goto out;
  if (cmp_envelope_key_new_private_key((const uint8_t *)"x", 1, NULL, 0, &opener) != CMP_USAGE)
    goto out;
  if (cmp_envelope_key_new_password((const uint8_t *)secret, strlen(secret), &opener) != CMP_OK)
    goto out;
  if (cmp_transaction_new_central_keygen(config, CMP_ENROLL_IR, 99, "CN=X", NULL, 0, opener, now(),
                                         &tx) != CMP_USAGE ||
      tx != NULL)
    goto out;
  if (cmp_transaction_new_central_keygen(config, 9, 0, "CN=X", NULL, 0, opener, now(), &tx) !=
      CMP_USAGE)
    goto out;
  if (cmp_transaction_new_central_keygen(config, CMP_ENROLL_KUR, 0, NULL, NULL, 0, opener, now(),
                                         &tx) != CMP_USAGE)
    goto out;
  if (cmp_transaction_new_central_keygen(config, CMP_ENROLL_IR, 0, "CN=X", NULL, 0, NULL, now(),
                                         &tx) != CMP_NULL_POINTER)
    goto out;
  if (cmp_transaction_new_krr(config, "not a name", opener, now(), &tx) != CMP_USAGE) goto out;
  if (cmp_transaction_new_krr(config, "/XX=1", opener, now(), &tx) != CMP_USAGE) goto out;
  if (cmp_transaction_new_enroll(config, 4, NULL, "CN=X", NULL, 0, now(), &tx) !=
      CMP_NULL_POINTER)
    goto out;
  if (cmp_transaction_new_enroll_archived(config, CMP_ENROLL_IR, (const uint8_t *)"junk", 4, NULL,
                                          0, "CN=X", NULL, 0, now(), &tx) != CMP_CRYPTO)
    goto out;
  if (cmp_transaction_new_enroll_archived(config, CMP_ENROLL_IR, NULL, 0, NULL, 0, "CN=X", NULL, 0,
                                          now(), &tx) != CMP_CRYPTO)
    goto out;
  ok = 0;
out:
  cmp_envelope_key_free(opener);
  cmp_client_config_free(config);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: lifecycle ROOT_PEM PORT PKI_DIR\n");
    return 2;
  }
  pki_dir = argv[3];
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  trust_pem_len = fread(trust_pem, 1, sizeof trust_pem, f);
  fclose(f);
  port = atoi(argv[2]);
  int failed = 0;
#define RUN(name, call)                                                        \
  do {                                                                         \
    int ok_ = (call);                                                          \
    printf("%s: %s\n", name, ok_ == 0 ? "ok" : "FAILED");                      \
    failed |= ok_ != 0;                                                        \
  } while (0)
  RUN("ccr", enroll_own(CMP_ENROLL_CCR, CMP_BODY_CCR, CMP_KEY_EC_P256, "CN=C Cross CA,O=Example"));
  RUN("keygen", keygen());
  RUN("krr", krr());
  RUN("krr-none", krr_none());
  RUN("wrong-pw", wrong_password());
  RUN("ml-dsa", enroll_own(CMP_ENROLL_IR, CMP_BODY_IR, CMP_KEY_ML_DSA_44, "CN=C ML-DSA Device"));
  RUN("archive", archive());
  RUN("usage", usage_errors());
  return failed;
}
