// The Worker bench/cold-start.ts runs in a fresh workerd per request: each path does the cold start
// of an edge model up to one phase (R2 get → bytes in JS → parse → copy into WASM memory → the full
// load → prefill and first token), from `model.safetensors` (?from=safetensors, converted on the
// way; ?from=legacy: read in R2's own small chunks, as before engine/formats/chunks.ts) or
// `model.edge` (?from=native, copied into place). Times are taken outside, in Node: workerd's
// clock moves only on I/O; a phase is the difference between two paths' times.
import kernels from '../kernels-wasm/build/kernels.wasm';
import { hfManifest } from '../dispatch/edge-manifest';
import { loadHfEdgeModel } from '../dispatch/edge-hf';
import { WORKER_RELAXED, createWasmKernels } from '../kernels-wasm/index';
import { copySink } from '../engine/formats/device-sinks';
import { decodeNativeHead, NativeFormatError } from '../engine/formats/edge-native';
import { dtypeBytes } from '../engine/formats/safetensors';
import { chunksOf, type ChunkSource } from '../engine/formats/chunks';
import { streamSafetensors, type TensorSink } from '../engine/formats/safetensors-stream';
import { parseHfConfig } from '../engine/formats/hf-config';
import { loadNativeWeights } from '../engine/llama/native-weights';

interface Env {
  MODELS: R2Bucket;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

async function body(bucket: R2Bucket, key: string): Promise<R2ObjectBody> {
  const o = await bucket.get(key);
  if (!o) throw new Error(`${key} is not in R2`);
  return o;
}

/** The reading before engine/formats/chunks.ts (the "before" column): the default reader, R2's own chunks. */
async function* defaultChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The bucket whose bodies are read as before (an async iterable is read as it yields). */
function smallChunks(bucket: R2Bucket): R2Bucket {
  const get = async (key: string) => {
    const o = await bucket.get(key);
    if (!o) return null;
    return {
      body: defaultChunks(o.body),
      etag: o.etag,
      json: () => o.json(),
      arrayBuffer: () => o.arrayBuffer(),
    };
  };
  return { get, head: (key: string) => bucket.head(key) } as unknown as R2Bucket;
}

/** The bucket, noting every key asked for: the bench checks which weight file a load really read. */
function noting(bucket: R2Bucket, keys: string[]): R2Bucket {
  const get = (key: string) => (keys.push(key), bucket.get(key));
  return { get, head: (key: string) => bucket.head(key) } as unknown as R2Bucket;
}

/** Streams the weights file through its parser only: nothing is placed. */
async function parseOnly(stream: ChunkSource, native: boolean): Promise<number> {
  if (!native) return (await streamSafetensors(stream, () => new Map())).length;
  let head: Uint8Array = new Uint8Array(0);
  let tensors = -1;
  for await (const chunk of chunksOf(stream)) {
    if (tensors >= 0) continue;
    const grown = new Uint8Array(head.length + chunk.length);
    grown.set(head);
    grown.set(chunk, head.length);
    head = grown;
    const decoded = decodeNativeHead(head);
    if (decoded) tensors = decoded.header.tensors.length;
  }
  if (tensors < 0) throw new NativeFormatError('no header', 'header');
  return tensors;
}

/** safetensors: every tensor copied as it lies (no RoPE rows moved, nothing widened): the copy alone. */
async function copyOnly(bucket: R2Bucket, id: string, native: boolean): Promise<number> {
  const k = await createWasmKernels(kernels, WORKER_RELAXED);
  if (native) {
    const config = parseHfConfig(await (await body(bucket, `${id}/config.json`)).json());
    await loadNativeWeights(k, config, (await body(bucket, `${id}/model.edge`)).body);
    return k.bytesUsed;
  }
  await streamSafetensors((await body(bucket, `${id}/model.safetensors`)).body, (entries) => {
    const sinks = new Map<string, TensorSink>();
    for (const e of entries) {
      const bytes = numel(e.shape) * dtypeBytes(e.dtype);
      sinks.set(e.name, copySink(k, k.alloc(Math.ceil(bytes / 4)), bytes));
    }
    return sinks;
  });
  return k.bytesUsed;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get('model')!;
    const from = url.searchParams.get('from');
    const native = from === 'native';
    const bucket = from === 'legacy' ? smallChunks(env.MODELS) : env.MODELS;
    const file = `${id}/${native ? 'model.edge' : 'model.safetensors'}`;
    const stage = url.pathname.slice(1);
    if (stage === 'noop') return Response.json({});
    if (stage === 'get') {
      await (await body(env.MODELS, file)).body.cancel();
      return Response.json({});
    }
    if (stage === 'read') {
      let bytes = 0;
      let chunks = 0;
      for await (const chunk of chunksOf((await body(bucket, file)).body)) {
        bytes += chunk.length;
        chunks++;
      }
      return Response.json({ bytes, chunks });
    }
    if (stage === 'parse')
      return Response.json({ tensors: await parseOnly((await body(bucket, file)).body, native) });
    if (stage === 'copy') return Response.json({ wasmBytes: await copyOnly(bucket, id, native) });
    const manifest = hfManifest.parse(await (await body(bucket, `${id}/model.json`)).json());
    const k = await createWasmKernels(kernels, WORKER_RELAXED);
    const keys: string[] = [];
    const model = await loadHfEdgeModel(
      noting(bucket, keys),
      {
        ...manifest,
        native: native ? 'model.edge' : null,
      },
      k,
    );
    if (stage === 'load') return Response.json({ wasmBytes: k.bytesUsed, keys });
    const promptTokens = Number(url.searchParams.get('prompt') ?? 16);
    const prompt = Array.from({ length: promptTokens }, (_, i) => (i === 0 ? 1 : 300 + i * 97));
    const ids: number[] = [];
    for await (const t of model.engine.generate(prompt, {
      maxTokens: 1,
      temperature: 0,
      topP: 1,
      stopAtEos: false,
    }))
      ids.push(t.id);
    return Response.json({ ids, wasmBytes: k.bytesUsed, keys });
  },
};
