/*
 * CA announcements on the end-entity side through the C API: announcements
 * built by `cmp announce` (signed by server.crt of the test PKI, chain
 * ca.crt, root root.crt) are validated with cmp_announcement_validate and
 * read back:
 *   ckuann  root key update: type, old root = root.der, new root =
 *           newwithnew.der, newWithOld and oldWithNew present
 *   cann    certificate announcement: issued.der, its path up to the root
 *   rann    revocation warning: status 4, the time one hour ahead, serial
 *   crlann  a CRL of ca.crt (made by openssl ca -gencrl): crl.der
 * and the error paths: a request instead of an announcement
 * (CMP_NOT_AN_ANNOUNCEMENT), a ckuann whose old root is not a trust anchor
 * (CMP_UNKNOWN_OLD_ROOT), a message from the future (CMP_BAD_TIME), no
 * trust anchors (CMP_USAGE), outputs of another type (count 0).
 *
 * usage: announce_test PKI_DIR DIR
 *   DIR holds ckuann.der, cann.der, rann.der, newwithnew.der, root.der,
 *   issued.der, crlann.der, crl.der, ir.der (a signed request, ir-sig.1.req.der) and the time the rann was made, in
 *   rann.time (Unix seconds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cmp.h"

static const char *pki, *dir;

static size_t read_in(const char *base, const char *name, uint8_t *buf, size_t cap) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", base, name);
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n < cap ? n : 0;
}

/* A configuration trusting the PEM file `anchor` of the PKI, with ca.crt
 * as untrusted intermediate (none with anchor NULL). */
static int config_with(const char *anchor, cmp_client_config **config) {
  static uint8_t pem[16384];
  size_t n;
  cmp_credential *cred = NULL;
  EXPECT_RC(cmp_credential_new_mac((const uint8_t *)"1234", 4, (const uint8_t *)"1234-5678", 9,
                                   &cred),
            CMP_OK);
  cmp_result rc = cmp_client_config_new(cred, config);
  cmp_credential_free(cred);
  EXPECT_RC(rc, CMP_OK);
  if (!anchor) return 0;
  EXPECT((n = read_in(pki, anchor, pem, sizeof pem)) > 0);
  EXPECT_RC(cmp_client_config_add_trust_anchors(*config, pem, n), CMP_OK);
  EXPECT((n = read_in(pki, "ca.crt", pem, sizeof pem)) > 0);
  EXPECT_RC(cmp_client_config_add_untrusted(*config, pem, n), CMP_OK);
  return 0;
}

/* Item `index` of `which` equals the DER file `name` of DIR. */
static int output_is(const cmp_announcement *a, cmp_announced which, size_t index,
                     const char *name) {
  static uint8_t want[16384], got[16384];
  size_t want_len = read_in(dir, name, want, sizeof want), got_len = 0;
  EXPECT(want_len > 0);
  EXPECT_RC(cmp_announcement_output(a, which, index, NULL, 0, &got_len), CMP_BUFFER_TOO_SMALL);
  EXPECT(got_len == want_len);
  EXPECT_RC(cmp_announcement_output(a, which, index, got, sizeof got, &got_len), CMP_OK);
  EXPECT(got_len == want_len && memcmp(got, want, want_len) == 0);
  return 0;
}

static size_t count_of(const cmp_announcement *a, cmp_announced which) {
  size_t n = 99;
  if (cmp_announcement_output_count(a, which, &n) != CMP_OK) return 99;
  return n;
}

/* Validate DIR/name at `now` with `config`; the result code. */
static cmp_result validate(const cmp_client_config *config, const char *name, uint64_t now,
                           cmp_announcement **a) {
  static uint8_t msg[65536];
  size_t n = read_in(dir, name, msg, sizeof msg);
  if (n == 0) return CMP_USAGE;
  return cmp_announcement_validate(config, msg, n, now, a);
}

static int ckuann(const cmp_client_config *config) {
  cmp_announcement *a = NULL;
  uint32_t type = 99;
  EXPECT_RC(validate(config, "ckuann.der", now(), &a), CMP_OK);
  int ok = -1;
  if (cmp_announcement_get_type(a, &type) != CMP_OK || type != CMP_ANNOUNCEMENT_ROOT_KEY_UPDATE)
    goto out;
  if (output_is(a, CMP_ANNOUNCED_OLD_ROOT, 0, "root.der") != 0) goto out;
  if (output_is(a, CMP_ANNOUNCED_NEW_ROOT, 0, "newwithnew.der") != 0) goto out;
  if (count_of(a, CMP_ANNOUNCED_NEW_WITH_OLD) != 1 || count_of(a, CMP_ANNOUNCED_OLD_WITH_NEW) != 1)
    goto out;
  if (count_of(a, CMP_ANNOUNCED_CERTIFICATE) != 0 || count_of(a, CMP_ANNOUNCED_CRL) != 0) goto out;
  if (cmp_announcement_revocation(a, NULL, NULL, NULL) != CMP_USAGE) goto out;
  if (cmp_announcement_output_count(a, 42, &(size_t){0}) != CMP_USAGE) goto out;
  ok = 0;
out:
  if (ok != 0) fprintf(stderr, "ckuann: a check failed\n");
  cmp_announcement_free(a);
  return ok;
}

