'use strict'
// ML-KEM keys, the request side of the encrypted-certificate
// proof-of-possession (RFC 9810 section 5.2.8.3) and KEM-based MAC
// protection (encapsulate, decapsulate, MAC checked with the shared
// secret), then full exchanges with the reference server `cmp serve`
// (an ML-KEM-512 key certified by challenge and response, popdecc/popdecr)
// (cargo build -p cmp-cli; $CMP_BIN) on loopback, like tests/c/kem_test.c:
// an ML-KEM-768 key certified by encrypted certificate by one server (its
// own demo hierarchy, root from --root-out); a second server trusting that
// root answers a genm KemCiphertextInfo, and the decapsulated secret keys
// the KEM-based MAC of an ir in the same transaction (a wrong KEM key:
// badMessageCheck; a KEM certificate under another root: signerNotTrusted);
// the same server holds the certified key (--kem-key), so a MAC client
// encapsulates to its certificate and gets answers under the KEM-based MAC,
// while requests under nothing but that MAC are refused (notAuthorized).
// OpenSSL 3.0's mock server does not speak KEM.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { X509Certificate } = require('node:crypto')
const { execFileSync } = require('node:child_process')
const { cmp, mac, pki, PKI, REFERENCE, SECRET, startServe } = require('./common.js')

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
  throwsCode(() => cmp.ClientTransaction.ir(config, { pop: 'challengeResponse', subject: 'CN=x' }), 'CMP_USAGE')
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
  const shared = cmp.kemEncapsulate(kem.publicKeyDer()).sharedSecret
  throwsCode(() => new cmp.ClientConfig({ kemSharedSecret: shared, secret: 'x' }), 'CMP_USAGE')
  throwsCode(() => new cmp.ClientConfig({ kemSharedSecret: shared, key: cmp.PrivateKey.generate().toDer() }), 'CMP_USAGE')
  throwsCode(() => new cmp.ClientConfig({ kemSharedSecret: shared, kem: { key: kem.toDer(), genp: [] } }), 'CMP_USAGE')
})

// ----- against `cmp serve` -----

const TIMEOUT = { timeout: 180_000 }

/**
 * The DER elements of a DER SEQUENCE's content, as Buffers (whole TLVs).
 * Enough to pick the SubjectPublicKeyInfo out of a certificate whose key
 * node:crypto (OpenSSL 3.0) cannot load.
 */
function derChildren(der) {
  const len = (b, i) => {
    if (b[i] < 0x80) return [b[i], i + 1]
    const n = b[i] & 0x7f
    let v = 0
    for (let k = 0; k < n; k++) v = v * 256 + b[i + 1 + k]
    return [v, i + 1 + n]
  }
  const [outer, start] = len(der, 1)
  const out = []
  let i = start
  while (i < start + outer) {
    const [l, body] = len(der, i + 1)
    out.push(der.subarray(i, body + l))
    i = body + l
  }
  return out
}

/** The SubjectPublicKeyInfo (DER) of a DER certificate. */
function spkiOf(certDer) {
  const tbs = derChildren(derChildren(certDer)[0])
  const fields = tbs[0][0] === 0xa0 ? tbs.slice(1) : tbs // skip [0] version
  return fields[5] // serial, signature, issuer, validity, subject, spki
}

/** An httpTransport to `url` that records request and response body types and the responses. */
function recording(url) {
  const post = cmp.httpTransport(url)
  const rec = { sent: [], received: [], requests: [], responses: [] }
  rec.transport = async (request, context) => {
    rec.sent.push(cmp.Message.parse(request).bodyType)
    rec.requests.push(Buffer.from(request))
    const response = Buffer.from(await post(request, context))
    rec.received.push(cmp.Message.parse(response).bodyType)
    rec.responses.push(response)
    return response
  }
  return rec
}

/** A readable name of a numeric CMP error code (PeerError.errorCode). */
const errorName = (code) => cmp.errorTable().find((row) => row.code === code)?.name

