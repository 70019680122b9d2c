// The manifest that describes an edge model stored in R2 under `<id>/model.json`.
import { z } from 'zod';

export const edgeManifest = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'model id: letters, digits, . _ : -'),
  format: z.literal('llama2c'),
  /** File names relative to the model's folder. */
  checkpoint: z.string().min(1),
  tokenizer: z.string().min(1),
  created: z.number().int(),
  owned_by: z.string().default('edge-inference'),
  description: z.string().optional(),
  /** A Jinja chat template; absent means the documented plain template. */
  chat_template: z.string().nullish(),
});
export type EdgeManifest = z.infer<typeof edgeManifest>;

export const manifestKey = (id: string) => `${id}/model.json`;
