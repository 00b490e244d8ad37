#!/usr/bin/env python3
"""PyTorch reference for `npm run bench:train`: the same EfficientNet-B0 (1x128x96 input, B0 stage table,
SE 0.25, BN momentum 0.99 / eps 1e-3, TF SAME padding, drop-connect), the same COLA head (Dense 512 ->
LayerNorm -> tanh, bilinear W, softmax cross-entropy over in-batch negatives) and Adam 1e-3.
Times a training step (both views of `batch` pairs in one pass) and eval-mode inference; prints one JSON line.
Optional: needs Debian's python3-torch (`apt-get install python3-torch`); never needed by tests."""
import json, math, os, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]


def round_filters(f, w, d=8):
    s = f * w
    r = max(d, int(s + d / 2) // d * d)
    return r + d if r < 0.9 * s else r


class SameConv(nn.Conv2d):
    """TensorFlow 'SAME' padding (extra pixel bottom/right)."""

    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.kernel_size
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def bn(c):
    return nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, s, e, drop):
        super().__init__()
        mid = cin * e
        self.expand = nn.Sequential(SameConv(cin, mid, 1, bias=False), bn(mid), nn.SiLU()) if e != 1 else nn.Identity()
        self.dw = nn.Sequential(SameConv(mid, mid, k, s, groups=mid, bias=False), bn(mid), nn.SiLU())
        se = max(1, int(cin * 0.25))
        self.se1, self.se2 = nn.Conv2d(mid, se, 1), nn.Conv2d(se, mid, 1)
        self.project = nn.Sequential(SameConv(mid, cout, 1, bias=False), bn(cout))
        self.residual = s == 1 and cin == cout
        self.drop = drop

    def forward(self, x):
        h = self.dw(self.expand(x))
        g = torch.sigmoid(self.se2(F.silu(self.se1(h.mean((2, 3), keepdim=True)))))
        h = self.project(h * g)
        if self.residual:
            if self.training and self.drop > 0:
                keep = 1 - self.drop
                h = h * torch.floor(keep + torch.rand(h.shape[0], 1, 1, 1)) / keep
            h = h + x
        return h


class EfficientNet(nn.Module):
    def __init__(self, width=1.0, depth=1.0, drop=0.2):
        super().__init__()
        c = round_filters(32, width)
        layers = [SameConv(1, c, 3, 2, bias=False), bn(c), nn.SiLU()]
        total = sum(math.ceil(depth * r) for r, *_ in STAGES)
        b = 0
        for r, k, s, e, o in STAGES:
            o = round_filters(o, width)
            for i in range(math.ceil(depth * r)):
                layers.append(MBConv(c, o, k, s if i == 0 else 1, e, drop * b / total))
                c, b = o, b + 1
        self.out = round_filters(1280, width)
        layers += [SameConv(c, self.out, 1, bias=False), bn(self.out), nn.SiLU()]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x).mean((2, 3))


class Cola(nn.Module):
    def __init__(self, d_in, d=512):
        super().__init__()
        self.dense, self.ln = nn.Linear(d_in, d), nn.LayerNorm(d, eps=1e-3)
        self.W = nn.Parameter(torch.empty(d, d).uniform_(-0.07, 0.07))

    def forward(self, a, b):
        pa, pb = torch.tanh(self.ln(self.dense(a))), torch.tanh(self.ln(self.dense(b)))
        return pa @ self.W @ pb.t()


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    # Debian's build starts with one OpenMP thread here; give PyTorch every core, as our engine gets.
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    enc, head = EfficientNet(), None
    head = Cola(enc.out)
    params = sum(p.numel() for p in enc.parameters())
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), 1e-3)
    xa, xb = torch.randn(batch, 1, 128, 96), torch.randn(batch, 1, 128, 96)
    labels = torch.arange(batch)

    def step():
        opt.zero_grad()
        e = enc(torch.cat([xa, xb]))
        loss = F.cross_entropy(head(e[:batch], e[batch:]), labels)
        loss.backward()
        opt.step()
        return loss.item()

    enc.train()
    step()  # warm-up
    t = time.perf_counter()
    for _ in range(steps):
        step()
    train_s = (time.perf_counter() - t) / steps
    enc.eval()
    x = torch.randn(64, 1, 128, 96)
    with torch.no_grad():
        enc(x)
        t = time.perf_counter()
        for _ in range(steps):
            enc(x)
        infer_s = (time.perf_counter() - t) / steps
    print(json.dumps({
        "backend": f"pytorch-{torch.__version__}", "threads": torch.get_num_threads(), "backbone_params": params,
        "batch_per_view": batch, "train_step_s": round(train_s, 4), "train_samples_per_s": round(2 * batch / train_s, 2),
        "infer_patches_per_s": round(64 / infer_s, 2),
    }))


if __name__ == "__main__":
    main()
