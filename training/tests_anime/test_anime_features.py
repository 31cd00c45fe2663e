import numpy as np

from brushcam_anime.features import boxes, carried, proxies


def face(mouth_open=0.0, eyes_open=1.0, n=128):
    """A flat skin-coloured crop with dark eyes and a mouth opened by the given fraction of its box."""
    img = np.full((n, n, 3), (0.85, 0.7, 0.6), np.float32)
    mouth, eyes, _ = boxes(n)
    for x0, y0, x1, y1 in eyes:
        h = int(round((y1 - y0) * eyes_open))
        img[(y0 + y1 - h) // 2:(y0 + y1 + h) // 2, x0:x1] = 0.1
    x0, y0, x1, y1 = mouth
    h = max(1, int(round((y1 - y0) * mouth_open)))
    img[(y0 + y1 - h) // 2:(y0 + y1 + h) // 2, x0 + 2:x1 - 2] = 0.15
    return img


def test_proxies_follow_mouth_and_eyes():
    shut, half, wide = (proxies(face(m)) for m in (0.0, 0.5, 1.0))
    assert shut["mouth"] < half["mouth"] < wide["mouth"]
    assert proxies(face(eyes_open=0.2))["eyes"] < proxies(face(eyes_open=1.0))["eyes"]


def test_carried_over_measures():
    a = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7]
    assert carried(a, [2 * v for v in a]) == {"spearman": 1.0, "median_split_agreement": 1.0}
    assert carried(a, [-v for v in a])["spearman"] == -1.0
    assert carried(a, [1.0] * len(a))["spearman"] is None     # an avatar that never moves carries nothing
