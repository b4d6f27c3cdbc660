'use strict'
// The Promise helpers and the sans-IO ClientTransaction against the
// project's own reference server, `cmp serve` (cargo build -p cmp-cli), on
// loopback with the fixed test PKI. Unlike OpenSSL's mock server it issues
// a fresh certificate for the requested key and subject, keeps track of what
// it issued and revoked, polls (--poll N) and grants implicit confirmation
// (--grant-implicit-confirm) on request.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')
const { X509Certificate, generateKeyPairSync, createPublicKey } = require('node:crypto')
const { cmp, pki, startServe, mac } = require('./common.js')

const TIMEOUT = { timeout: 120_000 }
const ID_IT_CA_CERTS = '1.3.6.1.5.5.7.4.17'
const ID_IT_CERT_REQ_TEMPLATE = '1.3.6.1.5.5.7.4.19'
const ID_IT_UNSUPPORTED_OIDS = '1.3.6.1.5.5.7.4.7'

const caCert = new X509Certificate(pki('ca.crt'))
const rootCert = new X509Certificate(pki('root.crt'))
/** Responses signed by server.crt (issued by ca.crt) validate up to root.crt. */
const trust = pki('root.crt')

/** A fresh P-256 key from node:crypto: the KeyObject and its PKCS#8 PEM. */
function newKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey, pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }) }
}

/**
 * Check a certificate `cmp serve` issued: the subject as node:crypto prints
 * it, the public key of `key`, signed by the issuing CA (ca.crt) and valid
 * now. Returns the X509Certificate.
 */
function checkIssued(der, { subject, key }) {
  const cert = new X509Certificate(der)
  assert.equal(cert.subject, subject)
  assert.ok(cert.publicKey.equals(createPublicKey(key)), 'the certified key is ours')
  assert.ok(cert.checkPrivateKey(key))
  assert.ok(cert.verify(caCert.publicKey), 'signed by ca.crt')
  assert.ok(cert.checkIssued(caCert))
  assert.equal(cert.issuer, caCert.subject)
  const now = Date.now()
  assert.ok(Date.parse(cert.validFrom) <= now + 60_000 && now < Date.parse(cert.validTo), 'valid now')
  return cert
}

