/*
 * ML-KEM through the C API (RFC 9810), against the reference CA (`cmp
 * serve`) on 127.0.0.1. Two runs, with a server restart in between:
 *
 *   kem_test enroll ROOT_PEM PORT DIR
 *     against `cmp serve --ref 1234 --secret 1234-5678`:
 *     keys       ML-KEM-512/768/1024 keys: generate, PKCS#8 round trip.
 *     enroll     ir for each ML-KEM key with POP by encrypted certificate:
 *                the certificate comes back encrypted, is decrypted, certifies
 *                the key; certConf, pkiConf. One ML-KEM-768 key by challenge
 *                and response instead: ir, popdecc answered with a popdecr,
 *                ip, certConf, pkiConf. The other ML-KEM-768 key, its
 *                certificate and the issuing CA go to DIR (kem.key, kem.crt,
 *                kem-chain.der) for the second run.
 *     usage      argument errors of the KEM functions.
 *
 *   kem_test mac TRUST_PEM PORT DIR
 *     against `cmp serve --trusted <first server's root> --kem-key
 *     DIR/kem.key ...` (the key certified in the first run):
 *     kem-mac    genm KemCiphertextInfo with the KEM certificate in
 *                extraCerts; the genp's ciphertext, decapsulated, keys the
 *                KEM-based MAC of an ir in the same transaction (a reference
 *                the server has no secret for); ip, certConf, pkiConf.
 *     wrong-key  the same with another ML-KEM-768 key: the server cannot
 *                verify the ir (badMessageCheck); ML-KEM-512: the ciphertext
 *                does not fit (CMP_INCORRECT_DATA).
 *     to-server  encapsulate to the server's KEM certificate: MAC-protected
 *                requests carry the ciphertext, the server's replies the
 *                KEM-based MAC (checked with that secret only); ip,
 *                certConf, pkiConf. Requests protected by nothing but that
 *                KEM-based MAC are refused (notAuthorized). To an EC
 *                certificate: CMP_UNSUPPORTED_ALGORITHM.
 */
#include "serve_test.h"

static const char *dir;

static int read_file(const char *name, uint8_t *buf, size_t cap, size_t *len) {
  return read_in(dir, name, buf, cap, len);
}

static int write_file(const char *name, const uint8_t *data, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "cannot create %s\n", path);
    return -1;
  }
  size_t n = fwrite(data, 1, len, f);
  if (fclose(f) != 0 || n != len) return -1;
  return 0;
}

static int keys(void) {
  static uint8_t der[8192], spki[4096], spki2[4096];
  const cmp_kem_algorithm algs[] = {CMP_KEM_ML_KEM_512, CMP_KEM_ML_KEM_768, CMP_KEM_ML_KEM_1024};
  const size_t spki_sizes[] = {800 + 22, 1184 + 22, 1568 + 22}; /* key + DER framing */
  for (size_t i = 0; i < 3; i++) {
    cmp_kem_key *key = NULL, *again = NULL;
    size_t der_len = 0, spki_len = 0, spki2_len = 0;
    CHECK(cmp_kem_key_generate(algs[i], &key));
    cmp_result rc = cmp_kem_key_to_pkcs8(key, NULL, 0, &der_len);
    if (rc == CMP_BUFFER_TOO_SMALL && der_len > 0) rc = cmp_kem_key_to_pkcs8(key, der, sizeof der, &der_len);
    if (rc == CMP_OK) rc = cmp_kem_key_public_key(key, spki, sizeof spki, &spki_len);
    if (rc == CMP_OK) rc = cmp_kem_key_from_bytes(der, der_len, &again);
    if (rc == CMP_OK) rc = cmp_kem_key_public_key(again, spki2, sizeof spki2, &spki2_len);
    cmp_kem_key_free(key);
    cmp_kem_key_free(again);
    if (rc != CMP_OK) return fail("KEM key round trip", rc);
    EXPECT(spki_len == spki_sizes[i]);
    EXPECT(spki2_len == spki_len && memcmp(spki, spki2, spki_len) == 0);
  }
  return 0;
}

/* ir for an ML-KEM key with POP `pop` (by encrypted certificate, or a
 * popdecc/popdecr challenge first). With `save`, the key, its certificate
 * and the issuer chain go to DIR. */
