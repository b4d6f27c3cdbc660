'use strict'
// The package surface: error table = docs/errors.md = CmpErrorCode in
// helpers.d.ts; every value index.d.ts declares exists in CJS and ESM.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { cmp, ROOT } = require('./common.js')

const PKG = path.dirname(require.resolve(process.env.CMP_NODE_PACKAGE || path.resolve(__dirname, '..')))

test('errorTable() is the table of docs/errors.md', () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8')
  const rows = [...md.matchAll(/^\|\s*(\d+)\s*\|\s*`(CMP_[A-Z_]+)`\s*\|\s*(\w+)\s*\|\s*(\w+)\s*\|/gm)].map((m) => ({
    code: Number(m[1]),
    name: m[2],
    kind: m[3],
    failureBit: m[4],
  }))
  assert.ok(rows.length >= 30)
  assert.deepEqual(cmp.errorTable(), rows)
})

test('announceErrorTable() and coapErrorTable() are the 600 and 700 tables of docs/errors.md', () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8')
  const rows = (first) =>
    [...md.matchAll(/^\|\s*(\d+)\s*\|\s*`(CMP_[A-Z_]+)`\s*\|/gm)]
      .map((m) => ({ code: Number(m[1]), name: m[2] }))
      .filter((r) => r.code >= first && r.code < first + 100)
  assert.equal(rows(600).length, 17)
  assert.equal(rows(700).length, 9)
  assert.deepEqual(cmp.announceErrorTable(), rows(600))
  assert.deepEqual(cmp.coapErrorTable(), rows(700))
})

test('AnnounceErrorCode and CoapErrorCode in helpers.d.ts list exactly those names', () => {
  const dts = fs.readFileSync(path.join(PKG, 'helpers.d.ts'), 'utf8')
  for (const [type, table] of [
    ['AnnounceErrorCode', cmp.announceErrorTable()],
    ['CoapErrorCode', cmp.coapErrorTable()],
  ]) {
    const block = new RegExp(`export type ${type} =([\\s\\S]*?)\\n\\n`).exec(dts)[1]
    const names = [...block.matchAll(/'(CMP_[A-Z_]+)'/g)].map((m) => m[1])
    assert.deepEqual(names, table.map((r) => r.name), type)
  }
})

test('CmpErrorCode in helpers.d.ts lists exactly the native error names', () => {
  const dts = fs.readFileSync(path.join(PKG, 'helpers.d.ts'), 'utf8')
  const block = /export type CmpErrorCode =([\s\S]*?)\n\n/.exec(dts)[1]
  const names = [...block.matchAll(/'(CMP_[A-Z_]+)'/g)].map((m) => m[1])
  assert.deepEqual(names, cmp.errorTable().map((r) => r.name))
})

test('failureBits() are the 27 PKIFailureInfo bits', () => {
  const bits = cmp.failureBits()
  assert.equal(bits.length, 27)
  assert.equal(bits[0], 'badAlg')
  assert.ok(bits.includes('badPOP'))
})

function declaredValues(file) {
  const dts = fs.readFileSync(path.join(PKG, file), 'utf8')
  return [...dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1])
}

test('every value declared in index.d.ts and helpers.d.ts exists, in CJS and ESM', async () => {
  const declared = [...declaredValues('index.d.ts'), ...declaredValues('helpers.d.ts')].sort()
  assert.match(fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8'), /^export \* from '\.\/helpers'$/m)
  const cjs = Object.keys(cmp).sort()
  assert.deepEqual(cjs, declared)
  const esm = await import(pathToFileURL(path.join(PKG, 'index.mjs')).href)
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), declared)
  for (const name of declared) assert.equal(esm[name], cmp[name], name)
  assert.equal(esm.default, cmp)
})

test('usage errors of the native layer have a code too', () => {
  assert.throws(
    () => new cmp.ClientConfig({ secret: 'x', key: 'y', cert: 'z' }),
    (e) => e instanceof cmp.CmpError && e.code === 'CMP_USAGE' && e.cmpCode === 100 && e.kind === 'local',
  )
  assert.throws(() => cmp.PrivateKey.generate('nope'), (e) => e.code === 'CMP_USAGE')
  assert.throws(() => cmp.PrivateKey.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), (e) => e.code === 'CMP_CRYPTO')
})

test('PrivateKey: generate, PEM/DER, public key readable by node:crypto', () => {
  const { createPrivateKey, createPublicKey } = require('node:crypto')
  const k = cmp.PrivateKey.generate('ec:P-256')
  assert.equal(k.algorithm, 'ec:P-256')
  const nodeKey = createPrivateKey(k.toPem())
  assert.equal(nodeKey.asymmetricKeyType, 'ec')
  assert.deepEqual(createPublicKey(nodeKey).export({ type: 'spki', format: 'der' }), k.publicKeyDer())
  assert.deepEqual(cmp.PrivateKey.from(k.toDer()).toDer(), k.toDer())
})

test('a transaction is sans-IO: request() gives DER, the config is reusable', () => {
  const config = new cmp.ClientConfig({ reference: '1234', secret: '1234-5678' })
  assert.equal(config.protection, 'mac')
  const key = cmp.PrivateKey.generate()
  const tx = cmp.ClientTransaction.ir(config, { key: key.toPem(), subject: 'CN=x' }, Date.now())
  const m = cmp.Message.parse(tx.request())
  assert.equal(m.bodyType, 'ir')
  assert.deepEqual(m.transactionId, tx.transactionId)
  assert.equal(tx.pollTimeout(), null)
  assert.equal(tx.isFinished, false)
  const tx2 = cmp.ClientTransaction.revoke(config, fs.readFileSync(path.join(ROOT, 'tests/vectors/pki/issued.crt')), { reason: 1 })
  assert.equal(cmp.Message.parse(tx2.request()).bodyType, 'rr')
})
