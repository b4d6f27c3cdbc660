/*
 * The client flows of the C API that enroll.c does not take, one per run,
 * each against OpenSSL's mock server (tests/interop/mock-server.sh) on
 * 127.0.0.1, checking every event, the body type of every request, the
 * outputs and the final state.
 *
 *   p10cr     p10cr with csr.der; certConf, pkiConf.
 *             Server: mac.
 *   poll      ir answered "waiting": pollReq, pollRep, a wait driven by
 *             cmp_transaction_timeout/cmp_transaction_handle_timeout,
 *             pollReq, ip; certConf, pkiConf.
 *             Server: mac -poll_count 2 -check_after 1.
 *   implicit  ir asking for implicit confirmation, granted: confirming
 *             completes at once, no certConf; then a second ir rejected
 *             the same way.  Server: mac -grant_implicitconf.
 *   reject    ir whose certificate the caller rejects with
 *             cmp_transaction_reject (badCertTemplate): certConf with the
 *             rejection, pkiConf.  Server: mac.
 *   rejected  ir refused by the server (rejection, badPOP), reported as
 *             CMP_PEER_ERROR and through cmp_transaction_peer_status.
 *             Server: mac -pkistatus 2 -failure 9 -statusstring "mock rejection".
 *   sig       ir signed with ee.key/ee.crt (ca.crt as chain); the signed
 *             responses are checked against root.crt via ca.crt.
 *             Server: sig.
 *
 * The mock server always issues issued.crt, so every request is for
 * issued.key and "CN=Test Device". MAC: reference 1234, secret 1234-5678.
 * Transport: tests/c/http.h.
 *
 * usage: flows PKI_DIR FLOW PORT
 *   PKI_DIR  tests/vectors/pki
 *   FLOW     one of the above
 *   PORT     the mock server for FLOW on 127.0.0.1
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cmp.h"
#include "http.h"

#define MAX_MSG 16384

static uint8_t response[MAX_MSG + 1024]; /* the last response */
static size_t response_len;
static uint64_t response_time; /* the `now` it was handled at */
static const char *pki;
static int port;

static const char *event_name(cmp_event ev) {
  static const char *names[] = {"CONTINUE", "WAITING", "CERTIFICATE_ISSUED",
                                "REVOKED", "GENERAL_RESPONSE", "COMPLETED"};
  return ev < sizeof names / sizeof names[0] ? names[ev] : "(none)";
}

/* ----- files ----- */

static size_t read_file(const char *name, uint8_t *buf, size_t cap) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", pki, name);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n < cap ? n : 0; /* 0: missing or too large */
}

static int b64(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* The DER of the first PEM block of `name`, 0 on failure. */
static size_t read_pem_der(const char *name, uint8_t *der, size_t cap) {
  static char pem[8192];
  size_t n = read_file(name, (uint8_t *)pem, sizeof pem - 1), len = 0;
  if (n == 0) return 0;
  pem[n] = '\0';
  char *p = strstr(pem, "-----BEGIN"), *end;
  if (!p || !(p = strchr(p, '\n')) || !(end = strstr(p, "-----END"))) return 0;
  uint32_t acc = 0;
  int bits = 0;
  for (; p < end; p++) {
    int v = b64((unsigned char)*p);
    if (v < 0) continue; /* newlines; '=' padding ends in the partial group */
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (len == cap) return 0;
      der[len++] = (uint8_t)(acc >> bits);
    }
  }
  return len;
}

/* ----- the exchange ----- */

/* The body name of DER bytes (parsed with the library). */
static const char *body_of(const uint8_t *der, size_t len, cmp_body_type *type) {
  cmp_message *m = NULL;
  const char *name = "(unparsable)";
  *type = (cmp_body_type)-1;
  if (cmp_message_parse(der, len, &m) == CMP_OK) {
    name = cmp_message_body_name(m);
    if (cmp_message_body_type(m, type, NULL) != CMP_OK) *type = (cmp_body_type)-1;
  }
  cmp_message_free(m);
  return name;
}

