// Money never passes through a float: decimal text in, integers, decimal text out.
import { describe, expect, it } from 'vitest';
import { formatAmount, parseAmount, parseDecimal } from '../../billing/money';

describe('money', () => {
  it('parses decimals exactly', () => {
    expect(parseAmount('0.1')).toBe(100_000_000);
    expect(parseAmount(0.1)).toBe(100_000_000);
    expect(parseAmount('10')).toBe(10_000_000_000);
    expect(parseAmount('0.000000001')).toBe(1);
    expect(parseDecimal(0.014, 6)).toBe(14_000);
    expect(parseDecimal('2.19', 6)).toBe(2_190_000);
    expect(parseDecimal(1e-6, 6)).toBe(1);
    expect(parseDecimal('1.500000', 6)).toBe(1_500_000);
  });

  it('refuses what it cannot hold exactly', () => {
    expect(() => parseAmount('0.0000000001')).toThrow(/more than 9 decimals/);
    expect(() => parseDecimal(1e-7, 6)).toThrow(/more than 6 decimals/);
    expect(() => parseAmount('-1')).toThrow();
    expect(() => parseAmount('1e3')).toThrow();
    expect(() => parseAmount(Number.NaN)).toThrow();
    expect(() => parseAmount('99999999999')).toThrow(/too large/);
  });

  it('formats exactly, trimming zeros to a minimum', () => {
    expect(formatAmount(5_250_000_000)).toBe('5.25');
    expect(formatAmount(10_000_000_000)).toBe('10.00');
    expect(formatAmount(11_900)).toBe('0.0000119');
    expect(formatAmount(1, 0)).toBe('0.000000001');
    expect(formatAmount(3_000_000_000, 0)).toBe('3');
    expect(formatAmount(-1_500_000_000)).toBe('-1.50');
    // 0.1 + 0.2 as integers: exactly 0.3
    expect(formatAmount(parseAmount('0.1') + parseAmount('0.2'))).toBe('0.30');
  });
});
