/*
 * The enroll example again, on OpenSSL's libcrypto CMP client instead of
 * cmp-rs, for the size comparison of tests/c/size.sh: ir with PBM, genm,
 * kur signed with the issued certificate and key, rr; the same socket
 * transport (tests/c/http.h) through OSSL_CMP_CTX_set_transfer_cb.
 * usage: openssl_enroll PKI_DIR MAC_PORT SIG_PORT
 */
#include <openssl/cmp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../http.h"

static uint8_t buf[32768];

static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req) {
  int port = *(int *)OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
  unsigned char *der = NULL;
  int len = i2d_OSSL_CMP_MSG(req, &der);
  size_t got = 0;
  OSSL_CMP_MSG *rsp = NULL;
  if (len > 0 && http_post(port, der, (size_t)len, buf, sizeof buf, &got) == 0) {
    const unsigned char *p = buf;
    rsp = d2i_OSSL_CMP_MSG(NULL, &p, (long)got);
  }
  OPENSSL_free(der);
  return rsp;
}

static X509 *load_cert(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  return c;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int mac_port = atoi(argv[2]), sig_port = atoi(argv[3]), ok = 0;
  char path[512];
  snprintf(path, sizeof path, "%s/issued.key", argv[1]);
  FILE *f = fopen(path, "r");
  EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
  if (f) fclose(f);
  X509 *root = load_cert(argv[1], "root.crt"), *ca = load_cert(argv[1], "ca.crt"), *cert = NULL;
  if (!key || !root || !ca) return 2;

  /* ir with PBM, then genm */
  OSSL_CMP_CTX *ctx = OSSL_CMP_CTX_new(NULL, NULL);
  X509_NAME *subject = X509_NAME_new();
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)"Test Device", -1, -1, 0);
  OSSL_CMP_CTX_set_transfer_cb(ctx, transfer);
  OSSL_CMP_CTX_set_transfer_cb_arg(ctx, &mac_port);
  OSSL_CMP_CTX_set1_referenceValue(ctx, (const unsigned char *)"1234", 4);
  OSSL_CMP_CTX_set1_secretValue(ctx, (const unsigned char *)"1234-5678", 9);
  OSSL_CMP_CTX_set1_subjectName(ctx, subject);
  EVP_PKEY_up_ref(key);
  OSSL_CMP_CTX_set0_newPkey(ctx, 1, key);
  X509 *issued = OSSL_CMP_exec_IR_ses(ctx);
  if (issued) {
    cert = X509_dup(issued);
    STACK_OF(OSSL_CMP_ITAV) *itavs = OSSL_CMP_exec_GENM_ses(ctx);
    ok = OSSL_CMP_CTX_get_status(ctx) == OSSL_CMP_PKISTATUS_accepted;
    sk_OSSL_CMP_ITAV_pop_free(itavs, OSSL_CMP_ITAV_free);
  }
  OSSL_CMP_CTX_free(ctx);
  X509_NAME_free(subject);
  printf("ir + genm: %s\n", ok ? "OK" : "failed");

  /* kur and rr, signed with the issued certificate and key */
  if (ok) {
    ctx = OSSL_CMP_CTX_new(NULL, NULL);
    X509_STORE *trust = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_add_cert(trust, root);
    sk_X509_push(untrusted, ca);
    OSSL_CMP_CTX_set0_trustedStore(ctx, trust);
    OSSL_CMP_CTX_set1_untrusted(ctx, untrusted);
    OSSL_CMP_CTX_set_transfer_cb(ctx, transfer);
    OSSL_CMP_CTX_set_transfer_cb_arg(ctx, &sig_port);
    OSSL_CMP_CTX_set1_cert(ctx, cert);
    OSSL_CMP_CTX_set1_pkey(ctx, key);
    OSSL_CMP_CTX_set1_oldCert(ctx, cert);
    EVP_PKEY_up_ref(key);
    OSSL_CMP_CTX_set0_newPkey(ctx, 1, key);
    ok = OSSL_CMP_exec_KUR_ses(ctx) != NULL;
    OSSL_CMP_CTX_reinit(ctx);
    ok = ok && OSSL_CMP_exec_RR_ses(ctx) == 1;
    printf("kur + rr: %s\n", ok ? "OK" : "failed");
    sk_X509_free(untrusted);
    OSSL_CMP_CTX_free(ctx);
  }
  X509_free(cert);
  X509_free(root);
  X509_free(ca);
  EVP_PKEY_free(key);
  return ok ? 0 : 1;
}
