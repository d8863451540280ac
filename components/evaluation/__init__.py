"""TFX components that evaluate trained models outside TFMA (full-ranking metrics)."""
