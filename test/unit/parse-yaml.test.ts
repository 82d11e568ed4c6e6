import { describe, expect, it } from 'vitest';
import { parseYamlFile } from '../../src/parse/parse-yaml.js';
import { validateService } from '../../src/validate/validate-config.js';

/** Parse and validate one service file; the problems as `line:col key: message`. */
async function problems(text: string): Promise<string[]> {
  const r = parseYamlFile('svc.yaml', text);
  if (!r.ok) return r.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
  const v = await validateService({ name: 'svc', parsed: r.parsed, sha256: 'x' }, undefined);
  return v.problems.map((p) => `${p.line}:${p.col} ${p.key}: ${p.message}`);
}

const RULE = 'rules:\n  - direction: in\n    proto: tcp\n    dport: 0b10110\n';

describe('one YAML parse: YAML 1.2 core schema, data and positions from the same parser', () => {
  it('refuses dport: 0b10110 (text in YAML 1.2, not a number) with and without "&" in a comment', async () => {
    const plain = await problems(RULE);
    const withAmpersand = await problems(`# R&D's web tier, see *notes*\n${RULE}`);
    expect(plain).toEqual(['4:12 rules[0].dport: "0b10110" is not a port (a number 1-65535 or a range "from:to")']);
    // Same problem, one line further down.
    expect(withAmpersand).toEqual(['5:12 rules[0].dport: "0b10110" is not a port (a number 1-65535 or a range "from:to")']);
  });

  it('reads numbers in the core schema forms only', () => {
    const data = (v: string) => {
      const r = parseYamlFile('x.yaml', `v: ${v}\n`);
      if (!r.ok) throw new Error(r.problems[0]!.message);
      return (r.parsed.data as { v: unknown }).v;
    };
    expect(data('22')).toBe(22);
    expect(data('0o26')).toBe(22);
    expect(data('0x16')).toBe(22);
    expect(data('022')).toBe(22); // decimal in YAML 1.2, not octal
    expect(data('0b10110')).toBe('0b10110');
    expect(data('2_2')).toBe('2_2');
    expect(data('1e3')).toBe(1000);
    expect(data('yes')).toBe('yes');
    expect(data('True')).toBe(true);
    expect(data('~')).toBe(null);
  });

  it('treats "<<" as an ordinary key (no merge keys in the core schema)', async () => {
    const text = 'base: &b { direction: in }\nrules:\n  - <<: *b\n    proto: tcp\n';
    expect(await problems(text)).toContain('1:1 base: unknown key (known keys: description, rules)');
    expect((await problems(text)).some((p) => p.startsWith('3:5 rules[0]["<<"]: unknown key'))).toBe(true);
  });

  it('gives a file with anchors and aliases the same data as the same file written out', () => {
    const anchored = [
      'rules:',
      '  - direction: in',
      '    proto: tcp',
      '    dport: &web [80, 443]',
      '    source: &office ["192.0.2.0/24", "2001:db8::/48"]',
      '  - direction: in',
      '    proto: udp',
      '    dport: *web',
      '    source: *office',
      '',
    ].join('\n');
    const written = anchored
      .replace('&web ', '')
      .replace('&office ', '')
      .replace('*web', '[80, 443]')
      .replace('*office', '["192.0.2.0/24", "2001:db8::/48"]');
    const a = parseYamlFile('a.yaml', anchored);
    const b = parseYamlFile('b.yaml', written);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.parsed.data).toEqual(b.parsed.data);
    expect(a.parsed.positionOf(['rules', 1, 'proto'])).toEqual(b.parsed.positionOf(['rules', 1, 'proto']));
  });

  it('points at keys, values, list items, flow collections and empty values', () => {
    const text = [
      '# a comment',
      'description: web',
      'rules:',
      '  - direction: in',
      '    dport: [80, 443]',
      '    comment:',
      '  - {direction: out, proto: udp}',
      '',
    ].join('\n');
    const r = parseYamlFile('p.yaml', text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const at = (path: PropertyKey[], key = false) => r.parsed.positionOf(path, { key });
    expect(at(['description'])).toEqual({ line: 2, col: 14 });
    expect(at(['description'], true)).toEqual({ line: 2, col: 1 });
    expect(at(['rules', 0])).toEqual({ line: 4, col: 5 });
    expect(at(['rules', 0, 'dport'])).toEqual({ line: 5, col: 12 });
    expect(at(['rules', 0, 'dport', 1])).toEqual({ line: 5, col: 17 });
    // An empty value has no place of its own: its key.
    expect(at(['rules', 0, 'comment'])).toEqual({ line: 6, col: 5 });
    expect(at(['rules', 1, 'proto'])).toEqual({ line: 7, col: 29 });
    // A key that is not there: its nearest parent.
    expect(at(['rules', 1, 'action'])).toEqual({ line: 7, col: 5 });
  });

  it('refuses an alias bomb without expanding it, and unresolved aliases where they are', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const n of 'bcdefg')
      bomb.push(
        `${n}: &${n} [${Array(10)
          .fill(`*${String.fromCharCode(n.charCodeAt(0) - 1)}`)
          .join(', ')}]`,
      );
    const r = parseYamlFile('bomb.yaml', bomb.join('\n'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]!.message).toMatch(/^YAML error: Excessive alias count/);
    const u = parseYamlFile('u.yaml', 'rules:\n  - dport: *nowhere\n');
    expect(u.ok ? [] : u.problems).toEqual([
      { file: 'u.yaml', line: 2, col: 12, message: 'YAML error: Unresolved alias "nowhere" (no anchor &nowhere before it)' },
    ]);
  });

  it('places the paths below a prefix walked once exactly where positionOf places them', () => {
    const texts = [
      'rules:\n  - direction: in\n    dport: [80, 443]\n    comment:\n  - {direction: out, proto: udp, dport: 53}\n',
      'defaults: &d\n  direction: in\n  proto: tcp\nrules:\n  - *d\n  - <<: *d\n    dport: 22\n  -\n  - source: [10.0.0.0/8]\n',
      'r: &r\n  - dport: 1\nrules: *r\n',
      '# a comment\nrules:\n\n  # before\n  - ? dport\n    : 8080\n    source: &s 192.0.2.1\n    destination: *s\n',
      'rules: []\n',
      'rules:\n',
    ];
    const rests: PropertyKey[][] = [[]];
    for (let i = 0; i < 5; i++) {
      rests.push([i]);
      for (const k of ['direction', 'dport', 'source', 'destination', 'comment', 'missing', '<<']) rests.push([i, k], [i, k, 0]);
    }
    let compared = 0;
    for (const text of texts) {
      const r = parseYamlFile('x.yaml', text);
      if (!r.ok) throw new Error(`${text}: ${r.problems[0]!.message}`);
      for (const prefix of [[], ['rules'], ['r'], ['missing']] as PropertyKey[][]) {
        const below = r.parsed.below(prefix);
        for (const rest of rests)
          for (const key of [false, true]) {
            expect(below.positionOf(rest, { key }), `${JSON.stringify(text)} ${[...prefix, ...rest].join('.')} key=${key}`).toEqual(
              r.parsed.positionOf([...prefix, ...rest], { key }),
            );
            compared++;
          }
      }
    }
    expect(compared).toBe(texts.length * 4 * rests.length * 2);
  });
});