/* Whether the readable description of DER bytes mentions `what`. */
static int mentions(const uint8_t *der, size_t len, const char *what) {
  static char text[32768];
  cmp_message *m = NULL;
  size_t n = 0;
  int found = cmp_message_parse(der, len, &m) == CMP_OK &&
              cmp_message_describe(m, text, sizeof text, &n) == CMP_OK &&
              strstr(text, what) != NULL;
  cmp_message_free(m);
  return found;
}

/* Send `req` (a request of the transaction, which must be a `want`) and
 * feed the answer: *rc and *ev get what cmp_transaction_handle_response
 * returned. */
static int send_request(cmp_transaction *tx, const uint8_t *req, size_t req_len,
                        cmp_body_type want, cmp_result *rc, cmp_event *ev) {
  size_t rsp_len;
  cmp_body_type got;
  EXPECT(req != NULL && req_len > 0);
  const char *name = body_of(req, req_len, &got);
  if (got != want) {
    fprintf(stderr, "sent %s, expected body type %u\n", name, (unsigned)want);
    return -1;
  }
  if (http_post(port, req, req_len, response, sizeof response, &rsp_len) != 0)
    return fail("HTTP exchange", CMP_USAGE);
  response_len = rsp_len;
  printf("  %s -> %s: ", name, body_of(response, rsp_len, &got));
  *ev = (cmp_event)99;
  response_time = now();
  *rc = cmp_transaction_handle_response(tx, response, rsp_len, response_time, ev);
  if (*rc == CMP_OK)
    printf("event %s\n", event_name(*ev));
  else
    printf("%s\n", cmp_result_name(*rc));
  return 0;
}

/* Send the queued request, which must be a `want`, and feed the answer. */
static int exchange(cmp_transaction *tx, cmp_body_type want, cmp_result *rc, cmp_event *ev) {
  const uint8_t *req;
  size_t req_len;
  CHECK(cmp_transaction_next_request(tx, &req, &req_len));
  return send_request(tx, req, req_len, want, rc, ev);
}

/* Like exchange, but the response must be accepted with event `want_ev`. */
static int step(cmp_transaction *tx, cmp_body_type want, cmp_event want_ev) {
  cmp_result rc;
  cmp_event ev;
  if (exchange(tx, want, &rc, &ev) != 0) return -1;
  if (rc != CMP_OK) return fail("cmp_transaction_handle_response", rc);
  EXPECT(ev == want_ev);
  return 0;
}

/* Nothing left to send and no timer. */
static int idle(cmp_transaction *tx) {
  const uint8_t *req = (const uint8_t *)"";
  size_t len = 1;
  uint64_t at = 1;
  CHECK(cmp_transaction_next_request(tx, &req, &len));
  EXPECT(req == NULL && len == 0);
  CHECK(cmp_transaction_timeout(tx, &at));
  EXPECT(at == 0);
  return 0;
}

/* The certificate of CERTIFICATE_ISSUED is issued.crt, with ca.crt first in
 * its chain, and root.crt as caPubs when `ca_pubs` (OpenSSL's mock server
 * sends caPubs in an ip only). */
