// A tiny traffic tool run inside a test namespace (ip netns exec NS node probe.mjs ...).
//   serve PORTSPEC...          PORTSPEC is tcp:PORT or udp:PORT; listens on all addresses, v4 and v6
//   check JSON                 [{proto, host, port, source?, sourcePort? (udp), timeout?}] -> prints JSON verdicts:
//                              open | refused | filtered (no answer within `timeout` ms, default 3000,
//                              or the local firewall said EPERM)
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';

const [mode, ...args] = process.argv.slice(2);
/** A check with no answer within this many ms is 'filtered'. */
const TIMEOUT = 3000;

if (mode === 'serve') {
  const listening = [];
  for (const spec of args) {
    const [proto, portText] = spec.split(':');
    const port = Number(portText);
    if (proto === 'tcp') {
      const server = net.createServer((s) => {
        s.on('error', () => {});
        s.end('ok\n');
      });
      listening.push(new Promise((resolve) => server.listen({ port, host: '::', ipv6Only: false }, resolve)));
    } else {
      // One socket per local address, so that a reply leaves from the address the request
      // went to (with several addresses, a wildcard socket may answer from another one,
      // which conntrack rightly does not match).
      for (const addr of Object.values(os.networkInterfaces()).flat()) {
        if (!addr || addr.internal || addr.address.startsWith('fe80')) continue;
        const sock = dgram.createSocket({ type: addr.family === 'IPv6' ? 'udp6' : 'udp4', ipv6Only: addr.family === 'IPv6' });
        sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
        listening.push(new Promise((resolve) => sock.bind(port, addr.address, resolve)));
      }
    }
  }
  // Tell the parent once every socket listens (an error, such as a port in use, ends the process).
  await Promise.all(listening);
  process.stdout.write('ready\n');
} else if (mode === 'check') {
  const checks = JSON.parse(args[0]);
  const results = await Promise.all(checks.map((c) => (c.proto === 'udp' ? checkUdp(c) : checkTcp(c))));
  process.stdout.write(JSON.stringify(results) + '\n');
  process.exit(0);
} else {
  process.stderr.write('usage: probe.mjs serve tcp:PORT... | check JSON\n');
  process.exit(2);
}

function verdictOf(err) {
  if (!err) return 'open';
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'EPERM' || err.code === 'EACCES' || err.code === 'ETIMEDOUT') return 'filtered';
  return `error:${err.code ?? err.message}`;
}

/**
 * Call `onTimeout` when nothing happened within `ms`. On a loaded machine this process
 * may not run for a while, and timers run before the I/O that arrived meanwhile; the
 * verdict waits one turn of the event loop more, so an answer that came in time wins.
 */
function deadline(ms, onTimeout) {
  return setTimeout(() => setImmediate(onTimeout), ms);
}

function checkTcp({ host, port, source, timeout = TIMEOUT }) {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const sock = net.connect({ host, port, localAddress: source });
    const timer = deadline(timeout, () => done('filtered'));
    sock.on('connect', () => done('open'));
    sock.on('error', (err) => done(verdictOf(err)));
  });
}

function checkUdp({ host, port, source, sourcePort = 0, timeout = TIMEOUT }) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    let settled = false;
    const done = (v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      resolve(v);
    };
    const timer = deadline(timeout, () => done('filtered'));
    sock.on('message', () => done('open'));
    sock.on('error', (err) => done(verdictOf(err)));
    sock.bind({ address: source, port: sourcePort }, () => {
      sock.connect(port, host, (err) => {
        if (err) return done(verdictOf(err));
        sock.send('ping', (e) => {
          if (e) done(verdictOf(e));
        });
      });
    });
  });
}
