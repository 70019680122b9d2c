// client.models — GET /v1/models and /v1/models/{id}.
import type { EdgeInference, RequestOptions } from '../client';
import type { APIPromise } from '../core/api-promise';
import type { Model, ModelList } from '../types';

export class Models {
  constructor(private readonly client: EdgeInference) {}

  list(options?: RequestOptions): APIPromise<ModelList> {
    return this.client.request({ method: 'GET', path: '/models' }, options);
  }

  retrieve(model: string, options?: RequestOptions): APIPromise<Model> {
    return this.client.request(
      { method: 'GET', path: `/models/${encodeURIComponent(model)}` },
      options,
    );
  }
}
