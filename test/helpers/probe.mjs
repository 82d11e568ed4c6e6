// A tiny traffic tool run inside a test namespace (ip netns exec NS node probe.mjs ...).
//   serve PORTSPEC...          PORTSPEC is tcp:PORT or udp:PORT; listens on all addresses, v4 and v6
//   check JSON                 [{proto, host, port, source?, sourcePort? (udp), timeout?}] -> prints JSON verdicts:
//                              open | refused | filtered (a timeout, or the local firewall said EPERM)
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'serve') {
  for (const spec of args) {
    const [proto, portText] = spec.split(':');
    const port = Number(portText);
    if (proto === 'tcp') {
      net.createServer((s) => { s.on('error', () => {}); s.end('ok\n'); }).listen({ port, host: '::', ipv6Only: false });
    } else {
      // One socket per local address, so that a reply leaves from the address the request
      // went to (with several addresses, a wildcard socket may answer from another one,
      // which conntrack rightly does not match).
      for (const addr of Object.values(os.networkInterfaces()).flat()) {
        if (!addr || addr.internal || addr.address.startsWith('fe80')) continue;
        const sock = dgram.createSocket({ type: addr.family === 'IPv6' ? 'udp6' : 'udp4', ipv6Only: addr.family === 'IPv6' });
        sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
        sock.bind(port, addr.address);
      }
    }
  }
  // Tell the parent we are listening.
  setTimeout(() => process.stdout.write('ready\n'), 100);
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

function checkTcp({ host, port, source, timeout = 1500 }) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, localAddress: source });
    const timer = setTimeout(() => { sock.destroy(); resolve('filtered'); }, timeout);
    sock.on('connect', () => { clearTimeout(timer); sock.destroy(); resolve('open'); });
    sock.on('error', (err) => { clearTimeout(timer); resolve(verdictOf(err)); });
  });
}

function checkUdp({ host, port, source, sourcePort = 0, timeout = 1500 }) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const done = (v) => { clearTimeout(timer); try { sock.close(); } catch {} resolve(v); };
    const timer = setTimeout(() => done('filtered'), timeout);
    sock.on('message', () => done('open'));
    sock.on('error', (err) => done(verdictOf(err)));
    sock.bind({ address: source, port: sourcePort }, () => {
      sock.connect(port, host, (err) => {
        if (err) return done(verdictOf(err));
        sock.send('ping', (e) => { if (e) done(verdictOf(e)); });
      });
    });
  });
}
