// Validation errors that say what is wrong: the field (`param`), the limit, and what was sent,
// for the request schemas as the Worker and the origin use them.
import { describe, expect, it } from 'vitest';
import { chatCompletionRequest, completionRequest } from '../../protocol/requests';
import { describeIssue } from '../../protocol/zod-issue';

const user = [{ role: 'user', content: 'hi' }];
const chat = (extra: object) => {
  const body = { model: 'm', messages: user, ...extra };
  const parsed = chatCompletionRequest.safeParse(body);
  if (parsed.success) throw new Error(`accepted ${JSON.stringify(extra)}`);
  return describeIssue(parsed.error, body);
};

describe('describeIssue', () => {
  it('an image part on a text-only API names the part, the supported type and what was sent', () => {
    const image = { type: 'image_url', image_url: { url: 'https://x/cat.png' } };
    const got = chat({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, image] }],
    });
    expect(got.param).toBe('messages.0.content.1.type');
    expect(got.message).toContain("only 'text' content parts are supported");
    expect(got.message).toContain("got 'image_url'");
  });

  it('17 stop strings: the limit and the count, not "Invalid input"', () => {
    const got = chat({ stop: Array.from({ length: 17 }, (_, i) => `s${i}`) });
    expect(got).toEqual({
      param: 'stop',
      message: "Invalid value for 'stop': at most 16 items, got 17.",
    });
  });

  it('numbers, types, enums and unions each say the bound or the expected type', () => {
    expect(chat({ temperature: 3 }).message).toBe(
      "Invalid value for 'temperature': at most 2, got 3.",
    );
    expect(chat({ top_p: -0.5 }).message).toBe("Invalid value for 'top_p': at least 0, got -0.5.");
    expect(chat({ max_tokens: 'ten' }).message).toBe(
      "Invalid value for 'max_tokens': expected number, got string.",
    );
    expect(chat({ stop: 5 }).message).toBe(
      "Invalid value for 'stop': expected string or array, got number.",
    );
    expect(chat({ stop: ['ok', 7] })).toMatchObject({ param: 'stop.1' });
    expect(chat({ messages: [{ role: 'wizard', content: 'x' }] }).message).toContain(
      "got 'wizard'",
    );
    expect(chat({ messages: undefined }).message).toBe(
      "Invalid value for 'messages': this field is required.",
    );
    // JSON's 1e400 parses to Infinity: a number, but not one that fits
    expect(chat({ max_tokens: Infinity }).message).toBe(
      "Invalid value for 'max_tokens': expected number, got Infinity.",
    );
    expect(chat({ temperature: -Infinity }).message).toBe(
      "Invalid value for 'temperature': expected number, got -Infinity.",
    );
  });

  it("a schema's own message is kept", () => {
    expect(chat({ messages: [] }).message).toBe(
      "Invalid value for 'messages': messages must contain at least one message.",
    );
    // one period at the end, whether or not the schema's own message has one
    expect(chat({ messages: [{ role: 'user', content: '' }] }).message).toBe(
      "Invalid value for 'messages.0.content': messages must contain some text: every message is empty.",
    );
    const body = { model: 'm', prompt: ['a', 'b'] };
    const parsed = completionRequest.safeParse(body);
    expect(describeIssue(parsed.error!, body)).toEqual({
      param: 'prompt',
      message: "Invalid value for 'prompt': only one prompt per request is supported.",
    });
  });

  it('prefix only on the last message, an assistant one', () => {
    const prefixed = (role: string) => ({ role, content: 'x', prefix: true });
    expect(chat({ messages: [...user, prefixed('user')] })).toMatchObject({
      param: 'messages.1.prefix',
    });
    expect(chat({ messages: [prefixed('assistant'), ...user] }).message).toContain(
      'only on the last message',
    );
    const ok = chatCompletionRequest.safeParse({
      model: 'm',
      messages: [...user, prefixed('assistant')],
    });
    expect(ok.success && ok.data.messages[1].prefix).toBe(true);
  });
});
