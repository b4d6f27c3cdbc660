// Types of helpers.js, the Promise layer of cmp-protocol; re-exported by the
// generated index.d.ts. test/types.test.js checks that the error codes below
// are exactly the native error table and that every declared value exists.
import type { KeyObject, X509Certificate } from 'node:crypto'
import type {
  ClientConfig,
  ClientTransaction,
  ExtensionInput,
  InfoTypeAndValue,
  PrivateKey,
  Step,
} from './index'

/** PEM text or DER bytes (what the native classes take for one key or certificate). */
export type PemOrDer = string | Buffer
/** One certificate, several in one PEM text, or an array of them. */
export type Certs = string | Buffer | Array<string | Buffer>

/** A private key: PEM (PKCS#8, SEC1, PKCS#1), DER, a node:crypto KeyObject or a PrivateKey. */
export type KeyLike = string | Uint8Array | KeyObject | PrivateKey
/** A certificate: PEM, DER or a node:crypto X509Certificate. */
export type CertLike = string | Uint8Array | X509Certificate
/** One certificate or several. */
export type CertsLike = CertLike | CertLike[]

/** The stable error names of docs/errors.md (the `code` of a CmpError). */
export type CmpErrorCode =
  | 'CMP_USAGE'
  | 'CMP_CONFIG'
  | 'CMP_ENCODE'
  | 'CMP_CRYPTO'
  | 'CMP_TIMEOUT'
  | 'CMP_STORE'
  | 'CMP_DECODE'
  | 'CMP_MESSAGE_TOO_LARGE'
  | 'CMP_NESTING_TOO_DEEP'
  | 'CMP_MISSING_PROTECTION'
  | 'CMP_UNSUPPORTED_ALGORITHM'
  | 'CMP_ITERATION_COUNT_TOO_HIGH'
  | 'CMP_BAD_MESSAGE_CHECK'
  | 'CMP_WRONG_INTEGRITY'
  | 'CMP_UNKNOWN_CREDENTIAL'
  | 'CMP_SIGNER_NOT_TRUSTED'
  | 'CMP_UNSUPPORTED_VERSION'
  | 'CMP_MISSING_HEADER_FIELD'
  | 'CMP_TRANSACTION_ID_MISMATCH'
  | 'CMP_TRANSACTION_ID_IN_USE'
  | 'CMP_BAD_RECIPIENT_NONCE'
  | 'CMP_BAD_SENDER_NONCE'
  | 'CMP_BAD_TIME'
  | 'CMP_WRONG_SENDER'
  | 'CMP_UNEXPECTED_BODY'
  | 'CMP_BAD_REQUEST'
  | 'CMP_BAD_CERT_TEMPLATE'
  | 'CMP_BAD_POP'
  | 'CMP_BAD_CERT_ID'
  | 'CMP_INCORRECT_DATA'
  | 'CMP_NOT_AUTHORIZED'
  | 'CMP_CERT_CONFIRMED'
  | 'CMP_MISSING_TIME_STAMP'
  | 'CMP_WRONG_AUTHORITY'
  | 'CMP_CERT_REVOKED'
  | 'CMP_DUPLICATE_CERT_REQ'
  | 'CMP_KEY_NOT_FOR_US'
  | 'CMP_KEY_DECRYPT_FAILED'
  | 'CMP_KEY_SIGNATURE_INVALID'
  | 'CMP_KEY_MISMATCH'
  | 'CMP_PEER_ERROR'
  | 'CMP_UNAUTHENTICATED_ERROR'

/** The error names of announcement validation (docs/errors.md, 600–616). */
export type AnnounceErrorCode =
  | 'CMP_NOT_AN_ANNOUNCEMENT'
  | 'CMP_MISSING_NEW_WITH_OLD'
  | 'CMP_UNKNOWN_OLD_ROOT'
  | 'CMP_NEW_WITH_OLD_SIGNATURE'
  | 'CMP_NEW_WITH_OLD_KEY_MISMATCH'
  | 'CMP_NEW_WITH_NEW_NOT_SELF_SIGNED'
  | 'CMP_NEW_ROOT_NOT_CA'
  | 'CMP_NEW_ROOT_NOT_VALID'
  | 'CMP_KEY_NOT_CHANGED'
  | 'CMP_ROOT_NAME_MISMATCH'
  | 'CMP_OLD_WITH_NEW_SIGNATURE'
  | 'CMP_OLD_WITH_NEW_KEY_MISMATCH'
  | 'CMP_ANNOUNCED_CERT_NOT_TRUSTED'
  | 'CMP_BAD_REVOCATION_STATUS'
  | 'CMP_EMPTY_CRL_ANNOUNCEMENT'
  | 'CMP_CRL_ISSUER_UNKNOWN'
  | 'CMP_CRL_SIGNATURE'

