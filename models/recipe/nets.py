"""Architectures of the shipped models (spiking ResNet18, spiking CNN, CNN, SN-GAN, VQ-VAE)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

from common import LIF, Normalize


# ----------------------------------------------------------------------------- spiking ResNet18


class SBasicBlock(nn.Module):
    """conv3x3-BN-LIF(sn1)-conv3x3-BN, + shortcut (identity or conv1x1-BN), then LIF(sn2)."""

    def __init__(self, cin, cout, stride, T, decay):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.sn1 = LIF(T, decay)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.sn2 = LIF(T, decay)

    def forward(self, x):
        out = self.sn1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out)) + self.shortcut(x)
        return self.sn2(out)


class SResNet18(nn.Module):
    """ResNet18 topology (BasicBlock [2, 2, 2, 2]) with LIF neurons, direct encoding.

    Stem: conv3x3 (stride `stem_stride`) + BN + LIF `sn1`. The stem conv/BN does not depend on
    t (static input), so it is computed once and repeated T times; everything after runs on the
    [T*B] time-major flattened batch, looping over T only inside the LIF recurrences.
    Logits: fc of the spatially averaged last spikes, averaged over T.
    """

    def __init__(self, in_shape=(1, 28, 28), width=16, T=4, decay=0.9, stem_stride=2, norm=([0.0], [1.0]), classes=10):
        super().__init__()
        self.T = T
        w = [width, 2 * width, 4 * width, 8 * width]
        self.norm = Normalize(*norm)
        self.conv1 = nn.Conv2d(in_shape[0], w[0], 3, stem_stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        self.sn1 = LIF(T, decay)
        cin = w[0]
        for i, (c, s) in enumerate(zip(w, [1, 2, 2, 2])):
            blocks = [SBasicBlock(cin, c, s, T, decay), SBasicBlock(c, c, 1, T, decay)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = c
        self.fc = nn.Linear(w[3], classes)

    def forward(self, x):
        h = self.bn1(self.conv1(self.norm(x)))
        h = self.sn1(h.repeat(self.T, 1, 1, 1))
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        h = self.fc(h.mean((2, 3)))
        return h.view(self.T, -1, h.shape[-1]).mean(0)


# ----------------------------------------------------------------------------- spiking CNN


class SCNN(nn.Module):
    """snnTorch-style: conv5(12)-maxpool2-LIF(sn1), conv5(64)-maxpool2-LIF(sn2), fc-LIF(sn3),
    fc-LIF(sn4, 10 outputs). Logits: membrane potential U[t] of sn4 averaged over T."""

    def __init__(self, in_shape=(1, 28, 28), hidden=128, T=4, decay=0.9, norm=([0.0], [1.0]), classes=10):
        super().__init__()
        self.T = T
        self.norm = Normalize(*norm)
        self.conv1 = nn.Conv2d(in_shape[0], 12, 5)
        self.sn1 = LIF(T, decay)
        self.conv2 = nn.Conv2d(12, 64, 5)
        self.sn2 = LIF(T, decay)
        s = ((in_shape[1] - 4) // 2 - 4) // 2
        self.fc1 = nn.Linear(64 * s * s, hidden)
        self.sn3 = LIF(T, decay)
        self.fc2 = nn.Linear(hidden, classes)
        self.sn4 = LIF(T, decay)
        self.sn4.keep_mean_mem = True

    def forward(self, x):
        h = F.max_pool2d(self.conv1(self.norm(x)), 2)
        h = self.sn1(h.repeat(self.T, 1, 1, 1))
        h = self.sn2(F.max_pool2d(self.conv2(h), 2))
        h = self.sn3(self.fc1(h.flatten(1)))
        self.sn4(self.fc2(h))
        return self.sn4.mean_mem


# ----------------------------------------------------------------------------- CNN (non-spiking)


class CNN(nn.Module):
    """conv5(32)-BN-ReLU-maxpool2 (relu1), conv5(64)-BN-ReLU-maxpool2 (relu2), fc(256)-ReLU
    (relu3, the feature space used for the Frechet distance), dropout, fc(10)."""

    def __init__(self, in_shape=(1, 28, 28), norm=([0.0], [1.0]), classes=10):
        super().__init__()
        self.norm = Normalize(*norm)
        self.conv1 = nn.Conv2d(in_shape[0], 32, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.bn2 = nn.BatchNorm2d(64)
        s = in_shape[1] // 4
        self.fc1 = nn.Linear(64 * s * s, 256)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(256, classes)

    def features(self, x):
        a1 = F.max_pool2d(F.relu(self.bn1(self.conv1(self.norm(x)))), 2)
        a2 = F.max_pool2d(F.relu(self.bn2(self.conv2(a1))), 2)
        a3 = F.relu(self.fc1(a2.flatten(1)))
        return a1, a2, a3

    def forward(self, x):
        a1, a2, a3 = self.features(x)
        self.acts = {"relu1": a1, "relu2": a2, "relu3": a3}
        return self.fc2(self.drop(a3))


# ----------------------------------------------------------------------------- SN-GAN


class Generator(nn.Module):
    """z [B, 128] -> linear -> [ch*4, s, s] -> 2x (upsample x2 by ConvTranspose4x4, BN, ReLU) ->
    conv3x3 -> sigmoid, image [B, C, 4s, 4s] in [0, 1]."""

    def __init__(self, out_shape=(1, 28, 28), latent=128, ch=64):
        super().__init__()
        c, h, _ = out_shape
        self.s = h // 4
        self.ch = ch
        self.fc = nn.Linear(latent, ch * 4 * self.s * self.s)
        self.net = nn.Sequential(
            nn.BatchNorm2d(ch * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ch * 4, ch * 2, 4, 2, 1), nn.BatchNorm2d(ch * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ch * 2, ch, 4, 2, 1), nn.BatchNorm2d(ch), nn.ReLU(True),
            nn.Conv2d(ch, c, 3, 1, 1), nn.Sigmoid(),
        )

    def forward(self, z):
        return self.net(self.fc(z).view(-1, self.ch * 4, self.s, self.s))


class Discriminator(nn.Module):
    """Spectral-normalized convs with LeakyReLU(0.1), linear head (hinge loss)."""

    def __init__(self, in_shape=(1, 28, 28), ch=64):
        super().__init__()
        c, h, _ = in_shape
        sn = spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(c, ch, 4, 2, 1)), nn.LeakyReLU(0.1),
            sn(nn.Conv2d(ch, ch * 2, 4, 2, 1)), nn.LeakyReLU(0.1),
            sn(nn.Conv2d(ch * 2, ch * 4, 3, 1, 1)), nn.LeakyReLU(0.1),
        )
        self.fc = sn(nn.Linear(ch * 4 * (h // 4) ** 2, 1))

    def forward(self, x):
        return self.fc(self.net(x * 2 - 1).flatten(1)).squeeze(1)


# ----------------------------------------------------------------------------- VQ-VAE


class ResBlock(nn.Module):
    def __init__(self, ch, hid):
        super().__init__()
        self.net = nn.Sequential(nn.ReLU(), nn.Conv2d(ch, hid, 3, 1, 1), nn.ReLU(), nn.Conv2d(hid, ch, 1))

    def forward(self, x):
        return x + self.net(x)


class VQVAE(nn.Module):
    """Encoder: pad 28 -> 32, conv4x4/2 (16), conv4x4/2 (8), resblocks, conv1x1 -> 64-d vectors
    on an 8x8 grid; vector quantization against a 512 x 64 codebook (EMA updates, straight-through
    gradient, commitment loss); decoder mirrors the encoder, crops back to 28x28, sigmoid."""

    def __init__(self, in_shape=(1, 28, 28), ch=64, codes=512, dim=64, decay=0.99):
        super().__init__()
        c, h, _ = in_shape
        self.pad = (32 - h) // 2
        self.codes, self.dim, self.ema_decay = codes, dim, decay
        self.enc = nn.Sequential(
            nn.Conv2d(c, ch // 2, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(ch // 2, ch, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(ch, ch, 3, 1, 1), ResBlock(ch, ch // 2), ResBlock(ch, ch // 2), nn.ReLU(),
            nn.Conv2d(ch, dim, 1),
        )
        self.dec = nn.Sequential(
            nn.Conv2d(dim, ch, 3, 1, 1), ResBlock(ch, ch // 2), ResBlock(ch, ch // 2), nn.ReLU(),
            nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(ch // 2, c, 4, 2, 1),
        )
        self.register_buffer("embed", torch.randn(codes, dim) * 0.1)
        self.register_buffer("cluster_size", torch.ones(codes))
        self.register_buffer("embed_sum", self.embed.clone())

    def encode(self, x):
        if self.pad:
            x = F.pad(x, [self.pad] * 4)
        return self.enc(x * 2 - 1)  # [B, dim, 8, 8]

    def quantize(self, ze):
        flat = ze.permute(0, 2, 3, 1).reshape(-1, self.dim)
        d = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ self.embed.t() + self.embed.pow(2).sum(1)[None])
        idx = d.argmin(1)
        zq = self.embed[idx].view(ze.shape[0], ze.shape[2], ze.shape[3], self.dim).permute(0, 3, 1, 2)
        if self.training:
            with torch.no_grad():
                onehot = F.one_hot(idx, self.codes).to(flat.dtype)
                self.cluster_size.mul_(self.ema_decay).add_(onehot.sum(0), alpha=1 - self.ema_decay)
                self.embed_sum.mul_(self.ema_decay).add_(onehot.t() @ flat, alpha=1 - self.ema_decay)
                n = self.cluster_size.sum()
                size = (self.cluster_size + 1e-5) / (n + self.codes * 1e-5) * n
                self.embed.copy_(self.embed_sum / size[:, None])
        return zq, idx.view(ze.shape[0], -1)

    def decode(self, zq):
        y = torch.sigmoid(self.dec(zq))
        if self.pad:
            y = y[:, :, self.pad : -self.pad, self.pad : -self.pad]
        return y

    def forward(self, x):
        ze = self.encode(x)
        zq, idx = self.quantize(ze)
        commit = F.mse_loss(ze, zq.detach())
        zst = ze + (zq - ze).detach()  # straight-through
        return self.decode(zst), commit, idx

    def restart_dead_codes(self, ze_flat, thresh=1.0):
        """Re-seeds rarely used codes (EMA count below `thresh` vectors per batch) with random encoder
        outputs, which keeps the codebook in use (without it a few codes take over)."""
        dead = self.cluster_size < thresh
        nd = int(dead.sum())
        if nd:
            pick = ze_flat[torch.randint(0, ze_flat.shape[0], (nd,))]
            self.embed[dead] = pick
            self.embed_sum[dead] = pick
            self.cluster_size[dead] = 1.0
        return nd


class VQDecoderFromCodes(nn.Module):
    """Export wrapper: z int64 [B, 64] (row-major 8x8 grid of code indices) -> image [B,1,28,28]."""

    def __init__(self, vq):
        super().__init__()
        self.vq = vq

    def forward(self, z):
        e = F.embedding(z, self.vq.embed)  # [B, 64, dim]
        zq = e.view(-1, 8, 8, self.vq.dim).permute(0, 3, 1, 2)
        return self.vq.decode(zq)
