"""TensorFlow Transform preprocessing functions and the feature descriptions they produce."""
