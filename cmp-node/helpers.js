'use strict'
// The Promise layer of cmp-protocol: runs the sans-IO ClientTransaction of
// the native module over RFC 9811 HTTP (global fetch) or a caller-supplied
// transport, with timers for polling and AbortSignal support. Types:
// helpers.d.ts (re-exported by the generated index.d.ts).

const { setTimeout: sleep } = require('node:timers/promises')
const { KeyObject, X509Certificate } = require('node:crypto')
const native = require('./native.js')

const { ClientConfig, ClientTransaction, PrivateKey } = native

/** RFC 9811 media type. */
const CONTENT_TYPE = 'application/pkixcmp'

const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
}

// ----- errors -----

/**
 * Every error of the CMP core is an Error with `code` ('CMP_...'), `cmpCode`
 * (number), `kind` and `failureBit` (docs/errors.md). The objects are made by
 * the native module; `instanceof CmpError` recognises them.
 */
class CmpError extends Error {
  static [Symbol.hasInstance](value) {
    return (
      value instanceof Error &&
      typeof value.cmpCode === 'number' &&
      typeof value.code === 'string' &&
      value.code.startsWith('CMP_')
    )
  }
}

/** A failure the peer reported (cmpCode 500 CMP_PEER_ERROR, 501 CMP_UNAUTHENTICATED_ERROR). */
class PeerError extends CmpError {
  static [Symbol.hasInstance](value) {
    return value instanceof CmpError && value.cmpCode >= 500 && value.cmpCode < 600
  }
}

/** The HTTP exchange failed: connection, HTTP status or content type. */
class TransportError extends Error {
  constructor(message, { url, httpStatus, cause, timeout = false } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'TransportError'
    this.code = 'ERR_CMP_TRANSPORT'
    this.url = url
    this.httpStatus = httpStatus
    this.timeout = timeout
  }
}

/** The largest response body httpTransport accepts by default (the CLI's cap). */
const MAX_RESPONSE_BODY = 4 * 1024 * 1024

/** The body of `response`, refused once it grows beyond `maxBody` bytes. */
async function readCapped(response, maxBody, url) {
  const tooLarge = () =>
    new TransportError(`response body from ${url} larger than ${maxBody} bytes`, {
      url: String(url),
      httpStatus: response.status,
    })
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBody) {
    await response.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  const chunks = []
  let size = 0
  if (response.body) {
    // leaving the loop by throwing cancels the stream
    for await (const chunk of response.body) {
      size += chunk.byteLength
      if (size > maxBody) throw tooLarge()
      chunks.push(chunk)
    }
  }
  return Buffer.concat(chunks)
}

function isCmpError(value) {
  return value instanceof CmpError
}

const USAGE = native.errorTable().find((row) => row.name === 'CMP_USAGE')

/** A CMP_USAGE error raised by this layer (same shape as the native ones). */
function usageError(message) {
  const e = new Error(message)
  e.name = 'CmpError'
  e.code = USAGE.name
  e.cmpCode = USAGE.code
  e.kind = USAGE.kind
  e.failureBit = USAGE.failureBit
  return e
}

// ----- values -----

function isBytes(v) {
  return v instanceof Uint8Array
}

function toBuffer(v) {
  if (Buffer.isBuffer(v)) return v
  if (v instanceof ArrayBuffer) return Buffer.from(v)
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  throw new TypeError('expected a Buffer, Uint8Array or ArrayBuffer')
}

/** A key as PEM string or DER Buffer (what the native module takes). */
function keyInput(k, what = 'key') {
  if (k === undefined || k === null) return undefined
  if (typeof k === 'string') return k
  if (isBytes(k)) return toBuffer(k)
  if (k instanceof KeyObject) {
    if (k.type !== 'private') throw new TypeError(`${what} must be a private key`)
    return k.export({ type: 'pkcs8', format: 'der' })
  }
  if (k instanceof PrivateKey) return k.toDer()
  throw new TypeError(`${what}: expected a PEM string, DER Buffer, KeyObject or PrivateKey`)
}

function certInput(c, what = 'certificate') {
  if (c === undefined || c === null) return undefined
  if (typeof c === 'string') return c
  if (isBytes(c)) return toBuffer(c)
  if (c instanceof X509Certificate) return c.raw
  throw new TypeError(`${what}: expected a PEM string, DER Buffer or X509Certificate`)
}

