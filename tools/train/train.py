# tools/train: trains a small DeepSeek-V3-architecture model on the Python standard library (with FIM),
# then exports it (export.py), writes golden logits for the Node test and a manifest with the command,
# seed, corpus recipe, loss curve, quality numbers and sha256 of every file.
#
# Run (after corpus.ts; OpenBLAS tuning variables unset for this command only):
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/train/train.py --steps 1200
import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import batch, eval_windows, load_ids  # noqa: E402
from evaluate import golden, golden_prompts, heldout_report  # noqa: E402
from export import export, fp8_probe  # noqa: E402
from model import DeepSeekV3  # noqa: E402


def config(vocab):
    return {
        "architectures": ["DeepseekV3ForCausalLM"],
        "model_type": "deepseek_v3",
        "hidden_act": "silu",
        "vocab_size": vocab,
        "hidden_size": 128,
        "intermediate_size": 384,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "q_lora_rank": 64,
        "kv_lora_rank": 64,
        "qk_nope_head_dim": 32,
        "qk_rope_head_dim": 16,
        "v_head_dim": 32,
        "n_routed_experts": 16,
        "n_shared_experts": 1,
        "num_experts_per_tok": 4,
        "n_group": 4,
        "topk_group": 2,
        "first_k_dense_replace": 1,
        "moe_layer_freq": 1,
        "scoring_func": "sigmoid",
        "topk_method": "noaux_tc",
        "routed_scaling_factor": 1.5,
        "norm_topk_prob": True,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "max_position_embeddings": 1024,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "num_nextn_predict_layers": 1,
        "bos_token_id": 0,
        "eos_token_id": 1,
    }


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="models/pystd-mla-moe")
    p.add_argument("--work", default="tools/train/work")
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gamma", type=float, default=1e-3, help="bias update speed (aux-loss-free rule)")
    p.add_argument("--mtp-weight", type=float, default=0.3)
    p.add_argument("--fim-rate", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-windows", type=int, default=64)
    p.add_argument(
        "--max-minutes", type=float, default=0, help="also stop (and decay the LR) by wall time; 0: off"
    )
    return p.parse_args()


@torch.no_grad()
def update_bias(model, gamma):
    """DeepSeek-V3's auxiliary-loss-free balancing: underloaded experts up, overloaded down."""
    for m in model.moe_layers():
        load = m.last_load.float()
        m.gate.e_score_correction_bias += gamma * torch.sign(load.mean() - load)


def train(a, model, ids):
    rng = np.random.default_rng(a.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.1)
    warm = max(1, min(50, a.steps // 20))
    curve, t0, budget = [], time.time(), a.max_minutes * 60
    for step in range(a.steps):
        # Progress by steps, or by wall time under --max-minutes (whichever is further along).
        done = max(step / a.steps, (time.time() - t0) / budget if budget else 0)
        if done >= 1:
            break
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1, (step + 1) / warm) * (0.1 + 0.45 * (1 + math.cos(math.pi * done)))
        w = batch(ids, a.batch, a.seq, rng, a.fim_rate)
        x, y = w[:, :-1], w[:, 1:]
        logits, mtp = model(x)
        V = logits.shape[-1]
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        mtp_loss = F.cross_entropy(mtp.reshape(-1, V), y[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        (loss + a.mtp_weight * mtp_loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        update_bias(model, a.gamma)
        if step % 10 == 0:
            curve.append([step, round(loss.item(), 4), round(mtp_loss.item(), 4)])
            el = time.time() - t0
            print(f"step {step} loss {loss.item():.3f} mtp {mtp_loss.item():.3f} {el:.0f}s", flush=True)
        trained = step + 1
    curve.append([trained - 1, round(loss.item(), 4), round(mtp_loss.item(), 4)])
    return curve, time.time() - t0, trained


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    a = args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    with open(f"{a.work}/corpus.json") as f:
        corpus = json.load(f)
    cfg = config(corpus["vocabSize"])
    model = DeepSeekV3(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params} vocab {cfg['vocab_size']}", flush=True)
    ids, heldout = load_ids(f"{a.work}/train.u32"), load_ids(f"{a.work}/heldout.u32")
    curve, wall, steps = train(a, model, ids)
    # The unquantized (f32) weights, for the FP8-vs-BF16 comparison (tools/train/fp8_agreement.py).
    torch.save(model.state_dict(), f"{a.work}/trained-f32.pt")
    report = heldout_report(model, eval_windows(heldout, a.seq, a.eval_windows))
    report["heldout_fim_loss_per_token"] = heldout_report(
        model, eval_windows(heldout, a.seq, a.eval_windows // 2, fim=True)
    )["heldout_loss_per_token"]
    print(json.dumps(report), flush=True)
    os.makedirs(a.out, exist_ok=True)
    exported = export(model, a.out, cfg)
    gold = {"prompts": golden(model, exported, golden_prompts(heldout)), "fp8_probe": fp8_probe()}
    with open(f"{a.out}/golden.json", "w") as f:
        json.dump(gold, f)
    files = sorted(f for f in os.listdir(a.out) if f != "manifest.json")
    manifest = {
        "command": "npx tsx tools/train/corpus.ts && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
        + "/usr/bin/python3 "
        + " ".join(sys.argv),
        "torch": torch.__version__,
        "threads": a.threads,
        "seed": a.seed,
        "hyperparameters": {k: v for k, v in vars(a).items() if k not in ("out", "work")},
        "parameters": n_params,
        "corpus": corpus,
        "steps": steps,
        "train_tokens_seen": steps * a.batch * a.seq,
        "wall_seconds_training": round(wall, 1),
        "loss_curve": {"columns": ["step", "loss", "mtp_loss"], "rows": curve},
        "quality": report,
        "sha256": {f: sha256(f"{a.out}/{f}") for f in files},
    }
    with open(f"{a.out}/manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
