"""SqueezeNet 1.1 feature stack (conv1..fire9) as a frozen perceptual loss network.

Weights come from ../shared/data/loss-networks/squeezenet1_1_imagenet_features.mat: 25 pairs
(kernel HWIO, bias) keyed 'conv1', 'fire2/squeeze1x1', 'fire2/expand1x1', 'fire2/expand3x3', ...
Input to `forward`: RGB in [0, 1]; it is scaled to 0-255 and the ImageNet mean
[122.679, 116.669, 104.006] is subtracted, as the weights expect.

Layer indices (same as torchvision's squeezenet1_1().features):
  0 conv1 3x3 s2 (64)   1 relu   2 maxpool 3 s2 ceil
  3 fire2 (128)  4 fire3 (128)   5 maxpool
  6 fire4 (256)  7 fire5 (256)   8 maxpool
  9 fire6 (384) 10 fire7 (384) 11 fire8 (512) 12 fire9 (512)

Layer choice (see README): content = fire3 (idx 4, 1/4 resolution, 128 channels): deep enough to
let strokes replace texture, shallow enough to keep faces recognisable. Style = relu1 (idx 1, 1/2),
fire3 (4, 1/4), fire5 (7, 1/8), fire7 (10, 1/16): one per resolution, from colour/fine
brush texture up to larger motifs (swirls, waves).
"""
import os
import numpy as np
import scipy.io
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("BRUSHCAM_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
MAT_PATH = os.path.join(DATA, "loss-networks/squeezenet1_1_imagenet_features.mat")
MEAN_RGB = (122.679, 116.669, 104.006)

CONTENT_LAYER = 4
STYLE_LAYERS = (1, 4, 7, 10)


class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], 1)


class SqueezeNetFeatures(nn.Module):
    def __init__(self, mat_path=MAT_PATH):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, stride=2), nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(64, 16, 64), Fire(128, 16, 64),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(128, 32, 128), Fire(256, 32, 128),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(256, 48, 192), Fire(384, 48, 192), Fire(384, 64, 256), Fire(512, 64, 256),
        )
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1))
        self._load(mat_path)
        self.requires_grad_(False)
        self.eval()

    def _load(self, path):
        mat = scipy.io.loadmat(path)

        def put(conv, key):
            kernel, bias = mat[key][0, 0], mat[key][0, 1]
            w = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))  # HWIO -> OIHW
            assert conv.weight.shape == w.shape, (key, conv.weight.shape, w.shape)
            conv.weight.data.copy_(w)
            conv.bias.data.copy_(torch.from_numpy(bias.reshape(-1)))

        put(self.features[0], "conv1")
        used = 1
        for idx, name in zip((3, 4, 6, 7, 9, 10, 11, 12), ("fire2", "fire3", "fire4", "fire5", "fire6", "fire7", "fire8", "fire9")):
            fire = self.features[idx]
            put(fire.squeeze, f"{name}/squeeze1x1")
            put(fire.expand1x1, f"{name}/expand1x1")
            put(fire.expand3x3, f"{name}/expand3x3")
            used += 3
        n_keys = sum(1 for k in mat if not k.startswith("__"))
        assert used == n_keys == 25, (used, n_keys)

    def forward(self, rgb01, layers):
        """Return {layer index: activation} for the requested indices."""
        x = rgb01 * 255.0 - self.mean
        out, last = {}, max(layers)
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in layers:
                out[i] = x
            if i == last:
                break
        return out


def gram(f):
    """Gram matrix normalised by C*H*W (size-independent)."""
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)
