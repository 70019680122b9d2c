// stories260K goldens from llama2.c run.c: exact token ids and stdout text, on every backend.
import { describe, expect, it } from 'vitest';
import { BOS_ID, LlamaModel, runcPrintable } from '../../../engine/index';
import { backends, loadStories, type GoldenCase } from '../helpers';

const stories = loadStories();

/** run.c's loop on our engine: ids (BOS + every printed token), stdout text, engine text. */
async function runLikeRunc(model: LlamaModel, c: GoldenCase) {
  const promptIds = model.tokenizer.encode(c.prompt, { bos: true, eos: false });
  const gen = model.generate(promptIds, {
    maxTokens: c.steps - (promptIds.length - 1),
    temperature: c.temperature,
    topP: c.topp,
    seed: c.seed,
    stopAtEos: false,
  });
  const ids = [...promptIds];
  let completion = '';
  for await (const token of gen) {
    if (token.id === BOS_ID) break; // run.c stops on BOS
    ids.push(token.id);
    completion += token.text;
  }
  const printed = ids
    .slice(1)
    .map((id, i) => runcPrintable(model.tokenizer.decodePiece(ids[i], id)));
  const stdout = new TextDecoder().decode(Buffer.concat([...printed, new Uint8Array([0x0a])]));
  return { promptIds, ids, stdout, completion };
}

describe.skipIf(!stories)('stories260K goldens', () => {
  for (const [name, create] of backends) {
    describe(`${name} backend`, () => {
      for (const c of stories!.cases) {
        const label = `${JSON.stringify(c.prompt)} t=${c.temperature}${c.seed === undefined ? '' : ` seed=${c.seed}`} steps=${c.steps}`;
        it(label, async () => {
          const model = LlamaModel.fromLlama2c(
            await create(),
            stories!.checkpoint,
            stories!.tokenizer,
          );
          const run = await runLikeRunc(model, c);
          expect(run.promptIds).toEqual(c.prompt_token_ids);
          expect(run.ids).toEqual(c.token_ids);
          expect(run.stdout).toBe(c.output_text);
          // the streamed completion is the stdout after the prompt's text, without run.c's newline
          expect(c.output_text.endsWith(run.completion + '\n')).toBe(true);
          expect(run.completion.length).toBeGreaterThan(100);
        });
      }
    });
  }
});
