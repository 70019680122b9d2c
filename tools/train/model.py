# tools/train: the DeepSeek-V3 architecture in PyTorch, batched over [B, T], mirroring engine/deepseek/
# (reference.ts, block.ts, mla.ts, moe.ts, mtp.ts, rope.ts) so exported weights mean the same thing:
# MLA with low-rank q/kv and decoupled RoPE on interleaved pairs (YaRN off), a dense first layer then
# DeepSeekMoE (sigmoid scores, noaux_tc group-limited top-k, e_score_correction_bias for selection only,
# normalized weights × routed_scaling_factor, shared experts), and one MTP module fed the main model's
# final (post-norm) hidden state, with the embedding zeroed at position 0 as the engine does.
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


class Norm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)


def lin(i, o):
    return nn.Linear(i, o, bias=False)


def rope_tables(c, T, dtype):
    d = c["qk_rope_head_dim"]
    inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]  # [T, d/2]
    return ang.cos().to(dtype), ang.sin().to(dtype)


def apply_rope(x, cos, sin):
    """x[..., T, d]: pair (2i, 2i+1) turns by angle i (engine/deepseek/rope.ts)."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


class Mla(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, H = c["hidden_size"], c["num_attention_heads"]
        self.H, self.nope, self.rope = H, c["qk_nope_head_dim"], c["qk_rope_head_dim"]
        self.v, self.C, self.eps = c["v_head_dim"], c["kv_lora_rank"], c["rms_norm_eps"]
        qk = self.nope + self.rope
        self.q_a_proj = lin(h, c["q_lora_rank"])
        self.q_a_layernorm = Norm(c["q_lora_rank"], self.eps)
        self.q_b_proj = lin(c["q_lora_rank"], H * qk)
        self.kv_a_proj_with_mqa = lin(h, self.C + self.rope)
        self.kv_a_layernorm = Norm(self.C, self.eps)
        self.kv_b_proj = lin(self.C, H * (self.nope + self.v))
        self.o_proj = lin(H * self.v, h)
        self.scale = 1.0 / math.sqrt(qk)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        H, n, r, v = self.H, self.nope, self.rope, self.v
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))).view(B, T, H, n + r).transpose(1, 2)
        q = torch.cat((q[..., :n], apply_rope(q[..., n:], cos, sin)), -1)
        kva = self.kv_a_proj_with_mqa(x)
        k_pe = apply_rope(kva[..., self.C :], cos, sin)[:, None]  # [B, 1, T, r] shared by heads
        kv = self.kv_b_proj(self.kv_a_layernorm(kva[..., : self.C]))
        kv = kv.view(B, T, H, n + v).transpose(1, 2)
        k = torch.cat((kv[..., :n], k_pe.expand(B, H, T, r)), -1)
        att = (q @ k.transpose(-1, -2)) * self.scale
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        o = (att @ kv[..., n:]).transpose(1, 2).reshape(B, T, H * v)
        return self.o_proj(o)


class Mlp(nn.Module):
    def __init__(self, h, inter):
        super().__init__()
        self.gate_proj, self.up_proj, self.down_proj = lin(h, inter), lin(h, inter), lin(inter, h)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.E, self.k = c["n_routed_experts"], c["num_experts_per_tok"]
        self.G, self.kg = c["n_group"], c["topk_group"]
        self.scaling = c["routed_scaling_factor"]
        self.weight = nn.Parameter(torch.empty(self.E, c["hidden_size"]))
        nn.init.normal_(self.weight, std=0.02)
        # Not a gradient parameter: moved by the auxiliary-loss-free rule (train.py update_bias).
        self.register_buffer("e_score_correction_bias", torch.zeros(self.E))
        self.use_bias = True

    def forward(self, x):
        """x[N, h] → idx[N, k], weight[N, k] (moe.ts moeRoute, noaux_tc)."""
        scores = torch.sigmoid(F.linear(x, self.weight))
        choice = scores.detach()
        if self.use_bias:
            choice = choice + self.e_score_correction_bias.to(choice.dtype)
        N = x.shape[0]
        g = choice.view(N, self.G, -1).topk(2, dim=-1)[0].sum(-1)  # [N, G]
        keep = torch.zeros_like(g, dtype=torch.bool).scatter_(1, g.topk(self.kg, dim=-1)[1], True)
        choice = choice.masked_fill(~keep.repeat_interleave(self.E // self.G, 1), float("-inf"))
        idx = choice.topk(self.k, dim=-1)[1]
        w = scores.gather(1, idx)
        w = w / (w.sum(-1, keepdim=True) + 1e-20) * self.scaling
        return idx, w


class Moe(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, inter = c["hidden_size"], c["moe_intermediate_size"]
        self.gate = Gate(c)
        self.experts = nn.ModuleList([Mlp(h, inter) for _ in range(c["n_routed_experts"])])
        self.shared_experts = Mlp(h, c["n_shared_experts"] * inter)
        self.last_load = None  # tokens per expert of the latest forward

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        idx, w = self.gate(x)
        self.last_load = torch.bincount(idx.flatten(), minlength=self.gate.E)
        out = self.shared_experts(x)
        flat = idx.flatten()
        order = flat.argsort()
        counts = self.last_load.tolist()
        tok = (order // idx.shape[1]).split(counts)
        wt = w.flatten()[order].split(counts)
        for e, (t, we) in enumerate(zip(tok, wt)):
            if len(t):
                out = out.index_add(0, t, self.experts[e](x[t]) * we[:, None])
        return out.view(shape)


class Block(nn.Module):
    def __init__(self, c, layer):
        super().__init__()
        eps = c["rms_norm_eps"]
        self.input_layernorm = Norm(c["hidden_size"], eps)
        self.self_attn = Mla(c)
        self.post_attention_layernorm = Norm(c["hidden_size"], eps)
        moe = layer >= c["first_k_dense_replace"] and layer % c["moe_layer_freq"] == 0
        self.mlp = Moe(c) if moe else Mlp(c["hidden_size"], c["intermediate_size"])

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class MtpModule(nn.Module):
    def __init__(self, c, layer):
        super().__init__()
        h, eps = c["hidden_size"], c["rms_norm_eps"]
        self.enorm, self.hnorm = Norm(h, eps), Norm(h, eps)
        self.eh_proj = lin(2 * h, h)
        self.block = Block(c, layer)
        self.shared_head_norm = Norm(h, eps)

    def forward(self, emb_next, hidden, cos, sin):
        """emb_next[B, T, h] = embedding of t_{i+1}; hidden = main model's post-norm state at i."""
        e = self.enorm(emb_next)
        e = torch.cat((torch.zeros_like(e[:, :1]), e[:, 1:]), 1)  # zeroed at position 0 (mtp.ts)
        x = self.eh_proj(torch.cat((e, self.hnorm(hidden)), -1))
        return self.shared_head_norm(self.block(x, cos, sin))


