# tools/train: batches from corpus.ts's token ids. Training windows are random; with probability
# fim_rate a window becomes a fill-in-the-middle example in DeepSeek's PSM order,
# <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜>middle, split at two random token positions
# (DeepSeek-Coder splits documents at characters; tokens keep ids identical to plain encoding).
import numpy as np
import torch

BOS, EOS, PAD, FIM_HOLE, FIM_BEGIN, FIM_END = 0, 1, 2, 3, 4, 5


def load_ids(path):
    return torch.from_numpy(np.fromfile(path, dtype="<u4").astype(np.int64))


def fim_psm(w, rng):
    """w[n] → [FIM_BEGIN] w[:a] [FIM_HOLE] w[b:] [FIM_END] w[a:b], length n + 3."""
    a, b = sorted(rng.integers(0, len(w) + 1, size=2).tolist())
    t = lambda x: torch.tensor([x])  # noqa: E731
    return torch.cat((t(FIM_BEGIN), w[:a], t(FIM_HOLE), w[b:], t(FIM_END), w[a:b]))


def batch(ids, B, T, rng, fim_rate):
    """[B, T+1] windows: inputs are [:, :-1], targets [:, 1:]."""
    rows = []
    for _ in range(B):
        fim = rng.random() < fim_rate
        n = T + 1 - (3 if fim else 0)
        s = int(rng.integers(0, len(ids) - n))
        w = ids[s : s + n]
        rows.append(fim_psm(w, rng) if fim else w)
    return torch.stack(rows)


def eval_windows(ids, T, limit, fim=False, seed=1234):
    """Non-overlapping held-out windows [N, T+1] (FIM-transformed with a fixed seed when fim)."""
    n = T + 1 - (3 if fim else 0)
    rng = np.random.default_rng(seed)
    rows = [ids[s : s + n] for s in range(0, len(ids) - n, n)][:limit]
    return torch.stack([fim_psm(w, rng) if fim else w for w in rows])