static int check_issued(const cmp_transaction *tx, int ca_pubs) {
  static uint8_t want[4096], got[4096];
  size_t want_len, got_len, n;
  CHECK(cmp_transaction_output_count(tx, CMP_OUTPUT_CERTIFICATE, &n));
  EXPECT(n == 1);
  got_len = 0; /* asking for the size */
  EXPECT(cmp_transaction_output(tx, CMP_OUTPUT_CERTIFICATE, 0, NULL, 0, &got_len) ==
             CMP_BUFFER_TOO_SMALL &&
         got_len > 0);
  CHECK(cmp_transaction_output(tx, CMP_OUTPUT_CERTIFICATE, 0, got, sizeof got, &got_len));
  want_len = read_pem_der("issued.crt", want, sizeof want);
  EXPECT(want_len > 0 && got_len == want_len && memcmp(got, want, want_len) == 0);

  CHECK(cmp_transaction_output_count(tx, CMP_OUTPUT_CHAIN, &n));
  EXPECT(n >= 1);
  CHECK(cmp_transaction_output(tx, CMP_OUTPUT_CHAIN, 0, got, sizeof got, &got_len));
  want_len = read_pem_der("ca.crt", want, sizeof want);
  EXPECT(want_len > 0 && got_len == want_len && memcmp(got, want, want_len) == 0);

  CHECK(cmp_transaction_output_count(tx, CMP_OUTPUT_CA_PUBS, &n));
  EXPECT(n == (size_t)ca_pubs);
  if (ca_pubs) {
    CHECK(cmp_transaction_output(tx, CMP_OUTPUT_CA_PUBS, 0, got, sizeof got, &got_len));
    want_len = read_pem_der("root.crt", want, sizeof want);
    EXPECT(want_len > 0 && got_len == want_len && memcmp(got, want, want_len) == 0);
  }

  CHECK(cmp_transaction_output_count(tx, CMP_OUTPUT_EXTRA_CERTS, &n));
  EXPECT(n >= 2); /* chain.crt: ca.crt and root.crt */
  EXPECT(cmp_transaction_output(tx, CMP_OUTPUT_CA_PUBS, (size_t)ca_pubs, got, sizeof got,
                                &got_len) == CMP_USAGE); /* out of range */
  return 0;
}

/* Accept the certificate: certConf, then pkiConf completes. */
static int confirm_explicitly(cmp_transaction *tx) {
  cmp_event ev = (cmp_event)99;
  CHECK(cmp_transaction_confirm(tx, now(), &ev));
  EXPECT(ev == CMP_EVENT_CONTINUE);
  EXPECT(!cmp_transaction_is_finished(tx));
  if (step(tx, CMP_BODY_CERTCONF, CMP_EVENT_COMPLETED) != 0) return -1;
  EXPECT(cmp_transaction_is_finished(tx) && cmp_transaction_is_completed(tx));
  return idle(tx);
}

/* ----- configurations ----- */

static cmp_client_config *mac_config(void) {
  cmp_credential *cred = NULL;
  cmp_client_config *cfg = NULL;
  if (cmp_credential_new_mac((const uint8_t *)"1234", 4, (const uint8_t *)"1234-5678", 9,
                             &cred) != CMP_OK ||
      cmp_client_config_new(cred, &cfg) != CMP_OK ||
      cmp_client_config_set_max_message_size(cfg, MAX_MSG) != CMP_OK) {
    fail("MAC configuration", CMP_USAGE);
    cmp_client_config_free(cfg);
    cfg = NULL;
  }
  cmp_credential_free(cred); /* the configuration keeps a copy */
  return cfg;
}

static cmp_signing_key *load_key(const char *name) {
  static uint8_t pem[4096];
  size_t len = read_file(name, pem, sizeof pem);
  cmp_signing_key *key = NULL;
  if (len == 0 || cmp_signing_key_from_bytes(pem, len, &key) != CMP_OK) {
    fail(name, CMP_CRYPTO);
    return NULL;
  }
  return key;
}

/* An ir for issued.key, "CN=Test Device". */
static cmp_transaction *start_ir(const cmp_client_config *cfg) {
  cmp_signing_key *key = load_key("issued.key");
  cmp_transaction *tx = NULL;
  if (key && cmp_transaction_new_enroll(cfg, CMP_ENROLL_IR, key, "CN=Test Device", NULL, 0,
                                        now(), &tx) != CMP_OK)
    fail("cmp_transaction_new_enroll", CMP_USAGE);
  cmp_signing_key_free(key); /* the transaction keeps its reference */
  return tx;
}

/* ----- the flows ----- */

static int flow_p10cr(cmp_client_config *cfg, cmp_transaction **txp) {
  static uint8_t csr[4096];
  size_t csr_len = read_file("csr.der", csr, sizeof csr);
  EXPECT(csr_len > 0);
  EXPECT(cmp_transaction_new_p10cr(cfg, csr, 10, now(), txp) == CMP_DECODE && *txp == NULL);
  CHECK(cmp_transaction_new_p10cr(cfg, csr, csr_len, now(), txp));
  cmp_transaction *tx = *txp;
  if (step(tx, CMP_BODY_P10CR, CMP_EVENT_CERTIFICATE_ISSUED) != 0) return -1;
  if (check_issued(tx, 0) != 0) return -1; /* a cp */
  return confirm_explicitly(tx);
}