test('ML-KEM against cmp serve: encrypted certificate, KEM-based MAC both ways', TIMEOUT, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-node-kem-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const firstRoot = path.join(dir, 'first-root.pem')
  // the first CA: its own demo hierarchy, MAC clients 1234 / 1234-5678
  const first = await startServe(['--root-out', firstRoot, '--ref', REFERENCE, '--secret', SECRET], {
    fixedPki: false,
  })
  t.after(() => first.stop())
  const root = new X509Certificate(fs.readFileSync(firstRoot))

  let kem = null
  let kemCert = null
  let kemChain = null

  await t.test('ir for an ML-KEM-768 key: POP by encrypted certificate', async () => {
    kem = cmp.KemPrivateKey.generate('ml-kem-768')
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.ir(config, { pop: 'encryptedCert', kemKey: kem.toDer(), subject: 'CN=Node KEM Server' })
    const rec = recording(first.url)
    const r = await cmp.runTransaction(tx, { transport: rec.transport })
    assert.deepEqual(rec.sent, ['ir', 'certConf'])
    assert.deepEqual(rec.received, ['ip', 'pkiconf'])
    assert.deepEqual(
      r.steps.map((s) => s.kind),
      ['certificateIssued', 'continue', 'completed'],
    )
    assert.ok(tx.isCompleted)
    const issued = r.issued
    assert.equal(issued.status, 'accepted')
    // the ip carried the certificate encrypted: not in clear, not in the certificates of the ip
    const ip = rec.responses[0]
    assert.ok(!ip.includes(issued.certificate), 'the certificate is not in the ip in clear')
    assert.deepEqual(cmp.Message.parse(ip).certificates, [])
    // decrypted, it certifies the KEM key, issued by the first CA under its root
    assert.ok(spkiOf(issued.certificate).equals(kem.publicKeyDer()), 'the certificate certifies the ML-KEM key')
    const cert = new X509Certificate(issued.certificate)
    assert.equal(cert.subject, 'CN=Node KEM Server')
    assert.ok(issued.chain.length >= 1)
    const issuer = new X509Certificate(issued.chain[0])
    assert.ok(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), 'signed by the issuing CA')
    const top = new X509Certificate(issued.chain[issued.chain.length - 1])
    assert.ok(top.checkIssued(root) && top.verify(root.publicKey), 'the chain ends under --root-out')
    // keyUsage keyEncipherment only (as openssl prints it)
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-ext', 'keyUsage'], {
      input: issued.certificate,
      stdio: ['pipe', 'pipe', 'ignore'],
    })
    assert.match(text.toString(), /X509v3 Key Usage: critical\n\s*Key Encipherment\n?$/)
    kemCert = issued.certificate
    kemChain = issued.chain
    await first.waitForLog('[ir->ip certConf->pkiconf]: issued ')
    assert.match(first.log(), /\[ir->ip certConf->pkiconf\]: issued [0-9a-f]+ to "CN=Node KEM Server"; confirmed/)
  })
  await t.test('ir for an ML-KEM-512 key: POP by challenge and response (popdecc/popdecr)', async () => {
    const key = cmp.KemPrivateKey.generate('ml-kem-512')
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.ir(config, { pop: 'challengeResponse', kemKey: key.toDer(), subject: 'CN=Node KEM Challenge' })
    const rec = recording(first.url)
    const r = await cmp.runTransaction(tx, { transport: rec.transport })
    // the challenge is decrypted and answered by the transaction itself
    assert.deepEqual(rec.sent, ['ir', 'popdecr', 'certConf'])
    assert.deepEqual(rec.received, ['popdecc', 'ip', 'pkiconf'])
    assert.equal(cmp.Message.parse(rec.requests[0]).pvno, 3)
    assert.ok(tx.isCompleted)
    // the ip carries the certificate in clear, and it certifies the KEM key
    assert.ok(rec.responses[1].includes(r.issued.certificate))
    assert.ok(spkiOf(r.issued.certificate).equals(key.publicKeyDer()))
    await first.waitForLog('[popdecr->ip certConf->pkiconf]: issued ')
    assert.match(first.log(), /\[popdecr->ip certConf->pkiconf\]: issued [0-9a-f]+ to "CN=Node KEM Challenge"; confirmed/)
  })
  assert.ok(kemCert !== null, 'the ML-KEM certificate of the first step')

  // the second CA: trusts the first one's root (for the KEM certificate),
  // signs with server.crt (under root.crt), holds the certified ML-KEM key
  const kemKeyFile = path.join(dir, 'kem.key')
  fs.writeFileSync(kemKeyFile, kem.toDer())
  const second = await startServe(
    [
      '--root-out', path.join(dir, 'second-root.pem'),
      '--ref', REFERENCE, '--secret', SECRET,
      '--trusted', firstRoot,
      '--cert', path.join(PKI, 'server.crt'),
      '--key', path.join(PKI, 'server.key'),
      '--extracerts', path.join(PKI, 'ca.crt'),
      '--kem-key', kemKeyFile,
    ],
    { fixedPki: false },
  )
  t.after(() => second.stop())
  const secondRoot = new X509Certificate(fs.readFileSync(path.join(dir, 'second-root.pem')))
  /** Signed replies (server.crt) validate up to root.crt. */
  const trust = { serverTrust: pki('root.crt'), untrusted: pki('ca.crt') }

  /** genm KemCiphertextInfo (MAC 1234) with the KEM certificate and its chain in extraCerts. */
  async function kemGenm() {
    const config = new cmp.ClientConfig({ ...mac, extraCerts: [kemCert, ...kemChain] })
    const tx = cmp.ClientTransaction.genm(config, ['kemCiphertextInfo'])
    const rec = recording(second.url)
    const r = await cmp.runTransaction(tx, { transport: rec.transport })
    assert.deepEqual(rec.sent, ['genm'])
    assert.deepEqual(rec.received, ['genp'])
    assert.ok(tx.isCompleted)
    assert.equal(r.infos.length, 1)
    assert.equal(r.infos[0].oid, '1.3.6.1.5.5.7.4.24') // id-it-KemCiphertextInfo
    assert.ok(Buffer.isBuffer(r.infos[0].value) && r.infos[0].value.length > 1088, 'an ML-KEM-768 ciphertext')
    return { infos: r.infos, transactionId: tx.transactionId }
  }

  /** An ir for a fresh P-256 key under `config`; resolves with the recording and the transaction. */
  async function enrollUnder(config, subject) {
    const key = cmp.PrivateKey.generate('ec:P-256')
    const tx = cmp.ClientTransaction.ir(config, { key: key.toDer(), subject })
    const rec = recording(second.url)
    const run = cmp.runTransaction(tx, { transport: rec.transport })
    return { key, tx, rec, run }
  }

  /** The issued certificate: the subject, our key, signed by the second CA. */
  function checkIssued(r, key, subject) {
    const cert = new X509Certificate(r.certificate)
    assert.equal(cert.subject, subject)
    assert.ok(spkiOf(r.certificate).equals(key.publicKeyDer()), 'certifies our key')
    const issuer = new X509Certificate(r.issued.chain[0])
    assert.ok(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), 'signed by the issuing CA')
    const top = new X509Certificate(r.issued.chain[r.issued.chain.length - 1])
    assert.ok(top.verify(secondRoot.publicKey), 'the chain ends under the second CA root')
  }

  await t.test('genm KemCiphertextInfo, then an ir in the same transaction under the KEM-based MAC', async () => {
    const genp = await kemGenm()
    const config = new cmp.ClientConfig({
      kem: { key: kem.toDer(), genp: genp.infos, reference: 'node-kem-device' }, // no secret on the server
      transactionId: genp.transactionId,
      ...trust,
    })
    assert.equal(config.protection, 'mac')
    const { key, tx, rec, run } = await enrollUnder(config, 'CN=Node KEM-MAC Device')
    const r = await run
    assert.ok(tx.transactionId.equals(genp.transactionId), 'the ir continues the genm transaction')
    assert.deepEqual(rec.sent, ['ir', 'certConf'])
    assert.deepEqual(rec.received, ['ip', 'pkiconf'])
    assert.ok(tx.isCompleted)
    assert.equal(r.issued.status, 'accepted')
    checkIssued(r, key, 'CN=Node KEM-MAC Device')
    const ip = cmp.Message.parse(rec.responses[0])
    assert.ok(ip.transactionId.equals(genp.transactionId))
    assert.equal(ip.protectionAlgName, 'KemBasedMac')
    const ir = cmp.Message.parse(rec.requests[0])
    assert.equal(ir.protectionAlgName, 'KemBasedMac')
    assert.ok(ir.senderKid.equals(Buffer.from('node-kem-device')))
    const tid = genp.transactionId.toString('hex')
    await second.waitForLog(`transaction ${tid} [ir->ip certConf->pkiconf]: issued `)
    assert.ok(second.log().includes(`transaction ${tid} [genm->genp]\n`))
    assert.match(second.log(), new RegExp(`transaction ${tid} \\[ir->ip certConf->pkiconf\\]: issued [0-9a-f]+ to "CN=Node KEM-MAC Device"; confirmed`))
    // an ML-KEM-512 key cannot take that ML-KEM-768 ciphertext
    assert.throws(
      () => new cmp.ClientConfig({ kem: { key: cmp.KemPrivateKey.generate('ml-kem-512').toDer(), genp: genp.infos } }),
      (e) => e instanceof cmp.CmpError && e.code === 'CMP_INCORRECT_DATA',
    )
  })

  await t.test('another ML-KEM-768 key: another secret, the server answers badMessageCheck', async () => {
    const genp = await kemGenm()
    const config = new cmp.ClientConfig({
      kem: { key: cmp.KemPrivateKey.generate('ml-kem-768').toDer(), genp: genp.infos, reference: 'node-kem-device' },
      transactionId: genp.transactionId,
      ...trust,
    })
    const { tx, rec, run } = await enrollUnder(config, 'CN=Node Wrong KEM Key')
    await assert.rejects(run, (e) => {
      assert.ok(e instanceof cmp.PeerError, String(e))
      // the server cannot protect its answer with a secret the client does
      // not have: the error arrives unauthenticated, carrying badMessageCheck
      assert.equal(e.code, 'CMP_UNAUTHENTICATED_ERROR')
      assert.equal(e.cmpCode, 501)
      assert.equal(e.body, 'error')
      assert.equal(e.status, 'rejection')
      assert.deepEqual(e.failInfo, ['badMessageCheck'])
      assert.equal(errorName(e.errorCode), 'CMP_BAD_MESSAGE_CHECK')
      return true
    })
    assert.deepEqual(rec.sent, ['ir'])
    assert.deepEqual(rec.received, ['error'])
    assert.ok(tx.isFinished && !tx.isCompleted)
    const tid = genp.transactionId.toString('hex')
    await second.waitForLog(`transaction ${tid} [ir->error]: error (badMessageCheck): protection does not verify`)
  })

  await t.test('a KEM certificate not under a trusted root: the genm is rejected, signerNotTrusted', async () => {
    // an ML-KEM certificate of the second CA itself: its root is not among the --trusted
    const other = cmp.KemPrivateKey.generate('ml-kem-768')
    const enrolled = await cmp.runTransaction(
      cmp.ClientTransaction.ir(new cmp.ClientConfig({ ...mac }), { pop: 'encryptedCert', kemKey: other.toDer(), subject: 'CN=Node Untrusted KEM' }),
      { url: second.url },
    )
    assert.ok(spkiOf(enrolled.issued.certificate).equals(other.publicKeyDer()))
    const config = new cmp.ClientConfig({ ...mac, extraCerts: [enrolled.issued.certificate, ...enrolled.issued.chain] })
    const tx = cmp.ClientTransaction.genm(config, ['kemCiphertextInfo'])
    await assert.rejects(cmp.runTransaction(tx, { url: second.url }), (e) => {
      assert.ok(e instanceof cmp.PeerError, String(e))
      // a MAC-protected (1234) error: authenticated
      assert.equal(e.code, 'CMP_PEER_ERROR')
      assert.equal(e.cmpCode, 500)
      assert.equal(e.body, 'error')
      assert.equal(e.status, 'rejection')
      assert.deepEqual(e.failInfo, ['signerNotTrusted'])
      assert.equal(errorName(e.errorCode), 'CMP_SIGNER_NOT_TRUSTED')
      return true
    })
    assert.ok(tx.isFinished && !tx.isCompleted)
  })

  await t.test('encapsulate to the server KEM certificate: its answers carry the KEM-based MAC', async () => {
    // an EC certificate carries no KEM key
    assert.throws(
      () => cmp.kemEncapsulate(spkiOf(new X509Certificate(pki('root.crt')).raw)),
      (e) => e instanceof cmp.CmpError && e.code === 'CMP_UNSUPPORTED_ALGORITHM',
    )
    // MAC-protected requests (1234) with the ciphertext in the ir's generalInfo; the
    // responses are checked with the shared secret alone
    const { info, sharedSecret } = cmp.kemEncapsulate(spkiOf(kemCert))
    const config = new cmp.ClientConfig({ ...mac, firstGeneralInfo: [info], responseSecret: sharedSecret, ...trust })
    const { key, tx, rec, run } = await enrollUnder(config, 'CN=Node KEM To Server Device')
    const r = await run
    assert.deepEqual(rec.sent, ['ir', 'certConf'])
    assert.deepEqual(rec.received, ['ip', 'pkiconf'])
    assert.ok(tx.isCompleted)
    checkIssued(r, key, 'CN=Node KEM To Server Device')
    const ir = cmp.Message.parse(rec.requests[0])
    assert.equal(ir.protectionAlgName, 'PasswordBasedMac')
    const ip = cmp.Message.parse(rec.responses[0])
    // the server decapsulated the secret: its answer carries the KEM-based MAC
    assert.equal(ip.protectionAlgName, 'KemBasedMac')
    ip.verifyMac(sharedSecret)
    const tid = tx.transactionId.toString('hex')
    await second.waitForLog(`transaction ${tid} [ir->ip certConf->pkiconf]: issued `)
    assert.match(second.log(), new RegExp(`transaction ${tid} \\[ir->ip certConf->pkiconf\\]: issued [0-9a-f]+ to "CN=Node KEM To Server Device"; confirmed`))
    assert.ok(!second.log().includes(`transaction ${tid} [genm`), 'no genm: the client encapsulated')
  })

  await t.test('requests under nothing but the KEM-based MAC to the server key: notAuthorized', async () => {
    // anyone can encapsulate to a public key: that authenticates the server, not us
    const { info, sharedSecret } = cmp.kemEncapsulate(spkiOf(kemCert))
    const config = new cmp.ClientConfig({ kemSharedSecret: sharedSecret, reference: 'node-kem-client', firstGeneralInfo: [info], ...trust })
    assert.equal(config.protection, 'mac')
    const { tx, rec, run } = await enrollUnder(config, 'CN=Node Anonymous')
    await assert.rejects(run, (e) => {
      assert.ok(e instanceof cmp.PeerError, String(e))
      assert.equal(e.code, 'CMP_PEER_ERROR')
      assert.equal(e.status, 'rejection')
      assert.deepEqual(e.failInfo, ['notAuthorized'])
      return true
    })
    assert.deepEqual(rec.sent, ['ir'])
    const ir = cmp.Message.parse(rec.requests[0])
    assert.equal(ir.protectionAlgName, 'KemBasedMac')
    ir.verifyMac(sharedSecret)
    // the refusal is protected with that MAC too
    const ip = cmp.Message.parse(rec.responses[0])
    assert.equal(ip.protectionAlgName, 'KemBasedMac')
    ip.verifyMac(sharedSecret)
    assert.ok(tx.isFinished && !tx.isCompleted)
  })
})
