"""Writes the style configs (run once; the .toml files are the source of truth afterwards).

  /usr/bin/python3 training/configs/make_configs.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
STYLES = [
    ("starry_night", "paintings/starry_night.jpg", "The Starry Night", "Vincent van Gogh, 1889"),
    ("the_scream", "paintings/the_scream.jpg", "The Scream", "Edvard Munch, 1893"),
    ("great_wave", "paintings/great_wave.jpg", "The Great Wave off Kanagawa", "Katsushika Hokusai, c. 1831"),
    ("udnie", "paintings/udnie.jpg", "Udnie", "Francis Picabia, 1913"),
    ("composition_vii", "paintings/composition_vii.jpg", "Composition VII", "Wassily Kandinsky, 1913"),
]
BODY = '''arch = "lite"             # ReCoNetLite: 16/32/64, depthwise-separable, 4.76 GFLOP @640x360

[data]
crop = 192                # CPU budget (1 thread); use 256 on a GPU
batch = 2                 # pairs per step; each pair = 2 frames through the net (synergic)
real_fraction = 0.2       # share of pairs from DIS flow on video/scenes/* and movie-hello.mp4
style_size = 512          # long side of the style image given to the loss net

[loss]
content = 1.0             # relative fire3 feature error
style = 4.0               # mean relative Gram error over relu1, fire3, fire5, fire7 (8 erased faces by step 500)
tv = 0.01
temporal = {temporal}
temporal_output = 100.0   # ReCoNet output-level loss with luminance term
temporal_feature = 1.0    # relative feature-level loss on the encoder output

[train]
steps = {steps}
lr = 1e-3
lr_final = 2e-4
decay_from = 0.7
log_every = 20
ckpt_every = 100
seed = 0
milestones = {milestones}
'''


def entry(sid, img, title, artist):
    return f'\n[[styles]]\nid = "{sid}"\nimage = "{img}"\ntitle = "{title}"\nartist = "{artist}"\nweight = 1.0\n'


def write(name, header, styles, temporal, steps, milestones):
    text = header + "\n" + BODY.format(temporal=temporal, steps=steps, milestones=milestones)
    text += "".join(entry(*s) for s in styles)
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)


if __name__ == "__main__":
    JOINT_STEPS = 3200
    write("paintings5.toml",
          '# SHIPPED RUN: the five painting styles in one network with conditional instance norm\n'
          '# (shared convs, per-style norm affine); export.py writes each style as its own model.\n'
          'id = "paintings5"', STYLES, "true", JOINT_STEPS, [800, 1700])
    write("paintings5_notemporal.toml",
          '# Baseline for the temporal losses: identical to paintings5 but trained without them\n'
          '# (they are still logged). Compare against paintings5/ckpt_800.pt at equal steps.\n'
          'id = "paintings5_notemporal"', STYLES, "false", 800, [])
    for s in STYLES:
        write(f"{s[0]}.toml",
              f'# Single-style config for {s[2]} ({s[3]}). The shipped {s[0]} model comes from the\n'
              f'# joint run paintings5.toml (same losses, conditional instance norm); use this file\n'
              f'# to train the style on its own when more compute is available (e.g. --device cuda).\n'
              f'id = "{s[0]}"', [s], "true", 4000, [])
    write("starry_night_notemporal.toml",
          '# Single-style baseline without temporal losses (for comparison with starry_night.toml).\n'
          'id = "starry_night_notemporal"', [STYLES[0]], "false", 4000, [])