static int enroll(cmp_kem_algorithm alg, cmp_kem_pop pop, const char *subject, int save) {
  static uint8_t cert[16384], spki[4096], der[8192], chain[65536];
  size_t cert_len = 0, spki_len = 0, der_len = 0, chain_len = 0, n = 0;
  cmp_client_config *config = NULL;
  cmp_kem_key *key = NULL;
  cmp_transaction *tx = NULL;
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_kem_key_generate(alg, &key) != CMP_OK) goto out;
  if (cmp_transaction_new_kem_enroll(config, CMP_ENROLL_IR, key, pop, subject, NULL, 0, now(),
                                     &tx) != CMP_OK) {
    fail("cmp_transaction_new_kem_enroll", CMP_USAGE);
    goto out;
  }
  if (pop == CMP_KEM_POP_CHALLENGE_RESPONSE) {
    /* the popdecc is answered by the transaction itself */
    if (step(tx, CMP_BODY_IR, NULL, CMP_EVENT_CONTINUE) != 0) goto out;
    if (step(tx, CMP_BODY_POPDECR, NULL, CMP_EVENT_CERTIFICATE_ISSUED) != 0) goto out;
  } else if (step(tx, CMP_BODY_IR, NULL, CMP_EVENT_CERTIFICATE_ISSUED) != 0) {
    goto out;
  }
  if (cmp_transaction_output(tx, CMP_OUTPUT_CERTIFICATE, 0, cert, sizeof cert, &cert_len) !=
          CMP_OK ||
      cmp_kem_key_public_key(key, spki, sizeof spki, &spki_len) != CMP_OK)
    goto out;
  if (!contains(cert, cert_len, spki, spki_len)) {
    fprintf(stderr, "enroll: the certificate does not certify the KEM key\n");
    goto out;
  }
  if (save) {
    if (cmp_transaction_output_count(tx, CMP_OUTPUT_CHAIN, &n) != CMP_OK || n == 0) goto out;
    for (size_t i = 0; i < n; i++) {
      size_t len = 0;
      if (cmp_transaction_output(tx, CMP_OUTPUT_CHAIN, i, chain + chain_len,
                                 sizeof chain - chain_len, &len) != CMP_OK)
        goto out;
      chain_len += len;
    }
    if (cmp_kem_key_to_pkcs8(key, der, sizeof der, &der_len) != CMP_OK) goto out;
    if (write_file("kem.key", der, der_len) != 0 || write_file("kem.crt", cert, cert_len) != 0 ||
        write_file("kem-chain.der", chain, chain_len) != 0)
      goto out;
  }
  if (confirm(tx) != 0) goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_kem_key_free(key);
  cmp_client_config_free(config);
  return ok;
}

