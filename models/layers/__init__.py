"""Reusable Keras layers shared by the CTR, multi-task and sequential models.

Import the module of the layer you need, for example `from models.layers import fm`.
"""