function certsInput(cs, what) {
  if (cs === undefined || cs === null) return undefined
  if (Array.isArray(cs)) return cs.map((c) => certInput(c, what))
  return certInput(cs, what)
}

function secretInput(s) {
  if (s === undefined || s === null) return undefined
  return typeof s === 'string' ? s : toBuffer(s)
}

/** DER to PEM. */
function toPem(der, label = 'CERTIFICATE') {
  const b64 = toBuffer(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** ClientConfig from the helper options (or options.config as is). */
function configOf(options, signer) {
  if (options.config instanceof ClientConfig) return options.config
  const s = signer ?? options.signer
  return new ClientConfig({
    reference: secretInput(options.reference),
    secret: secretInput(options.secret),
    pbmac1: options.pbmac1,
    key: s ? keyInput(s.key, 'signer.key') : undefined,
    cert: s ? certInput(s.cert, 'signer.cert') : undefined,
    chain: s ? certsInput(s.chain, 'signer.chain') : undefined,
    serverTrust: certsInput(options.trust, 'trust'),
    untrusted: certsInput(options.untrusted, 'untrusted'),
    responseSecret: secretInput(options.responseSecret),
    sender: options.sender,
    recipient: options.recipient,
    expectedSender: options.expectedSender,
    maxTimeSkew: options.maxTimeSkew,
    implicitConfirm: options.implicitConfirm,
    pvno: options.pvno,
    totalTimeout: options.totalTimeout,
    extraCerts: certsInput(options.extraCerts, 'extraCerts'),
  })
}

// ----- transport -----

/**
 * A transport that POSTs each request to `url` with fetch (RFC 9811) and
 * resolves with the response body. Rejects with TransportError on network
 * failures, non-200 answers and other content types.
 */
function httpTransport(url, options = {}) {
  if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError('url must be a string or URL')
  const {
    headers = {},
    timeout = 30000,
    maxBody = MAX_RESPONSE_BODY,
    fetch: fetchImpl = globalThis.fetch,
  } = options
  if (typeof fetchImpl !== 'function') throw usageError('no global fetch: pass options.fetch or a transport')
  return async function send(request, context = {}) {
    // one deadline for the whole exchange, body included: a trickling
    // server cannot stretch it
    const deadline = timeout > 0 ? AbortSignal.timeout(timeout) : undefined
    const signals = [context.signal, deadline].filter(Boolean)
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
    const timedOut = (e) =>
      deadline?.aborted
        ? new TransportError(`no complete answer from ${url} within ${timeout} ms`, {
            url: String(url),
            cause: e,
            timeout: true,
          })
        : undefined
    let response
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        // One connection per message, as the Python binding does: OpenSSL's
        // server mishandles the certConf of a kept-alive connection.
        headers: { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE, connection: 'close', ...headers },
        body: request,
        signal,
      })
    } catch (e) {
      if (context.signal?.aborted) throw context.signal.reason
      throw timedOut(e) ?? new TransportError(`cannot reach ${url}: ${e.message}`, { url: String(url), cause: e })
    }
    let body
    try {
      body = await readCapped(response, maxBody, url)
    } catch (e) {
      if (context.signal?.aborted) throw context.signal.reason
      if (e instanceof TransportError) throw e
      throw (
        timedOut(e) ??
        new TransportError(`reading the answer of ${url} failed: ${e.message}`, { url: String(url), cause: e })
      )
    }
    if (response.status !== 200) {
      throw new TransportError(`HTTP ${response.status} from ${url}`, {
        url: String(url),
        httpStatus: response.status,
      })
    }
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase()
    if (type !== CONTENT_TYPE) {
      throw new TransportError(`${url} answered with content type ${JSON.stringify(type)}, not ${CONTENT_TYPE}`, {
        url: String(url),
        httpStatus: response.status,
      })
    }
    return body
  }
}

function transportOf(options) {
  if (typeof options.transport === 'function') return options.transport
  if (options.url !== undefined) return httpTransport(options.url, options)
  throw usageError('give url (RFC 9811 HTTP endpoint) or transport')
}

// ----- the transaction loop -----