/** The error names of CoAP block-wise framing (docs/errors.md, 700–708). */
export type CoapErrorCode =
  | 'CMP_COAP_RESERVED_BLOCK_SIZE'
  | 'CMP_COAP_BLOCK_OPTION_TOO_LONG'
  | 'CMP_COAP_BLOCK_NUMBER_TOO_LARGE'
  | 'CMP_COAP_MTU_TOO_SMALL'
  | 'CMP_COAP_BLOCK_OUT_OF_ORDER'
  | 'CMP_COAP_WRONG_BLOCK_LENGTH'
  | 'CMP_COAP_BLOCK_SIZE_INCREASED'
  | 'CMP_COAP_TOO_LARGE'
  | 'CMP_COAP_ALREADY_COMPLETE'

/**
 * An error of the CMP core (thrown by the native classes and rejected by the
 * helpers). `instanceof CmpError` recognises them; they are not constructed
 * from JavaScript.
 */
export declare class CmpError extends Error {
  protected constructor()
  /** The stable name, e.g. 'CMP_BAD_MESSAGE_CHECK'. */
  readonly code: CmpErrorCode | AnnounceErrorCode | CoapErrorCode
  /** The stable number, e.g. 303. */
  readonly cmpCode: number
  /** Who is to blame: 'local' (API, configuration, crypto), 'remote' (the peer sent something wrong), 'peer' (the peer reported a failure). */
  readonly kind: 'local' | 'remote' | 'peer'
  /**
   * The PKIFailureInfo bit a responder answers this error with; undefined
   * for announcement and CoAP errors (600–708), which no CMP response carries.
   */
  readonly failureBit: string
}

/** A failure the peer reported: an error message or a rejection (CMP_PEER_ERROR, CMP_UNAUTHENTICATED_ERROR). */
export declare class PeerError extends CmpError {
  readonly code: 'CMP_PEER_ERROR' | 'CMP_UNAUTHENTICATED_ERROR'
  /** The PKIStatus, e.g. 'rejection'. */
  readonly status: string
  /** PKIFailureInfo bit names, e.g. ['badPOP']. */
  readonly failInfo: string[]
  /** The statusString texts. */
  readonly statusString: string[]
  /** errorCode of an error message, else null. */
  readonly errorCode: number | null
  /** errorDetails of an error message. */
  readonly errorDetails: string[]
  /** The body the failure came in: 'error', 'ip', 'cp', 'kup', 'rp', ... */
  readonly body: string
}

/** The HTTP exchange failed (connection, timeout, HTTP status, content type, size). */
export declare class TransportError extends Error {
  constructor(message: string, options?: { url?: string; httpStatus?: number; cause?: unknown; timeout?: boolean })
  readonly code: 'ERR_CMP_TRANSPORT'
  readonly url: string | undefined
  /** The HTTP status when the server answered. */
  readonly httpStatus: number | undefined
  /** Whether the request's timeout passed before the complete answer arrived (a silent or trickling server). */
  readonly timeout: boolean
}

/** Whether `value` is an error of the CMP core. */
export declare function isCmpError(value: unknown): value is CmpError

/** 'application/pkixcmp' (RFC 9811). */
export declare const CONTENT_TYPE: 'application/pkixcmp'

/** CRL reason codes (RFC 5280 5.3.1) by name. */
export declare const CRL_REASONS: {
  readonly unspecified: 0
  readonly keyCompromise: 1
  readonly cACompromise: 2
  readonly affiliationChanged: 3
  readonly superseded: 4
  readonly cessationOfOperation: 5
  readonly certificateHold: 6
  readonly removeFromCRL: 8
  readonly privilegeWithdrawn: 9
  readonly aACompromise: 10
}
export type CrlReason = keyof typeof CRL_REASONS

