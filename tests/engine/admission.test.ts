// Bounded admission (engine/admission.ts): capacity + queue, places held until started or withdrawn.
import { describe, expect, it } from 'vitest';
import { Admission } from '../../engine/admission';

function pool(capacity: number) {
  return { inUse: 0, waiting: 0, capacity };
}

describe('Admission', () => {
  it('admits capacity + maxQueue requests in one moment, then refuses with a reason and a retry time', () => {
    const admission = new Admission('m', pool(2), 3);
    for (let i = 0; i < 5; i++) expect(admission.admit()).toBeNull();
    const refusal = admission.admit();
    expect(refusal?.reason).toBe('model m is serving 0 requests with 5 waiting');
    expect(refusal?.retryAfterMs).toBeGreaterThan(0);
  });

  it('a withdrawn request (refused by billing, a replay) frees its place at once', () => {
    const admission = new Admission('m', pool(1), 1);
    expect(admission.admit()).toBeNull();
    expect(admission.admit()).toBeNull();
    expect(admission.admit()).not.toBeNull();
    admission.withdrawn();
    expect(admission.admit()).toBeNull();
    expect(admission.admit()).not.toBeNull();
  });

  it('a started request passes its place to the pool it now occupies', () => {
    const p = pool(1);
    const admission = new Admission('m', p, 0);
    expect(admission.admit()).toBeNull();
    admission.started();
    p.inUse = 1;
    expect(admission.admit()?.reason).toBe('model m is serving 1 requests with 0 waiting');
  });
});
