// Prefill/decode separation at dispatch (docs/origin.md, "Roles"): a pool with decode origins sends
// each request to one of them (health, prefix affinity, load, as any pool's origins), with its
// colocated `origins` after them for failover, and names in `x-prefill-origin` the prefill origin the
// prompt's prefix hashes to, which the decode origin pulls the prompt's rows from. The client's stream
// is the decode origin's alone, so a request is relayed and billed once whichever prefill origin served
// it, and a dead prefill origin costs a retry inside the decode origin, not a second answer.
import type { Dispatcher } from './dispatcher';
import type { Choice } from './policy';
import type { OriginPool } from './registry';

export interface RoleChoice {
  choice: Choice;
  /** Headers for the chosen origin: `x-prefill-origin` when a prefill origin is up. */
  headers: Record<string, string>;
}

export function chooseWithRoles(
  d: Dispatcher,
  pool: OriginPool,
  prompt: string,
  probe: { waitUntil(p: Promise<unknown>): void; secret?: string },
): RoleChoice {
  if (pool.decode.length === 0) return { choice: d.choose(pool, prompt, probe), headers: {} };
  const decode = d.choose({ ...pool, origins: pool.decode }, prompt, probe);
  const colocated = d.choose(pool, prompt, probe);
  const order = [...(decode.ok ? decode.order : []), ...(colocated.ok ? colocated.order : [])];
  const choice: Choice = order.length > 0 ? { ok: true, order } : decode;
  if (pool.prefill.length === 0 || !decode.ok) return { choice, headers: {} };
  const prefill = d.choose({ ...pool, origins: pool.prefill }, prompt, probe);
  return {
    choice,
    headers: prefill.ok ? { 'x-prefill-origin': prefill.order[0].url } : {},
  };
}
