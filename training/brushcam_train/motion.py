"""Frame pairs with known motion, and flow-based warping.

Flow convention everywhere in this package: `flow` is the BACKWARD flow of frame 2, in pixels,
channels (dx, dy): the content at pixel x of frame 2 came from x + flow(x) in frame 1.
So `warp(frame1, flow)` brings frame 1 (or anything computed from it) into frame 2's coordinates,
and `mask` is 1 where that source point lies inside frame 1 (and, for real clips, passed the
forward-backward consistency check), 0 where frame 2 shows something frame 1 does not.
Pixel centres are at integer coordinates 0..W-1 (grid_sample with align_corners=True).
"""
import numpy as np
import cv2
import torch
import torch.nn.functional as F


def pixel_grid(h, w, device=None, dtype=torch.float32):
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=dtype),
                            torch.arange(w, device=device, dtype=dtype), indexing="ij")
    return torch.stack([xs, ys])  # [2, H, W]


def warp(img, flow, padding_mode="zeros"):
    """out(x) = img(x + flow(x)), bilinear. img [B,C,H,W], flow [B,2,H,W] in pixels."""
    b, c, h, w = img.shape
    pos = pixel_grid(h, w, img.device, img.dtype)[None] + flow
    gx = 2.0 * pos[:, 0] / max(w - 1, 1) - 1.0
    gy = 2.0 * pos[:, 1] / max(h - 1, 1) - 1.0
    return F.grid_sample(img, torch.stack([gx, gy], -1), mode="bilinear",
                         padding_mode=padding_mode, align_corners=True)


def inside_mask(flow):
    """1 where x + flow(x) lands inside the frame (pixel centres 0..W-1, 0..H-1)."""
    b, _, h, w = flow.shape
    pos = pixel_grid(h, w, flow.device, flow.dtype)[None] + flow
    ok = (pos[:, 0] >= 0) & (pos[:, 0] <= w - 1) & (pos[:, 1] >= 0) & (pos[:, 1] <= h - 1)
    return ok[:, None].to(flow.dtype)


def downsample_flow(flow, mask, factor):
    """Flow and mask at 1/factor resolution, matching k3/s2/pad1 convs (feature j sits on pixel
    factor*j): subsample the flow and divide it by factor; a feature cell is valid only if every
    pixel of its factor x factor block is valid."""
    f = flow[:, :, ::factor, ::factor] / factor
    m = 1.0 - F.max_pool2d(1.0 - mask, factor, factor, ceil_mode=True)
    return f, m[:, :, :f.shape[2], :f.shape[3]]


# ----------------------------------------------------------------------------- synthetic pairs

def _homography(rng, crop, strength):
    """Small random perspective motion M (frame-2 crop coords -> frame-1 crop coords)."""
    c = (crop - 1) / 2.0
    ang = np.deg2rad(rng.uniform(-3, 3) * strength)
    sc = np.exp(rng.uniform(-0.04, 0.04) * strength)
    tx, ty = rng.uniform(-0.05, 0.05, 2) * crop * strength
    px, py = rng.uniform(-3e-4, 3e-4, 2) * strength * 192.0 / crop
    T1 = np.array([[1, 0, -c], [0, 1, -c], [0, 0, 1.0]])
    R = np.array([[sc * np.cos(ang), -sc * np.sin(ang), 0], [sc * np.sin(ang), sc * np.cos(ang), 0], [0, 0, 1.0]])
    P = np.array([[1, 0, 0], [0, 1, 0], [px, py, 1.0]])
    T2 = np.array([[1, 0, c + tx], [0, 1, c + ty], [0, 0, 1.0]])
    return T2 @ P @ R @ T1


def _apply_h(H, x, y):
    d = H[2, 0] * x + H[2, 1] * y + H[2, 2]
    return (H[0, 0] * x + H[0, 1] * y + H[0, 2]) / d, (H[1, 0] * x + H[1, 1] * y + H[1, 2]) / d


def _smooth_field(rng, crop, amp):
    """Thin-plate-like smooth displacement: 4x4 random control grid upsampled bicubically."""
    ctrl = rng.normal(0, amp, (4, 4, 2)).astype(np.float32)
    return cv2.resize(ctrl, (crop, crop), interpolation=cv2.INTER_CUBIC)


