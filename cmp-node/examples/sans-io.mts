// Type-checked example (ESM): the sans-IO transaction with your own I/O.
import { ClientConfig, ClientTransaction, PrivateKey, type Step } from 'cmp-protocol'

declare function post(body: Buffer): Promise<Buffer>

const config = new ClientConfig({ reference: '1234', secret: '1234-5678' })
const tx = ClientTransaction.ir(config, { key: PrivateKey.generate('ec:P-256').toPem(), subject: 'CN=Test Device' })

for (;;) {
  const request = tx.request()
  if (request === null) {
    if (tx.isFinished) break
    const due = tx.pollTimeout()
    if (due !== null) await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))
    tx.handleTimeout()
    continue
  }
  const step: Step = tx.handleResponse(await post(request))
  switch (step.kind) {
    case 'certificateIssued':
      console.log(step.certificate.length, step.caPubs.length, step.implicitConfirmGranted)
      tx.confirm(true)
      break
    case 'waiting':
      console.log('poll at', new Date(step.until))
      break
    case 'continue':
    case 'completed':
    case 'revoked':
    case 'generalResponse':
      break
  }
}
