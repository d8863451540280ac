"""GRU4Rec: item embedding, stacked GRU layers, full-softmax head at every position."""

import tf_keras

from models import registry
from models.layers import checks
from models.layers.sequence import ItemScoringHead
from models.layers.sequence import SequenceEmbedding
from models.sequential import base


@tf_keras.utils.register_keras_serializable(package='tenrec')
class GRU4Rec(base.SequentialRecommender):
  """GRU4Rec as configured in the Tenrec benchmark.

  Embedding(V + 1, embedding_dim, zero padding row) -> Dropout -> num_layers stacked GRUs of
  width hidden_dim (each GRU layer is one encoder block) -> Dense(V + 1) at every position.
  The GRUs skip padding steps (Keras masking), so the state at the first real item starts
  from zero whatever the amount of left padding. A recurrent network is causal by
  construction.

  Example:

    model = GRU4Rec(num_items=100, max_len=20, num_layers=2).build_weights()
    logits = model(tf.constant([[0, 0, 5, 7] + [3] * 16]))  # shape [1, 20, 101]

  Args:
    num_items: V.
    max_len: Input length.
    embedding_dim: Item embedding width.
    hidden_dim: GRU width.
    num_layers: Number of stacked GRU layers.
    dropout: Dropout on the embeddings (no dropout between GRU layers).
    use_bias: Whether the GRUs have biases (the Tenrec reference GRUs have none).
    embeddings_stddev: Standard deviation of the normal embedding initialisation.
  """

  causal = True

  def __init__(self,
               num_items: int,
               max_len: int = 30,
               embedding_dim: int = 64,
               hidden_dim: int = 64,
               num_layers: int = 8,
               dropout: float = 0.3,
               use_bias: bool = False,
               embeddings_stddev: float = 1.0,
               **kwargs):
    kwargs.setdefault('name', 'gru4rec')
    super().__init__(num_items=num_items, max_len=max_len, **kwargs)
    self._store_config(
        num_items=num_items, max_len=max_len, embedding_dim=embedding_dim,
        hidden_dim=hidden_dim, num_layers=num_layers, dropout=dropout, use_bias=use_bias,
        embeddings_stddev=embeddings_stddev, name=self.name)
    hidden_dim = checks.positive_int('hidden_dim', hidden_dim)
    num_layers = checks.positive_int('num_layers', num_layers)
    use_bias = checks.boolean('use_bias', use_bias)

    self.embedding = SequenceEmbedding(
        vocab_size=self.num_items + 1, embedding_dim=embedding_dim, dropout=dropout,
        embeddings_stddev=embeddings_stddev, name='embedding')
    self.encoder = [
        tf_keras.layers.GRU(hidden_dim, return_sequences=True, use_bias=use_bias,
                            reset_after=True, name=f'gru_{index}')
        for index in range(num_layers)
    ]
    self.head = ItemScoringHead(self.num_items, name='head')

  def _encoder_context(self, item_ids):
    return item_ids != 0

  def _apply_block(self, block, hidden, context, training):
    return block(hidden, mask=context, training=training)


def build(feature_info, hparams) -> GRU4Rec:
  """Builds GRU4Rec from the task's FeatureInfo and resolved hyper-parameters."""
  base.check_training_hparams(hparams)
  kwargs = base.architecture_kwargs(hparams)
  num_items = base.num_items_from_feature_info(feature_info, kwargs['max_len'])
  return GRU4Rec(num_items=num_items, **kwargs).build_weights()


SPEC = registry.register_model(registry.ModelSpec(
    task='sbr',
    name='gru4rec',
    display_name='GRU4Rec',
    build=build,
    default_hparams={
        'max_len': 30,
        'embedding_dim': 64,
        'hidden_dim': 64,
        'num_layers': 8,
        'dropout': 0.3,
        'use_bias': False,
        'embeddings_stddev': 1.0,
        'learning_rate': 5e-4,
        'batch_size': 32,
        'epochs': 20,
        'weight_decay': 0.0,
    },
    description='GRU4Rec: stacked GRUs over the item sequence, next-item softmax.',
    paper_metrics={'HR@20': 0.04882, 'NDCG@20': 0.0192},
))
