'use strict'
// Round trip of the shared vectors (tests/vectors/*.der) through Message.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { X509Certificate } = require('node:crypto')
const { cmp, VECTORS, SECRET, pki } = require('./common.js')

const FILES = fs.readdirSync(VECTORS).filter((f) => f.endsWith('.der')).sort()

// exchange, number -> body types of request and response
const EXPECTED = {
  'ir-pbm.1': ['ir', 'ip'],
  'ir-pbm.2': ['certConf', 'pkiconf'],
  'ir-sig.1': ['ir', 'ip'],
  'cr-pbm.1': ['cr', 'cp'],
  'kur-sig.1': ['kur', 'kup'],
  'p10cr-pbm.1': ['p10cr', 'cp'],
  'rr-sig.1': ['rr', 'rp'],
  'genm-pbm.1': ['genm', 'genp'],
  'ir-poll.2': ['pollReq', 'pollRep'],
  'ir-rejected.1': ['ir', 'ip'],
  'ir-error.1': ['ir', 'error'],
}

test('there are vectors', () => {
  assert.ok(FILES.length >= 30, `${FILES.length} vectors`)
})

for (const file of FILES) {
  test(`round trip ${file}`, () => {
    const data = fs.readFileSync(path.join(VECTORS, file))
    const m = cmp.Message.parse(data)
    assert.deepEqual(m.encode(), data)
    assert.deepEqual(m.reencode(), data)
    assert.equal(cmp.Message.parse(m.reencode()).bodyType, m.bodyType)
    assert.equal(m.pvno, 2)
    assert.ok(m.transactionId && m.transactionId.length > 0)
    assert.ok(m.senderNonce && m.senderNonce.length >= 8)
    assert.ok(m.describe().length > 0)
    const [name, n, direction] = file.split('.')
    const want = EXPECTED[`${name}.${n}`]
    if (want) assert.equal(m.bodyType, want[direction === 'req' ? 0 : 1])
    if (m.protectionAlgName === 'PasswordBasedMac') {
      m.verifyMac(SECRET)
      assert.throws(() => m.verifyMac('wrong'), (e) => e instanceof cmp.CmpError && e.code === 'CMP_BAD_MESSAGE_CHECK' && e.cmpCode === 303)
    } else if (m.protectionAlg !== null) {
      m.verifySignature()
    }
  })
}

test('ip fields', () => {
  const ip = cmp.Message.parse(fs.readFileSync(path.join(VECTORS, 'ir-pbm.1.rsp.der')))
  const req = cmp.Message.parse(fs.readFileSync(path.join(VECTORS, 'ir-pbm.1.req.der')))
  assert.equal(ip.status, 'accepted')
  assert.deepEqual(ip.failInfo, [])
  assert.deepEqual(ip.certificates, [new X509Certificate(pki('issued.crt')).raw])
  assert.deepEqual(ip.caPubs, [new X509Certificate(pki('root.crt')).raw])
  assert.deepEqual(ip.recipNonce, req.senderNonce)
  assert.deepEqual(ip.transactionId, req.transactionId)
  assert.deepEqual(ip.senderKid, Buffer.from('1234'))
  assert.equal(req.sender, 'CN=Test Device')
  assert.equal(typeof ip.messageTime, 'number')
})

test('rejection and error vectors carry status and failInfo', () => {
  const rej = cmp.Message.parse(fs.readFileSync(path.join(VECTORS, 'ir-rejected.1.rsp.der')))
  assert.equal(rej.status, 'rejection')
  assert.ok(rej.failInfo.length > 0)
  const err = cmp.Message.parse(fs.readFileSync(path.join(VECTORS, 'ir-error.1.rsp.der')))
  assert.equal(err.bodyType, 'error')
})

test('garbage is CMP_DECODE', () => {
  assert.throws(
    () => cmp.Message.parse(Buffer.from([0x30, 0x03, 0x02, 0x01])),
    (e) => e instanceof cmp.CmpError && e.code === 'CMP_DECODE' && e.kind === 'remote' && e.failureBit === 'badDataFormat',
  )
})