/**
 * Drive `tx` to its end: send each request, hand each response to the
 * transaction, wait with a timer when the server asks to poll, and decide an
 * issued certificate with `confirm` (true: accept, false: reject, or a
 * function of the certificateIssued step). Rejects with the CmpError of the
 * first failure, a TransportError, or the abort reason of `signal`.
 */
async function runTransaction(tx, options = {}) {
  const { signal, confirm = true, maxMessages = 32, clock = Date.now } = options
  const send = transportOf(options)
  const result = {
    transactionId: tx.transactionId,
    steps: [],
    messages: 0,
    polls: 0,
    certificate: null,
    issued: null,
    revoked: null,
    recovered: null,
    infos: [],
    caCerts: [],
  }
  signal?.throwIfAborted()
  for (;;) {
    const request = tx.request()
    if (request === null) {
      if (tx.isFinished) return result
      const due = tx.pollTimeout()
      if (due === null) throw usageError('the transaction is stuck: nothing to send and no timer')
      const delay = due - clock()
      if (delay > 0) {
        try {
          await sleep(delay, undefined, { signal })
        } catch (e) {
          if (signal?.aborted) throw signal.reason
          throw e
        }
      }
      tx.handleTimeout(Math.max(clock(), due))
      continue
    }
    if (result.messages >= maxMessages) {
      throw usageError(`more than ${maxMessages} messages in one transaction`)
    }
    const response = toBuffer(await send(request, { url: options.url, signal }))
    signal?.throwIfAborted()
    result.messages += 1
    const step = tx.handleResponse(response, clock())
    result.steps.push(step)
    switch (step.kind) {
      case 'waiting':
        result.polls += 1
        break
      case 'certificateIssued': {
        result.issued = step
        const accept = typeof confirm === 'function' ? await confirm(step) : Boolean(confirm)
        signal?.throwIfAborted()
        if (accept) result.certificate = step.certificate
        const next = accept
          ? tx.confirm(true, undefined, clock())
          : tx.confirm(false, { failInfo: ['incorrectData'], statusString: 'rejected by the caller' }, clock())
        result.steps.push(next)
        break
      }
      case 'generalResponse':
        result.infos = step.infos
        result.caCerts = step.caCerts
        break
      case 'revoked':
        result.revoked = step
        break
      case 'keysRecovered':
        result.recovered = step
        break
      default:
        break
    }
  }
}

function certificateResult(result) {
  const issued = result.issued
  if (issued === null || result.certificate === null) {
    throw usageError('the transaction ended without an accepted certificate')
  }
  return {
    certificate: issued.certificate,
    certificatePem: toPem(issued.certificate),
    chain: issued.chain,
    caPubs: issued.caPubs,
    extraCerts: issued.extraCerts,
    implicitConfirmGranted: issued.implicitConfirmGranted,
    status: issued.status,
    privateKey: issued.privateKey ?? null,
    privateKeyPem: issued.privateKey ? toPem(issued.privateKey, 'PRIVATE KEY') : null,
    transactionId: result.transactionId,
    polls: result.polls,
  }
}

function enrollOptions(options, key, oldCert) {
  const central = options.centralKeygen !== undefined && options.centralKeygen !== false
  return {
    key: central ? undefined : keyInput(key),
    subject: options.subject,
    extensions: options.extensions,
    oldCert: certInput(oldCert, 'cert'),
    pop: central ? 'centralKeygen' : undefined,
    keyAlgorithm: typeof options.centralKeygen === 'string' ? options.centralKeygen : undefined,
    archiveKey: options.archiveKey,
    archiveCert: certInput(options.archiveCert, 'archiveCert'),
  }
}

/**
 * Get a certificate for `key` (ir by default; `kind: 'cr'` or `'ccr'`; or
 * p10cr with `csr`), authenticated by a shared secret (`secret`,
 * `reference`) or an existing certificate (`signer`). With `centralKeygen`
 * (true, or a key algorithm such as 'ec:P-256') the PKI generates the key:
 * no `key`; the result has `privateKey` (PKCS#8 DER) and `privateKeyPem`.
 * With `archiveKey` the key is archived at the CA (under the MAC secret, or
 * for `archiveCert`), for `recoverKeys` later.
 */
