// The prompt sets of bench/eplb.ts for a model with a real tokenizer: kinds of text that load a trained
// model's experts differently. The trained model (models/pystd-mla-moe) saw Python standard-library code
// only, so its routing was balanced on that (auxiliary-loss-free bias) and skews on anything else. Texts
// come from this machine (the held-out stdlib files train.py never trained on, Debian's licence texts) or are
// written here (Chinese: nothing on the machine has any); each set is cut into documents, one per
// sequence.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const STDLIB = '/usr/lib/python3.11';
/** English prose: Debian's licence texts (about 30K tokens together). */
const LICENCES = ['GPL-3', 'GFDL-1.3', 'Apache-2.0', 'MPL-2.0', 'LGPL-2.1'].map(
  (f) => `/usr/share/common-licenses/${f}`,
);

export const PROMPT_SETS = ['code', 'comments', 'numeric', 'english', 'chinese'] as const;
export type PromptSet = (typeof PROMPT_SETS)[number];

/** tools/train/corpus.ts holds out every 10th file by name: the model never trained on these. */
function heldOutSources(): string[] {
  if (!existsSync(STDLIB)) throw new Error(`${STDLIB} is missing: the code prompt sets read it`);
  return readdirSync(STDLIB)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .filter((_, i) => i % 10 === 9)
    .map((f) => readFileSync(join(STDLIB, f), 'utf8'));
}

/** Comments and docstrings only: English about code, in code's layout. */
function commentsOf(src: string): string {
  const out: string[] = [];
  for (const m of src.matchAll(/("""|''')([\s\S]*?)\1|#[^\n]*/g)) out.push(m[2] ?? m[0]);
  return out.join('\n');
}

/** Lines that are mostly digits and operators (tables, constants, arithmetic tests). */
function numericOf(src: string): string {
  return src
    .split('\n')
    .filter((l) => {
      const t = l.replace(/\s/g, '');
      return t.length >= 8 && (t.match(/[0-9.eE+\-*/x]/g)?.length ?? 0) / t.length >= 0.4;
    })
    .join('\n');
}

/** Written here: plain modern Chinese on everyday subjects (the trained model's vocabulary has none). */
const CHINESE = `
今天早上下了一场大雨，街道上到处都是积水。我带着雨伞去学校，路上看见很多人在等公共汽车。
老师说我们下个星期要去博物馆参观，大家都很高兴。博物馆里有很多古代的文物，还有一些关于历史的展览。
我的家乡在南方的一个小城市，那里有山有水，风景非常美丽。每年春天，山上开满了各种各样的花。
我们学校的图书馆很大，里面有很多书。我最喜欢看历史书和科学书，因为它们能让我了解世界。
中国有五千多年的历史，有很多著名的诗人和作家。李白和杜甫是唐朝最有名的诗人，他们写了很多好诗。
周末的时候，我常常和朋友一起去公园散步，或者在家里做饭。我会做很多家常菜，比如西红柿炒鸡蛋。
科学家们正在研究新的能源，希望将来能够减少污染，保护我们的环境。太阳能和风能都是清洁的能源。
这个城市的交通越来越方便了，地铁可以到达很多地方。但是上下班的时候，地铁里的人还是非常多。
我的爷爷今年八十岁了，他每天早上都去公园打太极拳。他说运动可以让人保持健康，心情也会变好。
秋天到了，树叶慢慢变黄，天气也变得凉快起来。农民们忙着收割庄稼，脸上露出了丰收的笑容。
学习一门外语需要很多时间和耐心。每天坚持读书、听录音、和别人练习说话，慢慢就会进步。
晚上，我们一家人坐在一起吃饭，聊一聊今天发生的事情。这是我一天中最快乐的时候。
`;

/** The raw text of a set (long enough for several documents). */
export function setText(set: PromptSet): string {
  switch (set) {
    case 'code':
      return heldOutSources().join('\n');
    case 'comments':
      return heldOutSources().map(commentsOf).join('\n');
    case 'numeric':
      return readdirSync(STDLIB)
        .filter((f) => f.endsWith('.py'))
        .map((f) => numericOf(readFileSync(join(STDLIB, f), 'utf8')))
        .join('\n');
    case 'english':
      return LICENCES.map((f) => readFileSync(f, 'utf8')).join('\n');
    case 'chinese':
      return CHINESE.repeat(8);
  }
}

/**
 * Document `index` of window `window` (of `windows`): `tokens` token ids from an evenly spread place in the
 * set's text, windows interleaved (document i of window w starts at (i · windows + w) · stride), so every
 * window samples the whole text and no two documents overlap while the text lasts.
 */
export function promptDocs(
  ids: readonly number[],
  perWindow: number,
  tokens: number,
  window: number,
  windows: number,
): number[][] {
  if (ids.length < tokens) throw new Error(`only ${ids.length} tokens`);
  const stride = Math.floor((ids.length - tokens) / (perWindow * windows));
  return Array.from({ length: perWindow }, (_, i) => {
    const at = (i * windows + window) * stride;
    return ids.slice(at, at + tokens);
  });
}
