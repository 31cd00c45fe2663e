"""The popup's gallery thumbnails: one for every style and avatar of models/manifest.json, each
the output of that entry's own exported network on the sample portrait (training/thumbnails.py)."""
import os

import cv2
import numpy as np
import pytest

import thumbnails as T

ENTRIES = T.gallery_entries()
HAVE_DATA = os.path.exists(os.path.join(T.DATA, T.SAMPLE))


def read(entry):
    path = os.path.join(T.MODELS, entry["folder"], T.THUMB)
    assert os.path.exists(path), f"{entry['id']}: {path} is missing; run `npm run thumbnails`"
    return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)


def test_every_gallery_entry_has_a_thumbnail():
    assert {e["kind"] for e in ENTRIES} == {"style", "avatar"}
    for e in ENTRIES:
        assert e.get("thumbnail") == T.THUMB, f"{e['id']}: models/manifest.json names no thumbnail (run `npm run thumbnails`)"
        assert read(e).shape == (T.SIZE, T.SIZE, 3), e["id"]


@pytest.mark.skipif(not HAVE_DATA, reason="../shared/data is not here")
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_thumbnail_is_the_models_own_output(entry):
    rgb, eyes = T.sample_portrait()
    picture = T.model_input(entry["kind"], rgb, eyes)
    fresh = T.run_model(entry["folder"], picture)
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(fresh, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, T.JPEG_QUALITY])
    fresh = cv2.cvtColor(cv2.imdecode(jpg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32)
    stored = read(entry).astype(np.float32)
    # The same JPEG of the same output (float rounding may move a pixel by a level).
    assert np.abs(fresh - stored).mean() < 0.5, entry["id"]
    plain = cv2.resize(picture, (T.SIZE, T.SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    assert np.abs(plain - stored).mean() > 15.0, f"{entry['id']}: the thumbnail is the portrait itself, not painted"
    others = [o for o in ENTRIES if o["id"] != entry["id"]]
    assert all(np.abs(read(o).astype(np.float32) - stored).mean() > 5.0 for o in others), f"{entry['id']}: same as another entry's"


def test_unknown_id_is_named():
    with pytest.raises(SystemExit):
        T.main(["--only", "no-such-model"])
