/*
 * CoAP block-wise transfer (RFC 9482, RFC 7959) through the C API: a CMP
 * message cut into blocks with cmp_coap_block and put together again with
 * a cmp_coap_reassembler, at several block sizes; and every CoAP error
 * code (700-708) from the input that causes it.
 *
 * usage: coap_test MESSAGE.der
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cmp.h"

static uint8_t msg[65536];
static size_t msg_len;

/* Split msg with size exponent szx, reassemble it, compare. */
#define FAIL_OUT                                                               \
  do {                                                                         \
    fprintf(stderr, "%s:%d: check failed\n", __FILE__, __LINE__);              \
    goto out;                                                                  \
  } while (0)

static int round_trip(uint8_t szx) {
  static uint8_t out[sizeof msg];
  size_t count, out_len = 0;
  cmp_coap_reassembler *r = NULL;
  EXPECT_RC(cmp_coap_block_count(msg_len, szx, &count), CMP_OK);
  EXPECT(count == (msg_len + ((size_t)16 << szx) - 1) / ((size_t)16 << szx));
  EXPECT_RC(cmp_coap_reassembler_new(msg_len, &r), CMP_OK);
  int ok = -1;
  for (uint32_t num = 0; num < count; num++) {
    uint8_t option[CMP_COAP_BLOCK_OPTION_MAX], next[CMP_COAP_BLOCK_OPTION_MAX];
    size_t option_len, offset, len, next_len = 99;
    uint32_t got_num, next_num;
    bool more, complete = true;
    uint8_t got_szx;
    if (cmp_coap_block(msg, msg_len, szx, num, option, &option_len, &offset, &len) != CMP_OK)
      FAIL_OUT;
    if (cmp_coap_block_decode(option, option_len, &got_num, &more, &got_szx) != CMP_OK) FAIL_OUT;
    if (got_num != num || got_szx != szx || more != (num + 1 < count)) FAIL_OUT;
    if (offset != (size_t)num << (szx + 4) || offset + len > msg_len) FAIL_OUT;
    if (cmp_coap_reassembler_body(r, out, sizeof out, &out_len) != CMP_USAGE) FAIL_OUT;
    if (cmp_coap_reassembler_push(r, option, option_len, msg + offset, len, &complete, next,
                                  &next_len) != CMP_OK)
      FAIL_OUT;
    if (complete != !more) FAIL_OUT;
    if (more) {
      if (cmp_coap_block_decode(next, next_len, &next_num, NULL, NULL) != CMP_OK ||
          next_num != num + 1)
        FAIL_OUT;
    }
    if (cmp_coap_reassembler_received(r) != offset + len) FAIL_OUT;
  }
  if (cmp_coap_reassembler_body(r, out, sizeof out, &out_len) != CMP_OK) FAIL_OUT;
  if (out_len != msg_len || memcmp(out, msg, msg_len) != 0) FAIL_OUT;
  printf("szx %u: %zu blocks, %zu bytes back\n", (unsigned)szx, count, out_len);
  ok = 0;
out:
  if (ok != 0) fprintf(stderr, "round trip with szx %u failed\n", (unsigned)szx);
  cmp_coap_reassembler_free(r);
  return ok;
}

/* A block's option value and payload pointer. */
static int block(uint8_t szx, uint32_t num, uint8_t *option, size_t *option_len,
                 const uint8_t **payload, size_t *len) {
  size_t offset;
  EXPECT_RC(cmp_coap_block(msg, msg_len, szx, num, option, option_len, &offset, len), CMP_OK);
  *payload = msg + offset;
  return 0;
}

