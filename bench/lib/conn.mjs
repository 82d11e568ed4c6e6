#!/usr/bin/env node
// New-connection load, run inside the benchmark's own namespaces:
//   node conn.mjs serve PORT                          accept, send one byte, close
//   node conn.mjs rate HOST PORT SECONDS CONCURRENCY  connect/read/close in a loop; prints
//                                                     {"conns": N, "seconds": S, "errors": E}
// Bounded in time: the client stops after SECONDS; the server is killed by the runner.
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'serve') {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.end('x');
  });
  server.listen(Number(args[0]), '0.0.0.0', () => process.stdout.write('ready\n'));
} else if (mode === 'rate') {
  const [host, port, seconds, concurrency] = [args[0], Number(args[1]), Number(args[2]), Number(args[3])];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let conns = 0;
  let errors = 0;
  const one = () =>
    new Promise((resolve) => {
      const s = net.connect({ host, port });
      let ok = false;
      s.on('data', () => (ok = true));
      s.on('error', () => {});
      s.on('close', () => {
        if (ok) conns++;
        else errors++;
        resolve();
      });
      s.setTimeout(2000, () => s.destroy());
    });
  const worker = async () => {
    while (performance.now() < end) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ conns, seconds: secs, errors }) + '\n');
} else {
  process.stderr.write('usage: conn.mjs serve PORT | rate HOST PORT SECONDS CONCURRENCY\n');
  process.exit(2);
}
