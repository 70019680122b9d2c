// client.usage — GET /v1/usage: this key's tokens and costs by day and model.
import type { EdgeInference, RequestOptions } from '../client';
import type { APIPromise } from '../core/api-promise';
import type { UsageQuery, UsageReport } from '../types';

export class UsageResource {
  constructor(private readonly client: EdgeInference) {}

  retrieve(query: UsageQuery = {}, options?: RequestOptions): APIPromise<UsageReport> {
    return this.client.request({ method: 'GET', path: '/usage', query: { ...query } }, options);
  }
}