static int errors(void) {
  uint8_t szx, option[3], opt1[3];
  size_t count, option_len, opt1_len, len, len1;
  const uint8_t *payload, *payload1;
  bool complete;
  cmp_coap_reassembler *r = NULL;

  EXPECT(CMP_COAP_CONTENT_FORMAT == 259);
  EXPECT_RC(cmp_coap_block_size_for_mtu(1280, 100, &szx), CMP_OK);
  EXPECT(szx == 6);
  EXPECT_RC(cmp_coap_block_size_for_mtu(200, 100, &szx), CMP_OK);
  EXPECT(szx == 2); /* 64 bytes */
  EXPECT_RC(cmp_coap_block_size_for_mtu(40, 30, &szx), CMP_COAP_MTU_TOO_SMALL);
  EXPECT_RC(cmp_coap_block_count(10, 7, &count), CMP_COAP_RESERVED_BLOCK_SIZE);
  EXPECT_RC(cmp_coap_block_count(((size_t)16 << 20) + 1, 0, &count),
            CMP_COAP_BLOCK_NUMBER_TOO_LARGE);
  EXPECT_RC(cmp_coap_block_count(0, 0, &count), CMP_OK);
  EXPECT(count == 1); /* an empty body is one empty block */
  EXPECT_RC(cmp_coap_block(msg, msg_len, 2, 100000, option, &option_len, &len, &len), CMP_USAGE);
  const uint8_t four[4] = {1, 2, 3, 4}, reserved[1] = {0x07};
  EXPECT_RC(cmp_coap_block_decode(four, 4, NULL, NULL, NULL), CMP_COAP_BLOCK_OPTION_TOO_LONG);
  EXPECT_RC(cmp_coap_block_decode(reserved, 1, NULL, NULL, NULL), CMP_COAP_RESERVED_BLOCK_SIZE);

  EXPECT_RC(cmp_coap_reassembler_new(msg_len, &r), CMP_OK);
  int ok = -1;
  if (block(2, 0, option, &option_len, &payload, &len) != 0) goto out;
  if (block(2, 1, opt1, &opt1_len, &payload1, &len1) != 0) goto out;
  /* block 1 before block 0 */
  if (cmp_coap_reassembler_push(r, opt1, opt1_len, payload1, len1, &complete, NULL, NULL) !=
      CMP_COAP_BLOCK_OUT_OF_ORDER)
    goto out;
  /* block 0 one byte short although more follow */
  if (cmp_coap_reassembler_push(r, option, option_len, payload, len - 1, &complete, NULL, NULL) !=
      CMP_COAP_WRONG_BLOCK_LENGTH)
    goto out;
  /* the rejected blocks changed nothing: block 0 is still expected */
  if (cmp_coap_reassembler_received(r) != 0) goto out;
  if (cmp_coap_reassembler_push(r, option, option_len, payload, len, &complete, NULL, NULL) !=
          CMP_OK ||
      complete)
    goto out;
  /* block 1 of 128 bytes after 64-byte blocks: the size grew */
  if (block(3, 1, option, &option_len, &payload, &len) != 0) goto out;
  if (cmp_coap_reassembler_push(r, option, option_len, payload, len, &complete, NULL, NULL) !=
      CMP_COAP_BLOCK_SIZE_INCREASED)
    goto out;
  cmp_coap_reassembler_free(r);

  /* a cap below the message size */
  EXPECT_RC(cmp_coap_reassembler_new(100, &r), CMP_OK);
  if (block(6, 0, option, &option_len, &payload, &len) != 0) goto out;
  if (cmp_coap_reassembler_push(r, option, option_len, payload, len, &complete, NULL, NULL) !=
      CMP_COAP_TOO_LARGE)
    goto out;
  cmp_coap_reassembler_free(r);

  /* a block after the last */
  EXPECT_RC(cmp_coap_reassembler_new(100, &r), CMP_OK);
  if (cmp_coap_reassembler_push(r, NULL, 0, msg, 10, &complete, NULL, NULL) != CMP_OK ||
      !complete)
    goto out;
  if (cmp_coap_reassembler_push(r, NULL, 0, msg, 10, &complete, NULL, NULL) !=
      CMP_COAP_ALREADY_COMPLETE)
    goto out;
  if (cmp_coap_reassembler_push(NULL, NULL, 0, msg, 10, &complete, NULL, NULL) != CMP_NULL_POINTER)
    goto out;
  ok = 0;
out:
  cmp_coap_reassembler_free(r);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: coap_test MESSAGE.der\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  msg_len = fread(msg, 1, sizeof msg, f);
  fclose(f);
  if (msg_len < 200) return 2;
  for (uint8_t szx = 0; szx <= 6; szx++)
    if (round_trip(szx) != 0) return 1;
  if (errors() != 0) return 1;
  printf("coap_test: all passed\n");
  return 0;
}
