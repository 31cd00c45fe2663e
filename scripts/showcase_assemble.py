"""Puts the showcase runs (scripts/showcase.mjs) side by side on the camera clip's clock.

  /usr/bin/python3 scripts/showcase_assemble.py <out> <camera.y4m> <run>=<label> ...

Each <out>/<run>/frames.json lists output frames with the index of the camera frame each was made
from. For camera frame i, a run's panel shows its newest output made from a frame <= i (a slower
filter updates less often, as in a call); a camera frame read twice shows the second reading's
output (the governor starts low and steps up during the first seconds). Writes <out>/side-by-side.mp4 and <out>/contact-sheet.jpg.
"""
import json
import os
import sys

import cv2
import numpy as np

PANEL_W, PANEL_H, LABEL_H = 320, 180, 26


def read_y4m(path):
    with open(path, "rb") as f:
        data = f.read()
    header, rest = data.split(b"\n", 1)
    fields = {t[:1]: t[1:] for t in header.split()[1:]}
    w, h = int(fields[b"W"]), int(fields[b"H"])
    n = w * h * 3 // 2
    frames = []
    while rest.startswith(b"FRAME"):
        rest = rest.split(b"\n", 1)[1]
        yuv = np.frombuffer(rest[:n], np.uint8).reshape(h * 3 // 2, w)
        frames.append(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420))
        rest = rest[n:]
    return frames


def label(img, text):
    panel = cv2.resize(img, (PANEL_W, PANEL_H), interpolation=cv2.INTER_AREA)
    bar = np.full((LABEL_H, PANEL_W, 3), 245, np.uint8)
    cv2.putText(bar, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1, cv2.LINE_AA)
    return np.vstack([panel, bar])


def main(out, camera, runs):
    clip = read_y4m(camera)
    outputs = []
    for spec in runs:
        name, text = spec.split("=", 1)
        meta = json.load(open(os.path.join(out, name, "frames.json")))
        by_index = {}
        # frames.json is in arrival order: where the run read the clip more than once, the later
        # output of a camera frame wins (the filter past its warm-up, as a call sees it)
        for f in meta["frames"]:
            by_index[f["index"]] = f["file"]
        if not by_index:
            sys.exit(f"{name}: no output frame was matched to the camera")
        outputs.append((name, text, by_index))
    # The span every run covers (each read at least one loop of the clip).
    first = max(min(b) for _, _, b in outputs)
    last = len(clip) - 1
    if first > last:
        sys.exit("the runs share no moment of the clip")
    cache = {}

    def panel(name, by_index, i):
        have = [k for k in by_index if k <= i]
        k = max(have) if have else min(by_index)
        key = (name, k)
        if key not in cache:
            cache[key] = cv2.imread(os.path.join(out, name, by_index[k]))
        return cache[key]

    def row(i):
        cells = [label(clip[i], "camera")] + [label(panel(n, b, i), t) for n, t, b in outputs]
        return np.hstack(cells)

    size = row(first).shape[1::-1]
    video = cv2.VideoWriter(os.path.join(out, "side-by-side.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, size)
    for i in range(first, last + 1):
        video.write(row(i))
    video.release()
    # The sheet: the moment in the covered span where the runs' outputs are freshest.
    def staleness(i):
        return max(i - max([k for k in b if k <= i], default=-10**6) for _, _, b in outputs)
    best = min(range(first, last + 1), key=lambda i: (staleness(i), -i))
    cv2.imwrite(os.path.join(out, "contact-sheet.jpg"), row(best), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"{out}/side-by-side.mp4: camera frames {first}..{last}; {out}/contact-sheet.jpg: camera frame {best} "
          f"(outputs at most {staleness(best)} frames older)")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
