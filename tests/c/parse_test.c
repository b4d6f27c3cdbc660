/*
 * Unit test of the parse/inspect entry points with hostile input: garbage,
 * every truncation and every single-byte corruption of a real response,
 * NULL pointers and small buffers. Every call must return a result code
 * (never crash); valgrind checks memory.
 *
 * usage: parse_test RESPONSE.der [STRIDE]   (e.g. tests/vectors/ir-pbm.1.rsp.der 1)
 *   STRIDE: test every STRIDE-th truncation and corruption (default 1: all)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmp.h"

static int failures;
#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);      \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static uint8_t msg[16384], copy[16384];

/* Parse and, when it parses, exercise every inspector. */
static cmp_result poke(const uint8_t *data, size_t len) {
  cmp_message *m = (cmp_message *)&m; /* must be reset to NULL on failure */
  cmp_result rc = cmp_message_parse(data, len, &m);
  if (rc != CMP_OK) {
    EXPECT(m == NULL);
    return rc;
  }
  cmp_body_type body;
  uint64_t pvno;
  cmp_protection_kind prot;
  int32_t status;
  uint32_t bits;
  size_t n = 0, l;
  char text[8192];
  uint8_t buf[4096];
  EXPECT(cmp_message_body_type(m, &body, &pvno) == CMP_OK);
  (void)cmp_message_protection(m, &prot);
  (void)cmp_message_status(m, &status, &bits);
  (void)cmp_message_verify_mac(m, (const uint8_t *)"1234-5678", 9);
  for (uint32_t f = 0; f < 5; f++) (void)cmp_message_header_field(m, f, buf, sizeof buf, &l);
  EXPECT(cmp_message_extra_cert_count(m, &n) == CMP_OK);
  for (size_t i = 0; i < n; i++) (void)cmp_message_extra_cert(m, i, buf, sizeof buf, &l);
  (void)cmp_message_describe(m, text, sizeof text, &l);
  cmp_message_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) return 2;
  size_t stride = argc == 3 ? (size_t)strtoul(argv[2], NULL, 10) : 1;
  if (stride == 0) stride = 1;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  size_t len = fread(msg, 1, sizeof msg, f);
  fclose(f);
  if (len == 0 || len == sizeof msg) return 2;

  /* the real message parses and reads back */
  cmp_message *m = NULL;
  EXPECT(cmp_message_parse(msg, len, &m) == CMP_OK && m != NULL);
  cmp_body_type body = 99;
  EXPECT(cmp_message_body_type(m, &body, NULL) == CMP_OK && body == CMP_BODY_IP);
  EXPECT(strcmp(cmp_message_body_name(m), "ip") == 0);
  int32_t status = -1;
  EXPECT(cmp_message_status(m, &status, NULL) == CMP_OK && status == 0);
  EXPECT(cmp_message_verify_mac(m, (const uint8_t *)"1234-5678", 9) == CMP_OK);
  EXPECT(cmp_message_verify_mac(m, (const uint8_t *)"wrong", 5) == CMP_BAD_MESSAGE_CHECK);
  cmp_protection_kind prot;
  EXPECT(cmp_message_protection(m, &prot) == CMP_OK && prot == CMP_PROTECTION_MAC);
  /* output buffers: size probe, too small, exact */
  size_t need = 0, got = 0;
  uint8_t tid[64];
  EXPECT(cmp_message_header_field(m, 0, NULL, 0, &need) == CMP_BUFFER_TOO_SMALL && need == 16);
  EXPECT(cmp_message_header_field(m, 0, tid, 4, &got) == CMP_BUFFER_TOO_SMALL && got == 16);
  EXPECT(cmp_message_header_field(m, 0, tid, need, &got) == CMP_OK && got == 16);
  EXPECT(cmp_message_header_field(m, 9, tid, sizeof tid, &got) == CMP_USAGE);
  EXPECT(cmp_message_extra_cert(m, 1000, tid, sizeof tid, &got) == CMP_USAGE);
  char small[8];
  EXPECT(cmp_message_describe(m, small, sizeof small, &need) == CMP_BUFFER_TOO_SMALL && need > 8);
  /* NULL arguments */
  EXPECT(cmp_message_body_type(NULL, &body, NULL) == CMP_NULL_POINTER);
  EXPECT(cmp_message_body_type(m, NULL, NULL) == CMP_NULL_POINTER);
  EXPECT(cmp_message_header_field(m, 0, tid, sizeof tid, NULL) == CMP_NULL_POINTER);
  EXPECT(cmp_message_parse(msg, len, NULL) == CMP_NULL_POINTER);
  cmp_message *m2 = (cmp_message *)&m2;
  EXPECT(cmp_message_parse(NULL, 10, &m2) == CMP_NULL_POINTER && m2 == NULL);
  EXPECT(strcmp(cmp_message_body_name(NULL), "unknown") == 0);
  cmp_message_free(m);
  cmp_message_free(NULL);

  /* the last error message names the code */
  char text[512];
  EXPECT(cmp_message_parse((const uint8_t *)"\x30\x03\x02\x01", 4, &m2) == CMP_DECODE);
  EXPECT(cmp_last_error_message(text, sizeof text) > 0 && strncmp(text, "CMP_DECODE", 10) == 0);
  EXPECT(strcmp(cmp_result_name(CMP_MESSAGE_TOO_LARGE), "CMP_MESSAGE_TOO_LARGE") == 0);

  /* empty and garbage input */
  EXPECT(poke(NULL, 0) == CMP_DECODE);
  uint32_t x = 12345;
  for (int round = 0; round < 200; round++) {
    size_t n = (size_t)(round * 37 % 2000) + 1;
    for (size_t i = 0; i < n; i++) copy[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
    if (round % 2) copy[0] = 0x30; /* look like a SEQUENCE */
    EXPECT(poke(copy, n) != CMP_OK);
  }
  /* a length field claiming far more than the data */
  const uint8_t huge[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00};
  cmp_result rc = poke(huge, sizeof huge);
  EXPECT(rc == CMP_DECODE || rc == CMP_MESSAGE_TOO_LARGE);
  /* every truncation */
  for (size_t n = 0; n < len; n += stride) {
    memcpy(copy, msg, n);
    rc = poke(n ? copy : NULL, n);
    EXPECT(rc == CMP_DECODE || rc == CMP_MISSING_HEADER_FIELD);
  }
  /* trailing garbage */
  memcpy(copy, msg, len);
  copy[len] = 0;
  EXPECT(poke(copy, len + 1) == CMP_DECODE);
  /* every single-byte corruption: any result, never a crash */
  int parsed = 0;
  for (size_t i = 0; i < len; i += stride) {
    memcpy(copy, msg, len);
    copy[i] ^= 0x5a;
    rc = poke(copy, len);
    EXPECT(cmp_result_name(rc)[0] == 'C' && strcmp(cmp_result_name(rc), "CMP_UNKNOWN") != 0);
    EXPECT(rc != CMP_PANIC && rc != CMP_NULL_POINTER);
    parsed += rc == CMP_OK;
  }
  printf("parse_test: %zu-byte message, every %zu. truncation and corruption (%d corruptions still parse), %d failure(s)\n",
         len, stride, parsed, failures);
  return failures ? 1 : 0;
}
