#!/usr/bin/env bash
# make-pki.sh DIR
#
# Creates a disposable PKI for the CMP interop tests, using only the openssl
# command line tool. DIR is created if needed; files in it are replaced.
# Nothing here is secret or meant for use outside tests.
#
# Output (PEM unless the name says .der; EC P-256 keys unless noted):
#   root.key    root.crt     self-signed trust anchor  "CN=Test Root CA"
#   ca.key      ca.crt       issuing CA "CN=Test Issuing CA", under root
#   server.key  server.crt   the CMP server's signing certificate
#                            "CN=Test CMP Server" (EKU id-kp-cmcRA), under ca
#   ee.key      ee.crt       an end entity that already holds a certificate
#                            "CN=Test Device", under ca
#   issued.key  issued.crt   what OpenSSL's mock server returns for every
#                            enrollment "CN=Test Device", under ca; clients
#                            must enroll with issued.key as the new key
#   new.key                  a key with no certificate
#   csr.der                  PKCS#10 request signed by issued.key (for p10cr)
#   chain.crt                ca.crt followed by root.crt
#   rsa.key                  an RSA-2048 key (no certificate)
#   ed25519.key              an Ed25519 key (no certificate)
set -euo pipefail

out=${1:?usage: make-pki.sh DIR}
mkdir -p "$out"
cd "$out"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

quiet() { "$@" 2>"$work/err" || { cat "$work/err" >&2; return 1; }; }

# keys
for name in root ca server ee issued new; do
  quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
done
quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
quiet openssl genpkey -algorithm ED25519 -out ed25519.key

# certificate profiles
cat >"$work/profiles.cnf" <<'CNF'
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_cmp_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
# id-kp-cmcRA
extendedKeyUsage = 1.3.6.1.5.5.7.3.28
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_device]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

# trust anchor (self-signed, ten years)
quiet openssl req -new -key root.key -subj "/CN=Test Root CA" -out "$work/root.csr"
quiet openssl x509 -req -in "$work/root.csr" -signkey root.key -days 3650 -sha256 \
  -extfile "$work/profiles.cnf" -extensions v3_root -out root.crt

# issue NAME SUBJECT PROFILE ISSUER
issue() {
  quiet openssl req -new -key "$1.key" -subj "$2" -out "$work/$1.csr"
  quiet openssl x509 -req -in "$work/$1.csr" -CA "$4.crt" -CAkey "$4.key" \
    -CAserial "$work/$4.srl" -CAcreateserial -days 825 -sha256 \
    -extfile "$work/profiles.cnf" -extensions "$3" -out "$1.crt"
}
issue ca     "/CN=Test Issuing CA" v3_ca         root
issue server "/CN=Test CMP Server" v3_cmp_server ca
issue ee     "/CN=Test Device"     v3_device     ca
issue issued "/CN=Test Device"     v3_device     ca

quiet openssl req -new -key issued.key -subj "/CN=Test Device" -outform DER -out csr.der
cat ca.crt root.crt >chain.crt

echo "test PKI written to $out"