static int flow_poll(cmp_client_config *cfg, cmp_transaction **txp) {
  cmp_transaction *tx = *txp = start_ir(cfg);
  EXPECT(tx != NULL);
  int waiting = 0, timed_waits = 0, polls = 0;
  cmp_result rc;
  cmp_event ev;
  if (exchange(tx, CMP_BODY_IR, &rc, &ev) != 0) return -1;
  for (int round = 0; round < 10 && rc == CMP_OK && ev == CMP_EVENT_WAITING; round++) {
    EXPECT(!cmp_transaction_is_finished(tx));
    waiting++;
    const uint8_t *req;
    size_t len;
    uint64_t at = 1, start = now();
    CHECK(cmp_transaction_timeout(tx, &at));
    CHECK(cmp_transaction_next_request(tx, &req, &len));
    if (at == 0) { /* "waiting" in the ip: the pollReq is queued already */
      EXPECT(req != NULL);
    } else { /* a pollRep: wait for the timer, as a device would */
      EXPECT(req == NULL);
      EXPECT(at == response_time + 1); /* -check_after 1 */
      CHECK(cmp_transaction_handle_timeout(tx, at - 1)); /* early: nothing happens */
      CHECK(cmp_transaction_next_request(tx, &req, &len));
      EXPECT(req == NULL && !cmp_transaction_is_finished(tx));
      while (now() < at) usleep(100 * 1000);
      printf("  (waited %us for the timer)\n", (unsigned)(now() - start));
      CHECK(cmp_transaction_handle_timeout(tx, now()));
      timed_waits++;
      CHECK(cmp_transaction_next_request(tx, &req, &len));
      EXPECT(req != NULL); /* the pollReq is due */
    }
    polls++;
    if (send_request(tx, req, len, CMP_BODY_POLLREQ, &rc, &ev) != 0) return -1;
  }
  if (rc != CMP_OK) return fail("cmp_transaction_handle_response", rc);
  EXPECT(ev == CMP_EVENT_CERTIFICATE_ISSUED);
  printf("  %d waiting event(s), %d pollReq(s), %d timed wait(s)\n", waiting, polls,
         timed_waits);
  EXPECT(waiting >= 2 && polls == waiting && timed_waits >= 1);
  if (check_issued(tx, 1) != 0) return -1;
  return confirm_explicitly(tx);
}

/* An ir with implicit confirmation granted, then the decision: accepting or
 * rejecting both complete at once, with nothing sent. */
static int implicit_ir(cmp_transaction *tx, int reject) {
  const uint8_t *req;
  size_t len;
  cmp_result rc;
  cmp_event ev;
  EXPECT(tx != NULL);
  CHECK(cmp_transaction_next_request(tx, &req, &len));
  EXPECT(req != NULL && mentions(req, len, "implicitConfirm")); /* asked */
  if (send_request(tx, req, len, CMP_BODY_IR, &rc, &ev) != 0) return -1;
  if (rc != CMP_OK) return fail("cmp_transaction_handle_response", rc);
  EXPECT(ev == CMP_EVENT_CERTIFICATE_ISSUED);
  EXPECT(mentions(response, response_len, "implicitConfirm")); /* granted */
  if (check_issued(tx, 1) != 0) return -1;
  ev = (cmp_event)99;
  if (reject)
    CHECK(cmp_transaction_reject(tx, 7, NULL, now(), &ev)); /* incorrectData */
  else
    CHECK(cmp_transaction_confirm(tx, now(), &ev));
  printf("  %s: event %s\n", reject ? "rejected" : "confirmed", event_name(ev));
  EXPECT(ev == CMP_EVENT_COMPLETED); /* granted: no certConf */
  EXPECT(cmp_transaction_is_finished(tx) && cmp_transaction_is_completed(tx));
  EXPECT(cmp_transaction_confirm(tx, now(), &ev) == CMP_USAGE); /* decided already */
  return idle(tx);
}

