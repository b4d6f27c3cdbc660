// ESM entry of cmp-protocol: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cmp = require('./index.js')

export default cmp
export const {
  CONTENT_TYPE,
  __napiBindingTarget,
  announceErrorTable,
  coapBlockSizeForMtu,
  coapContentFormat,
  coapErrorTable,
  coapOperationLabel,
  coapSplit,
  coapUriPath,
  AnnouncementBuilder,
  AnnouncementValidator,
  CRL_REASONS,
  ClientConfig,
  ClientTransaction,
  CmpError,
  CoapReassembler,
  KemPrivateKey,
  Message,
  PeerError,
  PrivateKey,
  TransportError,
  enroll,
  errorTable,
  failureBits,
  generalMessage,
  getCaCerts,
  httpTransport,
  isCmpError,
  kemEncapsulate,
  recoverKeys,
  revoke,
  runTransaction,
  toPem,
  updateKey,
} = cmp
