/*
 * Firmware-style example: enroll with a shared secret (ir, PBM), renew with
 * kur signed by the issued certificate whose key sits behind a signing
 * callback (as in a secure element), then a genm and an rr. Transport: a
 * tiny blocking HTTP/1.1 POST over plain sockets, fixed buffers, no heap
 * use in this file.
 *
 * usage: enroll PKI_DIR MAC_PORT SIG_PORT
 *   PKI_DIR   tests/vectors/pki (issued.key, ca.crt, root.crt)
 *   MAC_PORT  OpenSSL mock server in mac mode on 127.0.0.1
 *   SIG_PORT  OpenSSL mock server in sig mode on 127.0.0.1
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cmp.h"
#include "http.h"

#define MAX_MSG 16384 /* largest CMP response we accept (and allocate) */

static uint8_t response[MAX_MSG + 1024];
static uint8_t issued_cert[4096];
static size_t issued_cert_len;

static size_t read_file(const char *dir, const char *name, uint8_t *buf, size_t cap) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n < cap ? n : 0; /* 0: missing or too large */
}

/* Drive a transaction to its end; keeps an issued certificate. */
static int run(cmp_transaction *tx, int port) {
  for (int round = 0; round < 20; round++) {
    const uint8_t *req;
    size_t req_len, rsp_len;
    CHECK(cmp_transaction_next_request(tx, &req, &req_len));
    if (req == NULL) {
      if (cmp_transaction_is_finished(tx)) return cmp_transaction_is_completed(tx) ? 0 : -1;
      uint64_t at;
      CHECK(cmp_transaction_timeout(tx, &at));
      if (at == 0) return fail("nothing to send and no timer", CMP_USAGE);
      if (at > now()) sleep((unsigned)(at - now()));
      CHECK(cmp_transaction_handle_timeout(tx, now()));
      continue;
    }
    if (http_post(port, req, req_len, response, sizeof response, &rsp_len) != 0)
      return fail("HTTP exchange", CMP_USAGE);
    cmp_event ev;
    CHECK(cmp_transaction_handle_response(tx, response, rsp_len, now(), &ev));
    if (ev == CMP_EVENT_CERTIFICATE_ISSUED) {
      CHECK(cmp_transaction_output(tx, CMP_OUTPUT_CERTIFICATE, 0, issued_cert,
                                   sizeof issued_cert, &issued_cert_len));
      CHECK(cmp_transaction_confirm(tx, now(), &ev));
    }
    printf("  event %u\n", (unsigned)ev);
  }
  return -1;
}

/* The "secure element": here a software key behind the callback. */
static int se_sign(void *userdata, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                   size_t cap, size_t *sig_len) {
  return cmp_signing_key_sign(userdata, msg, msg_len, sig, cap, sig_len) == CMP_OK ? 0 : -1;
}

static uint8_t key_pem[4096], ca_pem[8192], root_pem[8192];

static int enroll_mac(int port, const cmp_signing_key *key) {
  cmp_credential *cred = NULL;
  cmp_client_config *cfg = NULL;
  cmp_transaction *tx = NULL;
  int rc = -1;
  if (cmp_credential_new_mac((const uint8_t *)"1234", 4, (const uint8_t *)"1234-5678", 9,
                             &cred) != CMP_OK ||
      cmp_client_config_new(cred, &cfg) != CMP_OK ||
      cmp_client_config_set_max_message_size(cfg, MAX_MSG) != CMP_OK ||
      cmp_transaction_new_enroll(cfg, CMP_ENROLL_IR, key, "CN=Test Device", NULL, 0, now(),
                                 &tx) != CMP_OK)
    fail("ir setup", CMP_USAGE);
  else if (run(tx, port) == 0 && issued_cert_len > 0)
    rc = 0;
  cmp_transaction_free(tx);
  tx = NULL;
  if (rc == 0) { /* a genm on the same configuration */
    size_t n = 0;
    rc = -1;
    if (cmp_transaction_new_genm(cfg, CMP_GENM_EMPTY, now(), &tx) == CMP_OK && run(tx, port) == 0 &&
        cmp_transaction_output_count(tx, CMP_OUTPUT_GENP_ITAV, &n) == CMP_OK) {
      printf("genm: %zu item(s)\n", n);
      rc = 0;
    }
    cmp_transaction_free(tx);
  }
  cmp_client_config_free(cfg);
  cmp_credential_free(cred);
  return rc;
}

static int renew_kur(int port, const cmp_signing_key *soft, size_t ca_len, size_t root_len) {
  uint8_t spki[256];
  size_t spki_len;
  cmp_signing_key *se = NULL;
  cmp_credential *cred = NULL;
  cmp_client_config *cfg = NULL;
  cmp_transaction *tx = NULL;
  int rc = -1;
  if (cmp_signing_key_public_key(soft, spki, sizeof spki, &spki_len) != CMP_OK ||
      cmp_signing_key_new_callback(spki, spki_len, CMP_SIGNATURE_DER, se_sign, (void *)soft,
                                   &se) != CMP_OK ||
      cmp_credential_new_signature(se, issued_cert, issued_cert_len, ca_pem, ca_len, &cred) !=
          CMP_OK ||
      cmp_client_config_new(cred, &cfg) != CMP_OK ||
      cmp_client_config_add_trust_anchors(cfg, root_pem, root_len) != CMP_OK ||
      cmp_client_config_add_untrusted(cfg, ca_pem, ca_len) != CMP_OK ||
      cmp_transaction_new_enroll(cfg, CMP_ENROLL_KUR, se, NULL, issued_cert, issued_cert_len,
                                 now(), &tx) != CMP_OK)
    fail("kur setup", CMP_USAGE);
  else if (run(tx, port) == 0)
    rc = 0;
  cmp_transaction_free(tx);
  tx = NULL;
  if (rc == 0) { /* revoke it, signed the same way */
    rc = -1;
    if (cmp_transaction_new_rr(cfg, issued_cert, issued_cert_len, 1, now(), &tx) == CMP_OK &&
        run(tx, port) == 0)
      rc = 0;
    cmp_transaction_free(tx);
  }
  cmp_client_config_free(cfg);
  cmp_credential_free(cred);
  cmp_signing_key_free(se);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PKI_DIR MAC_PORT SIG_PORT\n", argv[0]);
    return 2;
  }
  size_t key_len = read_file(argv[1], "issued.key", key_pem, sizeof key_pem);
  size_t ca_len = read_file(argv[1], "ca.crt", ca_pem, sizeof ca_pem);
  size_t root_len = read_file(argv[1], "root.crt", root_pem, sizeof root_pem);
  if (!key_len || !ca_len || !root_len) {
    fprintf(stderr, "cannot read the PKI files in %s\n", argv[1]);
    return 2;
  }
  printf("cmp %s\n", cmp_version());
  cmp_signing_key *key = NULL;
  if (cmp_signing_key_from_bytes(key_pem, key_len, &key) != CMP_OK) return fail("key", CMP_USAGE), 1;
  int rc = 1;
  printf("ir (MAC) + genm:\n");
  if (enroll_mac(atoi(argv[2]), key) == 0) {
    printf("enrolled: certificate of %zu bytes\nkur (signed via callback) + rr:\n", issued_cert_len);
    if (renew_kur(atoi(argv[3]), key, ca_len, root_len) == 0) {
      printf("renewed and revoked: OK\n");
      rc = 0;
    }
  }
  cmp_signing_key_free(key);
  return rc;
}
