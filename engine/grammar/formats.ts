// Grammar room: string `format`s as anchored regexes over JSON string content. Each accepts a
// subset of the format that validators (RFC 3339, RFC 4122, RFC 5321 as @cfworker/json-schema
// checks them) accept: real calendar dates (leap years included), times with a required offset,
// lowercase UUIDs, plain dot-atom emails with bounded label lengths.
import { compileRegex } from './regex';
import { GrammarError } from './errors';
import type { Node } from './ir';

const MONTH_DAY =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';
const LEAP_YEAR = '(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
const DATE = `(?:\\d{4}-${MONTH_DAY}|${LEAP_YEAR}-02-29)`;
const TIME =
  '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,6})?(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';
const HEX = '[0-9a-f]';
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?';

export const FORMATS: Record<string, string> = {
  date: `^${DATE}$`,
  time: `^${TIME}$`,
  'date-time': `^${DATE}T${TIME}$`,
  uuid: `^${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}$`,
  email: `^[a-zA-Z0-9_+-]{1,20}(?:\\.[a-zA-Z0-9_+-]{1,20}){0,2}@(?:${LABEL}\\.){1,3}[a-z]{2,8}$`,
};

export function formatGrammar(format: string, path: string): Node {
  const re = FORMATS[format];
  if (re === undefined)
    throw new GrammarError(
      `unsupported format "${format}" (supported: ${Object.keys(FORMATS).join(', ')})`,
      'format',
      path,
    );
  return compileRegex(re, path);
}
