"""Layers of the sequential recommenders.

* `embedding.SequenceEmbedding`: item embedding with a zero padding row, optional learned
  positions, dropout.
* `transformer.TransformerBlock` and `transformer.self_attention_mask`: pre-LayerNorm encoder
  block with causal and key-padding masks (SASRec, BERT4Rec).
* `nextitnet_block.DilatedResidualBlock`: residual block of two dilated causal convolutions
  (NextItNet).
* `head.ItemScoringHead`: output layer over the item indices 0..V, optionally tied to the input
  embedding.
"""

from models.layers.sequence.embedding import SequenceEmbedding
from models.layers.sequence.head import ItemScoringHead
from models.layers.sequence.nextitnet_block import DilatedResidualBlock
from models.layers.sequence.transformer import TransformerBlock
from models.layers.sequence.transformer import self_attention_mask

__all__ = [
    'DilatedResidualBlock',
    'ItemScoringHead',
    'SequenceEmbedding',
    'TransformerBlock',
    'self_attention_mask',
]
