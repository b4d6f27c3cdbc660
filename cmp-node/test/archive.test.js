'use strict'
// Key archiving by the requester (pkiArchiveOptions, RFC 4211 section 6.4)
// against the reference server `cmp serve`: the request's own private key,
// encrypted under the MAC secret or for the issuing CA's certificate, is
// archived by the server and comes back with krr; a key the server cannot
// open is refused; the usage errors of the options, with their codes.

const test = require('node:test')
const assert = require('node:assert/strict')
const { X509Certificate } = require('node:crypto')
const { cmp, pki, startServe, mac } = require('./common.js')

const TIMEOUT = { timeout: 120_000 }
const SUBJECT = 'CN=Archived Node'

/** POST each request of `tx` to `url`, accepting certificates; returns the steps. */
async function drive(tx, url) {
  const post = cmp.httpTransport(url)
  const steps = []
  for (let request = tx.request(); request !== null; request = tx.request()) {
    const step = tx.handleResponse(await post(request, {}))
    steps.push(step)
    if (step.kind === 'certificateIssued') steps.push(tx.confirm(true))
  }
  return steps
}

test('cmp serve: keys archived with ir/cr (MAC secret, CA certificate) and recovered by krr', TIMEOUT, async (t) => {
  const server = await startServe()
  t.after(server.stop)
  const { url } = server

  const archived = []
  let issuingCa
  await t.test('ir with archiveKey: encrypted under the MAC secret', async () => {
    const key = cmp.PrivateKey.generate('ec:P-256')
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.ir(config, { key: key.toDer(), subject: SUBJECT, archiveKey: true })
    const steps = await drive(tx, url)
    assert.equal(steps[0].kind, 'certificateIssued')
    assert.ok(tx.isCompleted)
    const cert = new X509Certificate(steps[0].certificate)
    assert.ok(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(key.publicKeyDer()))
    // the issuing CA certificate, from the ip's chain (issuer first)
    issuingCa = steps[0].chain[0]
    assert.equal(new X509Certificate(issuingCa).subject, new X509Certificate(pki('ca.crt')).subject)
    archived.push({ certificate: steps[0].certificate, privateKey: key.toDer() })
  })

  await t.test('cr with archiveCert: encrypted for the issuing CA (key agreement, EC)', async () => {
    assert.ok(issuingCa, 'needs the ir subtest')
    const key = cmp.PrivateKey.generate('ec:P-384')
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.cr(config, {
      key: key.toPem(),
      subject: SUBJECT,
      archiveKey: true,
      archiveCert: issuingCa,
    })
    const steps = await drive(tx, url)
    assert.equal(steps[0].kind, 'certificateIssued')
    archived.push({ certificate: steps[0].certificate, privateKey: key.toDer() })
  })

  await t.test('krr recovers both keys, in order, byte for byte', async () => {
    assert.equal(archived.length, 2, 'needs the ir and cr subtests')
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.krr(config, { subject: SUBJECT })
    const steps = await drive(tx, url)
    const step = steps.find((s) => s.kind === 'keysRecovered')
    assert.ok(step, JSON.stringify(steps.map((s) => s.kind)))
    assert.equal(step.keys.length, 2)
    for (const [i, k] of step.keys.entries()) {
      assert.ok(k.certificate.equals(archived[i].certificate), `certificate ${i}`)
      assert.ok(k.privateKey.equals(archived[i].privateKey), `private key ${i}`)
    }
  })

  await t.test('enroll and updateKey helpers pass archiveKey / archiveCert; recoverKeys returns the keys', async () => {
    const key = cmp.PrivateKey.generate()
    const first = await cmp.enroll({ url, ...mac, key, subject: 'CN=Archived Helper', archiveKey: true })
    const newKey = cmp.PrivateKey.generate()
    const renewed = await cmp.updateKey({
      url,
      cert: first.certificate,
      key,
      chain: pki('ca.crt'),
      trust: pki('root.crt'),
      newKey,
      archiveKey: true,
      archiveCert: new X509Certificate(issuingCa),
    })
    const r = await cmp.recoverKeys({ url, ...mac, subject: 'CN=Archived Helper' })
    assert.deepEqual(
      r.keys.map((k) => [k.certificate, k.privateKey]),
      [
        [first.certificate, key.toDer()],
        [renewed.certificate, newKey.toDer()],
      ],
    )
  })

  await t.test('archiveCert whose key can neither receive a key nor agree one (ML-DSA): CMP_BAD_REQUEST', async () => {
    const mlDsa = await cmp.enroll({ url, ...mac, key: cmp.PrivateKey.generate('ml-dsa-44'), subject: 'CN=ML-DSA' })
    const config = new cmp.ClientConfig({ ...mac })
    const key = cmp.PrivateKey.generate().toDer()
    assert.throws(
      () => cmp.ClientTransaction.ir(config, { key, subject: 'CN=x', archiveKey: true, archiveCert: mlDsa.certificate }),
      (e) => {
        assert.ok(e instanceof cmp.CmpError)
        assert.equal(e.code, 'CMP_BAD_REQUEST')
        assert.equal(e.cmpCode, 409)
        assert.match(e.message, /neither receive key transport nor agree keys/)
        return true
      },
    )
  })

  await t.test('a key encrypted for another certificate (the root): rejected, incorrectData', async () => {
    const key = cmp.PrivateKey.generate()
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.ir(config, {
      key: key.toDer(),
      subject: 'CN=Not For Us',
      archiveKey: true,
      archiveCert: pki('root.crt'),
    })
    await assert.rejects(drive(tx, url), (e) => {
      assert.ok(e instanceof cmp.PeerError)
      assert.equal(e.code, 'CMP_PEER_ERROR')
      assert.equal(e.cmpCode, 500)
      assert.equal(e.status, 'rejection')
      assert.deepEqual(e.failInfo, ['incorrectData'])
      assert.match(e.statusString.join(' '), /not encrypted for our key or password/)
      return true
    })
    // nothing was archived (nor issued) for it
    await assert.rejects(cmp.recoverKeys({ url, ...mac, subject: 'CN=Not For Us' }), (e) => {
      assert.deepEqual(e.failInfo, ['badCertId'])
      return true
    })
  })
})

