'use strict'
// ML-KEM keys, the request side of the encrypted-certificate
// proof-of-possession (RFC 9810 section 5.2.8.3) and KEM-based MAC
// protection (encapsulate, decapsulate, MAC checked with the shared
// secret). OpenSSL 3.0's mock server does not speak KEM; the exchanges
// with a responder are covered by the Rust tests (cmp-core/tests/kem_pop.rs,
// kem_protection.rs) and, against `cmp serve`, by tests/c/kem_test.c.

const test = require('node:test')
const assert = require('node:assert/strict')
const { cmp, mac } = require('./common.js')

test('KemPrivateKey: generate every level, PKCS#8 round trip', () => {
  for (const alg of ['ml-kem-512', 'ml-kem-768', 'ml-kem-1024']) {
    const k = cmp.KemPrivateKey.generate(alg)
    assert.equal(k.algorithm, alg)
    const again = cmp.KemPrivateKey.from(k.toDer())
    assert.equal(again.algorithm, alg)
    assert.ok(again.publicKeyDer().equals(k.publicKeyDer()))
  }
  assert.equal(cmp.KemPrivateKey.generate().algorithm, 'ml-kem-768')
})

test('ir with pop encryptedCert: pvno 3, the KEM public key in the template', () => {
  const config = new cmp.ClientConfig({ ...mac })
  const kem = cmp.KemPrivateKey.generate('ml-kem-768')
  const tx = cmp.ClientTransaction.ir(config, { pop: 'encryptedCert', kemKey: kem.toDer(), subject: 'CN=KEM Device' })
  const request = tx.request()
  const m = cmp.Message.parse(request)
  assert.equal(m.bodyType, 'ir')
  assert.equal(m.pvno, 3)
  // CertTemplate.publicKey is [6] IMPLICIT: the SPKI with tag 0xA6 instead of SEQUENCE
  const spki = kem.publicKeyDer()
  assert.equal(spki[0], 0x30)
  assert.ok(request.includes(Buffer.concat([Buffer.from([0xa6]), spki.subarray(1)])), 'the template carries the ML-KEM key')
  m.verifyMac(mac.secret)
})

test('KEM usage and key errors have their codes', () => {
  const config = new cmp.ClientConfig({ ...mac })
  const code = (name) => cmp.errorTable().find((r) => r.name === name).code
  const throwsCode = (fn, name) =>
    assert.throws(fn, (e) => e instanceof cmp.CmpError && e.code === name && e.cmpCode === code(name))
  throwsCode(() => cmp.KemPrivateKey.generate('ml-kem-2048'), 'CMP_USAGE')
  throwsCode(() => cmp.KemPrivateKey.from(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), 'CMP_CRYPTO')
  throwsCode(() => cmp.ClientTransaction.ir(config, { pop: 'encryptedCert', subject: 'CN=x' }), 'CMP_USAGE')
  throwsCode(
    () =>
      cmp.ClientTransaction.ir(config, {
        pop: 'encryptedCert',
        kemKey: cmp.KemPrivateKey.generate().toDer(),
        key: cmp.PrivateKey.generate().toDer(),
        subject: 'CN=x',
      }),
    'CMP_USAGE',
  )
})

test('KEM-based MAC: a request protected with the shared secret of a KemCiphertextInfo', () => {
  const kem = cmp.KemPrivateKey.generate('ml-kem-768')
  // the party holding the public key's peer encapsulates (here: this test, for the genp)
  const { info, sharedSecret } = cmp.kemEncapsulate(kem.publicKeyDer())
  assert.equal(sharedSecret.length, 32)
  const transactionId = Buffer.alloc(16, 7)
  const config = new cmp.ClientConfig({ kem: { key: kem.toDer(), genp: [info], reference: 'kem-ref' }, transactionId })
  assert.equal(config.protection, 'mac')
  const key = cmp.PrivateKey.generate()
  const tx = cmp.ClientTransaction.ir(config, { key: key.toDer(), subject: 'CN=KEM MAC Device' })
  const m = cmp.Message.parse(tx.request())
  assert.equal(m.protectionAlgName, 'KemBasedMac')
  assert.ok(m.transactionId.equals(transactionId))
  assert.ok(m.senderKid.equals(Buffer.from('kem-ref')))
  // the decapsulated secret is the encapsulated one: the MAC verifies with it, and only with it
  m.verifyMac(sharedSecret)
  assert.throws(() => m.verifyMac(Buffer.alloc(32)), (e) => e.code === 'CMP_BAD_MESSAGE_CHECK')
  // the genm asking for the ciphertext
  const genm = cmp.Message.parse(cmp.ClientTransaction.genm(new cmp.ClientConfig({}), ['kemCiphertextInfo']).request())
  assert.deepEqual(genm.infos.map((i) => [i.oid, i.value ?? null]), [[info.oid, null]])
})

test('KEM-based MAC errors: no ciphertext, another KEM, a non-KEM key', () => {
  const code = (name) => cmp.errorTable().find((r) => r.name === name).code
  const throwsCode = (fn, name) =>
    assert.throws(fn, (e) => e instanceof cmp.CmpError && e.code === name && e.cmpCode === code(name))
  const kem = cmp.KemPrivateKey.generate('ml-kem-768')
  throwsCode(() => new cmp.ClientConfig({ kem: { key: kem.toDer(), genp: [] } }), 'CMP_INCORRECT_DATA')
  const other = cmp.kemEncapsulate(cmp.KemPrivateKey.generate('ml-kem-512').publicKeyDer())
  throwsCode(() => new cmp.ClientConfig({ kem: { key: kem.toDer(), genp: [other.info] } }), 'CMP_INCORRECT_DATA')
  throwsCode(() => cmp.kemEncapsulate(cmp.PrivateKey.generate().publicKeyDer()), 'CMP_UNSUPPORTED_ALGORITHM')
  throwsCode(
    () => new cmp.ClientConfig({ kem: { key: kem.toDer(), genp: [] }, secret: 'x' }),
    'CMP_USAGE',
  )
})
