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


def test_identity_proxies():
    from brushcam_anime.features import identity_boxes, identity_proxies
    n = 128
    bare = face()
    bridge, chin, hair = identity_boxes(n)
    glasses = bare.copy()
    x0, y0, x1, y1 = bridge
    glasses[(y0 + y1) // 2:(y0 + y1) // 2 + 2, x0:x1] = 0.1      # a frame's bridge: a dark horizontal bar
    assert identity_proxies(glasses)["glasses"] > 3 * identity_proxies(bare)["glasses"] + 0.5
    beard = bare.copy()
    beard[chin[1]:chin[3], chin[0]:chin[2]] = 0.2
    assert identity_proxies(beard)["beard"] > 0.9 and identity_proxies(bare)["beard"] == 0.0
    dark, blond = bare.copy(), bare.copy()
    for x0, y0, x1, y1 in hair:
        dark[y0:y1, x0:x1] = (0.1, 0.08, 0.07)
        blond[y0:y1, x0:x1] = (0.9, 0.75, 0.4)
    assert identity_proxies(dark)["hair_luma"] < 0.15 < 0.7 < identity_proxies(blond)["hair_luma"]
    assert identity_proxies(blond)["hair_warmth"] > 0.4 > 0.1 > identity_proxies(dark)["hair_warmth"]
