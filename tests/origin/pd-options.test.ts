// --role and its companions (origin/options.ts): what a prefill or decode origin needs, refused readably.
import { beforeEach, describe, expect, it } from 'vitest';
import { parseOriginArgs } from '../../origin/options';

const m = ['--model', 'synthetic:tiny'];

describe('origin --role', () => {
  beforeEach(() => {
    delete process.env.ORIGIN_INTERNAL_SECRET; // the flag's fallback: these cases name it or mean its absence
  });
  it('defaults to both, with no internal endpoint and no prefill origins', () => {
    expect(parseOriginArgs(m)).toMatchObject({
      role: 'both',
      prefillOrigins: [],
      handoffMinTokens: 64,
    });
    expect(parseOriginArgs(m).internalSecret).toBeUndefined();
  });
  it('takes a decode origin with its secret and prefill origins (trailing slashes dropped)', () => {
    const o = parseOriginArgs([
      ...m,
      ...['--role', 'decode', '--internal-secret', 's3'],
      ...['--prefill-origins', 'http://a:1/, http://b:2', '--handoff-min-tokens', '0'],
    ]);
    expect(o).toMatchObject({
      role: 'decode',
      internalSecret: 's3',
      prefillOrigins: ['http://a:1', 'http://b:2'],
      handoffMinTokens: 0,
    });
  });
  it('refuses a role without what it needs, and bad values', () => {
    expect(() => parseOriginArgs([...m, '--role', 'prefill'])).toThrow(/needs --internal-secret/);
    expect(() => parseOriginArgs([...m, '--role', 'decode', '--internal-secret', 's'])).toThrow(
      /needs --prefill-origins/,
    );
    expect(() => parseOriginArgs([...m, '--role', 'edge'])).toThrow(/prefill, decode or both/);
    expect(() =>
      parseOriginArgs([
        ...m,
        '--role',
        'decode',
        '--internal-secret',
        's',
        '--prefill-origins',
        'ftp://x',
      ]),
    ).toThrow(/not an http/);
  });
});
