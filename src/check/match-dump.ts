import { LEGACY_WARNING, readingOf } from './parse-dump.js';

/**
 * Reads a live dump as it comes against the saved dump's lines (their readings, see
 * readingOf): the in-sync case, what cron meets nearly every time, then needs no parse of
 * the live side. At the first line that reads differently it stops matching; the caller
 * parses the live dump then (`text` has all of it so far).
 */
export class DumpMatcher {
  private saved: readonly string[] | undefined;
  private next = 0;
  private differs = false;
  private partial = '';
  private readonly pieces: string[] = [];
  /** Pieces that came before the saved side was read, still to match. */
  private waiting: string[] = [];
  legacyTables = false;

  /** The saved dump's readings; lines pushed before this are matched now. */
  setSaved(readings: readonly string[]): void {
    this.saved = readings;
    const waiting = this.waiting;
    this.waiting = [];
    for (const piece of waiting) this.match(piece);
  }

  /** False once a line read differently: from then on only the text is kept. */
  get matching(): boolean {
    return !this.differs;
  }

  push(piece: string): void {
    this.pieces.push(piece);
    if (this.differs) return;
    if (this.saved === undefined) this.waiting.push(piece);
    else this.match(piece);
  }

  /** True when every line read the same as the saved dump's, and none is missing (false without a saved side). */
  end(): boolean {
    if (this.saved === undefined) return false;
    if (!this.differs && this.partial !== '') this.line(this.partial);
    this.partial = '';
    return !this.differs && this.next === this.saved.length;
  }

  text(): string {
    return this.pieces.join('');
  }

  private match(piece: string): void {
    if (this.differs) return;
    const lines = (this.partial + piece).split('\n');
    this.partial = lines.pop() as string;
    for (const raw of lines) {
      this.line(raw);
      if (this.differs) return;
    }
  }

  private line(raw: string): void {
    const reading = readingOf(raw);
    if (reading === undefined) {
      if (LEGACY_WARNING.test(raw)) this.legacyTables = true;
      return;
    }
    if (this.saved?.[this.next] === reading) this.next++;
    else this.differs = true;
  }
}
