#include <stdio.h>
#include <time.h>
#include "cmp.h"

int main(void) {
  cmp_credential *cred = NULL;
  cmp_client_config *cfg = NULL;
  cmp_signing_key *key = NULL;
  cmp_transaction *tx = NULL;
  const uint8_t *req;
  size_t req_len;
  char err[256];

  cmp_result rc = cmp_credential_new_mac((const uint8_t *)"1234", 4,
                                         (const uint8_t *)"1234-5678", 9, &cred);
  if (rc == CMP_OK) rc = cmp_client_config_new(cred, &cfg);
  if (rc == CMP_OK) rc = cmp_signing_key_generate(CMP_KEY_EC_P256, &key);
  if (rc == CMP_OK)
    rc = cmp_transaction_new_enroll(cfg, CMP_ENROLL_IR, key, "CN=Test Device",
                                    NULL, 0, (uint64_t)time(NULL), &tx);
  if (rc == CMP_OK) rc = cmp_transaction_next_request(tx, &req, &req_len);
  if (rc == CMP_OK) {
    /* POST req to http://ca.example/pkix/ as application/pkixcmp, then feed
       the answer to cmp_transaction_handle_response() until finished; see
       tests/c/enroll.c for the whole loop over a socket. */
    printf("ir: %zu bytes to send\n", req_len);
  } else {
    cmp_last_error_message(err, sizeof err);
    fprintf(stderr, "%s\n", err);
  }
  cmp_transaction_free(tx); /* every *_free accepts NULL */
  cmp_signing_key_free(key);
  cmp_client_config_free(cfg);
  cmp_credential_free(cred);
  return rc == CMP_OK ? 0 : 1;
}
