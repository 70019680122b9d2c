// The Worker bench/edge-models.ts runs in Miniflare (workerd) to measure memory (and bench/llama-cpp.ts,
// edge-deepseek.ts to time decode): it loads HF-layout models from R2 exactly as the edge registry does
// (dispatch/edge-hf.ts: weights streamed into WASM memory), each into its own kernels instance, then
// generates. Timing is done from outside: workerd's clock stands still while code runs. The host
// chooses which build its `kernels.wasm` is (bench/edge-models.ts startBenchWorker).
import kernels from '../kernels-wasm/build/kernels.wasm';
import { hfManifest } from '../dispatch/edge-manifest';
import { loadHfEdgeModel, type HfEdgeModel } from '../dispatch/edge-hf';
import { WORKER_RELAXED, createWasmKernels } from '../kernels-wasm/index';

interface Env {
  MODELS: R2Bucket;
}

/** The models loaded, by id. */
const loaded = new Map<
  string,
  { model: HfEdgeModel; backend: Awaited<ReturnType<typeof createWasmKernels>> }
>();

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const id = url.searchParams.get('model')!;
    if (url.pathname === '/load') {
      const manifest = hfManifest.parse(await (await env.MODELS.get(`${id}/model.json`))!.json());
      const backend = await createWasmKernels(kernels, WORKER_RELAXED);
      loaded.set(id, { model: await loadHfEdgeModel(env.MODELS, manifest, backend), backend });
      return Response.json({ wasmBytes: backend.bytesUsed });
    }
    if (url.pathname === '/noop') return new Response('ok');
    if (url.pathname === '/stream') {
      // control: stream the weights from R2 and drop them, to see what R2 reading alone costs
      const reader = (await env.MODELS.get(`${id}/model.safetensors`))!.body.getReader();
      let bytes = 0;
      for (let r = await reader.read(); !r.done; r = await reader.read())
        bytes += r.value.byteLength;
      return Response.json({ bytes });
    }
    if (!loaded.has(id)) return new Response('load first', { status: 409 });
    const { model, backend } = loaded.get(id)!;
    const promptTokens = Number(url.searchParams.get('prompt') ?? 16);
    const maxTokens = Number(url.searchParams.get('tokens') ?? 16);
    const V = model.engine.config.vocabSize;
    // ?text=...: a real prompt (a trained model's acceptance depends on it); ?ids=1,2,...: these token
    // ids (bench/llama-cpp.ts's prompts); else synthetic ids
    const text = url.searchParams.get('text');
    const ids = url.searchParams.get('ids');
    const prompt = text
      ? model.engine.tokenizer.encode(text)
      : ids
        ? ids.split(',').map(Number)
        : Array.from({ length: promptTokens }, (_, i) =>
            i === 0 ? 1 : (300 + ((i * 97) % 20000)) % V,
          );
    // ?spec=on|off: the DeepSeek engine's MTP speculative decoding (bench/edge-deepseek.ts)
    const engine = model.engine as { speculative?: boolean; spec?: object };
    const spec = url.searchParams.get('spec');
    if (spec && engine.speculative !== undefined) engine.speculative = spec === 'on';
    const out: number[] = [];
    for await (const t of model.engine.generate(prompt, {
      maxTokens,
      temperature: 0,
      topP: 1,
      stopAtEos: false,
    }))
      out.push(t.id);
    return Response.json({ ids: out, wasmBytes: backend.bytesUsed, spec: engine.spec });
  },
};
