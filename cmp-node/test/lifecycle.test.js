'use strict'
// The rest of the life cycle against the reference server `cmp serve`:
// cross-certification (ccr), central key generation (the key delivered in
// the ip), key recovery (krr) of the centrally generated key, ML-DSA
// enrollment, and the error paths of each, mapped to their codes.

const test = require('node:test')
const assert = require('node:assert/strict')
const { X509Certificate, createPrivateKey } = require('node:crypto')
const { cmp, pki, startServe, mac } = require('./common.js')

const TIMEOUT = { timeout: 120_000 }
const caCert = new X509Certificate(pki('ca.crt'))
const trust = pki('root.crt')

/** POST each request of `tx` to `url`, accepting certificates; returns the steps and the body types sent and received. */
async function drive(tx, url) {
  const post = cmp.httpTransport(url)
  const steps = []
  const bodies = []
  const sent = []
  for (let request = tx.request(); request !== null; request = tx.request()) {
    sent.push(cmp.Message.parse(request).bodyType)
    const response = await post(request, {})
    bodies.push(cmp.Message.parse(response).bodyType)
    const step = tx.handleResponse(response)
    steps.push(step)
    if (step.kind === 'certificateIssued') steps.push(tx.confirm(true))
  }
  return { steps, bodies, sent }
}

