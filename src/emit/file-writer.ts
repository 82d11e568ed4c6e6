import { Worker } from 'node:worker_threads';
import type * as Fs from 'node:fs';
import type * as Path from 'node:path';
import type * as Threads from 'node:worker_threads';

/** One piece of a file for the writer thread: the first piece creates the file, the last closes it. */
interface Piece {
  path: string;
  bytes: Uint8Array;
  mode: number;
  first: boolean;
  last: boolean;
}

/** Why writing failed, as the writer thread saw it (an Error does not cross threads whole). */
interface Failure {
  message: string;
  code?: string;
  syscall?: string;
  path?: string;
}

type Reply = { files: number; failure?: Failure };

/** A batch is sent when it holds this many pieces or bytes, whichever comes first. */
const BATCH_FILES = 32;
const BATCH_BYTES = 1 << 20;

/**
 * The writer thread's whole program. It runs as an evaluated CommonJS script (so a test
 * running the TypeScript sources needs no built file), which is why it is handed `require`
 * and imports nothing. It writes the pieces in the order they come: each file created new
 * (`wx`, never through a link), its mode set on the open descriptor (the umask narrows the
 * mode given to open). After the first failure it writes nothing more; `null` asks for the
 * count, or the failure. Pieces come in batches: a message per file would cost more than
 * a small file's write.
 */
function writerThread(load: (id: string) => unknown): void {
  const fs = load('node:fs') as typeof Fs;
  const { dirname } = load('node:path') as typeof Path;
  const port = (load('node:worker_threads') as typeof Threads).parentPort!;
  const made = new Set<string>();
  let fd: number | undefined;
  let files = 0;
  let failure: Failure | undefined;
  const write = (piece: Piece) => {
    if (failure) return;
    try {
      if (piece.first) {
        const parent = dirname(piece.path);
        if (!made.has(parent)) {
          fs.mkdirSync(parent, { recursive: true });
          made.add(parent);
        }
        fd = fs.openSync(piece.path, 'wx', piece.mode);
      }
      fs.writeFileSync(fd!, piece.bytes);
      if (piece.last) {
        const open = fd!;
        fd = undefined;
        try {
          fs.fchmodSync(open, piece.mode);
        } finally {
          fs.closeSync(open);
        }
        files++;
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      failure = { message: err.message, code: err.code, syscall: err.syscall, path: err.path };
    }
  };
  port.on('message', (pieces: Piece[] | null) => {
    if (pieces === null) port.postMessage({ files, failure } satisfies Reply);
    else for (const piece of pieces) write(piece);
  });
}

/**
 * Files written by a thread of their own while the caller goes on: creating a thousand
 * small files is mostly the kernel's time, which the render and lint on the main thread
 * now overlap instead of waiting for. The bytes are handed over, not copied.
 */
export class FileWriter {
  private readonly worker = new Worker(`(${writerThread.toString()})(require)`, { eval: true });
  private readonly died: Promise<never>;

  constructor() {
    this.died = new Promise<never>((_resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the file writer thread stopped (exit ${code})`)));
    });
    // Until finish() asks, a failed thread is only noticed there.
    this.died.catch(() => undefined);
  }

  private batch: Piece[] = [];
  private batchBytes = 0;

  /** Queue one piece of a file (see Piece); `bytes` is moved to the writer and unusable here afterwards. */
  write(path: string, bytes: Uint8Array, mode: number, first: boolean, last: boolean): void {
    this.batch.push({ path, bytes, mode, first, last });
    this.batchBytes += bytes.length;
    if (this.batch.length >= BATCH_FILES || this.batchBytes >= BATCH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.worker.postMessage(
      this.batch,
      this.batch.map((p) => p.bytes.buffer as ArrayBuffer),
    );
    this.batch = [];
    this.batchBytes = 0;
  }

  /** Wait until every queued piece is written; the number of files, or the first failure as the error fs would have thrown. */
  async finish(): Promise<number> {
    try {
      const reply = await Promise.race([
        new Promise<Reply>((resolve) => {
          this.worker.once('message', resolve);
          this.flush();
          this.worker.postMessage(null);
        }),
        this.died,
      ]);
      if (reply.failure) throw Object.assign(new Error(reply.failure.message), reply.failure);
      return reply.files;
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stop writing (after a failure elsewhere): resolves once the thread has stopped and touches nothing more. */
  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}