async function enroll(options) {
  const config = configOf(options)
  let tx
  if (options.csr !== undefined) {
    tx = ClientTransaction.p10cr(config, certInput(options.csr, 'csr'))
  } else {
    const kind = options.kind ?? 'ir'
    if (kind !== 'ir' && kind !== 'cr' && kind !== 'ccr') {
      throw usageError(`kind must be 'ir', 'cr' or 'ccr', not ${JSON.stringify(kind)}`)
    }
    const central = options.centralKeygen !== undefined && options.centralKeygen !== false
    if (central && options.key !== undefined) throw usageError('centralKeygen: the PKI makes the key; give no key')
    if (!central && options.key === undefined) {
      throw usageError('enroll needs key (the key to certify), csr or centralKeygen')
    }
    tx = ClientTransaction[kind](config, enrollOptions(options, options.key))
  }
  return certificateResult(await runTransaction(tx, options))
}

/**
 * Renew: a kur for `cert` with the new key `newKey`, signed with the current
 * `key` and `cert` (and `chain`).
 */
async function updateKey(options) {
  if (options.cert === undefined || options.key === undefined || options.newKey === undefined) {
    throw usageError('updateKey needs cert and key (the current credential) and newKey')
  }
  const config = configOf(options, options.signer ?? { key: options.key, cert: options.cert, chain: options.chain })
  const tx = ClientTransaction.kur(config, enrollOptions(options, options.newKey, options.cert))
  return certificateResult(await runTransaction(tx, options))
}

/**
 * Revoke `cert`. The request is signed with `key` and `cert` (RFC 9483:
 * by the certificate to be revoked) unless `signer` or a MAC secret is given.
 */
async function revoke(options) {
  if (options.cert === undefined) throw usageError('revoke needs cert')
  let reason = options.reason
  if (typeof reason === 'string') {
    if (!(reason in CRL_REASONS)) throw usageError(`unknown CRL reason ${JSON.stringify(reason)}`)
    reason = CRL_REASONS[reason]
  }
  const signer =
    options.signer ??
    (options.secret === undefined && options.key !== undefined
      ? { key: options.key, cert: options.cert, chain: options.chain }
      : undefined)
  const config = configOf(options, signer)
  const tx = ClientTransaction.revoke(config, certInput(options.cert, 'cert'), { reason })
  const result = await runTransaction(tx, options)
  const r = result.revoked
  if (r === null) throw usageError('the transaction ended without a revocation answer')
  return { status: r.status, failInfo: r.failInfo, statusString: r.statusString, transactionId: result.transactionId }
}

/**
 * Key recovery (krr): the archived keys of `subject` (default: the signer's
 * subject), decrypted with the MAC secret or the signer's key. Resolves with
 * { status, keys: [{ certificate, privateKey, privateKeyPem }], newSigCert,
 * caCerts, transactionId }.
 */
async function recoverKeys(options) {
  const tx = ClientTransaction.krr(configOf(options), {
    subject: options.subject,
    newKey: keyInput(options.newKey, 'newKey'),
    oldCert: certInput(options.oldCert, 'oldCert'),
  })
  const result = await runTransaction(tx, options)
  const r = result.recovered
  if (r === null) throw usageError('the transaction ended without recovered keys')
  return {
    status: r.status,
    keys: r.keys.map((k) => ({ ...k, privateKeyPem: toPem(k.privateKey, 'PRIVATE KEY') })),
    newSigCert: r.newSigCert ?? null,
    caCerts: r.caCerts,
    transactionId: result.transactionId,
  }
}

/** A general message; resolves with the genp content. */
async function generalMessage(options) {
  const tx = ClientTransaction.genm(configOf(options), options.infos)
  const result = await runTransaction(tx, options)
  return result.infos
}

/** The CA certificates (RFC 9483 4.3.1, genm caCerts), DER. */
async function getCaCerts(options) {
  const tx = ClientTransaction.genm(configOf(options), ['caCerts'])
  const result = await runTransaction(tx, options)
  return result.caCerts
}

module.exports = {
  CONTENT_TYPE,
  CRL_REASONS,
  CmpError,
  PeerError,
  TransportError,
  enroll,
  generalMessage,
  getCaCerts,
  httpTransport,
  isCmpError,
  recoverKeys,
  revoke,
  runTransaction,
  toPem,
  updateKey,
}
