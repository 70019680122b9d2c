// What an origin or edge bench runs: a synthetic preset (`small`, `small-mtp`: random weights, generated
// in memory) or a model directory (`models/pystd-mla-moe`). For a trained directory the prompts are code
// from the files its training held out (manifest.json: corpus.source's folder, corpus.heldoutFiles), so
// MTP acceptance is measured on text like the training data but unseen by it; random weights accept the
// same whatever the prompt, and keep the benches' short fixed prompts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SYNTHETIC_PRESETS } from '../origin/model/presets';

export interface BenchModel {
  /** The origin's --model argument. */
  arg: string;
  /** The id the origin serves it under. */
  id: string;
  description: string;
  /** The prompt of stream i. */
  prompt(i: number): string;
}

export const isModelDir = (spec: string) => existsSync(spec) && statSync(spec).isDirectory();

export function benchModel(spec: string): BenchModel {
  if (!isModelDir(spec))
    return {
      arg: `synthetic:${spec}`,
      id: `synthetic-${spec}`,
      description: SYNTHETIC_PRESETS[spec]?.description ?? spec,
      prompt: (i) => `Stream ${i}:`,
    };
  const dir = resolve(spec);
  const snippets = heldoutSnippets(dir, 16);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const shape = `hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.n_routed_experts} experts, vocab ${c.vocab_size}, ${c.num_nextn_predict_layers ?? 0} MTP layer(s)`;
  return {
    arg: dir,
    id: basename(dir),
    description: `${spec} (${shape}); prompts: ${snippets ? `${snippets.length} held-out code snippets` : 'fixed'}`,
    prompt: (i) => (snippets ? snippets[i % snippets.length] : `Stream ${i}:`),
  };
}

/**
 * n snippets of ~`chars` characters, starting at line starts spread through the held-out files the
 * directory's manifest.json names; null when it names none or they are not on this machine.
 */
export function heldoutSnippets(dir: string, n: number, chars = 240): string[] | null {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  const corpus = (JSON.parse(readFileSync(path, 'utf8')) as { corpus?: Record<string, unknown> })
    .corpus;
  const files = corpus?.heldoutFiles;
  if (!Array.isArray(files) || typeof corpus?.source !== 'string') return null;
  const folder = dirname(corpus.source);
  const texts = files.map((f) => join(folder, String(f))).filter(existsSync);
  if (!texts.length) return null;
  return Array.from({ length: n }, (_, i) => {
    const text = readFileSync(texts[i % texts.length], 'utf8');
    const at = Math.floor(((0.5 + i * 0.618) % 1) * Math.max(0, text.length - chars));
    const start = text.indexOf('\n', at) + 1;
    return text.slice(start, start + chars);
  });
}
