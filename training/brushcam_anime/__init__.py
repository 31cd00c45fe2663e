"""Twin-GAN anime avatar translator: training, evaluation and export (see training/README-anime.md)."""
