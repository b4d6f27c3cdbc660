'use strict'
// httpTransport against hostile or broken loopback servers: silent,
// trickling one byte per second, and sending endless bodies. It gives up at
// its deadline (TransportError with timeout: true) or at the body cap, and
// never hangs or grows without bound.

const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { cmp } = require('./common.js')

/** A loopback server that reads the request head, then runs `behave(socket)`. */
async function serve(t, behave) {
  const sockets = new Set()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    let seen = Buffer.alloc(0)
    const onData = (chunk) => {
      seen = Buffer.concat([seen, chunk])
      if (seen.includes('\r\n\r\n')) {
        socket.off('data', onData)
        socket.resume()
        behave(socket)
      }
    }
    socket.on('data', onData)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return `http://127.0.0.1:${server.address().port}/pkix/`
}

async function timed(send) {
  const started = Date.now()
  const error = await send(Buffer.from([0x30, 0x00])).then(
    () => assert.fail('the exchange succeeded'),
    (e) => e,
  )
  assert.ok(error instanceof cmp.TransportError, String(error))
  assert.equal(error.code, 'ERR_CMP_TRANSPORT')
  return { error, elapsed: Date.now() - started }
}

test('a silent server times out at the deadline', async (t) => {
  const url = await serve(t, () => {})
  const { error, elapsed } = await timed(cmp.httpTransport(url, { timeout: 1500 }))
  assert.equal(error.timeout, true, error.message)
  assert.ok(elapsed >= 1400 && elapsed < 4000, `${elapsed} ms`)
})

test('a trickling server cannot stretch the deadline', async (t) => {
  const url = await serve(t, (socket) => {
    const bytes = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(100),
    )
    let i = 0
    const timer = setInterval(() => {
      if (i >= bytes.length || socket.destroyed) return clearInterval(timer)
      socket.write(bytes.subarray(i, i + 1))
      i += 1
    }, 1000)
    socket.on('close', () => clearInterval(timer))
  })
  const { error, elapsed } = await timed(cmp.httpTransport(url, { timeout: 3000 }))
  assert.equal(error.timeout, true, error.message)
  assert.ok(elapsed >= 2900 && elapsed < 6000, `${elapsed} ms`)
})

function endless(head) {
  return (socket) => {
    socket.write(head)
    const chunk = Buffer.alloc(65536, 0x30)
    const pump = () => {
      while (!socket.destroyed && socket.write(chunk)) {}
    }
    socket.on('drain', pump)
    pump()
  }
}

for (const [name, head] of [
  ['until EOF', 'HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\n\r\n'],
  ['huge Content-Length', 'HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 99999999999\r\n\r\n'],
  ['chunked', 'HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\n'],
]) {
  test(`an endless body (${name}) stops at the size cap`, async (t) => {
    const url = await serve(t, endless(head))
    const { error, elapsed } = await timed(cmp.httpTransport(url, { timeout: 20000, maxBody: 1 << 20 }))
    assert.equal(error.timeout, false, error.message)
    assert.match(error.message, /larger than 1048576 bytes/)
    assert.ok(elapsed < 10000, `${elapsed} ms`)
  })
}

test('a normal answer still arrives', async (t) => {
  const url = await serve(t, (socket) =>
    socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 4\r\n\r\npong'),
  )
  const body = await cmp.httpTransport(url, { timeout: 5000 })(Buffer.from('ping'))
  assert.equal(body.toString(), 'pong')
})