/** Sends one request and resolves with the response (DER). */
export type Transport = (
  request: Buffer,
  context: { url?: string | URL; signal?: AbortSignal },
) => Promise<Uint8Array | ArrayBuffer>

export interface HttpOptions {
  /** Extra HTTP headers (the defaults: content-type and accept application/pkixcmp, connection close). */
  headers?: Record<string, string>
  /** Per-request timeout in ms, for the whole exchange including the body (default 30000; 0: none). */
  timeout?: number
  /** The largest response body accepted, in bytes (default 4 MiB). */
  maxBody?: number
  /** The fetch to use (default: the global fetch). */
  fetch?: typeof fetch
}

/** How messages travel: RFC 9811 HTTP to `url`, or your own `transport`. */
export interface TransportOptions extends HttpOptions {
  /** The CMP endpoint, e.g. 'https://ca.example/.well-known/cmp'. */
  url?: string | URL
  /** Used instead of HTTP to `url` when given. */
  transport?: Transport
  /** Aborts the transaction (pending HTTP request and polling timer). */
  signal?: AbortSignal
  /** At most this many requests per transaction (default 32). */
  maxMessages?: number
  /** The clock, ms since the epoch (default Date.now). */
  clock?: () => number
}

/** Credentials, trust and policy (see ClientConfigOptions). */
export interface ProtectionOptions {
  /** Use this ClientConfig; the other protection options are then ignored. */
  config?: ClientConfig
  /** MAC: the reference value (senderKID). */
  reference?: string | Uint8Array
  /** MAC: the shared secret. */
  secret?: string | Uint8Array
  /** MAC: PBMAC1 instead of PasswordBasedMac. */
  pbmac1?: boolean
  /** Signature protection with an existing certificate. */
  signer?: { key: KeyLike; cert: CertLike; chain?: CertsLike }
  /** Trust anchors for signature-protected responses. */
  trust?: CertsLike
  /** Untrusted intermediates for the server's chain. */
  untrusted?: CertsLike
  /** Secret for MAC-protected responses (default: secret). */
  responseSecret?: string | Uint8Array
  sender?: string
  recipient?: string
  expectedSender?: string
  /** Largest accepted messageTime skew in seconds (default 600; null: not checked). */
  maxTimeSkew?: number | null
  /** Ask for implicit confirmation. */
  implicitConfirm?: boolean
  /** 2 (default) or 3. */
  pvno?: number
  /** Give up after this many seconds. */
  totalTimeout?: number
  extraCerts?: CertsLike
}

type CertificateIssuedStep = Extract<Step, { kind: 'certificateIssued' }>
type RevokedStep = Extract<Step, { kind: 'revoked' }>
type KeysRecoveredStep = Extract<Step, { kind: 'keysRecovered' }>

export interface RunOptions extends TransportOptions {
  /** Accept (true, default) or reject (false) an issued certificate, or decide per certificate. */
  confirm?: boolean | ((issued: CertificateIssuedStep) => boolean | Promise<boolean>)
}

export interface TransactionResult {
  transactionId: Buffer
  /** Every step handleResponse / confirm returned. */
  steps: Step[]
  /** Requests sent. */
  messages: number
  /** How often the server asked to wait. */
  polls: number
  /** The issued certificate (DER) if it was accepted. */
  certificate: Buffer | null
  issued: CertificateIssuedStep | null
  revoked: RevokedStep | null
  /** A krr's answer. */
  recovered: KeysRecoveredStep | null
  infos: InfoTypeAndValue[]
  caCerts: Buffer[]
}

/** Drive a ClientTransaction to its end over `url` or `transport`. */
export declare function runTransaction(tx: ClientTransaction, options?: RunOptions): Promise<TransactionResult>

/** A Transport that POSTs to `url` with fetch (RFC 9811). */
export declare function httpTransport(url: string | URL, options?: HttpOptions): Transport

/** DER to PEM (default label CERTIFICATE). */
export declare function toPem(der: Uint8Array, label?: string): string

export interface CertificateOptions {
  /** The subject to request, e.g. 'CN=Test Device'. */
  subject?: string
  /** Extensions to request. */
  extensions?: ExtensionInput[]
  /**
   * Archive the key to certify at the CA (pkiArchiveOptions, RFC 4211
   * section 6.4): encrypted under the MAC `secret`, or for `archiveCert`;
   * `recoverKeys` brings it back.
   */
  archiveKey?: boolean
  /** archiveKey: encrypt for this certificate (the CA's) instead of the MAC secret. */
  archiveCert?: CertLike
}

