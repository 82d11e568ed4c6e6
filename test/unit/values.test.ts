import { createRequire } from 'node:module';
import fc from 'fast-check';
import type IpAddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ValueError, parseAbsolutePath, parseAddress, parseLimit, parseSchedule, show } from '../../src/validate/values.js';

const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValueError) return e.message;
    throw e;
  }
  throw new Error('accepted');
};

describe('cron schedules are checked field by field, as cron reads them (issue 19.5)', () => {
  it.each([
    '*/15 * * * *',
    '0 3 * * 1-5',
    '5,35 */2 * * *',
    '0 0 31 12 7',
    '0 3 * jan-mar mon-fri',
    '0-30/5 * 1-31/2 * *',
    '@reboot',
    '@hourly',
    '@midnight',
    '59 23 31 DEC SAT',
  ])('takes %s', (s) => expect(parseSchedule(s)).toBe(s));
  it.each([
    ['99 99 99 99 99', 'minute field "99": 99 is out of range 0-59'],
    ['*/0 * * * *', 'minute field "*/0": step 0 is out of range 1-60'],
    ['0 24 * * *', 'hour field "24": 24 is out of range 0-23'],
    ['0 0 0 * *', 'day of month field "0": 0 is out of range 1-31'],
    ['0 0 * 13 *', 'month field "13": 13 is out of range 1-12'],
    ['0 0 * * 8', 'day of week field "8": 8 is out of range 0-7'],
    ['0 0 * * fry', 'day of week field "fry": "fry" is not a number or a name'],
    ['30-10 * * * *', 'minute field "30-10": range 30-10 runs backwards'],
    ['5/10 * * * *', 'a step needs * or a range before it'],
    ['* * * *', 'it has 4 fields, cron takes five'],
    ['1,,2 * * * *', 'minute field "1,,2": "" is not *, N or N-M'],
    ['@weekdays', 'it has 1 field'],
  ])('refuses %s', (s, message) => expect(refusal(() => parseSchedule(s))).toContain(message));
});

describe("limits stay in xt_limit's range (issue 19.11): iptables says Rate too fast above 10000/s", () => {
  it.each([
    ['10000/s', '10000/second'],
    ['600000/min', '600000/minute'],
    ['36000000/hour', '36000000/hour'],
    ['1/day', '1/day'],
  ])('takes %s', (v, want) => expect(parseLimit(v)).toBe(want));
  it.each([
    ['10001/s', 'at most 10000/second'],
    ['999999/s', 'at most 10000/second'],
    ['600001/m', 'at most 600000/minute'],
    ['864000001/d', 'at most 864000000/day'],
  ])('refuses %s', (v, message) => expect(refusal(() => parseLimit(v))).toContain(message));
});

describe('IPv6 forms that carry an IPv4 address are refused, each the same way (issue 19.13, 19.14)', () => {
  it.each([
    ['::1.2.3.0/120', 'IPv4-compatible IPv6 network; write the IPv4 network (1.2.3.0/24)'],
    ['::1.2.3.4', 'IPv4-compatible IPv6 address; write the IPv4 address (1.2.3.4)'],
    ['::102:300/120', 'IPv4-compatible IPv6 network; write the IPv4 network (1.2.3.0/24)'],
    ['::ffff:1.2.3.0/120', 'IPv4-mapped IPv6 network; write the IPv4 network (1.2.3.0/24)'],
    ['::ffff:1.2.3.4', 'IPv4-mapped IPv6 address; write the IPv4 address (1.2.3.4)'],
    ['::ffff:102:304', 'IPv4-mapped IPv6 address'],
    ['0:0:0:0:0:ffff:1.2.3.4', 'IPv4-mapped IPv6 address'],
  ])('refuses %s', (a, message) => expect(refusal(() => parseAddress(a))).toContain(message));
  it.each([
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
    ['64:ff9b::1.2.3.0/120', '64:ff9b::102:300/120'],
    ['::1', '::1'],
    ['::', '::'],
    ['::/0', '::/0'],
    ['2001:db8::/32', '2001:db8::/32'],
  ])('renders %s as the network written (%s)', (a, text) => expect(parseAddress(a).text).toBe(text));
});

describe('messages quote at most 80 characters of a value (issue 19.14)', () => {
  it('cuts a long value and says how long it was', () => {
    expect(show('a'.repeat(5000))).toBe(`"${'a'.repeat(79)}… (5002 characters)`);
    expect(show('short')).toBe('"short"');
  });
  it('refuses an install_dir no file system takes, quoting only its start', () => {
    const message = refusal(() => parseAbsolutePath('/' + 'a'.repeat(5000)));
    expect(message.length).toBeLessThan(200);
    expect(message).toContain('(5003 characters) is too long for a path');
    expect(refusal(() => parseAbsolutePath('/opt/' + 'b'.repeat(256)))).toContain('longer than a file name can be (255 characters)');
  });
});

describe('plain IPv4 addresses and networks are read without ipaddr.js, with the same result', () => {
  // The reference: ipaddr.js, as parseAddress used it for every address before.
  const reference = (text: string): { family: number; text: string; any: boolean } | 'refused' => {
    const [addr = '', bits] = text.split('/');
    const octets = addr.split('.');
    if (octets.some((o) => o.length > 1 && o.startsWith('0'))) return 'refused';
    if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) return 'refused';
    if (bits === undefined) return { family: 4, text: ipaddr.IPv4.parse(addr).toString(), any: false };
    if (!/^\d+$/.test(bits) || Number(bits) > 32) return 'refused';
    const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
    if (network !== ipaddr.IPv4.parse(addr).toString()) return 'refused';
    return { family: 4, text: bits === '32' ? network : `${network}/${Number(bits)}`, any: bits === '0' || Number(bits) === 0 };
  };
  const octet = fc.oneof(
    fc.integer({ min: 0, max: 255 }).map(String),
    fc.integer({ min: 256, max: 999 }).map(String),
    fc.constantFrom('00', '01', '007'),
  );
  const prefix = fc.oneof(
    fc.constant(''),
    fc.integer({ min: 0, max: 40 }).map((n) => `/${n}`),
    fc.constantFrom('/00', '/08'),
  );
  it('gives what ipaddr.js gave, or refuses what it refused', () => {
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), prefix, (o, p) => {
        const text = o.join('.') + p;
        const want = reference(text);
        let got: ReturnType<typeof reference>;
        try {
          const a = parseAddress(text);
          got = { family: a.family, text: a.text, any: a.any };
        } catch (e) {
          if (!(e instanceof ValueError)) throw e;
          got = 'refused';
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });
});
