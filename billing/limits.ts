// Per-key limits: requests per minute, tokens per minute (prompt + max_tokens, settled to the
// tokens actually used), and requests in flight at once.
import { z } from 'zod';

export interface KeyLimits {
  rpm: number;
  tpm: number;
  maxConcurrency: number;
}

/** What a new key gets unless its creator says otherwise. */
export const DEFAULT_LIMITS: KeyLimits = { rpm: 60, tpm: 200_000, maxConcurrency: 4 };

export const keyLimitsInput = z.strictObject({
  rpm: z.number().int().min(1).max(1_000_000).optional(),
  tpm: z.number().int().min(1).max(1_000_000_000).optional(),
  max_concurrency: z.number().int().min(1).max(10_000).optional(),
});
