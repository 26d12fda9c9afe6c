"""Breastscan research and training pipeline (TensorFlow/Keras). Never imported by the service."""