static int cann(const cmp_client_config *config) {
  cmp_announcement *a = NULL;
  uint32_t type = 99;
  EXPECT_RC(validate(config, "cann.der", now(), &a), CMP_OK);
  int ok = -1;
  if (cmp_announcement_get_type(a, &type) != CMP_OK || type != CMP_ANNOUNCEMENT_CERTIFICATE)
    goto out;
  if (output_is(a, CMP_ANNOUNCED_CERTIFICATE, 0, "issued.der") != 0) goto out;
  size_t path = count_of(a, CMP_ANNOUNCED_PATH);
  if (path < 2 || path == 99) goto out;
  if (output_is(a, CMP_ANNOUNCED_PATH, 0, "issued.der") != 0) goto out;
  if (output_is(a, CMP_ANNOUNCED_PATH, path - 1, "root.der") != 0) goto out;
  ok = 0;
out:
  if (ok != 0) fprintf(stderr, "cann: a check failed\n");
  cmp_announcement_free(a);
  return ok;
}

static int rann(const cmp_client_config *config) {
  static uint8_t serial[64];
  uint8_t text[32] = {0};
  cmp_announcement *a = NULL;
  uint32_t type = 99;
  int32_t status = -1;
  uint64_t at = 0, since = 0;
  size_t n = 0;
  EXPECT(read_in(dir, "rann.time", text, sizeof text) > 0);
  uint64_t made = strtoull((const char *)text, NULL, 10);
  EXPECT_RC(validate(config, "rann.der", now(), &a), CMP_OK);
  int ok = -1;
  if (cmp_announcement_get_type(a, &type) != CMP_OK || type != CMP_ANNOUNCEMENT_REVOCATION)
    goto out;
  if (cmp_announcement_revocation(a, &status, &at, &since) != CMP_OK) goto out;
  if (status != 4 || at < made + 3600 || at > made + 3600 + 60) goto out;
  if (count_of(a, CMP_ANNOUNCED_SERIAL) != 1) goto out;
  if (cmp_announcement_output(a, CMP_ANNOUNCED_SERIAL, 0, serial, sizeof serial, &n) != CMP_OK)
    goto out;
  /* issued.crt's serial, 6CB63C09...940A */
  if (n != 20 || serial[0] != 0x6C || serial[1] != 0xB6 || serial[19] != 0x0A) goto out;
  ok = 0;
out:
  if (ok != 0) fprintf(stderr, "rann: a check failed\n");
  cmp_announcement_free(a);
  return ok;
}

static int crlann(const cmp_client_config *config) {
  cmp_announcement *a = NULL;
  uint32_t type = 99;
  EXPECT_RC(validate(config, "crlann.der", now(), &a), CMP_OK);
  int ok = -1;
  if (cmp_announcement_get_type(a, &type) != CMP_OK || type != CMP_ANNOUNCEMENT_CRL) goto out;
  if (count_of(a, CMP_ANNOUNCED_CRL) != 1) goto out;
  if (output_is(a, CMP_ANNOUNCED_CRL, 0, "crl.der") != 0) goto out;
  if (count_of(a, CMP_ANNOUNCED_NEW_ROOT) != 0) goto out;
  ok = 0;
out:
  if (ok != 0) fprintf(stderr, "crlann: a check failed\n");
  cmp_announcement_free(a);
  return ok;
}

static int errors(const cmp_client_config *config) {
  cmp_announcement *a = (cmp_announcement *)1;
  cmp_client_config *ca_only = NULL, *none = NULL;
  cmp_client_config *no_skew = NULL;
  /* a signed ir (recorded earlier, hence no messageTime check) */
  EXPECT(config_with("root.crt", &no_skew) == 0);
  EXPECT_RC(cmp_client_config_set_max_time_skew(no_skew, 0), CMP_OK);
  cmp_result rc = validate(no_skew, "ir.der", now(), &a);
  cmp_client_config_free(no_skew);
  EXPECT_RC(rc, CMP_NOT_AN_ANNOUNCEMENT);
  EXPECT(a == NULL);
  /* a message from the future, beyond the 600 s default skew */
  EXPECT_RC(validate(config, "cann.der", now() + 3600, &a), CMP_BAD_TIME);
  EXPECT_RC(validate(config, "cann.der", now(), NULL), CMP_NULL_POINTER);
  EXPECT(config_with(NULL, &none) == 0);
  rc = validate(none, "cann.der", now(), &a);
  cmp_client_config_free(none);
  EXPECT_RC(rc, CMP_USAGE);
  /* trusting ca.crt only: the signer validates, the old root is unknown */
  EXPECT(config_with("ca.crt", &ca_only) == 0);
  rc = validate(ca_only, "ckuann.der", now(), &a);
  cmp_client_config_free(ca_only);
  EXPECT_RC(rc, CMP_UNKNOWN_OLD_ROOT);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: announce_test PKI_DIR DIR\n");
    return 2;
  }
  pki = argv[1];
  dir = argv[2];
  cmp_client_config *config = NULL;
  if (config_with("root.crt", &config) != 0) return 1;
  int failed = 0;
  failed |= ckuann(config) != 0;
  failed |= cann(config) != 0;
  failed |= rann(config) != 0;
  failed |= crlann(config) != 0;
  failed |= errors(config) != 0;
  cmp_client_config_free(config);
  printf("announce_test: %s\n", failed ? "FAILED" : "all passed");
  return failed;
}