static int flow_implicit(cmp_client_config *cfg, cmp_transaction **txp) {
  CHECK(cmp_client_config_set_implicit_confirm(cfg, true));
  if (implicit_ir(*txp = start_ir(cfg), 0) != 0) return -1;
  cmp_transaction_free(*txp);
  return implicit_ir(*txp = start_ir(cfg), 1);
}

static int flow_reject(cmp_client_config *cfg, cmp_transaction **txp) {
  cmp_transaction *tx = *txp = start_ir(cfg);
  EXPECT(tx != NULL);
  cmp_event ev = (cmp_event)99;
  EXPECT(cmp_transaction_reject(tx, 19, NULL, now(), &ev) == CMP_USAGE); /* nothing issued */
  if (step(tx, CMP_BODY_IR, CMP_EVENT_CERTIFICATE_ISSUED) != 0) return -1;
  if (check_issued(tx, 1) != 0) return -1;
  EXPECT(cmp_transaction_reject(tx, 27, "no such bit", now(), &ev) == CMP_USAGE);
  EXPECT(!cmp_transaction_is_finished(tx)); /* still awaiting the decision */
  /* badCertTemplate */
  CHECK(cmp_transaction_reject(tx, 19, "not the certificate we want", now(), &ev));
  EXPECT(ev == CMP_EVENT_CONTINUE);
  EXPECT(!cmp_transaction_is_finished(tx));
  /* certConf with the rejection; the server answers pkiConf */
  const uint8_t *req;
  size_t len;
  cmp_result rc;
  CHECK(cmp_transaction_next_request(tx, &req, &len));
  EXPECT(req != NULL &&
         mentions(req, len, "rejection (badCertTemplate): not the certificate we want"));
  if (send_request(tx, req, len, CMP_BODY_CERTCONF, &rc, &ev) != 0) return -1;
  printf("  after the pkiConf: %s, finished %d, completed %d\n", cmp_result_name(rc),
         cmp_transaction_is_finished(tx), cmp_transaction_is_completed(tx));
  /* the exchange ended properly (the rejection was ours): completed */
  EXPECT(rc == CMP_OK && ev == CMP_EVENT_COMPLETED);
  EXPECT(cmp_transaction_is_finished(tx) && cmp_transaction_is_completed(tx));
  EXPECT(cmp_transaction_peer_status(tx, NULL, NULL) == CMP_USAGE); /* the server did not fail */
  EXPECT(cmp_transaction_confirm(tx, now(), &ev) == CMP_USAGE);     /* decided already */
  size_t n = 0;
  CHECK(cmp_transaction_output_count(tx, CMP_OUTPUT_CERTIFICATE, &n));
  EXPECT(n == 1); /* the rejected certificate stays readable */
  return idle(tx);
}

static int flow_rejected(cmp_client_config *cfg, cmp_transaction **txp) {
  cmp_transaction *tx = *txp = start_ir(cfg);
  EXPECT(tx != NULL);
  int32_t status = -1;
  uint32_t fail_info = 0;
  EXPECT(cmp_transaction_peer_status(tx, &status, &fail_info) == CMP_USAGE); /* none yet */
  cmp_result rc;
  cmp_event ev;
  if (exchange(tx, CMP_BODY_IR, &rc, &ev) != 0) return -1;
  EXPECT(rc == CMP_PEER_ERROR);
  char msg[512];
  cmp_last_error_message(msg, sizeof msg);
  printf("  %s\n", msg);
  EXPECT(strncmp(msg, "CMP_PEER_ERROR", 14) == 0);
  EXPECT(strstr(msg, "mock rejection") != NULL); /* -statusstring */
  CHECK(cmp_transaction_peer_status(tx, &status, &fail_info));
  printf("  peer status %d, failInfo 0x%x\n", (int)status, (unsigned)fail_info);
  EXPECT(status == 2);                /* rejection */
  EXPECT(fail_info == (1u << 9));     /* badPOP, and only it */
  CHECK(cmp_transaction_peer_status(tx, NULL, NULL)); /* both optional */
  EXPECT(cmp_transaction_is_finished(tx) && !cmp_transaction_is_completed(tx));
  size_t n = 1;
  CHECK(cmp_transaction_output_count(tx, CMP_OUTPUT_CERTIFICATE, &n));
  EXPECT(n == 0);
  EXPECT(cmp_transaction_handle_response(tx, response, 0, now(), &ev) == CMP_USAGE); /* ended */
  return idle(tx);
}

