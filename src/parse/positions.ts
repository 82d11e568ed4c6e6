/*
 * Where each node of a YAML file sits, recorded by js-yaml's node listener during the one
 * parse that also gives the data: every node composed fires 'open' and 'close', nested as
 * the nodes are, so a stack rebuilds the tree of nodes with their offsets.
 */

export interface Position {
  line: number;
  col: number;
}

/** One node as composed: offsets into the text, and the nodes inside it. */
export interface Frame {
  /** Offset where js-yaml started looking for the node (it may be whitespace before it). */
  start: number;
  end: number;
  kind: string | null;
  /** A scalar's value (keys are matched on it). */
  value?: unknown;
  children: Frame[];
  /** Nodes this one stands for once aliases are expanded (1 for a scalar). */
  size: number;
  /** A mapping's keys, found once when first asked for (see mappingKeys). */
  keys?: Map<string, Step>;
}

interface ListenerState {
  position: number;
  kind: string | null;
  result: unknown;
}

export interface Recorder {
  listener(event: 'open' | 'close', state: ListenerState): void;
  /** The document's top node. */
  root(): Frame | undefined;
  /** Nodes the text spells out, and nodes it stands for with every alias expanded. */
  writtenNodes(): number;
  expandedNodes(): number;
  lineStarts(): number[];
}

/** The children of a node that has none yet: one array for all of them (most nodes are scalars), replaced at the first child. */
const NO_CHILDREN = Object.freeze([]) as unknown as Frame[];

export function recorder(text: string): Recorder {
  const top: Frame = { start: 0, end: text.length, kind: null, value: undefined, children: [], size: 0, keys: undefined };
  const stack: Frame[] = [top];
  const anchors = new Map<string, number>();
  // Without a "*" the text has no alias, and every node stands for itself: sizes need no counting.
  const aliases = text.includes('*');
  let written = 0;
  let starts: number[] | undefined;
  return {
    listener(event, state) {
      if (event === 'open') {
        // Every field from the start: one shape for every node.
        stack.push({
          start: state.position,
          end: state.position,
          kind: null,
          value: undefined,
          children: NO_CHILDREN,
          size: 1,
          keys: undefined,
        });
        return;
      }
      const f = stack.pop()!;
      const parent = stack[stack.length - 1]!;
      f.end = state.position;
      f.kind = state.kind;
      if (f.kind === 'scalar') f.value = state.result;
      written++;
      if (aliases) {
        const props = readProps(text, contentStart(text, f.start));
        if (props.alias !== undefined) {
          f.size = anchors.get(props.alias) ?? 1;
        } else {
          f.size = 1 + f.children.reduce((n, c) => n + c.size, 0);
          if (props.anchor !== undefined) anchors.set(props.anchor, f.size);
        }
      }
      // A flow collection inside a block one is composed twice over the same text: keep one.
      const only = f.children.length === 1 ? f.children[0]! : undefined;
      const node =
        only && only.kind === f.kind && only.end === f.end && contentStart(text, only.start) === contentStart(text, f.start) ? only : f;
      if (parent.children === NO_CHILDREN) parent.children = [node];
      else parent.children.push(node);
    },
    root: () => top.children[0],
    writtenNodes: () => written,
    expandedNodes: () => (aliases ? top.children.reduce((n, c) => n + c.size, 0) : written),
    lineStarts: () => (starts ??= lineStartsOf(text)),
  };
}

/** Skip spaces, line breaks and comments. */
function contentStart(text: string, i: number): number {
  for (;;) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return text.length;
      i = nl;
    } else return i;
  }
}

const NAME_END = /[\s,[\]{}]/;

function readName(text: string, i: number): { name: string; next: number } {
  let j = i;
  while (j < text.length && !NAME_END.test(text[j]!)) j++;
  return { name: text.slice(i, j), next: j };
}

