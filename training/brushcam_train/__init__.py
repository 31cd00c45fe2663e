"""Brushcam style training: ReCoNet-family stylizers trained with a SqueezeNet loss network."""