export interface EnrollParams extends RunOptions, ProtectionOptions, CertificateOptions {
  /** The key to certify (it signs the proof-of-possession). */
  key?: KeyLike
  /** A PKCS#10 CSR (PEM or DER) instead of key: sends a p10cr. */
  csr?: string | Uint8Array
  /** 'ir' (default), 'cr' or 'ccr' (cross-certification). */
  kind?: 'ir' | 'cr' | 'ccr'
  /**
   * Central key generation: the PKI generates the key (true: its choice of
   * algorithm, or a name such as 'ec:P-256'); give no `key`.
   */
  centralKeygen?: boolean | string
}

export interface UpdateKeyParams extends RunOptions, ProtectionOptions, CertificateOptions {
  /** The current certificate (the one to update). */
  cert: CertLike
  /** The current private key (signs the request). */
  key: KeyLike
  /** Intermediates of cert for extraCerts. */
  chain?: CertsLike
  /** The new key to certify. */
  newKey: KeyLike
}

export interface RevokeParams extends RunOptions, ProtectionOptions {
  /** The certificate to revoke. */
  cert: CertLike
  /** Its private key: the request is signed with key and cert (unless signer or secret is given). */
  key?: KeyLike
  chain?: CertsLike
  /** CRL reason (name or code). */
  reason?: CrlReason | number
}

export interface Enrollment {
  /** The new certificate, DER (new X509Certificate(certificate) reads it). */
  certificate: Buffer
  /** The same as PEM. */
  certificatePem: string
  /** Its issuer chain (issuer first), DER. */
  chain: Buffer[]
  /** CA certificates the server offers as trust anchors, DER. */
  caPubs: Buffer[]
  extraCerts: Buffer[]
  implicitConfirmGranted: boolean
  /** 'accepted' or 'grantedWithMods'. */
  status: string
  transactionId: Buffer
  polls: number
  /** Central key generation: the delivered private key, PKCS#8 DER; else null. */
  privateKey: Buffer | null
  /** The same as PEM ('PRIVATE KEY'); else null. */
  privateKeyPem: string | null
}

export interface RecoverKeysParams extends RunOptions, ProtectionOptions {
  /** Whose keys to recover (default: the signer's subject). */
  subject?: string
  /** A new signing key to certify along. */
  newKey?: KeyLike
  /** A certificate whose keys are to be recovered. */
  oldCert?: CertLike
}

export interface RecoveredKeys {
  /** 'accepted' or 'grantedWithMods'. */
  status: string
  /** The archived key pairs: certificate and private key (PKCS#8 DER and PEM). */
  keys: Array<{ certificate: Buffer; privateKey: Buffer; privateKeyPem: string }>
  /** A new signing certificate for newKey, DER, or null. */
  newSigCert: Buffer | null
  caCerts: Buffer[]
  transactionId: Buffer
}

export interface Revocation {
  status: string
  failInfo: string[]
  statusString: string[]
  transactionId: Buffer
}

/** Get a certificate for key (ir/cr) or for a CSR (p10cr). */
export declare function enroll(params: EnrollParams): Promise<Enrollment>
/** Renew: kur for cert with newKey, signed with the current key and cert. */
export declare function updateKey(params: UpdateKeyParams): Promise<Enrollment>
/** Key recovery (krr): the archived keys of subject, decrypted. */
export declare function recoverKeys(params: RecoverKeysParams): Promise<RecoveredKeys>
/** Revoke cert (rr). */
export declare function revoke(params: RevokeParams): Promise<Revocation>
/** The CA certificates (genm caCerts), DER. */
export declare function getCaCerts(params: RunOptions & ProtectionOptions): Promise<Buffer[]>
/** A general message; resolves with the genp content. */
export declare function generalMessage(
  params: RunOptions &
    ProtectionOptions & {
      infos?: Array<'caCerts' | 'certReqTemplate' | 'rootCaCert' | 'crlStatusList' | 'kemCiphertextInfo' | InfoTypeAndValue>
    },
): Promise<InfoTypeAndValue[]>