static int usage_errors(void) {
  cmp_client_config *config = NULL;
  cmp_kem_key *key = (cmp_kem_key *)1;
  cmp_transaction *tx = (cmp_transaction *)1;
  cmp_credential *cred = (cmp_credential *)1;
  uint8_t buf[8];
  size_t len = 0;
  EXPECT_RC(cmp_kem_key_generate(0, &key), CMP_USAGE);
  EXPECT(key == NULL);
  EXPECT_RC(cmp_kem_key_generate(4, &key), CMP_USAGE);
  EXPECT_RC(cmp_kem_key_generate(CMP_KEM_ML_KEM_768, NULL), CMP_NULL_POINTER);
  EXPECT_RC(cmp_kem_key_from_bytes((const uint8_t *)"\x30\x03\x02\x01\x00", 5, &key), CMP_CRYPTO);
  EXPECT(key == NULL);
  EXPECT_RC(cmp_kem_key_from_bytes(NULL, 0, &key), CMP_CRYPTO);
  EXPECT_RC(cmp_kem_key_public_key(NULL, buf, sizeof buf, &len), CMP_NULL_POINTER);
  EXPECT_RC(cmp_kem_key_to_pkcs8(NULL, buf, sizeof buf, &len), CMP_NULL_POINTER);
  cmp_kem_key_free(NULL);
  CHECK(cmp_kem_key_generate(CMP_KEM_ML_KEM_768, &key));
  EXPECT_RC(cmp_kem_key_public_key(key, buf, sizeof buf, &len), CMP_BUFFER_TOO_SMALL);
  EXPECT(len == 1184 + 22);
  int ok = -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_transaction_new_kem_enroll(config, CMP_ENROLL_IR, NULL, 0, "CN=X", NULL, 0, now(),
                                     &tx) != CMP_NULL_POINTER ||
      tx != NULL)
    goto out;
  if (cmp_transaction_new_kem_enroll(config, 9, key, 0, "CN=X", NULL, 0, now(), &tx) != CMP_USAGE)
    goto out;
  if (cmp_transaction_new_kem_enroll(config, CMP_ENROLL_IR, key, 2, "CN=X", NULL, 0, now(), &tx) !=
      CMP_USAGE)
    goto out;
  if (cmp_transaction_new_kem_enroll(config, CMP_ENROLL_IR, key, 0, "not a name", NULL, 0, now(),
                                     &tx) != CMP_USAGE)
    goto out;
  if (cmp_transaction_new_kem_enroll(config, CMP_ENROLL_KUR, key, 0, NULL, NULL, 0, now(), &tx) !=
      CMP_USAGE)
    goto out;
  /* a genm that has not been answered has no ciphertext */
  if (cmp_transaction_new_genm(config, CMP_GENM_KEM_CIPHERTEXT, now(), &tx) != CMP_OK) goto out;
  if (cmp_credential_new_kem_mac(tx, key, NULL, 0, &cred) != CMP_USAGE || cred != NULL) goto out;
  if (cmp_credential_new_kem_mac(tx, NULL, NULL, 0, &cred) != CMP_NULL_POINTER) goto out;
  if (cmp_credential_new_kem_mac(NULL, key, NULL, 0, &cred) != CMP_NULL_POINTER) goto out;
  if (cmp_credential_new_kem_to_server(NULL, 0, NULL, 0, &cred) != CMP_USAGE) goto out;
  if (cmp_credential_new_kem_to_server((const uint8_t *)"junk", 4, NULL, 0, &cred) != CMP_DECODE)
    goto out;
  if (cmp_client_config_add_extra_certs(config, (const uint8_t *)"junk", 4) != CMP_DECODE) goto out;
  if (cmp_client_config_add_extra_certs(NULL, trust_pem, trust_pem_len) != CMP_NULL_POINTER)
    goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_kem_key_free(key);
  cmp_client_config_free(config);
  return ok;
}

/* A genm asking for a KEM ciphertext, with the certified KEM key's
 * certificate and chain in extraCerts: on success `*genm` holds the
 * answered transaction and `tid` its transactionID. */
static int kem_genm(cmp_transaction **genm, uint8_t *tid) {
  static uint8_t cert[16384], chain[65536];
  size_t cert_len, chain_len;
  cmp_client_config *config = NULL;
  int ok = -1;
  if (read_file("kem.crt", cert, sizeof cert, &cert_len) != 0 ||
      read_file("kem-chain.der", chain, sizeof chain, &chain_len) != 0)
    return -1;
  if (mac_config(&config) != 0) goto out;
  if (cmp_client_config_add_extra_certs(config, cert, cert_len) != CMP_OK ||
      cmp_client_config_add_extra_certs(config, chain, chain_len) != CMP_OK)
    goto out;
  if (cmp_transaction_new_genm(config, CMP_GENM_KEM_CIPHERTEXT, now(), genm) != CMP_OK) goto out;
  if (step(*genm, CMP_BODY_GENM, tid, CMP_EVENT_GENERAL_RESPONSE) != 0) goto out;
  ok = 0;
out:
  cmp_client_config_free(config);
  return ok;
}

static int load_kem_key(cmp_kem_key **key) {
  static uint8_t der[8192];
  size_t der_len;
  if (read_file("kem.key", der, sizeof der, &der_len) != 0) return -1;
  CHECK(cmp_kem_key_from_bytes(der, der_len, key));
  return 0;
}

/* An ir for a fresh P-256 key under `config` (freed): issued, confirmed.
 * With `tid`, the ir must continue that transaction. */
static int enroll_config(cmp_client_config *config, const char *subject, const uint8_t *tid) {
  uint8_t ir_tid[16];
  cmp_signing_key *key = NULL;
  cmp_transaction *tx = NULL;
  int ok = -1;
  if (cmp_signing_key_generate(CMP_KEY_EC_P256, &key) != CMP_OK) goto out;
  if (cmp_transaction_new_enroll(config, CMP_ENROLL_IR, key, subject, NULL, 0, now(), &tx) !=
      CMP_OK) {
    fail("cmp_transaction_new_enroll", CMP_USAGE);
    goto out;
  }
  if (step(tx, CMP_BODY_IR, ir_tid, CMP_EVENT_CERTIFICATE_ISSUED) != 0) goto out;
  if (tid && memcmp(tid, ir_tid, 16) != 0) {
    fprintf(stderr, "the ir does not continue the genm's transaction\n");
    goto out;
  }
  if (confirm(tx) != 0) goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_signing_key_free(key);
  cmp_client_config_free(config);
  return ok;
}