class DeepSeekV3(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        h, V, L = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"]
        self.embed_tokens = nn.Embedding(V, h)
        self.layers = nn.ModuleList([Block(c, i) for i in range(L)])
        self.norm = Norm(h, c["rms_norm_eps"])
        self.lm_head = lin(h, V)
        self.mtp = nn.ModuleList([MtpModule(c, L + k) for k in range(c["num_nextn_predict_layers"])])
        for p in self.parameters():
            if p.dim() == 2 and p is not self.embed_tokens.weight:
                nn.init.normal_(p, std=0.02)
        nn.init.normal_(self.embed_tokens.weight, std=1.0)

    def moe_layers(self):
        return [m for m in self.modules() if isinstance(m, Moe)]

    def forward(self, ids, mtp=True):
        """ids[B, T] → logits[B, T, V], mtp_logits[B, T-1, V] (position i predicts t_{i+2}) or None."""
        T = ids.shape[1]
        cos, sin = rope_tables(self.c, T, self.embed_tokens.weight.dtype)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        hidden = self.norm(x)
        logits = self.lm_head(hidden)
        if not mtp or not len(self.mtp):
            return logits, None
        m = self.mtp[0]
        y = m(self.embed_tokens(ids[:, 1:]), hidden[:, :-1], cos[: T - 1], sin[: T - 1])
        return logits, self.lm_head(y)
