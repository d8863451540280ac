"""Shared structure of SASRec and BERT4Rec: embedding with positions, transformer blocks."""

from typing import Optional

from models.layers import checks
from models.layers.sequence import ItemScoringHead
from models.layers.sequence import SequenceEmbedding
from models.layers.sequence import TransformerBlock
from models.layers.sequence import self_attention_mask
from models.sequential import base


class TransformerRecommender(base.SequentialRecommender):
  """Embedding (items + learned positions, dropout) -> pre-LN blocks -> [LayerNorm] -> head.

  Every block attends with `self_attention_mask(item_ids, causal=self.causal)`: padding keys
  are hidden and, when causal, future keys too. Subclasses may add a mask token to the input
  vocabulary by overriding `mask_token`.

  Args:
    num_items: V.
    max_len: Input length and number of learned positions.
    hidden_dim: Model width (embedding, attention, residual stream).
    num_blocks: Number of transformer blocks.
    num_heads: Attention heads per block.
    ffn_dim: Feed-forward width; None for 4 * hidden_dim.
    dropout: Dropout on the embeddings, attention probabilities, residual branches, the
      feed-forward layer and each block output.
    final_layer_norm: Whether to apply a LayerNorm after the last block. Pre-LN stacks
      usually end with one; the Tenrec reference models do not.
    tie_output: Whether the head reuses the item embedding table (plus its own bias).
    layer_norm_epsilon: Epsilon of every LayerNorm.
    embeddings_stddev: Standard deviation of the normal initialisation of the item and
      position tables.
    causal: Whether query t may only attend to keys at positions <= t.
  """

  def __init__(self,
               num_items: int,
               max_len: int,
               hidden_dim: int,
               num_blocks: int,
               num_heads: int,
               ffn_dim: Optional[int],
               dropout: float,
               final_layer_norm: bool,
               tie_output: bool,
               layer_norm_epsilon: float,
               embeddings_stddev: float,
               causal: bool,
               **kwargs):
    super().__init__(num_items=num_items, max_len=max_len, **kwargs)
    self.causal = checks.boolean('causal', causal)
    num_blocks = checks.positive_int('num_blocks', num_blocks)
    tie_output = checks.boolean('tie_output', tie_output)

    self.embedding = SequenceEmbedding(
        vocab_size=self.input_vocab_size, embedding_dim=hidden_dim, max_len=self.max_len,
        dropout=dropout, embeddings_stddev=embeddings_stddev, name='embedding')
    self.encoder = [
        TransformerBlock(hidden_dim=hidden_dim, num_heads=num_heads, ffn_dim=ffn_dim,
                         dropout=dropout, layer_norm_epsilon=layer_norm_epsilon,
                         name=f'block_{index}')
        for index in range(num_blocks)
    ]
    self.encoder_norm = base.layer_norm_or_none(final_layer_norm, layer_norm_epsilon,
                                                'encoder_norm')
    self.head = ItemScoringHead(self.num_items, tied_embedding=(
        self.embedding if tie_output else None), name='head')

  def _encoder_context(self, item_ids):
    return self_attention_mask(item_ids, causal=self.causal)

  def _apply_block(self, block, hidden, context, training):
    return block(hidden, attention_mask=context, training=training)
