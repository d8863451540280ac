"""BERT4Rec: bidirectional self-attention trained to recover masked items."""

from typing import Optional

import tf_keras

from models import registry
from models.sequential import base
from models.sequential import transformer_base


@tf_keras.utils.register_keras_serializable(package='tenrec')
class BERT4Rec(transformer_base.TransformerRecommender):
  """BERT4Rec with its own learned [MASK] token.

  Input ids: 0 = padding, 1..V = items, V + 1 = [MASK], so the embedding has V + 2 rows and
  the head scores the V + 1 indices 0..V. Attention is bidirectional with a key-padding
  mask; [MASK] positions are ordinary keys. Training inputs come from
  `inputs.mask_items` (labels only at selected positions); at evaluation a [MASK] slot is
  appended after the history and its output is ranked.

  The Tenrec reference BERT4Rec used the padding id 0 as its mask token. Its masked positions
  therefore carried only a position embedding and were hidden from every other position. The
  distinct token removes both effects.

  Example:

    model = BERT4Rec(num_items=100, max_len=20, num_blocks=1).build_weights()
    logits = model(tf.constant([[0, 0, 5, 7] + [3] * 15 + [101]]))  # shape [1, 20, 101]

  Args: see TransformerRecommender, plus
    mask_prob: Probability that a training position is selected for prediction (read by the
      trainer; stored here so that it travels with the model configuration).
  """

  def __init__(self,
               num_items: int,
               max_len: int = 30,
               hidden_dim: int = 128,
               num_blocks: int = 16,
               num_heads: int = 4,
               ffn_dim: Optional[int] = None,
               dropout: float = 0.3,
               mask_prob: float = 0.3,
               final_layer_norm: bool = True,
               tie_output: bool = False,
               layer_norm_epsilon: float = 1e-5,
               embeddings_stddev: float = 1.0,
               **kwargs):
    kwargs.setdefault('name', 'bert4rec')
    super().__init__(
        num_items=num_items, max_len=max_len, hidden_dim=hidden_dim, num_blocks=num_blocks,
        num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout,
        final_layer_norm=final_layer_norm, tie_output=tie_output,
        layer_norm_epsilon=layer_norm_epsilon, embeddings_stddev=embeddings_stddev,
        causal=False, **kwargs)
    if not 0 < mask_prob <= 1:
      raise ValueError(f'mask_prob must be in (0, 1], got {mask_prob!r}.')
    self.mask_prob = float(mask_prob)
    self._store_config(
        num_items=num_items, max_len=max_len, hidden_dim=hidden_dim, num_blocks=num_blocks,
        num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout, mask_prob=mask_prob,
        final_layer_norm=final_layer_norm, tie_output=tie_output,
        layer_norm_epsilon=layer_norm_epsilon, embeddings_stddev=embeddings_stddev,
        name=self.name)

  @property
  def mask_token(self) -> int:
    return self.num_items + 1


def build(feature_info, hparams) -> BERT4Rec:
  """Builds BERT4Rec from the task's FeatureInfo and resolved hyper-parameters."""
  base.check_training_hparams(hparams)
  kwargs = base.architecture_kwargs(hparams)
  num_items = base.num_items_from_feature_info(feature_info, kwargs['max_len'])
  return BERT4Rec(num_items=num_items, **kwargs).build_weights()


SPEC = registry.register_model(registry.ModelSpec(
    task='sbr',
    name='bert4rec',
    display_name='BERT4Rec',
    build=build,
    default_hparams={
        'max_len': 30,
        'hidden_dim': 128,
        'num_blocks': 16,
        'num_heads': 4,
        'ffn_dim': 512,
        'dropout': 0.3,
        'mask_prob': 0.3,
        'final_layer_norm': True,
        'tie_output': False,
        'layer_norm_epsilon': 1e-5,
        'embeddings_stddev': 1.0,
        'learning_rate': 1e-4,
        'batch_size': 32,
        'epochs': 20,
        'weight_decay': 0.0,
    },
    description='BERT4Rec: bidirectional self-attention, masked-item training.',
    paper_metrics={'HR@20': 0.04902, 'NDCG@20': 0.0185},
))
