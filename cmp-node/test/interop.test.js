'use strict'
// enroll / kur / rr / genm against OpenSSL's mock CMP server on loopback,
// through the Promise helpers (global fetch) and the sans-IO API.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { X509Certificate, generateKeyPairSync, createPublicKey } = require('node:crypto')
const { cmp, pki, startMock, mac, sig, PKI } = require('./common.js')

const issued = () => new X509Certificate(pki('issued.crt'))

test('MAC mode: ir, cr, p10cr, genm caCerts', async (t) => {
  const server = await startMock('mac')
  t.after(server.stop)

  await t.test('enroll (ir) with a shared secret', async () => {
    const r = await cmp.enroll({ url: server.url, ...mac, key: pki('issued.key'), subject: 'CN=Test Device' })
    const cert = new X509Certificate(r.certificate)
    assert.equal(cert.fingerprint256, issued().fingerprint256)
    assert.equal(new X509Certificate(r.certificatePem).subject, 'CN=Test Device')
    assert.equal(r.status, 'accepted')
    assert.deepEqual(r.caPubs, [new X509Certificate(pki('root.crt')).raw])
    assert.ok(r.chain.length >= 1)
    assert.ok(cert.checkIssued(new X509Certificate(r.chain[0])))
  })

  await t.test('enroll (cr) with a DER key Buffer', async () => {
    const der = cmp.PrivateKey.from(pki('issued.key')).toDer()
    const r = await cmp.enroll({ url: server.url, ...mac, key: der, subject: 'CN=Test Device', kind: 'cr' })
    assert.deepEqual(r.certificate, issued().raw)
  })

  await t.test('enroll (p10cr) with a CSR', async () => {
    const r = await cmp.enroll({ url: server.url, ...mac, csr: pki('csr.der', null) })
    assert.deepEqual(r.certificate, issued().raw)
  })

  await t.test('getCaCerts (genm)', async () => {
    const certs = await cmp.getCaCerts({ url: server.url, ...mac })
    assert.ok(Array.isArray(certs))
    for (const c of certs) new X509Certificate(c)
  })

  await t.test('a wrong secret fails with a stable code', async () => {
    await assert.rejects(
      cmp.enroll({ url: server.url, reference: '1234', secret: 'wrong', key: pki('issued.key'), subject: 'CN=Test Device' }),
      (e) => e instanceof cmp.CmpError && typeof e.code === 'string' && e.code.startsWith('CMP_'),
    )
  })

  await t.test('sans-IO transaction with a caller-supplied transport', async () => {
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.ir(config, { key: pki('issued.key'), subject: 'CN=Test Device' })
    assert.equal(tx.kind, 'ir')
    const post = cmp.httpTransport(server.url)
    const seen = []
    const r = await cmp.runTransaction(tx, {
      transport: async (req, ctx) => {
        seen.push(cmp.Message.parse(req).bodyType)
        return post(req, ctx)
      },
    })
    assert.deepEqual(seen, ['ir', 'certConf'])
    assert.deepEqual(r.certificate, issued().raw)
    assert.deepEqual(r.steps.map((s) => s.kind), ['certificateIssued', 'continue', 'completed'])
    assert.ok(tx.isCompleted)
  })

  await t.test('by hand: request() -> Buffer, handleResponse(buf) -> step', async () => {
    const config = new cmp.ClientConfig({ ...mac })
    const tx = cmp.ClientTransaction.genm(config, ['caCerts'])
    const req = tx.request()
    assert.ok(Buffer.isBuffer(req))
    assert.equal(tx.request(), null)
    const rsp = await cmp.httpTransport(server.url)(req, {})
    const step = tx.handleResponse(rsp, Date.now())
    assert.equal(step.kind, 'generalResponse')
    assert.ok(tx.isCompleted)
    assert.throws(() => tx.handleResponse(rsp), (e) => e.code === 'CMP_USAGE' && e.cmpCode === 100)
  })
})

test('signature mode: kur (updateKey) and rr (revoke)', async (t) => {
  const server = await startMock('sig')
  t.after(server.stop)
  const s = sig()

  await t.test('enroll (ir) signed with an existing certificate', async () => {
    const r = await cmp.enroll({
      url: server.url,
      signer: { key: s.key, cert: s.cert, chain: s.chain },
      trust: s.trust,
      untrusted: s.untrusted,
      key: s.key,
      subject: 'CN=Test Device',
    })
    assert.deepEqual(r.certificate, issued().raw)
  })

  await t.test('updateKey (kur)', async () => {
    const r = await cmp.updateKey({
      url: server.url,
      key: s.key,
      cert: new X509Certificate(s.cert),
      chain: s.chain,
      trust: s.trust,
      untrusted: s.untrusted,
      newKey: s.key,
    })
    assert.deepEqual(r.certificate, issued().raw)
  })

  await t.test('revoke (rr)', async () => {
    const r = await cmp.revoke({ url: server.url, cert: s.cert, key: s.key, chain: s.chain, trust: s.trust, untrusted: s.untrusted, reason: 'keyCompromise' })
    assert.equal(r.status, 'accepted')
  })

  await t.test('an untrusted server is CMP_SIGNER_NOT_TRUSTED', async () => {
    await assert.rejects(
      cmp.revoke({ url: server.url, cert: s.cert, key: s.key, trust: pki('ee.crt') }),
      (e) => e instanceof cmp.CmpError && e.kind === 'remote' && e.cmpCode >= 300 && e.cmpCode < 400,
    )
  })
})

