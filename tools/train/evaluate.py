# tools/train: what a trained model is reported by, and the golden file the Node test checks the
# engine's float64 reference against. Held-out loss per token (main head and MTP), MTP greedy
# acceptance (MTP's argmax at i == the main model's argmax at i+1, both predicting t_{i+2}), expert
# load max/mean per MoE layer with e_score_correction_bias vs with it zeroed.
import copy
import torch
import torch.nn.functional as F

from data import FIM_BEGIN, FIM_END, FIM_HOLE


@torch.no_grad()
def heldout_report(model, windows, batch=4):
    model.eval()
    tot = {"loss": 0.0, "mtp_loss": 0.0, "n": 0, "n_mtp": 0, "acc": 0}
    loads = {True: None, False: None}
    for use_bias in (True, False):
        for m in model.moe_layers():
            m.gate.use_bias = use_bias
        acc_load = None
        for i in range(0, len(windows), batch):
            w = windows[i : i + batch]
            x, y = w[:, :-1], w[:, 1:]
            logits, mtp = model(x)
            load = torch.stack([m.last_load for m in model.moe_layers()]).double()
            acc_load = load if acc_load is None else acc_load + load
            if not use_bias:
                continue
            V = logits.shape[-1]
            tot["loss"] += F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="sum").item()
            tot["n"] += y.numel()
            # MTP at i predicts y[:, i+1] (= t_{i+2}); position 0 is included as the engine runs it.
            tot["mtp_loss"] += F.cross_entropy(
                mtp.reshape(-1, V), y[:, 1:].reshape(-1), reduction="sum"
            ).item()
            tot["n_mtp"] += y[:, 1:].numel()
            tot["acc"] += (mtp.argmax(-1) == logits[:, 1:].argmax(-1)).sum().item()
        loads[use_bias] = acc_load
    for m in model.moe_layers():
        m.gate.use_bias = True
    model.train()
    ratio = lambda l: (l.max(1)[0] / l.mean(1)).tolist()  # noqa: E731
    return {
        "heldout_tokens": tot["n"],
        "heldout_loss_per_token": tot["loss"] / tot["n"],
        "heldout_mtp_loss_per_token": tot["mtp_loss"] / tot["n_mtp"],
        "mtp_greedy_acceptance": tot["acc"] / tot["n_mtp"],
        "expert_load_max_over_mean_with_bias": ratio(loads[True]),
        "expert_load_max_over_mean_bias_zeroed": ratio(loads[False]),
    }


def golden_prompts(heldout, n=20):
    """Three prompts of held-out token ids: two plain, one FIM (PSM) prompt ending at fim_end."""
    a, b = heldout[:n].tolist(), heldout[5000 : 5000 + n].tolist()
    pre, suf = heldout[9000 : 9000 + 8].tolist(), heldout[9012 : 9012 + 8].tolist()
    return [a, b, [FIM_BEGIN, *pre, FIM_HOLE, *suf, FIM_END]]


@torch.no_grad()
def golden(model, exported, prompts, top=5):
    """Float64 logits of the exported (dequantized) weights: what the engine's reference must reproduce."""
    m = copy.deepcopy(model).double().eval()
    m.load_state_dict({k: v.double() for k, v in exported.items()})
    out = []
    for ids in prompts:
        logits, mtp = m(torch.tensor([ids]))
        lt, li = logits[0].topk(top, -1)
        out.append(
            {
                "ids": ids,
                "argmax": logits[0].argmax(-1).tolist(),
                "top_ids": li.tolist(),
                "top_logits": lt.tolist(),
                "mtp_argmax": mtp[0].argmax(-1).tolist(),
            }
        )
    return out
