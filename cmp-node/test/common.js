'use strict'
// Shared by the tests: paths, the fixed test PKI, OpenSSL's mock CMP server
// (tests/interop/mock-server.sh) and the project's own reference server
// (`cmp serve`) on loopback.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')
const VECTORS = path.join(ROOT, 'tests', 'vectors')
const PKI = path.join(VECTORS, 'pki')
const MOCK = path.join(ROOT, 'tests', 'interop', 'mock-server.sh')
/** The `cmp` binary (cargo build -p cmp-cli): CMP_BIN, else target/debug/cmp. */
const CMP_BIN =
  process.env.CMP_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug', 'cmp')
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

// `cmp serve` processes still running; SIGKILLed if this process exits first.
const serving = new Set()
process.on('exit', () => {
  for (const child of serving) {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
})

/**
 * The `cmp serve` options of the fixed test PKI: ca.crt/ca.key issue, root.crt
 * above them, MAC client 1234 / 1234-5678, signature-protected clients
 * checked against root.crt, replies signed with server.crt.
 */
function serveArgs() {
  const p = (name) => path.join(PKI, name)
  return [
    '--ca-cert', p('ca.crt'),
    '--ca-key', p('ca.key'),
    '--ca-chain', p('root.crt'),
    '--ref', REFERENCE,
    '--secret', SECRET,
    '--trusted', p('root.crt'),
    '--cert', p('server.crt'),
    '--key', p('server.key'),
  ]
}

/**
 * Start `cmp serve --listen 127.0.0.1:0` with the fixed test PKI and `extra`
 * options (`--poll 2`, `--grant-implicit-confirm`, ...). Resolves, once the
 * first stdout line `listening on http://127.0.0.1:PORT/.well-known/cmp` is
 * read, with { url, port, log(), waitForLog(text), stop() }: `log()` is its
 * stderr so far (one line per transaction, written just after the reply),
 * `stop()` sends SIGTERM and resolves with { code, signal } of the exit.
 * With `{ fixedPki: false }` only `extra` is passed: the server generates its
 * own demo hierarchy (see `--root-out`).
 */
function startServe(extra = [], { fixedPki = true } = {}) {
  if (!fs.existsSync(CMP_BIN)) {
    return Promise.reject(new Error(`${CMP_BIN} not found: run \`cargo build -p cmp-cli\` (or set CMP_BIN)`))
  }
  return new Promise((resolve, reject) => {
    const child = spawn(CMP_BIN, ['serve', '--listen', '127.0.0.1:0', ...(fixedPki ? serveArgs() : []), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    serving.add(child)
    let out = ''
    let log = ''
    let started = false
    const exited = new Promise((done) =>
      child.on('exit', (code, signal) => {
        serving.delete(child)
        done({ code, signal })
      }),
    )
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => (log += d))
    child.on('error', reject)
    exited.then(({ code, signal }) => {
      if (!started) reject(new Error(`cmp serve exited (${code ?? signal}) before listening:\n${log}`))
    })
    const timer = setTimeout(() => {
      if (started) return
      child.kill('SIGKILL')
      reject(new Error(`cmp serve did not start within 30 s:\n${log}`))
    }, 30_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d) => {
      if (started) return // keep draining
      out += d
      const nl = out.indexOf('\n')
      if (nl < 0) return
      started = true
      clearTimeout(timer)
      const line = out.slice(0, nl)
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/\.well-known\/cmp)$/.exec(line)
      if (!m) {
        child.kill('SIGKILL')
        reject(new Error(`unexpected first line of cmp serve: ${JSON.stringify(line)}`))
        return
      }
      const server = {
        url: m[1],
        port: Number(m[2]),
        log: () => log,
        /** Resolves with the log once it contains `text`; rejects after `timeout` ms. */
        waitForLog: async (text, timeout = 10_000) => {
          const deadline = Date.now() + timeout
          while (!log.includes(text)) {
            if (Date.now() > deadline) throw new Error(`${JSON.stringify(text)} not in the cmp serve log:\n${log}`)
            await new Promise((r) => setTimeout(r, 20))
          }
          return log
        },
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
          return exited
        },
      }
      resolve(server)
    })
  })
}

/** MAC credentials of the mock server and of `cmp serve` (startServe). */
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

module.exports = { ROOT, VECTORS, PKI, MOCK, CMP_BIN, REFERENCE, SECRET, cmp, pki, startMock, startServe, mac, sig }
