# tools/train: writes a trained model in the Hugging Face layout DeepSeek-V3 ships, as
# engine/deepseek/weights.ts loads it: config.json with an fp8 e4m3 128×128 quantization_config, and
# model.safetensors with projections in F8_E4M3 + F32 `weight_scale_inv`, embeddings / norms / router /
# lm_head in BF16 and e_score_correction_bias in F32. The MTP module is layer num_hidden_layers; its
# stored copies of embed_tokens and shared_head.head are left out (identical to the main ones; the
# loader falls back to them), which halves the file. Also returns the exported weights dequantized,
# so golden logits are computed from exactly what the engine will load.
import json
import struct
import torch

from fp8 import dequantize_weight, encode_e4m3, quantize_weight

BLOCK = (128, 128)


def hf_name(name, L):
    """PyTorch parameter name (model.py) → checkpoint tensor name (engine/deepseek/hf-names.ts)."""
    if name.startswith("mtp.0."):
        rest = name[len("mtp.0.") :]
        rest = rest[len("block.") :] if rest.startswith("block.") else rest
        rest = rest.replace("shared_head_norm.", "shared_head.norm.")
        return f"model.layers.{L}.{rest}"
    return name if name.startswith("lm_head.") else f"model.{name}"


def role(hf, t):
    if hf.endswith("e_score_correction_bias"):
        return "bias"
    if t.dim() == 1 or hf.endswith("gate.weight") or "embed_tokens" in hf or hf == "lm_head.weight":
        return "bf16"
    return "fp8"


def bf16_bytes(t):
    return t.detach().float().to(torch.bfloat16).view(torch.int16).numpy().tobytes()


def write_safetensors(path, tensors):
    """tensors: {name: (dtype, shape, bytes)} → file (sorted names, header padded to 8 bytes)."""
    header, offset = {}, 0
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name in sorted(tensors):
            f.write(tensors[name][2])


def export(model, out_dir, config):
    """Writes config.json + model.safetensors; returns {param name: dequantized f32 tensor}."""
    L = config["num_hidden_layers"]
    tensors, exported = {}, {}
    for name, t in model.state_dict().items():
        hf = hf_name(name, L)
        r = role(hf, t)
        if r == "bias":
            v = t.detach().float()
            tensors[hf] = ("F32", t.shape, v.numpy().tobytes())
        elif r == "bf16":
            v = t.detach().float().to(torch.bfloat16).float()
            tensors[hf] = ("BF16", t.shape, bf16_bytes(t))
        else:
            codes, scale = quantize_weight(t, BLOCK)
            v = dequantize_weight(codes, scale, BLOCK)
            tensors[hf] = ("F8_E4M3", t.shape, codes.numpy().tobytes())
            tensors[hf + "_scale_inv"] = ("F32", scale.shape, scale.numpy().tobytes())
        exported[name] = v
    write_safetensors(f"{out_dir}/model.safetensors", tensors)
    cfg = dict(config)
    cfg["quantization_config"] = {
        "quant_method": "fp8",
        "fmt": "e4m3",
        "activation_scheme": "dynamic",
        "weight_block_size": list(BLOCK),
    }
    with open(f"{out_dir}/config.json", "w") as f:
        json.dump(cfg, f, indent=2)
    return exported


def fp8_probe():
    """Values whose E4M3 codes the Node test recomputes with engine/deepseek/fp8.ts encodeE4M3."""
    g = torch.Generator().manual_seed(7)
    edge = [0.0, -0.0, 448.0, 449.0, -1000.0, 464.0, 2.0**-6, 2.0**-9, 2.0**-10, 3 * 2.0**-10]
    edge += [1.0625, 1.1875, -1.0625, 0.0009765625, 1e-7, 240.0, 0.015625 * 1.0625]
    vals = torch.tensor(edge, dtype=torch.float32)
    vals = torch.cat((vals, torch.randn(200, generator=g) * 40, torch.randn(64, generator=g) * 0.01))
    return {"values": vals.tolist(), "codes": encode_e4m3(vals).tolist()}
