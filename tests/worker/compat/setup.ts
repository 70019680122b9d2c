// What every compatibility test shares: the real Worker (in this workerd) as a fetch, the seeded
// stories260k model, and an API key. Clients get nothing else: base URL, key and this fetch.
import { exports } from 'cloudflare:workers';
import { provisionKey } from '../billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';

export const BASE_URL = 'http://edge.test/v1';
export const MODEL = 'stories260k';

/** The Worker's own fetch handler, as the injectable `fetch` of any client. */
export const workerFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  (exports as unknown as { default: Fetcher }).default.fetch(new Request(input, init));

export const present = await sharedModelsPresent();
export const reason = skipReason(present);

/** Seeds the model and a funded key (the billing tests' own setup) and returns the key. */
export async function prepare(balance = '10'): Promise<string> {
  await seedStories260k();
  return (await provisionKey({ balance })).key;
}
