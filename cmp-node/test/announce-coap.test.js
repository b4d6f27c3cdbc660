'use strict'
// CA announcements (AnnouncementBuilder on the CA side, AnnouncementValidator
// on the end-entity side) with the fixed test PKI and certificates made by
// the openssl CLI, and CoAP block-wise framing (RFC 9482 / RFC 7959). Every
// error path is checked for its code of docs/errors.md.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { X509Certificate } = require('node:crypto')
const { cmp, pki, PKI, VECTORS, mac } = require('./common.js')

const caCert = new X509Certificate(pki('ca.crt'))
const rootCert = new X509Certificate(pki('root.crt'))
const issued = new X509Certificate(pki('issued.crt'))

/** The CA side: announcements signed by the issuing CA (ca.key), chain to root.crt. */
function builder() {
  return new cmp.AnnouncementBuilder({ key: pki('ca.key'), cert: pki('ca.crt'), chain: pki('root.crt') })
}

/** The end-entity side: trusts root.crt. */
function validator() {
  return new cmp.AnnouncementValidator({ trust: pki('root.crt') })
}

/** Assert that `fn` throws the CmpError `name` with number `code`. */
function throwsCode(fn, name, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof cmp.CmpError, `a CmpError, not ${e}`)
    assert.equal(e.code, name)
    assert.equal(e.cmpCode, code)
    return true
  })
}

const announceCode = (name) => cmp.announceErrorTable().find((r) => r.name === name).code
const coapCode = (name) => cmp.coapErrorTable().find((r) => r.name === name).code

/** Run openssl in `dir`. */
function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** A temp folder removed after the test. */
function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-node-ann-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A root key update of root.crt made with openssl: a new key under the same
 * name, newWithNew (self-signed), newWithOld (signed by root.key) and
 * oldWithNew (root.crt's key certified with the new key).
 */
function rootUpdate(dir) {
  const ext = path.join(dir, 'ca.ext')
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n')
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'new.key'])
  openssl(dir, ['req', '-new', '-key', 'new.key', '-subj', '/CN=Test Root CA', '-out', 'new.csr'])
  openssl(dir, ['x509', '-req', '-in', 'new.csr', '-signkey', 'new.key', '-days', '30', '-extfile', ext, '-out', 'nwn.pem'])
  openssl(dir, ['x509', '-req', '-in', 'new.csr', '-CA', path.join(PKI, 'root.crt'), '-CAkey', path.join(PKI, 'root.key'),
    '-set_serial', '1001', '-days', '30', '-extfile', ext, '-out', 'nwo.pem'])
  openssl(dir, ['x509', '-x509toreq', '-in', path.join(PKI, 'root.crt'), '-signkey', path.join(PKI, 'root.key'), '-out', 'old.csr'])
  openssl(dir, ['x509', '-req', '-in', 'old.csr', '-CA', 'nwn.pem', '-CAkey', 'new.key',
    '-set_serial', '1002', '-days', '30', '-extfile', ext, '-out', 'own.pem'])
  const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8')
  return { newWithNew: read('nwn.pem'), newWithOld: read('nwo.pem'), oldWithNew: read('own.pem') }
}