test('cmp serve: ccr, central key generation, krr, ML-DSA', TIMEOUT, async (t) => {
  const server = await startServe()
  t.after(server.stop)
  const { url } = server

  await t.test('ccr (sans-IO): a cross-certificate answered with ccp', async () => {
    const config = new cmp.ClientConfig({ ...mac })
    const caKey = cmp.PrivateKey.generate('ec:P-256')
    const tx = cmp.ClientTransaction.ccr(config, { key: caKey.toDer(), subject: 'CN=Partner CA,O=Other' })
    assert.equal(tx.kind, 'ccr')
    const { steps, bodies, sent } = await drive(tx, url)
    assert.deepEqual(sent, ['ccr', 'certConf'])
    assert.deepEqual(bodies, ['ccp', 'pkiconf'])
    assert.equal(steps[0].kind, 'certificateIssued')
    const cert = new X509Certificate(steps[0].certificate)
    // RFC 4514 lists the last RDN first; node:crypto prints them in DER order
    assert.equal(cert.subject, 'O=Other\nCN=Partner CA')
    assert.equal(cert.ca, true, 'basicConstraints cA')
    assert.ok(cert.verify(caCert.publicKey), 'signed by the serving CA')
    assert.ok(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(caKey.publicKeyDer()))
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['certificateIssued', 'continue', 'completed'],
    )
    assert.ok(tx.isCompleted)
  })

  await t.test('ccr (enroll helper, kind ccr)', async () => {
    const key = cmp.PrivateKey.generate('ec:P-256')
    const r = await cmp.enroll({ url, ...mac, kind: 'ccr', key, subject: 'CN=Helper Partner CA' })
    const cert = new X509Certificate(r.certificate)
    assert.equal(cert.ca, true)
    assert.equal(r.privateKey, null)
  })

  await t.test('ccr without a subject: rejected, badCertTemplate', async () => {
    const key = cmp.PrivateKey.generate('ec:P-256')
    await assert.rejects(cmp.enroll({ url, ...mac, kind: 'ccr', key }), (e) => {
      assert.ok(e instanceof cmp.PeerError)
      assert.equal(e.code, 'CMP_PEER_ERROR')
      assert.equal(e.cmpCode, 500)
      assert.equal(e.status, 'rejection')
      assert.deepEqual(e.failInfo, ['badCertTemplate'])
      return true
    })
  })

  let central
  await t.test('central key generation (MAC): the PKI makes and delivers the key', async () => {
    const r = await cmp.enroll({ url, ...mac, subject: 'CN=Central Node', centralKeygen: 'ec:P-256' })
    assert.ok(Buffer.isBuffer(r.privateKey))
    assert.match(r.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/)
    const key = createPrivateKey({ key: r.privateKey, format: 'der', type: 'pkcs8' })
    assert.equal(key.asymmetricKeyType, 'ec')
    const cert = new X509Certificate(r.certificate)
    assert.equal(cert.subject, 'CN=Central Node')
    assert.ok(cert.checkPrivateKey(key), 'the delivered key belongs to the certificate')
    assert.ok(cert.verify(caCert.publicKey))
    // the native class reads the delivered key too
    assert.equal(cmp.PrivateKey.from(r.privateKey).algorithm, 'ec:P-256')
    central = r
  })

  await t.test('central key generation (sans-IO): step certificateIssued has privateKey', async () => {
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.cr(config, { pop: 'centralKeygen', subject: 'CN=Central Cr' })
    const { steps } = await drive(tx, url)
    assert.equal(steps[0].kind, 'certificateIssued')
    const cert = new X509Certificate(steps[0].certificate)
    assert.ok(cert.checkPrivateKey(createPrivateKey({ key: steps[0].privateKey, format: 'der', type: 'pkcs8' })))
  })

  await t.test('an ordinary enrollment has no privateKey', async () => {
    const config = new cmp.ClientConfig({ ...mac })
    const key = cmp.PrivateKey.generate()
    const tx = cmp.ClientTransaction.ir(config, { key: key.toDer(), subject: 'CN=Own Key' })
    const { steps } = await drive(tx, url)
    assert.equal(steps[0].kind, 'certificateIssued')
    assert.equal(steps[0].privateKey ?? null, null)
  })

  await t.test('krr: the centrally generated key comes back', async () => {
    assert.ok(central, 'needs the central key generation subtest')
    const r = await cmp.recoverKeys({ url, ...mac, subject: 'CN=Central Node' })
    assert.equal(r.status, 'accepted')
    assert.equal(r.keys.length, 1)
    assert.ok(r.keys[0].certificate.equals(central.certificate))
    assert.ok(r.keys[0].privateKey.equals(central.privateKey))
    assert.match(r.keys[0].privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/)
    assert.equal(r.newSigCert, null)
  })

  await t.test('krr (sans-IO): kind krr, krp, step keysRecovered', async () => {
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.krr(config, { subject: 'CN=Central Node' })
    assert.equal(tx.kind, 'krr')
    const { steps, bodies, sent } = await drive(tx, url)
    assert.deepEqual(sent, ['krr'])
    assert.deepEqual(bodies, ['krp'])
    const step = steps.find((s) => s.kind === 'keysRecovered')
    assert.ok(step)
    assert.equal(step.keys.length, 1)
    assert.ok(tx.isCompleted)
  })

  await t.test('krr of a subject without archived keys: rejected, badCertId', async () => {
    await assert.rejects(cmp.recoverKeys({ url, ...mac, subject: 'CN=Nobody Archived' }), (e) => {
      assert.ok(e instanceof cmp.PeerError)
      assert.equal(e.cmpCode, 500)
      assert.deepEqual(e.failInfo, ['badCertId'])
      return true
    })
  })

  await t.test('ML-DSA-44 key enrolled (ir, signature POP)', async () => {
    const key = cmp.PrivateKey.generate('ml-dsa-44')
    assert.equal(key.algorithm, 'ml-dsa-44')
    const r = await cmp.enroll({ url, ...mac, key, subject: 'CN=PQ Device' })
    const cert = new X509Certificate(r.certificate)
    assert.equal(cert.subject, 'CN=PQ Device')
    assert.ok(cert.verify(caCert.publicKey), 'signed by the serving CA')
    // node:crypto (OpenSSL 3.0) cannot read ML-DSA keys: the SPKI is in the DER verbatim
    assert.ok(r.certificate.includes(key.publicKeyDer()), 'the certified key is ours')
  })

  await t.test('ML-DSA-65 signer protects a request', async () => {
    // an ML-DSA certificate from the server, then a signature-protected cr with it
    const key = cmp.PrivateKey.generate('ml-dsa-65')
    const first = await cmp.enroll({ url, ...mac, key, subject: 'CN=PQ Signer' })
    const next = cmp.PrivateKey.generate('ec:P-256')
    const r = await cmp.updateKey({
      url,
      cert: first.certificate,
      key,
      chain: pki('ca.crt'),
      trust,
      newKey: next,
    })
    assert.equal(new X509Certificate(r.certificate).subject, 'CN=PQ Signer')
  })
})

test('usage errors of the new requests: CMP_USAGE', () => {
  const none = new cmp.ClientConfig({})
  const macConfig = new cmp.ClientConfig({ ...mac })
  const usage = (fn, text) =>
    assert.throws(fn, (e) => {
      assert.ok(e instanceof cmp.CmpError)
      assert.equal(e.code, 'CMP_USAGE')
      assert.equal(e.cmpCode, 100)
      assert.match(e.message, text)
      return true
    })
  usage(() => cmp.ClientTransaction.ir(none, { pop: 'centralKeygen', subject: 'CN=x' }), /MAC secret or a signer/)
  usage(() => cmp.ClientTransaction.krr(none, { subject: 'CN=x' }), /MAC secret or a signer/)
  usage(() => cmp.ClientTransaction.krr(macConfig, {}), /subject/)
  usage(
    () => cmp.ClientTransaction.ir(macConfig, { pop: 'centralKeygen', keyAlgorithm: 'dsa512', subject: 'CN=x' }),
    /unknown key algorithm/,
  )
  usage(
    () =>
      cmp.ClientTransaction.ir(macConfig, {
        pop: 'centralKeygen',
        key: cmp.PrivateKey.generate().toDer(),
        subject: 'CN=x',
      }),
    /give no key/,
  )
})
