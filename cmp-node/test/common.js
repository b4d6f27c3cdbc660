'use strict'
// Shared by the tests: paths, the fixed test PKI, and OpenSSL's mock CMP
// server (tests/interop/mock-server.sh) on loopback.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')
const VECTORS = path.join(ROOT, 'tests', 'vectors')
const PKI = path.join(VECTORS, 'pki')
const MOCK = path.join(ROOT, 'tests', 'interop', 'mock-server.sh')
const REFERENCE = '1234'
const SECRET = '1234-5678'

/** The package under test: CMP_NODE_PACKAGE (an installed copy) or this folder. */
const cmp = require(process.env.CMP_NODE_PACKAGE || path.resolve(__dirname, '..'))

function pki(name, encoding = 'utf8') {
  return fs.readFileSync(path.join(PKI, name), encoding)
}

/**
 * Start the mock server; resolves with { url, stop() }. `mode` is 'mac' or
 * 'sig'; `args` go to `openssl cmp`. The script stays the server's parent
 * (MOCK_FOREGROUND=1) so nothing outlives the test; MOCK_LIFETIME caps it.
 */
function startMock(mode, args = [], pkiDir = PKI) {
  return new Promise((resolve, reject) => {
    const child = spawn(MOCK, [pkiDir, '0', mode, ...args], {
      env: { ...process.env, MOCK_FOREGROUND: '1', MOCK_LIFETIME: '120' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`mock-server.sh exited (${code}): ${err}`)))
    child.stdout.on('data', (d) => {
      out += d
      const m = /^(\d+) (\d+)\n/.exec(out)
      if (!m) return
      const pid = Number(m[1])
      const port = Number(m[2])
      resolve({
        url: `http://127.0.0.1:${port}/pkix/`,
        port,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done()
            child.removeAllListeners('exit')
            child.on('exit', () => done())
            try {
              process.kill(pid, 'SIGTERM')
            } catch {
              done()
            }
          }),
      })
    })
  })
}

/** MAC credentials of the mock server. */
const mac = { reference: REFERENCE, secret: SECRET }

/** Signature credentials of the mock server: issued.crt + issued.key, trusting root.crt. */
function sig() {
  return {
    key: pki('issued.key'),
    cert: pki('issued.crt'),
    chain: pki('ca.crt'),
    trust: pki('root.crt'),
    untrusted: pki('ca.crt'),
  }
}

module.exports = { ROOT, VECTORS, PKI, MOCK, REFERENCE, SECRET, cmp, pki, startMock, mac, sig }
