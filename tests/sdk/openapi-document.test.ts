// The OpenAPI document the SDK and the official clients are held to (routes/openapi.ts) is a valid
// OpenAPI 3.1 document by the specification's own schema, and names every wire schema once.
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../routes/openapi';

it('validates against the OpenAPI 3.1 schema', async () => {
  const doc = buildOpenApiDocument();
  const result = await new Validator().validate(structuredClone(doc));
  expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).toEqual([]);
  expect(result.valid).toBe(true);
});

it('has the request and response components, free of standalone-schema keywords', () => {
  const { components } = buildOpenApiDocument();
  for (const id of [
    'CreateChatCompletionRequest',
    'CreateCompletionRequest',
    'ChatCompletion',
    'ChatCompletionChunk',
    'Completion',
    'Usage',
    'Cost',
    'Error',
    'UsageReport',
    'Balance',
  ]) {
    expect(components.schemas).toHaveProperty(id);
  }
  expect(JSON.stringify(components)).not.toMatch(/"\$schema"|"\$id"/);
});
