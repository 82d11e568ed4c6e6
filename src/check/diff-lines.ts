/** One step of an edit script from `saved` to `live`. */
export interface Edit {
  op: '=' | '-' | '+';
  text: string;
}

interface Match {
  i: number;
  j: number;
  prev: Match | undefined;
}

/** The longest common subsequence as index pairs (Hunt–Szymanski: fast when lines rarely repeat). */
function matchLines(a: readonly string[], b: readonly string[]): Array<[number, number]> {
  const where = new Map<string, number[]>();
  a.forEach((line, i) => {
    const list = where.get(line);
    if (list) list.push(i);
    else where.set(line, [i]);
  });
  const tails: number[] = [];
  const ends: Match[] = [];
  b.forEach((line, j) => {
    const list = where.get(line);
    if (!list) return;
    for (let x = list.length - 1; x >= 0; x--) {
      const i = list[x] as number;
      let lo = 0;
      let hi = tails.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((tails[mid] as number) < i) lo = mid + 1;
        else hi = mid;
      }
      tails[lo] = i;
      ends[lo] = { i, j, prev: lo > 0 ? ends[lo - 1] : undefined };
    }
  });
  const pairs: Array<[number, number]> = [];
  for (let m = ends[ends.length - 1]; m; m = m.prev) pairs.push([m.i, m.j]);
  return pairs.reverse();
}

/**
 * A minimal edit script (as `diff --minimal` finds: the same numbers of lines added and
 * removed), removals before additions at each place.
 */
export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const edits: Edit[] = a.slice(0, start).map((text) => ({ op: '=', text }));
  let i = start;
  let j = start;
  const flush = (toI: number, toJ: number) => {
    for (; i < toI; i++) edits.push({ op: '-', text: a[i] as string });
    for (; j < toJ; j++) edits.push({ op: '+', text: b[j] as string });
  };
  for (const [mi, mj] of matchLines(a.slice(start, endA), b.slice(start, endB))) {
    flush(mi + start, mj + start);
    edits.push({ op: '=', text: a[i] as string });
    i++;
    j++;
  }
  flush(endA, endB);
  for (; i < a.length; i++) edits.push({ op: '=', text: a[i] as string });
  return edits;
}