/* enroll_config with a configuration around `cred` (consumed). */
static int enroll_with(cmp_credential *cred, const char *subject, const uint8_t *tid) {
  cmp_client_config *config = NULL;
  if (config_of(cred, &config) != 0) return -1;
  return enroll_config(config, subject, tid);
}

static int kem_mac(void) {
  static const char *device_ref = "kem-device"; /* no secret on the server */
  uint8_t tid[16];
  cmp_transaction *genm = NULL;
  cmp_kem_key *key = NULL;
  cmp_credential *cred = NULL;
  int ok = -1;
  if (kem_genm(&genm, tid) != 0 || load_kem_key(&key) != 0) goto out;
  if (cmp_credential_new_kem_mac(genm, key, (const uint8_t *)device_ref, strlen(device_ref),
                                 &cred) != CMP_OK) {
    fail("cmp_credential_new_kem_mac", CMP_USAGE);
    goto out;
  }
  /* the credential keeps what it needs: free the genm and the key first */
  cmp_transaction_free(genm);
  genm = NULL;
  cmp_kem_key_free(key);
  key = NULL;
  ok = enroll_with(cred, "CN=C KEM-MAC Device", tid);
out:
  cmp_kem_key_free(key);
  cmp_transaction_free(genm);
  return ok;
}

static int wrong_key(void) {
  uint8_t tid[16];
  cmp_transaction *genm = NULL, *tx = NULL;
  cmp_kem_key *other = NULL, *small = NULL;
  cmp_credential *cred = NULL;
  cmp_client_config *config = NULL;
  cmp_signing_key *key = NULL;
  cmp_result rc;
  cmp_event ev;
  int32_t status = -1;
  uint32_t fail_info = 0;
  int ok = -1;
  if (kem_genm(&genm, tid) != 0) goto out;
  if (cmp_kem_key_generate(CMP_KEM_ML_KEM_512, &small) != CMP_OK) goto out;
  if (cmp_credential_new_kem_mac(genm, small, NULL, 0, &cred) != CMP_INCORRECT_DATA) {
    fprintf(stderr, "wrong-key: an ML-KEM-512 key took an ML-KEM-768 ciphertext\n");
    goto out;
  }
  if (cmp_kem_key_generate(CMP_KEM_ML_KEM_768, &other) != CMP_OK) goto out;
  /* ML-KEM's implicit rejection: another key gives another secret */
  if (cmp_credential_new_kem_mac(genm, other, NULL, 0, &cred) != CMP_OK) goto out;
  rc = cmp_client_config_new(cred, &config);
  cmp_credential_free(cred);
  if (rc != CMP_OK) goto out;
  if (cmp_signing_key_generate(CMP_KEY_EC_P256, &key) != CMP_OK) goto out;
  if (cmp_transaction_new_enroll(config, CMP_ENROLL_IR, key, "CN=C Wrong KEM Key", NULL, 0, now(),
                                 &tx) != CMP_OK)
    goto out;
  if (exchange(tx, CMP_BODY_IR, NULL, &rc, &ev) != 0) goto out;
  if (rc != CMP_PEER_ERROR && rc != CMP_UNAUTHENTICATED_ERROR) {
    fprintf(stderr, "wrong-key: got %s, expected a peer error\n", cmp_result_name(rc));
    goto out;
  }
  if (cmp_transaction_peer_status(tx, &status, &fail_info) != CMP_OK) goto out;
  if (status != 2 || !(fail_info & (1u << 1))) { /* rejection, badMessageCheck */
    fprintf(stderr, "wrong-key: status %d fail_info %#x\n", (int)status, (unsigned)fail_info);
    goto out;
  }
  if (!cmp_transaction_is_finished(tx) || cmp_transaction_is_completed(tx)) goto out;
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_signing_key_free(key);
  cmp_client_config_free(config);
  cmp_kem_key_free(other);
  cmp_kem_key_free(small);
  cmp_transaction_free(genm);
  return ok;
}