/** A DER PKCS#10 CSR for the KeyObject `key`, made with the openssl CLI. */
function makeCsr(t, key, subject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-node-serve-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'key.pem'), key.export({ type: 'pkcs8', format: 'pem' }))
  execFileSync('openssl', ['req', '-new', '-key', 'key.pem', '-subj', subject, '-outform', 'DER', '-out', 'csr.der'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  return fs.readFileSync(path.join(dir, 'csr.der'))
}

/** An httpTransport to `url` that records the body type of every request and response. */
function recordingTransport(url, onResponse = () => {}) {
  const post = cmp.httpTransport(url)
  const sent = []
  const received = []
  const transport = async (request, context) => {
    sent.push(cmp.Message.parse(request).bodyType)
    const response = await post(request, context)
    const type = cmp.Message.parse(response).bodyType
    received.push(type)
    onResponse(type)
    return response
  }
  return { transport, sent, received }
}

/**
 * Drive a sans-IO transaction by hand: POST each request, sleep until
 * pollTimeout() when there is nothing to send, accept issued certificates.
 * Returns what was sent and the steps, with the times pollReqs were sent
 * and were due.
 */
async function driveByHand(tx, url) {
  const post = cmp.httpTransport(url)
  const sent = []
  const steps = []
  const pollTimes = []
  let due = null
  for (let n = 0; n < 16; n++) {
    const request = tx.request()
    if (request === null) {
      if (tx.isFinished) return { sent, steps, pollTimes }
      due = tx.pollTimeout()
      assert.equal(typeof due, 'number', 'nothing to send: a timer must be set')
      await sleep(Math.max(0, due - Date.now()))
      tx.handleTimeout(Date.now())
      continue
    }
    const type = cmp.Message.parse(request).bodyType
    sent.push(type)
    if (type === 'pollReq') pollTimes.push({ sent: Date.now(), due })
    due = null
    const step = tx.handleResponse(await post(request, {}), Date.now())
    steps.push(step)
    if (step.kind === 'certificateIssued') steps.push(tx.confirm(true, undefined, Date.now()))
  }
  assert.fail('more than 16 steps')
}

test('cmp serve: enroll, updateKey, revoke, getCaCerts, generalMessage, sans-IO p10cr', TIMEOUT, async (t) => {
  const server = await startServe()
  t.after(server.stop)
  const { url } = server

  // shared by the subtests, in order: enroll -> updateKey -> revoke -> revoke again
  const first = newKey()
  let issued
  const renewedKey = newKey()
  let renewed

  await t.test('enroll (ir, MAC): a fresh certificate for our node:crypto key and subject', async () => {
    const r = await cmp.enroll({
      url,
      ...mac,
      key: first.pkcs8,
      subject: 'CN=Node Device,O=cmp-node',
      signal: AbortSignal.timeout(60_000),
    })
    // RFC 4514 order: the last RDN (O) comes first in the DER, as node prints it
    issued = checkIssued(r.certificate, { subject: 'O=cmp-node\nCN=Node Device', key: first.privateKey })
    assert.equal(new X509Certificate(r.certificatePem).fingerprint256, issued.fingerprint256)
    assert.equal(r.status, 'accepted')
    assert.equal(r.polls, 0)
    assert.equal(r.implicitConfirmGranted, false)
    assert.deepEqual(r.chain, [caCert.raw, rootCert.raw])
    assert.deepEqual(r.caPubs, [rootCert.raw])
    const tid = r.transactionId.toString('hex')
    await server.waitForLog(`transaction ${tid} [ir->ip certConf->pkiconf]: issued`)
    assert.match(server.log(), new RegExp(`${tid} .*to "CN=Node Device,O=cmp-node"; confirmed`))
  })

  await t.test('subjects in RFC 4514 form with spaces and in OpenSSL form name the same subject', async () => {
    for (const subject of ['CN=Spaced Node, O=cmp-node', '/O=cmp-node/CN=Spaced Node']) {
      const k = newKey()
      const r = await cmp.enroll({ url, ...mac, trust, key: k.privateKey, subject })
      checkIssued(r.certificate, { subject: 'O=cmp-node\nCN=Spaced Node', key: k.privateKey })
    }
    const k = newKey()
    await assert.rejects(cmp.enroll({ url, ...mac, trust, key: k.privateKey, subject: '/XX=1' }), (e) => {
      assert.equal(e.code, 'CMP_USAGE')
      assert.match(e.message, /unknown attribute type/)
      return true
    })
  })

  await t.test('enroll (cr) signed with ee.crt, the key as KeyObject', async () => {
    const k = newKey()
    const r = await cmp.enroll({
      url,
      signer: { key: pki('ee.key'), cert: pki('ee.crt') },
      trust,
      key: k.privateKey,
      subject: 'CN=Signed Node',
      kind: 'cr',
    })
    const cert = checkIssued(r.certificate, { subject: 'CN=Signed Node', key: k.privateKey })
    assert.notEqual(cert.serialNumber, issued.serialNumber)
    await server.waitForLog(`transaction ${r.transactionId.toString('hex')} [cr->cp certConf->pkiconf]`)
  })

  await t.test('updateKey (kur) signed with the issued certificate: same subject, new key', async () => {
    assert.ok(issued, 'enroll ran first')
    renewed = await cmp.updateKey({ url, key: first.pkcs8, cert: issued, newKey: renewedKey.privateKey, trust })
    const cert = checkIssued(renewed.certificate, { subject: issued.subject, key: renewedKey.privateKey })
    assert.notEqual(cert.serialNumber, issued.serialNumber)
    assert.ok(!cert.publicKey.equals(issued.publicKey))
    assert.equal(renewed.status, 'accepted')
    assert.deepEqual(renewed.chain, [caCert.raw, rootCert.raw])
    await server.waitForLog(`transaction ${renewed.transactionId.toString('hex')} [kur->kup certConf->pkiconf]: issued`)
  })

  await t.test('revoke (rr, keyCompromise) the renewed certificate: accepted', async () => {
    assert.ok(renewed, 'updateKey ran first')
    const r = await cmp.revoke({
      url,
      key: renewedKey.privateKey,
      cert: renewed.certificate,
      trust,
      reason: 'keyCompromise',
    })
    assert.equal(r.status, 'accepted')
    assert.deepEqual(r.failInfo, [])
    const log = await server.waitForLog(`transaction ${r.transactionId.toString('hex')} [rr->rp]: revoked`)
    assert.match(log, new RegExp(`${r.transactionId.toString('hex')} \\[rr->rp\\]: revoked \\w+ \\(reason 1\\)`))
  })

  await t.test('revoke it again: PeerError with failInfo certRevoked', async () => {
    assert.ok(renewed, 'updateKey ran first')
    await assert.rejects(
      cmp.revoke({ url, key: renewedKey.pkcs8, cert: renewed.certificatePem, trust, reason: 'keyCompromise' }),
      (e) => {
        assert.ok(e instanceof cmp.PeerError, String(e))
        assert.ok(e instanceof cmp.CmpError)
        assert.ok(e instanceof Error)
        assert.equal(e.code, 'CMP_PEER_ERROR')
        assert.equal(e.cmpCode, 500)
        assert.equal(e.kind, 'peer')
        assert.equal(e.status, 'rejection')
        assert.ok(e.failInfo.includes('certRevoked'), `failInfo ${e.failInfo}`)
        assert.equal(e.body, 'rp')
        return true
      },
    )
    await server.waitForLog('[rr->rp]: rejected (certRevoked)')
  })

  await t.test('getCaCerts (genm caCerts): the issuing CA and the root', async () => {
    const certs = await cmp.getCaCerts({ url, ...mac })
    const fingerprints = certs.map((c) => new X509Certificate(c).fingerprint256).sort()
    assert.deepEqual(fingerprints, [caCert.fingerprint256, rootCert.fingerprint256].sort())
    // under signature protection too (ee.crt), the answer checked against root.crt
    const signed = await cmp.getCaCerts({ url, signer: { key: pki('ee.key'), cert: pki('ee.crt') }, trust })
    assert.deepEqual(signed.map((c) => new X509Certificate(c).fingerprint256).sort(), fingerprints)
  })

  await t.test('generalMessage: caCerts, certReqTemplate, an unknown OID', async () => {
    const infos = await cmp.generalMessage({ url, ...mac, infos: ['caCerts'] })
    assert.equal(infos.length, 1)
    assert.equal(infos[0].oid, ID_IT_CA_CERTS)
    assert.ok(infos[0].value.includes(caCert.raw) && infos[0].value.includes(rootCert.raw))
    const template = await cmp.generalMessage({ url, ...mac, infos: ['certReqTemplate'] })
    assert.deepEqual(template.map((i) => i.oid), [ID_IT_CERT_REQ_TEMPLATE])
    const unknown = await cmp.generalMessage({ url, ...mac, infos: [{ oid: '1.3.6.1.4.1.99999.1' }] })
    assert.deepEqual(unknown.map((i) => i.oid), [ID_IT_UNSUPPORTED_OIDS])
    await server.waitForLog('genp: unsupportedOIDs [1.3.6.1.4.1.99999.1]')
  })

  await t.test('a wrong secret: CMP_UNAUTHENTICATED_ERROR carrying CMP_BAD_MESSAGE_CHECK', async () => {
    const k = newKey()
    const errorName = (code) => cmp.errorTable().find((row) => row.code === code)?.name
    await assert.rejects(
      cmp.enroll({ url, reference: mac.reference, secret: 'wrong', key: k.privateKey, subject: 'CN=Node Device' }),
      (e) => {
        // the server cannot MAC-protect its error with a secret it does not
        // share: the client reports it, unauthenticated
        assert.ok(e instanceof cmp.PeerError, String(e))
        assert.equal(e.code, 'CMP_UNAUTHENTICATED_ERROR')
        assert.equal(e.cmpCode, 501)
        assert.equal(e.body, 'error')
        assert.equal(e.status, 'rejection')
        assert.deepEqual(e.failInfo, ['badMessageCheck'])
        assert.equal(errorName(e.errorCode), 'CMP_BAD_MESSAGE_CHECK')
        return true
      },
    )
    await server.waitForLog('[ir->error]: error (badMessageCheck): protection does not verify')
    // an unknown reference: the same, carrying CMP_UNKNOWN_CREDENTIAL
    await assert.rejects(
      cmp.enroll({ url, reference: '9999', secret: mac.secret, key: k.privateKey, subject: 'CN=Node Device' }),
      (e) => e.code === 'CMP_UNAUTHENTICATED_ERROR' && errorName(e.errorCode) === 'CMP_UNKNOWN_CREDENTIAL',
    )
  })

  await t.test('implicit confirmation asked for but not granted: certConf is sent', async () => {
    const k = newKey()
    const rec = recordingTransport(url)
    const r = await cmp.enroll({
      transport: rec.transport,
      ...mac,
      implicitConfirm: true,
      key: k.privateKey,
      subject: 'CN=Not Implicit',
    })
    assert.equal(r.implicitConfirmGranted, false)
    assert.deepEqual(rec.sent, ['ir', 'certConf'])
    assert.deepEqual(rec.received, ['ip', 'pkiconf'])
    checkIssued(r.certificate, { subject: 'CN=Not Implicit', key: k.privateKey })
  })

  await t.test('sans-IO p10cr by hand: request() -> handleResponse() -> confirm()', async (st) => {
    const k = newKey()
    const csr = makeCsr(st, k.privateKey, '/CN=Node P10cr')
    const post = cmp.httpTransport(url)
    const tx = cmp.ClientTransaction.p10cr(new cmp.ClientConfig({ ...mac }), csr, Date.now())
    assert.equal(tx.kind, 'p10cr')
    const req = tx.request()
    assert.ok(Buffer.isBuffer(req))
    assert.equal(cmp.Message.parse(req).bodyType, 'p10cr')
    assert.equal(tx.request(), null, 'one request at a time')
    const rsp = await post(req, {})
    assert.equal(cmp.Message.parse(rsp).bodyType, 'cp')
    const step = tx.handleResponse(rsp, Date.now())
    assert.equal(step.kind, 'certificateIssued')
    assert.equal(step.status, 'accepted')
    assert.equal(step.implicitConfirmGranted, false)
    checkIssued(step.certificate, { subject: 'CN=Node P10cr', key: k.privateKey })
    assert.deepEqual(step.chain, [caCert.raw, rootCert.raw])
    assert.equal(tx.isFinished, false)
    assert.equal(tx.confirm(true, undefined, Date.now()).kind, 'continue')
    const certConf = tx.request()
    assert.equal(cmp.Message.parse(certConf).bodyType, 'certConf')
    const done = tx.handleResponse(await post(certConf, {}), Date.now())
    assert.equal(done.kind, 'completed')
    assert.ok(tx.isFinished && tx.isCompleted)
    assert.equal(tx.request(), null)
    await server.waitForLog(`transaction ${tx.transactionId.toString('hex')} [p10cr->cp certConf->pkiconf]: issued`)
  })

  await t.test('SIGTERM stops the server (exit status 0)', async () => {
    const { code, signal } = await server.stop()
    assert.equal(signal, null)
    assert.equal(code, 0)
    assert.match(server.log(), /stopped after \d+ request/)
  })
})

test('cmp serve --poll 2: polling through the Promise helper and by hand', TIMEOUT, async (t) => {
  const server = await startServe(['--poll', '2'])
  t.after(server.stop)
  const { url } = server

  await t.test('enroll waits with timers (checkAfter 1 s)', async () => {
    const k = newKey()
    const started = Date.now()
    const r = await cmp.enroll({ url, ...mac, key: k.pkcs8, subject: 'CN=Poller', signal: AbortSignal.timeout(60_000) })
    // ip with status waiting (polled at once), pollRep checkAfter 1 s, ip
    assert.equal(r.polls, 2)
    assert.ok(Date.now() - started >= 950, 'waited checkAfter')
    checkIssued(r.certificate, { subject: 'CN=Poller', key: k.privateKey })
    await server.waitForLog(
      `transaction ${r.transactionId.toString('hex')} [ir->ip pollReq->pollRep pollReq->ip certConf->pkiconf]`,
    )
  })

  await t.test('runTransaction reports the waiting steps', async () => {
    const k = newKey()
    const tx = cmp.ClientTransaction.cr(new cmp.ClientConfig({ ...mac }), { key: k.pkcs8, subject: 'CN=Poller' })
    const r = await cmp.runTransaction(tx, { url })
    assert.deepEqual(r.steps.map((s) => s.kind), ['waiting', 'waiting', 'certificateIssued', 'continue', 'completed'])
    assert.equal(r.polls, 2)
    assert.equal(r.messages, 4)
    for (const s of r.steps.filter((s) => s.kind === 'waiting')) assert.equal(typeof s.until, 'number')
    checkIssued(r.certificate, { subject: 'CN=Poller', key: k.privateKey })
  })

  await t.test('an AbortSignal that fires mid-poll stops the helper at once', async () => {
    const k = newKey()
    const controller = new AbortController()
    let abortedAt = 0
    // abort 200 ms into the 1 s wait the pollRep asks for
    const rec = recordingTransport(url, (type) => {
      if (type === 'pollRep') {
        setTimeout(() => {
          abortedAt = Date.now()
          controller.abort(new Error('give up'))
        }, 200)
      }
    })
    await assert.rejects(
      cmp.enroll({ transport: rec.transport, ...mac, key: k.privateKey, subject: 'CN=Aborted', signal: controller.signal }),
      { message: 'give up' },
    )
    assert.ok(abortedAt > 0, 'the abort fired')
    assert.ok(Date.now() - abortedAt < 500, `rejected ${Date.now() - abortedAt} ms after the abort`)
    assert.deepEqual(rec.sent, ['ir', 'pollReq'], 'nothing sent after the abort')
    assert.deepEqual(rec.received, ['ip', 'pollRep'])
    // the timer is gone: nothing more is sent later either
    await sleep(1200)
    assert.deepEqual(rec.sent, ['ir', 'pollReq'])
    assert.doesNotMatch(server.log(), /issued \w+ to "CN=Aborted"/)

    // an already aborted signal: nothing is sent
    const early = recordingTransport(url)
    await assert.rejects(
      cmp.enroll({ transport: early.transport, ...mac, key: k.privateKey, subject: 'CN=Aborted', signal: AbortSignal.abort() }),
      { name: 'AbortError' },
    )
    assert.deepEqual(early.sent, [])
  })

  await t.test('sans-IO p10cr polls: pollTimeout() / handleTimeout()', async (st) => {
    const k = newKey()
    const csr = makeCsr(st, k.privateKey, '/CN=Node P10cr Poller')
    const tx = cmp.ClientTransaction.p10cr(new cmp.ClientConfig({ ...mac }), csr)
    const { sent, steps, pollTimes } = await driveByHand(tx, url)
    assert.deepEqual(sent, ['p10cr', 'pollReq', 'pollReq', 'certConf'])
    assert.deepEqual(steps.map((s) => s.kind), ['waiting', 'waiting', 'certificateIssued', 'continue', 'completed'])
    // the first pollReq goes out at once (status waiting); the second when
    // the pollRep's checkAfter (1 s) is due
    assert.equal(pollTimes[0].due, null)
    assert.equal(typeof pollTimes[1].due, 'number')
    assert.ok(pollTimes[1].sent >= pollTimes[1].due, 'not polled before the timer was due')
    assert.ok(steps[1].until - pollTimes[0].sent >= 900, 'checkAfter 1 s')
    const issuedStep = steps.find((s) => s.kind === 'certificateIssued')
    checkIssued(issuedStep.certificate, { subject: 'CN=Node P10cr Poller', key: k.privateKey })
    assert.ok(tx.isCompleted)
    await server.waitForLog(
      `transaction ${tx.transactionId.toString('hex')} [p10cr->cp pollReq->pollRep pollReq->cp certConf->pkiconf]`,
    )
  })
})

test('cmp serve --grant-implicit-confirm', TIMEOUT, async (t) => {
  const server = await startServe(['--grant-implicit-confirm'])
  t.after(server.stop)
  const { url } = server

  await t.test('enroll with implicitConfirm: no certConf', async () => {
    const k = newKey()
    const rec = recordingTransport(url)
    const r = await cmp.enroll({ transport: rec.transport, ...mac, implicitConfirm: true, key: k.pkcs8, subject: 'CN=Implicit' })
    assert.equal(r.implicitConfirmGranted, true)
    assert.deepEqual(rec.sent, ['ir'])
    checkIssued(r.certificate, { subject: 'CN=Implicit', key: k.privateKey })
    const log = await server.waitForLog(`transaction ${r.transactionId.toString('hex')} [ir->ip]: issued`)
    assert.match(log, /to "CN=Implicit", implicitly confirmed/)
  })

  await t.test('enroll without asking: confirmed explicitly', async () => {
    const k = newKey()
    const rec = recordingTransport(url)
    const r = await cmp.enroll({ transport: rec.transport, ...mac, key: k.pkcs8, subject: 'CN=Explicit' })
    assert.equal(r.implicitConfirmGranted, false)
    assert.deepEqual(rec.sent, ['ir', 'certConf'])
  })

  await t.test('sans-IO p10cr with implicit confirmation', async (st) => {
    const k = newKey()
    const csr = makeCsr(st, k.privateKey, '/CN=Node P10cr Implicit')
    const config = new cmp.ClientConfig({ ...mac, implicitConfirm: true })
    assert.equal(config.implicitConfirm, true)
    const tx = cmp.ClientTransaction.p10cr(config, csr)
    const req = tx.request()
    assert.equal(cmp.Message.parse(req).implicitConfirm, true, 'the p10cr asks for it')
    const rsp = await cmp.httpTransport(url)(req, {})
    assert.equal(cmp.Message.parse(rsp).implicitConfirm, true, 'the cp grants it')
    const step = tx.handleResponse(rsp, Date.now())
    assert.equal(step.kind, 'certificateIssued')
    assert.equal(step.implicitConfirmGranted, true)
    checkIssued(step.certificate, { subject: 'CN=Node P10cr Implicit', key: k.privateKey })
    assert.equal(tx.confirm(true, undefined, Date.now()).kind, 'completed')
    assert.equal(tx.request(), null, 'no certConf')
    assert.ok(tx.isFinished && tx.isCompleted)
    await server.waitForLog(`transaction ${tx.transactionId.toString('hex')} [p10cr->cp]: issued`)
  })
})
