"""Beam task-dataset builders: Tenrec raw files in, TFRecord splits of tf.Example out."""