static int to_server(void) {
  static uint8_t cert[16384];
  size_t cert_len;
  cmp_credential *cred = (cmp_credential *)1;
  cmp_client_config *config = NULL;
  cmp_signing_key *key = NULL;
  cmp_transaction *tx = NULL;
  cmp_result rc;
  cmp_event ev;
  int32_t status = -1;
  uint32_t fail_info = 0;
  if (read_file("kem.crt", cert, sizeof cert, &cert_len) != 0) return -1;
  /* an EC certificate (the trust anchor) has no KEM key */
  EXPECT_RC(cmp_credential_new_kem_to_server(trust_pem, trust_pem_len, NULL, 0, &cred),
            CMP_UNSUPPORTED_ALGORITHM);
  EXPECT(cred == NULL);
  EXPECT_RC(cmp_client_config_encapsulate_to_server(NULL, cert, cert_len), CMP_NULL_POINTER);

  /* MAC-protected requests with a ciphertext to the server's KEM key: the
   * responses carry the KEM-based MAC (checked with that secret alone) */
  if (mac_config(&config) != 0) return -1;
  EXPECT_RC(cmp_client_config_encapsulate_to_server(config, trust_pem, trust_pem_len),
            CMP_UNSUPPORTED_ALGORITHM);
  CHECK(cmp_client_config_encapsulate_to_server(config, cert, cert_len));
  if (enroll_config(config, "CN=C KEM Server Authenticated", NULL) != 0) return -1;

  /* requests protected only by the KEM-based MAC authenticate nobody: the
   * reference CA refuses them (notAuthorized, under that same MAC) */
  CHECK(cmp_credential_new_kem_to_server(cert, cert_len, NULL, 0, &cred));
  if (config_of(cred, &config) != 0) return -1;
  int ok = -1;
  if (cmp_signing_key_generate(CMP_KEY_EC_P256, &key) != CMP_OK) goto out;
  if (cmp_transaction_new_enroll(config, CMP_ENROLL_IR, key, "CN=C Anonymous", NULL, 0, now(),
                                 &tx) != CMP_OK)
    goto out;
  if (exchange(tx, CMP_BODY_IR, NULL, &rc, &ev) != 0) goto out;
  if (rc != CMP_PEER_ERROR || cmp_transaction_peer_status(tx, &status, &fail_info) != CMP_OK) {
    fprintf(stderr, "to-server: got %s, expected CMP_PEER_ERROR\n", cmp_result_name(rc));
    goto out;
  }
  if (status != 2 || fail_info != (1u << 23)) { /* rejection, notAuthorized */
    fprintf(stderr, "to-server: status %d fail_info %#x\n", (int)status, (unsigned)fail_info);
    goto out;
  }
  ok = 0;
out:
  cmp_transaction_free(tx);
  cmp_signing_key_free(key);
  cmp_client_config_free(config);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[1], "enroll") != 0 && strcmp(argv[1], "mac") != 0)) {
    fprintf(stderr, "usage: kem_test enroll|mac TRUST_PEM PORT DIR\n");
    return 2;
  }
  FILE *f = fopen(argv[2], "rb");
  if (!f) return 2;
  trust_pem_len = fread(trust_pem, 1, sizeof trust_pem, f);
  fclose(f);
  port = atoi(argv[3]);
  dir = argv[4];
  int failed = 0;
#define RUN(name, call)                                                        \
  do {                                                                         \
    int ok_ = (call);                                                          \
    printf("%s: %s\n", name, ok_ == 0 ? "ok" : "FAILED");                      \
    failed |= ok_ != 0;                                                        \
  } while (0)
  if (strcmp(argv[1], "enroll") == 0) {
    RUN("keys", keys());
    RUN("enroll ML-KEM-512", enroll(CMP_KEM_ML_KEM_512, CMP_KEM_POP_ENCRYPTED_CERT, "CN=C KEM 512", 0));
    RUN("enroll ML-KEM-1024",
        enroll(CMP_KEM_ML_KEM_1024, CMP_KEM_POP_ENCRYPTED_CERT, "CN=C KEM 1024", 0));
    RUN("enroll ML-KEM-768 (challenge)",
        enroll(CMP_KEM_ML_KEM_768, CMP_KEM_POP_CHALLENGE_RESPONSE, "CN=C KEM Challenge", 0));
    RUN("enroll ML-KEM-768",
        enroll(CMP_KEM_ML_KEM_768, CMP_KEM_POP_ENCRYPTED_CERT, "CN=C KEM Server", 1));
    RUN("usage", usage_errors());
  } else {
    RUN("kem-mac", kem_mac());
    RUN("wrong-key", wrong_key());
    RUN("to-server", to_server());
  }
  return failed;
}
