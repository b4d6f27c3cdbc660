/* tests/c/serve_test.h: what the C tests against the reference CA (`cmp
 * serve`, MAC reference 1234, secret 1234-5678) share: result checks, a
 * MAC configuration trusting `trust_pem`, and the request/response loop
 * over tests/c/http.h. Set `port` and `trust_pem` before use. */
#ifndef CMP_SERVE_TEST_H
#define CMP_SERVE_TEST_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cmp.h"
#include "http.h"

static uint8_t response[1 << 17];
static int port;
static uint8_t trust_pem[16384];
static size_t trust_pem_len;

static const char *ref = "1234", *secret = "1234-5678";

/* Read the file `dir`/`name` into buf (not empty, smaller than cap). */
static inline int read_in(const char *dir, const char *name, uint8_t *buf, size_t cap,
                          size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  *len = fread(buf, 1, cap, f);
  fclose(f);
  EXPECT(*len > 0 && *len < cap);
  return 0;
}

/* A configuration around `cred` (consumed) that trusts `trust_pem`. */
static inline int config_of(cmp_credential *cred, cmp_client_config **config) {
  cmp_result rc = cmp_client_config_new(cred, config);
  cmp_credential_free(cred);
  if (rc != CMP_OK) return fail("cmp_client_config_new", rc);
  CHECK(cmp_client_config_add_trust_anchors(*config, trust_pem, trust_pem_len));
  return 0;
}

/* The MAC configuration (reference 1234) that trusts `trust_pem`. */
static inline int mac_config(cmp_client_config **config) {
  cmp_credential *cred = NULL;
  CHECK(cmp_credential_new_mac((const uint8_t *)ref, strlen(ref), (const uint8_t *)secret,
                               strlen(secret), &cred));
  return config_of(cred, config);
}

/* The body type and a header field (cmp_message_header_field) of DER bytes. */
static inline int inspect(const uint8_t *der, size_t len, cmp_body_type *type, uint32_t field,
                          uint8_t *buf, size_t cap, size_t *field_len) {
  cmp_message *m = NULL;
  CHECK(cmp_message_parse(der, len, &m));
  cmp_result rc = cmp_message_body_type(m, type, NULL);
  if (rc == CMP_OK) rc = cmp_message_header_field(m, field, buf, cap, field_len);
  cmp_message_free(m);
  if (rc != CMP_OK) return fail("inspecting a request", rc);
  return 0;
}

/* Send the queued request (must be a `want`), feed the answer. `tid`, if
 * not NULL, receives the request's transactionID (16 bytes). */
static inline int exchange(cmp_transaction *tx, cmp_body_type want, uint8_t *tid,
                           cmp_result *rc, cmp_event *ev) {
  const uint8_t *req;
  size_t req_len, rsp_len, tid_len = 0;
  uint8_t id[64];
  cmp_body_type type;
  CHECK(cmp_transaction_next_request(tx, &req, &req_len));
  EXPECT(req != NULL && req_len > 0);
  if (inspect(req, req_len, &type, 0, id, sizeof id, &tid_len) != 0) return -1;
  EXPECT(type == want);
  EXPECT(tid_len == 16);
  if (tid) memcpy(tid, id, 16);
  if (http_post(port, req, req_len, response, sizeof response, &rsp_len) != 0)
    return fail("HTTP exchange", CMP_USAGE);
  *ev = (cmp_event)99;
  *rc = cmp_transaction_handle_response(tx, response, rsp_len, now(), ev);
  return 0;
}

/* exchange(), which must succeed with event `want_ev`. */
static inline int step(cmp_transaction *tx, cmp_body_type want, uint8_t *tid,
                       cmp_event want_ev) {
  cmp_result rc;
  cmp_event ev;
  if (exchange(tx, want, tid, &rc, &ev) != 0) return -1;
  if (rc != CMP_OK) return fail("cmp_transaction_handle_response", rc);
  EXPECT(ev == want_ev);
  return 0;
}

/* Accept the issued certificate: certConf, pkiConf, completed. */
static inline int confirm(cmp_transaction *tx) {
  cmp_event ev = (cmp_event)99;
  CHECK(cmp_transaction_confirm(tx, now(), &ev));
  EXPECT(ev == CMP_EVENT_CONTINUE);
  if (step(tx, CMP_BODY_CERTCONF, NULL, CMP_EVENT_COMPLETED) != 0) return -1;
  EXPECT(cmp_transaction_is_finished(tx) && cmp_transaction_is_completed(tx));
  return 0;
}

/* Whether `needle` occurs in `hay`. */
static inline int contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle,
                           size_t len) {
  for (size_t i = 0; len > 0 && i + len <= hay_len; i++)
    if (memcmp(hay + i, needle, len) == 0) return 1;
  return 0;
}

#endif