def random_pair(img, crop, rng, scale_range=(1.0, 1.6), strength=1.0, elastic=1.0, brightness=True):
    """Two crops of a still image with known motion.

    img: HxWx3 uint8 RGB. Frame 1 is a randomly scaled/rotated/flipped crop; frame 2 views the
    same image plane through a small extra perspective motion plus a smooth elastic field, so
    frame2(x) = frame1(x + flow(x)) exactly, up to resampling (and a global gain/offset when
    `brightness`). Returns float32 arrays frame1, frame2 [3,crop,crop] in [0,1],
    flow [2,crop,crop], mask [1,crop,crop]."""
    if rng.random() < 0.5:
        img = np.ascontiguousarray(img[:, ::-1])
    h, w = img.shape[:2]
    # frame-1 crop coords -> image coords, as if the image's short side were `short` pixels
    short = crop * rng.uniform(*scale_range)
    s = min(h, w) / short
    ang = np.deg2rad(rng.uniform(-5, 5))
    span = crop * s
    x0 = rng.uniform(min(0, w - span), max(0, w - span))
    y0 = rng.uniform(min(0, h - span), max(0, h - span))
    A = np.array([[s * np.cos(ang), -s * np.sin(ang), x0], [s * np.sin(ang), s * np.cos(ang), y0], [0, 0, 1.0]])
    M = _homography(rng, crop, strength)

    frame1 = cv2.warpPerspective(img, A, (crop, crop), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REFLECT)
    ys, xs = np.mgrid[0:crop, 0:crop].astype(np.float64)
    d = _smooth_field(rng, crop, 1.5 * elastic) if elastic > 0 else np.zeros((crop, crop, 2), np.float32)
    sx, sy = _apply_h(M, xs + d[..., 0], ys + d[..., 1])     # frame-1 coords of frame-2 pixels
    ix, iy = _apply_h(A, sx, sy)                             # image coords
    frame2 = cv2.remap(img, ix.astype(np.float32), iy.astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    flow = np.stack([sx - xs, sy - ys]).astype(np.float32)
    mask = ((sx >= 0) & (sx <= crop - 1) & (sy >= 0) & (sy <= crop - 1))[None].astype(np.float32)
    f1 = frame1.transpose(2, 0, 1).astype(np.float32) / 255.0
    f2 = frame2.transpose(2, 0, 1).astype(np.float32) / 255.0
    if brightness:
        f2 = np.clip(f2 * rng.uniform(0.92, 1.08) + rng.uniform(-0.03, 0.03), 0, 1)
    return f1, f2, flow, mask


# ----------------------------------------------------------------------------- real clips

def dis_flow(gray_from, gray_to, dis=None):
    """cv2 DIS: returns flow with gray_from(x) ~= gray_to(x + flow(x)), [H,W,2]."""
    dis = dis or cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(gray_from, gray_to, None)


def fb_mask(flow21, flow12):
    """Forward-backward consistency (Sundaram et al. 2010) plus in-bounds test for frame 2."""
    h, w = flow21.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mx, my = xs + flow21[..., 0], ys + flow21[..., 1]
    back = cv2.remap(flow12, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    s = flow21 + back
    ok = (s ** 2).sum(-1) <= 0.01 * ((flow21 ** 2).sum(-1) + (back ** 2).sum(-1)) + 0.5
    ok &= (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return ok.astype(np.float32)


def dis_flow_pairs(video_path, max_pairs=100, stride=1, max_side=None, skip=0):
    """(frame1, frame2, flow, mask) numpy pairs from consecutive frames of a clip, using DIS
    (medium preset) for the backward flow and a forward-backward occlusion check.
    Frames are RGB uint8 HxWx3, flow float32 [H,W,2] (frame 2 -> frame 1), mask float32 [H,W].
    Training may only use video/scenes/* and video/people/movie-hello.mp4 (data README)."""
    cap = cv2.VideoCapture(str(video_path))
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    prev, idx, out = None, 0, []
    while len(out) < max_pairs:
        ok, bgr = cap.read()
        if not ok:
            break
        idx += 1
        if idx <= skip or (idx - skip) % stride:
            continue
        if max_side and max(bgr.shape[:2]) > max_side:
            f = max_side / max(bgr.shape[:2])
            bgr = cv2.resize(bgr, (round(bgr.shape[1] * f / 4) * 4, round(bgr.shape[0] * f / 4) * 4), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if prev is not None:
            g1, g2 = cv2.cvtColor(prev, cv2.COLOR_RGB2GRAY), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            f21 = dis.calc(g2, g1, None)
            f12 = dis.calc(g1, g2, None)
            out.append((prev, rgb, f21, fb_mask(f21, f12)))
        prev = rgb
    cap.release()
    return out
