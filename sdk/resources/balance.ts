// client.balance — DeepSeek's GET /user/balance, which lives at the API root beside /v1.
import type { EdgeInference, RequestOptions } from '../client';
import type { APIPromise } from '../core/api-promise';
import type { BalanceResponse } from '../types';

export class Balance {
  constructor(private readonly client: EdgeInference) {}

  retrieve(options?: RequestOptions): APIPromise<BalanceResponse> {
    return this.client.request({ method: 'GET', path: '/user/balance', root: true }, options);
  }
}