test('rejection: PeerError with status and failInfo', async (t) => {
  const server = await startMock('mac', ['-pkistatus', '2', '-failure', '9', '-statusstring', 'no way'])
  t.after(server.stop)
  await assert.rejects(cmp.enroll({ url: server.url, ...mac, key: pki('issued.key'), subject: 'CN=Test Device' }), (e) => {
    assert.ok(e instanceof cmp.CmpError)
    assert.ok(e instanceof cmp.PeerError)
    assert.ok(e instanceof Error)
    assert.equal(e.code, 'CMP_PEER_ERROR')
    assert.equal(e.cmpCode, 500)
    assert.equal(e.kind, 'peer')
    assert.equal(e.status, 'rejection')
    assert.deepEqual(e.failInfo, ['badPOP'])
    assert.deepEqual(e.statusString, ['no way'])
    assert.equal(e.body, 'ip')
    return true
  })
})

test('polling: the helper waits with timers', async (t) => {
  const server = await startMock('mac', ['-poll_count', '2', '-check_after', '1'])
  t.after(server.stop)
  const started = Date.now()
  const r = await cmp.enroll({ url: server.url, ...mac, key: pki('issued.key'), subject: 'CN=Test Device' })
  // OpenSSL answers the ir with status waiting (polled at once), then a
  // pollRep with checkAfter 1 s (a timer), then the ip.
  assert.equal(r.polls, 2)
  assert.ok(Date.now() - started >= 950, 'waited checkAfter')
  assert.deepEqual(r.certificate, issued().raw)
})

test('AbortSignal stops a transaction while it polls', async (t) => {
  const server = await startMock('mac', ['-poll_count', '3', '-check_after', '30'])
  t.after(server.stop)
  const controller = new AbortController()
  const started = Date.now()
  setTimeout(() => controller.abort(new Error('give up')), 300)
  await assert.rejects(
    cmp.enroll({ url: server.url, ...mac, key: pki('issued.key'), subject: 'CN=Test Device', signal: controller.signal }),
    { message: 'give up' },
  )
  assert.ok(Date.now() - started < 10000, 'aborted promptly')
  await assert.rejects(
    cmp.getCaCerts({ url: server.url, ...mac, signal: AbortSignal.abort() }),
    { name: 'AbortError' },
  )
})

test('transport errors', async () => {
  await assert.rejects(
    cmp.getCaCerts({ url: 'http://127.0.0.1:9/pkix/', ...mac }),
    (e) => e instanceof cmp.TransportError && e.code === 'ERR_CMP_TRANSPORT' && !(e instanceof cmp.CmpError),
  )
  await assert.rejects(cmp.getCaCerts({ ...mac }), (e) => e.code === 'CMP_USAGE')
})

test('a node:crypto key as credential; the certificate read by X509Certificate', async (t) => {
  // A key from node:crypto, exported as PKCS#8, and a certificate for it from
  // the test CA (made with the openssl CLI): the mock server hands it out.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-node-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' })
  fs.writeFileSync(path.join(dir, 'node.key'), pkcs8)
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  run('req', '-new', '-key', 'node.key', '-subj', '/CN=Node Device', '-out', 'node.csr')
  run('x509', '-req', '-in', 'node.csr', '-CA', path.join(PKI, 'ca.crt'), '-CAkey', path.join(PKI, 'ca.key'),
    '-set_serial', '4242', '-days', '2', '-out', 'node.crt')
  const nodeCrt = path.join(dir, 'node.crt')

  // 1. enroll the node:crypto key (MAC); the issued certificate is read by node:crypto
  const macServer = await startMock('mac', ['-rsp_cert', nodeCrt])
  t.after(macServer.stop)
  const r = await cmp.enroll({ url: macServer.url, ...mac, key: privateKey, subject: 'CN=Node Device' })
  const cert = new X509Certificate(r.certificate)
  assert.equal(cert.subject, 'CN=Node Device')
  assert.ok(cert.publicKey.equals(createPublicKey(privateKey)))
  assert.ok(cert.checkPrivateKey(privateKey))
  assert.ok(cert.verify(new X509Certificate(pki('ca.crt')).publicKey))

  // 2. the PKCS#8 PEM and the certificate as signature credential (kur, then rr)
  const sigServer = await startMock('sig', ['-rsp_cert', nodeCrt])
  t.after(sigServer.stop)
  const common = { url: sigServer.url, trust: pki('root.crt'), untrusted: pki('ca.crt'), chain: pki('ca.crt') }
  const renewed = await cmp.updateKey({ ...common, key: pkcs8, cert, newKey: privateKey })
  assert.equal(new X509Certificate(renewed.certificatePem).fingerprint256, cert.fingerprint256)
  const rev = await cmp.revoke({ ...common, key: privateKey, cert: renewed.certificate })
  assert.equal(rev.status, 'accepted')
})