test('usage errors of archiveKey / archiveCert: CMP_USAGE, CMP_DECODE', () => {
  const macConfig = new cmp.ClientConfig({ ...mac })
  const signed = new cmp.ClientConfig({ key: pki('ee.key'), cert: pki('ee.crt') })
  const key = cmp.PrivateKey.generate().toDer()
  const throwsCode = (fn, code, cmpCode, text) =>
    assert.throws(fn, (e) => {
      assert.ok(e instanceof cmp.CmpError)
      assert.equal(e.code, code)
      assert.equal(e.cmpCode, cmpCode)
      assert.match(e.message, text)
      return true
    })
  const usage = (fn, text) => throwsCode(fn, 'CMP_USAGE', 100, text)
  usage(
    () => cmp.ClientTransaction.ir(macConfig, { key, subject: 'CN=x', archiveCert: pki('ca.crt') }),
    /archiveCert needs archiveKey/,
  )
  usage(
    () =>
      cmp.ClientTransaction.ir(macConfig, {
        publicKey: cmp.PrivateKey.generate().publicKeyDer(),
        pop: 'none',
        subject: 'CN=x',
        archiveKey: true,
      }),
    /archiveKey needs key/,
  )
  usage(
    () => cmp.ClientTransaction.ir(macConfig, { pop: 'centralKeygen', subject: 'CN=x', archiveKey: true }),
    /not with centralKeygen/,
  )
  for (const pop of ['encryptedCert', 'challengeResponse']) {
    usage(
      () =>
        cmp.ClientTransaction.ir(macConfig, {
          pop,
          kemKey: cmp.KemPrivateKey.generate().toDer(),
          subject: 'CN=x',
          archiveKey: true,
        }),
      /not with centralKeygen or a KEM key/,
    )
  }
  // signature protection has no secret to encrypt under
  usage(() => cmp.ClientTransaction.cr(signed, { key, subject: 'CN=x', archiveKey: true }), /needs archiveCert/)
  // not a certificate at all
  throwsCode(
    () => cmp.ClientTransaction.ir(macConfig, { key, subject: 'CN=x', archiveKey: true, archiveCert: Buffer.from([1, 2, 3]) }),
    'CMP_DECODE',
    200,
    /./,
  )
})
