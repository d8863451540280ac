"""SASRec: causal self-attention over the item sequence, next-item softmax."""

from typing import Optional

import tf_keras

from models import registry
from models.sequential import base
from models.sequential import transformer_base


@tf_keras.utils.register_keras_serializable(package='tenrec')
class SASRec(transformer_base.TransformerRecommender):
  """SASRec as configured in the Tenrec benchmark, with a causal attention mask.

  Embedding(V + 1, hidden_dim) + learned positions -> Dropout -> num_blocks pre-LN
  transformer blocks (causal and key-padding masks) -> optional LayerNorm -> Dense(V + 1) at
  every position. With causal=True the output at position t depends only on items at
  positions <= t. causal=False reproduces the bidirectional SASRec that the published Tenrec
  numbers were produced with: it is trained on next-item labels while attending to them, so
  it leaks labels and is for comparison only.

  Example:

    model = SASRec(num_items=100, max_len=20, num_blocks=1).build_weights()
    logits = model(tf.constant([[0, 0, 5, 7] + [3] * 16]))  # shape [1, 20, 101]

  Args: see TransformerRecommender, plus
    causal: Whether to apply the causal mask.
  """

  def __init__(self,
               num_items: int,
               max_len: int = 30,
               hidden_dim: int = 64,
               num_blocks: int = 8,
               num_heads: int = 4,
               ffn_dim: Optional[int] = None,
               dropout: float = 0.3,
               final_layer_norm: bool = True,
               tie_output: bool = False,
               causal: bool = True,
               layer_norm_epsilon: float = 1e-5,
               embeddings_stddev: float = 1.0,
               **kwargs):
    kwargs.setdefault('name', 'sasrec')
    super().__init__(
        num_items=num_items, max_len=max_len, hidden_dim=hidden_dim, num_blocks=num_blocks,
        num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout,
        final_layer_norm=final_layer_norm, tie_output=tie_output,
        layer_norm_epsilon=layer_norm_epsilon, embeddings_stddev=embeddings_stddev,
        causal=causal, **kwargs)
    self._store_config(
        num_items=num_items, max_len=max_len, hidden_dim=hidden_dim, num_blocks=num_blocks,
        num_heads=num_heads, ffn_dim=ffn_dim, dropout=dropout,
        final_layer_norm=final_layer_norm, tie_output=tie_output, causal=causal,
        layer_norm_epsilon=layer_norm_epsilon, embeddings_stddev=embeddings_stddev,
        name=self.name)


def build(feature_info, hparams) -> SASRec:
  """Builds SASRec from the task's FeatureInfo and resolved hyper-parameters."""
  base.check_training_hparams(hparams)
  kwargs = base.architecture_kwargs(hparams)
  num_items = base.num_items_from_feature_info(feature_info, kwargs['max_len'])
  return SASRec(num_items=num_items, **kwargs).build_weights()


SPEC = registry.register_model(registry.ModelSpec(
    task='sbr',
    name='sasrec',
    display_name='SASRec',
    build=build,
    default_hparams={
        'max_len': 30,
        'hidden_dim': 64,
        'num_blocks': 8,
        'num_heads': 4,
        'ffn_dim': 256,
        'dropout': 0.3,
        'final_layer_norm': True,
        'tie_output': False,
        'causal': True,
        'layer_norm_epsilon': 1e-5,
        'embeddings_stddev': 1.0,
        'learning_rate': 1e-4,
        'batch_size': 32,
        'epochs': 20,
        'weight_decay': 0.0,
    },
    description='SASRec: causal self-attention blocks, next-item softmax.',
    paper_metrics={'HR@20': 0.05017, 'NDCG@20': 0.0194},
))
