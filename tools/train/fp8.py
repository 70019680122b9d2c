# tools/train: FP8 E4M3 ("fn": max 448, no infinities, 0x7F NaN) and DeepSeek-V3's 128×128 block scaling,
# byte-compatible with engine/deepseek/fp8.ts (encodeE4M3, quantizeWeightFp8): scale_inv = f32(amax/448)
# per block (1 for an all-zero block), code = nearest E4M3 of f32(w / scale_inv), ties to even,
# saturating at ±448. PyTorch 1.13 has no float8 dtype, so codes are uint8 computed here.
import torch

E4M3_MAX = 448.0


def e4m3_values():
    """The decoded value of every code, as fp8.ts E4M3_VALUES (NaN for 0x7F / 0xFF)."""
    c = torch.arange(256)
    e, m = (c >> 3) & 0xF, (c & 7).double()
    mag = torch.where(e == 0, m * 2.0**-9, (1 + m / 8) * torch.pow(2.0, (e - 7).double()))
    v = torch.where(c & 0x80 != 0, -mag, mag)
    v[(e == 15) & (m == 7)] = float("nan")
    return v.float()


def encode_e4m3(x):
    """float tensor → uint8 E4M3 codes (round half to even; |x| ≥ 448 saturates to 0x7E; -0 keeps its sign)."""
    x = x.double()
    sign = torch.signbit(x).to(torch.uint8) << 7
    a = x.abs()
    sub = torch.round(a * 512)  # below 2^-6: uniform grid of 2^-9 (rounding up to 8 lands on 0x08)
    mant, exp = torch.frexp(a)  # a = mant · 2^exp, mant in [0.5, 1): e = exp - 1
    e = exp.long() - 1
    m = torch.round((mant * 2 - 1) * 8)
    e = torch.where(m == 8, e + 1, e)
    m = torch.where(m == 8, torch.zeros_like(m), m)
    normal = torch.clamp(((e + 7) << 3) | m.long(), max=0x7E)
    code = torch.where(a < 2.0**-6, sub.long(), normal)
    code = torch.where(a >= E4M3_MAX, torch.full_like(code, 0x7E), code)
    code = code.to(torch.uint8) | sign
    return torch.where(torch.isnan(x), torch.full_like(code, 0x7F), code)


def quantize_weight(w, block=(128, 128)):
    """w[rows, cols] f32 → (codes uint8 [rows, cols], scale_inv f32 [ceil(rows/br), ceil(cols/bc)])."""
    w = w.detach().float()
    rows, cols = w.shape
    br, bc = block
    sr, sc = -(-rows // br), -(-cols // bc)
    scale = torch.ones(sr, sc, dtype=torch.float32)
    codes = torch.empty(rows, cols, dtype=torch.uint8)
    for i in range(sr):
        for j in range(sc):
            blk = w[i * br : (i + 1) * br, j * bc : (j + 1) * bc]
            amax = blk.abs().max()
            s = amax / E4M3_MAX if amax > 0 else torch.tensor(1.0)  # f32 division, as Math.fround
            scale[i, j] = s
            codes[i * br : (i + 1) * br, j * bc : (j + 1) * bc] = encode_e4m3(blk / s)
    return codes, scale


def dequantize_weight(codes, scale, block=(128, 128)):
    """As fp8.ts dequantizeWeightFp8: f32(value(code) · scale_inv)."""
    vals = e4m3_values()[codes.long()]
    s = scale.repeat_interleave(block[0], 0)[: codes.shape[0]]
    s = s.repeat_interleave(block[1], 1)[:, : codes.shape[1]]
    return vals * s
