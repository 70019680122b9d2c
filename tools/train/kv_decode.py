# tools/train: greedy decoding with a key/value cache over model.py's own modules. The training model
# recomputes every position each step (64 prompts × 128 tokens that way is over a teraflop: an hour on
# 2 cores); this runs the same weights through the same operations as Mla.forward and Block.forward,
# one new position per step, attending over the cached keys and values.
import torch

from model import apply_rope, rope_tables


def attend(m, x, cos, sin, cache):
    """Mla.forward for the t new positions of x [B, t, h] (cos/sin theirs), after `cache` (k, v) or None."""
    B, t, _ = x.shape
    H, n, r, v = m.H, m.nope, m.rope, m.v
    q = m.q_b_proj(m.q_a_layernorm(m.q_a_proj(x))).view(B, t, H, n + r).transpose(1, 2)
    q = torch.cat((q[..., :n], apply_rope(q[..., n:], cos, sin)), -1)
    kva = m.kv_a_proj_with_mqa(x)
    k_pe = apply_rope(kva[..., m.C :], cos, sin)[:, None]  # [B, 1, t, r] shared by heads
    kv = m.kv_b_proj(m.kv_a_layernorm(kva[..., : m.C])).view(B, t, H, n + v).transpose(1, 2)
    k = torch.cat((kv[..., :n], k_pe.expand(B, H, t, r)), -1)
    val = kv[..., n:]
    if cache is not None:
        k, val = torch.cat((cache[0], k), 2), torch.cat((cache[1], val), 2)
    T = k.shape[2]
    att = (q @ k.transpose(-1, -2)) * m.scale
    mask = torch.ones(t, T, dtype=torch.bool).triu(T - t + 1)  # new query i sits at T - t + i
    att = att.masked_fill(mask, float("-inf")).softmax(-1)
    o = (att @ val).transpose(1, 2).reshape(B, t, H * v)
    return m.o_proj(o), (k, val)


@torch.no_grad()
def greedy(model, prompts, n):
    """prompts [B, P] → [B, P + n]: each row's prompt and its n greedy tokens (EOS not special)."""
    P = prompts.shape[1]
    cos, sin = rope_tables(model.c, P + n, model.embed_tokens.weight.dtype)
    caches = [None] * len(model.layers)
    x, pos, out = prompts, 0, [prompts]
    for _ in range(n):
        t = x.shape[1]
        h = model.embed_tokens(x)
        for i, layer in enumerate(model.layers):
            c, s = cos[pos : pos + t], sin[pos : pos + t]
            a, caches[i] = attend(layer.self_attn, layer.input_layernorm(h), c, s, caches[i])
            h = h + a
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        x = model.lm_head(model.norm(h[:, -1])).argmax(-1, keepdim=True)
        out.append(x)
        pos += t
    return torch.cat(out, 1)
