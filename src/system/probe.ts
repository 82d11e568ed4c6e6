// Sends one packet from inside a network namespace (run as `ip netns exec NS node probe.js JSON`)
// and prints what came back: answered | silent | blocked. No imports from gen-fw: it runs alone.
import dgram from 'node:dgram';
import net from 'node:net';

interface Send {
  proto: 'tcp' | 'udp';
  source: string;
  destination: string;
  sport: number;
  dport: number;
  timeoutMs: number;
}

type Seen = 'answered' | 'silent' | 'blocked';

function errorSeen(err: NodeJS.ErrnoException): Seen {
  return err.code === 'EPERM' || err.code === 'EACCES' ? 'blocked' : 'answered';
}

function sendTcp(s: Send): Promise<Seen> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: s.destination, port: s.dport, localAddress: s.source, localPort: s.sport });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('silent');
    }, s.timeoutMs);
    sock.on('connect', () => {
      clearTimeout(timer);
      // A reset, not a close: no TIME_WAIT keeps the source port from the next packet.
      sock.resetAndDestroy();
      resolve('answered');
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      resolve(errorSeen(err));
    });
  });
}

function sendUdp(s: Send): Promise<Seen> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(s.destination) ? 'udp6' : 'udp4');
    const done = (v: Seen) => {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve(v);
    };
    const timer = setTimeout(() => done('silent'), s.timeoutMs);
    sock.on('message', () => done('answered'));
    sock.on('error', (err) => done(errorSeen(err)));
    sock.bind({ address: s.source, port: s.sport }, () => {
      sock.connect(s.dport, s.destination, () => {
        sock.send('gen-fw explain', (e) => {
          if (e) done(errorSeen(e));
        });
      });
    });
  });
}

const s = JSON.parse(process.argv[2] ?? '{}') as Send;
const seen = await (s.proto === 'tcp' ? sendTcp(s) : sendUdp(s));
process.stdout.write(seen + '\n');