static int flow_sig(cmp_client_config **cfgp, cmp_transaction **txp) {
  static uint8_t cert[4096], ca[4096], root[4096];
  size_t cert_len = read_file("ee.crt", cert, sizeof cert);
  size_t ca_len = read_file("ca.crt", ca, sizeof ca);
  size_t root_len = read_file("root.crt", root, sizeof root);
  EXPECT(cert_len && ca_len && root_len);
  cmp_signing_key *ee = load_key("ee.key");
  EXPECT(ee != NULL);
  cmp_credential *cred = NULL;
  cmp_result rc = cmp_credential_new_signature(ee, cert, cert_len, ca, ca_len, &cred);
  cmp_signing_key_free(ee); /* the credential keeps its reference */
  if (rc != CMP_OK) return fail("cmp_credential_new_signature", rc);
  rc = cmp_client_config_new(cred, cfgp);
  cmp_credential_free(cred);
  if (rc != CMP_OK) return fail("cmp_client_config_new", rc);
  CHECK(cmp_client_config_add_trust_anchors(*cfgp, root, root_len));
  CHECK(cmp_client_config_add_untrusted(*cfgp, ca, ca_len));
  CHECK(cmp_client_config_set_max_message_size(*cfgp, MAX_MSG));
  cmp_transaction *tx = *txp = start_ir(*cfgp);
  EXPECT(tx != NULL);
  /* the ir is signed */
  const uint8_t *req;
  size_t len;
  cmp_message *m = NULL;
  cmp_protection_kind prot = CMP_PROTECTION_NONE;
  CHECK(cmp_transaction_next_request(tx, &req, &len));
  EXPECT(req != NULL);
  CHECK(cmp_message_parse(req, len, &m));
  rc = cmp_message_protection(m, &prot);
  cmp_message_free(m);
  CHECK(rc);
  EXPECT(prot == CMP_PROTECTION_SIGNATURE);
  cmp_event ev;
  if (send_request(tx, req, len, CMP_BODY_IR, &rc, &ev) != 0) return -1;
  if (rc != CMP_OK) return fail("cmp_transaction_handle_response", rc);
  EXPECT(ev == CMP_EVENT_CERTIFICATE_ISSUED);
  if (check_issued(tx, 1) != 0) return -1;
  return confirm_explicitly(tx);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PKI_DIR p10cr|poll|implicit|reject|rejected|sig PORT\n",
            argv[0]);
    return 2;
  }
  pki = argv[1];
  const char *flow = argv[2];
  port = atoi(argv[3]);
  cmp_client_config *cfg = NULL;
  cmp_transaction *tx = NULL;
  int rc = -1;
  if (strcmp(flow, "sig") == 0) {
    rc = flow_sig(&cfg, &tx);
  } else {
    cfg = mac_config();
    if (cfg == NULL)
      rc = -1;
    else if (strcmp(flow, "p10cr") == 0)
      rc = flow_p10cr(cfg, &tx);
    else if (strcmp(flow, "poll") == 0)
      rc = flow_poll(cfg, &tx);
    else if (strcmp(flow, "implicit") == 0)
      rc = flow_implicit(cfg, &tx);
    else if (strcmp(flow, "reject") == 0)
      rc = flow_reject(cfg, &tx);
    else if (strcmp(flow, "rejected") == 0)
      rc = flow_rejected(cfg, &tx);
    else {
      fprintf(stderr, "unknown flow %s\n", flow);
      rc = -2;
    }
  }
  cmp_transaction_free(tx);
  cmp_client_config_free(cfg);
  printf("%s: %s\n", flow, rc == 0 ? "OK" : "FAILED");
  return rc == 0 ? 0 : rc == -2 ? 2 : 1;
}