/** A CRL of the issuing CA (ca.key; or of `key` and `cert`), made with `openssl ca -gencrl`. */
function caCrl(dir, key = 'ca.key', cert = 'ca.crt') {
  fs.writeFileSync(path.join(dir, 'index.txt'), '')
  fs.writeFileSync(
    path.join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${path.join(dir, 'index.txt')}\ndefault_md = sha256\ndefault_crl_days = 1\ncrl_extensions = x\n[x]\nauthorityKeyIdentifier = keyid:always\n`,
  )
  openssl(dir, ['ca', '-gencrl', '-config', 'ca.cnf', '-keyfile', path.join(PKI, key), '-cert', path.join(PKI, cert), '-out', 'crl.pem'])
  return fs.readFileSync(path.join(dir, 'crl.pem'), 'utf8')
}

test('cann: an issued certificate, validated along its path', () => {
  const msg = builder().certificate(pki('issued.crt'))
  assert.equal(cmp.Message.parse(msg).bodyType, 'cann')
  const a = validator().validate(msg)
  assert.equal(a.kind, 'certificateAnnounced')
  assert.ok(a.certificate.equals(issued.raw))
  assert.deepEqual(a.path.map((c) => new X509Certificate(c).subject), [issued.subject, caCert.subject, rootCert.subject])
})

test('rann: a revocation warning names issuer and serial number', () => {
  const now = Date.now()
  const at = Math.floor(now / 1000) * 1000 + 3_600_000
  const badSince = Math.floor(now / 1000) * 1000 - 60_000
  const msg = builder().revocation(pki('issued.crt'), { status: 'revocationWarning', at, badSince })
  assert.equal(cmp.Message.parse(msg).bodyType, 'rann')
  const a = validator().validate(msg)
  assert.equal(a.kind, 'revocationAnnounced')
  assert.equal(a.status, 'revocationWarning')
  assert.equal(a.issuer, 'CN=Test Issuing CA')
  assert.equal(a.serialNumber.toString('hex').replace(/^0+/, '').toUpperCase(), issued.serialNumber.replace(/^0+/, ''))
  assert.equal(a.willBeRevokedAt, at)
  assert.equal(a.badSince, badSince)
})

test('crlann: a CRL of the issuing CA', (t) => {
  const crl = caCrl(tempDir(t))
  const msg = builder().crls([crl])
  assert.equal(cmp.Message.parse(msg).bodyType, 'crlann')
  const a = validator().validate(msg)
  assert.equal(a.kind, 'crlAnnounced')
  assert.equal(a.crls.length, 1)
  const der = Buffer.from(crl.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  assert.ok(a.crls[0].equals(der))
})

test('ckuann: a root key update made with openssl', (t) => {
  const u = rootUpdate(tempDir(t))
  const msg = builder().rootKeyUpdate(u)
  assert.equal(cmp.Message.parse(msg).bodyType, 'ckuann')
  assert.equal(cmp.Message.parse(msg).pvno, 3)
  const a = validator().validate(msg)
  assert.equal(a.kind, 'rootKeyUpdate')
  assert.ok(a.oldRoot.equals(rootCert.raw))
  assert.ok(a.newRoot.equals(new X509Certificate(u.newWithNew).raw))
  assert.ok(a.newWithOld.equals(new X509Certificate(u.newWithOld).raw))
  assert.ok(a.oldWithNew.equals(new X509Certificate(u.oldWithNew).raw))
  // the error paths of the key update
  throwsCode(
    () => validator().validate(builder().rootKeyUpdate({ newWithNew: u.newWithNew })),
    'CMP_MISSING_NEW_WITH_OLD',
    601,
  )
  throwsCode(
    () => validator().validate(builder().rootKeyUpdate({ newWithNew: u.newWithNew, newWithOld: pki('ca.crt') })),
    'CMP_NEW_WITH_OLD_KEY_MISMATCH',
    604,
  )
})

test('announcement errors of the content: 602, 605, 608, 615, 616', (t) => {
  const v = validator()
  throwsCode(
    () => v.validate(builder().rootKeyUpdate({ newWithNew: pki('root.crt'), newWithOld: pki('issued.crt') })),
    'CMP_UNKNOWN_OLD_ROOT',
    602,
  )
  throwsCode(
    () => v.validate(builder().rootKeyUpdate({ newWithNew: pki('ca.crt'), newWithOld: pki('ca.crt') })),
    'CMP_NEW_WITH_NEW_NOT_SELF_SIGNED',
    605,
  )
  throwsCode(
    () => v.validate(builder().rootKeyUpdate({ newWithNew: pki('root.crt'), newWithOld: pki('root.crt') })),
    'CMP_KEY_NOT_CHANGED',
    608,
  )
  // a CRL signed by an end entity (issued.key): no trusted CA issued it
  const eeCrl = caCrl(tempDir(t), 'issued.key', 'issued.crt')
  throwsCode(() => v.validate(builder().crls([eeCrl])), 'CMP_CRL_ISSUER_UNKNOWN', 615)
  // the CA's CRL with a flipped bit in its signature
  const crl = caCrl(tempDir(t))
  const der = Buffer.from(crl.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  der[der.length - 1] ^= 1
  throwsCode(() => v.validate(builder().crls([der])), 'CMP_CRL_SIGNATURE', 616)
})

test('announcement errors: codes 600, 612 and the core codes of the message', (t) => {
  // an ir (MAC) is no announcement
  const config = new cmp.ClientConfig({ ...mac })
  const ir = cmp.ClientTransaction.ir(config, { key: cmp.PrivateKey.generate().toDer(), subject: 'CN=x' }).request()
  const macValidator = new cmp.AnnouncementValidator({ trust: pki('root.crt'), secret: mac.secret })
  throwsCode(() => macValidator.validate(ir), 'CMP_NOT_AN_ANNOUNCEMENT', announceCode('CMP_NOT_AN_ANNOUNCEMENT'))
  // a self-signed certificate announced by the trusted CA does not validate
  const u = rootUpdate(tempDir(t))
  throwsCode(
    () => validator().validate(builder().certificate(u.newWithNew)),
    'CMP_ANNOUNCED_CERT_NOT_TRUSTED',
    612,
  )
  // a signer outside the trust: the core's CMP_SIGNER_NOT_TRUSTED
  const other = new cmp.AnnouncementValidator({ trust: u.newWithNew })
  const notTrusted = cmp.errorTable().find((r) => r.name === 'CMP_SIGNER_NOT_TRUSTED').code
  throwsCode(() => other.validate(builder().certificate(pki('issued.crt'))), 'CMP_SIGNER_NOT_TRUSTED', notTrusted)
  // a flipped byte in the protected part: CMP_BAD_MESSAGE_CHECK or a decoding error
  const msg = Buffer.from(builder().certificate(pki('issued.crt')))
  const at = msg.indexOf(issued.raw)
  assert.ok(at > 0)
  msg[at + 40] ^= 1 // inside the announced certificate: the protected body
  assert.throws(
    () => validator().validate(msg),
    (e) => e instanceof cmp.CmpError && ['CMP_BAD_MESSAGE_CHECK', 'CMP_DECODE'].includes(e.code) && e.kind === 'remote',
  )
  // too old
  const stale = builder().certificate(pki('issued.crt'), Date.now() - 3_600_000)
  throwsCode(() => validator().validate(stale), 'CMP_BAD_TIME', cmp.errorTable().find((r) => r.name === 'CMP_BAD_TIME').code)
  // the announcement errors are remote and carry no failureBit
  try {
    macValidator.validate(ir)
  } catch (e) {
    assert.equal(e.kind, 'remote')
    assert.equal(e.failureBit, undefined)
  }
  // builder usage errors
  throwsCode(() => new cmp.AnnouncementBuilder({ key: pki('ca.key') }), 'CMP_USAGE', 100)
  throwsCode(() => builder().crls([]), 'CMP_USAGE', 100)
  throwsCode(
    () => builder().revocation(pki('issued.crt'), { status: 'accepted', at: Date.now(), badSince: Date.now() }),
    'CMP_USAGE',
    100,
  )
})

test('CoAP: content format, Uri-Path, operation labels', () => {
  assert.equal(cmp.coapContentFormat(), 259)
  assert.deepEqual(cmp.coapUriPath(), ['.well-known', 'cmp'])
  assert.deepEqual(cmp.coapUriPath('profile1', 'ir'), ['.well-known', 'cmp', 'p', 'profile1', 'ir'])
  const config = new cmp.ClientConfig({ ...mac })
  const key = cmp.PrivateKey.generate().toDer()
  assert.equal(cmp.coapOperationLabel(cmp.ClientTransaction.ir(config, { key, subject: 'CN=x' }).request()), 'ir')
  assert.equal(cmp.coapOperationLabel(fs.readFileSync(path.join(VECTORS, 'p10cr-pbm.1.req.der'))), 'p10')
  assert.equal(cmp.coapOperationLabel(cmp.ClientTransaction.genm(config).request()), null)
})

test('CoAP: split a PKIMessage into blocks and reassemble it', () => {
  const body = fs.readFileSync(path.join(VECTORS, 'cr-pbm.1.rsp.der'))
  for (const size of [16, 64, 1024]) {
    const blocks = cmp.coapSplit(body, size)
    assert.equal(blocks.length, Math.ceil(body.length / size))
    blocks.forEach((b, i) => {
      assert.equal(b.num, i)
      assert.equal(b.size, size)
      assert.equal(b.offset, i * size)
      assert.equal(b.more, i < blocks.length - 1)
      assert.equal(b.payload.length, b.more ? size : body.length - i * size)
    })
    const r = new cmp.CoapReassembler()
    let done = null
    for (const b of blocks) {
      assert.equal(r.received, b.offset)
      const p = r.push(b.option, b.payload)
      if (p.complete) done = p.body
      else assert.equal(p.body ?? null, null)
    }
    assert.ok(done.equals(body))
    assert.deepEqual(cmp.Message.parse(done).bodyType, 'cp')
  }
  // the option value: NUM << 4 | M << 3 | SZX
  const [first] = cmp.coapSplit(body, 64)
  assert.deepEqual([...first.option], [(0 << 4) | (1 << 3) | 2])
  assert.equal(cmp.coapSplit(Buffer.alloc(0), 16).length, 1)
  assert.equal(cmp.coapBlockSizeForMtu(1280, 100), 1024)
  assert.equal(cmp.coapBlockSizeForMtu(100, 60), 32)
})

test('CoAP errors: codes 700-708', () => {
  const body = fs.readFileSync(path.join(VECTORS, 'cr-pbm.1.rsp.der'))
  const blocks = cmp.coapSplit(body, 32)
  const c = (name) => [name, coapCode(name)]
  throwsCode(() => new cmp.CoapReassembler().push(Buffer.from([0x0f]), Buffer.alloc(0)), ...c('CMP_COAP_RESERVED_BLOCK_SIZE'))
  throwsCode(() => new cmp.CoapReassembler().push(Buffer.from([0, 0, 0, 8]), Buffer.alloc(16)), ...c('CMP_COAP_BLOCK_OPTION_TOO_LONG'))
  throwsCode(() => cmp.coapBlockSizeForMtu(40, 40), ...c('CMP_COAP_MTU_TOO_SMALL'))
  throwsCode(() => new cmp.CoapReassembler().push(blocks[1].option, blocks[1].payload), ...c('CMP_COAP_BLOCK_OUT_OF_ORDER'))
  throwsCode(() => new cmp.CoapReassembler().push(blocks[0].option, blocks[0].payload.subarray(1)), ...c('CMP_COAP_WRONG_BLOCK_LENGTH'))
  const r = new cmp.CoapReassembler()
  r.push(blocks[0].option, blocks[0].payload)
  const bigger = cmp.coapSplit(body, 64)
  throwsCode(() => r.push(bigger[1].option, bigger[1].payload), ...c('CMP_COAP_BLOCK_SIZE_INCREASED'))
  // the state is kept after an error: the right block still fits
  assert.equal(r.push(blocks[1].option, blocks[1].payload).complete, false)
  const capped = new cmp.CoapReassembler(40)
  capped.push(blocks[0].option, blocks[0].payload)
  throwsCode(() => capped.push(blocks[1].option, blocks[1].payload), ...c('CMP_COAP_TOO_LARGE'))
  const small = cmp.coapSplit(Buffer.alloc(10), 16)
  const once = new cmp.CoapReassembler()
  assert.equal(once.push(small[0].option, small[0].payload).complete, true)
  throwsCode(() => once.push(small[0].option, small[0].payload), ...c('CMP_COAP_ALREADY_COMPLETE'))
  throwsCode(() => cmp.coapSplit(body, 100), 'CMP_USAGE', 100)
  // more than 2^20 blocks of 16 bytes
  throwsCode(() => cmp.coapSplit(Buffer.alloc(16 * 2 ** 20 + 1), 16), ...c('CMP_COAP_BLOCK_NUMBER_TOO_LARGE'))
})
