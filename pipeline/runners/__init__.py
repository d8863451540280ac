"""Runners of the tenrec TFX pipelines: local (LocalDagRunner) and Kubeflow Pipelines v2."""