/** The anchor a node is given, or the alias it is, from its properties (`!tag &name`, `*name`). */
function readProps(text: string, i: number): { anchor?: string; alias?: string } {
  if (text[i] === '*') return { alias: readName(text, i + 1).name };
  let anchor: string | undefined;
  for (let k = 0; k < 2; k++) {
    if (text[i] === '&') {
      const r = readName(text, i + 1);
      anchor = r.name;
      i = contentStart(text, r.next);
    } else if (text[i] === '!') {
      i = contentStart(text, readName(text, i).next);
    }
  }
  return { anchor };
}

/** Is this node a mapping's key? Keys are followed by ":" (after spaces, breaks and comments for "? key"). */
function isKey(text: string, f: Frame): boolean {
  return text[contentStart(text, f.end)] === ':';
}

/** A value that is only whitespace (`key:` with nothing after it) has no place of its own. */
function isEmpty(text: string, f: Frame): boolean {
  return contentStart(text, f.start) >= f.end;
}

interface Step {
  key?: Frame;
  value?: Frame;
}

/** A mapping's keys, found once (a file's places are looked up one key path after another). */
function mappingKeys(text: string, mapping: Frame): Map<string, Step> {
  if (mapping.keys) return mapping.keys;
  const keys = new Map<string, Step>();
  const kids = mapping.children;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (!isKey(text, k) || k.kind !== 'scalar') continue;
    const next = kids[i + 1];
    const value = next && !isKey(text, next) ? next : undefined;
    // A later key of the same name wins, as it does in the data.
    keys.set(String(k.value), { key: k, value: value && !isEmpty(text, value) ? value : undefined });
  }
  mapping.keys = keys;
  return keys;
}

/** No place: one object for every step that finds nothing. */
const NOWHERE: Step = Object.freeze({ key: undefined, value: undefined });

function step(text: string, parent: Frame | undefined, key: PropertyKey): Step {
  if (!parent) return NOWHERE;
  if (parent.kind === 'sequence') {
    const item = typeof key === 'number' ? parent.children[key] : undefined;
    return { key: undefined, value: item };
  }
  if (parent.kind !== 'mapping') return NOWHERE;
  return mappingKeys(text, parent).get(String(key)) ?? NOWHERE;
}

/**
 * Line and column of the node at `path`, or of its nearest parent that has a place: the
 * value if there is one, else the key (values may be empty); with `key`, a key that
 * exists is pointed at itself.
 */
export function positionIn(
  text: string,
  lineStarts: number[],
  root: Frame | undefined,
  path: readonly PropertyKey[],
  key: boolean,
): Position | undefined {
  return walkTo(text, () => lineStarts, root, path).positionOf([], key);
}

/** The steps to a key path, walked once: positions of the paths below it (see positionIn). */
export interface Walked {
  positionOf(rest: readonly PropertyKey[], key: boolean): Position | undefined;
}

export function walkTo(text: string, lineStarts: () => number[], root: Frame | undefined, path: readonly PropertyKey[]): Walked {
  const prefix: Step[] = [{ key: undefined, value: root }];
  for (let i = 0; i < path.length; i++) prefix.push(step(text, prefix[prefix.length - 1]!.value, path[i]!));
  const at = (f: Frame) => lineCol(lineStarts(), contentStart(text, f.start));
  /** The place the last step gives, or the nearest one before it that has one (see positionIn). */
  const placeOf = (steps: readonly Step[]): Position | undefined => {
    for (let n = steps.length - 1; n >= 0; n--) {
      const s = steps[n]!;
      if (s.value && !isEmpty(text, s.value)) return at(s.value);
      if (s.key) return at(s.key);
    }
    return undefined;
  };
  return {
    positionOf(rest, key) {
      // The steps below the prefix only (the prefix is walked once, and not copied for each path).
      const tail: Step[] = [];
      let parent = prefix[prefix.length - 1]!.value;
      for (let i = 0; i < rest.length; i++) {
        const s = step(text, parent, rest[i]!);
        tail.push(s);
        parent = s.value;
      }
      const last = tail.length > 0 ? tail[tail.length - 1]! : prefix[prefix.length - 1]!;
      if (key && last.key) return at(last.key);
      return placeOf(tail) ?? placeOf(prefix);
    },
  };
}

function lineStartsOf(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

function lineCol(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - starts[lo]! + 1 };
}
