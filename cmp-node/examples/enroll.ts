// Type-checked example (tsc -p examples/tsconfig.json): the Promise helpers.
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { enroll, updateKey, revoke, getCaCerts, CmpError, PeerError, TransportError } from 'cmp-protocol'
import type { AnnounceErrorCode, CmpErrorCode, CoapErrorCode, Enrollment } from 'cmp-protocol'

async function main(url: string): Promise<void> {
  const signal = AbortSignal.timeout(60_000)

  // first certificate, authenticated with a shared secret
  const key = readFileSync('device.key', 'utf8')
  const first: Enrollment = await enroll({ url, reference: '1234', secret: '1234-5678', key, subject: 'CN=Test Device', signal })
  const cert = new X509Certificate(first.certificate)
  console.log(cert.subject, first.chain.length, first.status)

  // renew with a new node:crypto key, signed with the current credential
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const trust = readFileSync('root.crt', 'utf8')
  const renewed = await updateKey({ url, key, cert, newKey: privateKey, trust, signal })
  console.log(renewed.certificatePem)

  const caCerts: Buffer[] = await getCaCerts({ url, reference: '1234', secret: '1234-5678' })
  console.log(caCerts.map((c) => new X509Certificate(c).subject))

  try {
    await revoke({ url, cert: renewed.certificate, key: privateKey, trust, reason: 'superseded' })
  } catch (e) {
    if (e instanceof PeerError) {
      console.error(e.code, e.status, e.failInfo.join(','), e.statusString)
    } else if (e instanceof CmpError) {
      const code: CmpErrorCode | AnnounceErrorCode | CoapErrorCode = e.code
      console.error(code, e.cmpCode, e.kind)
    } else if (e instanceof TransportError) {
      console.error(e.httpStatus)
    } else {
      throw e
    }
  }
}

main(process.env.CMP_URL ?? 'http://127.0.0.1:8080/pkix/').catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
