import { localeOrder } from '../shared/locale-order.js';
import type { Place } from './places.js';

export type FindingKind = 'shadowed' | 'redundant' | 'exposed' | 'ssh-unlimited' | 'one-family' | 'notrack-overlap';

export interface Finding {
  kind: FindingKind;
  at: Place;
  /** What and why, naming the other places involved. */
  message: string;
  /** The other rules involved (a shadowed rule's takers). */
  related: Place[];
  /** A packet that proves it, as text ("tcp 10.0.3.1 → :1500"). */
  witness?: string;
}

export function byPlace(a: Finding, b: Finding): number {
  return (
    localeOrder(a.at.file, b.at.file) ||
    (a.at.line ?? 0) - (b.at.line ?? 0) ||
    (a.at.col ?? 0) - (b.at.col ?? 0) ||
    localeOrder(a.kind, b.kind)
  );
}
