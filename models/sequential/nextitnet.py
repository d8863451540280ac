"""NextItNet: stacked dilated causal convolution blocks over the item sequence."""

from typing import Sequence

import tf_keras

from models import registry
from models.layers import checks
from models.layers.sequence import DilatedResidualBlock
from models.layers.sequence import ItemScoringHead
from models.layers.sequence import SequenceEmbedding
from models.sequential import base


@tf_keras.utils.register_keras_serializable(package='tenrec')
class NextItNet(base.SequentialRecommender):
  """NextItNet as configured in the Tenrec benchmark.

  Embedding(V + 1, embedding_dim, zero padding row) -> residual blocks -> Dense(V + 1) at
  every position. The dilation list is repeated block_num times and each entry δ gives one
  DilatedResidualBlock (convolutions with dilations δ and 2δ), so dilations [1, 4] with
  block_num 8 give 16 blocks with inner dilations (1, 2), (4, 8), (1, 2), ... Every
  convolution is causal, so the model is causal. There is no dropout.

  Example:

    model = NextItNet(num_items=100, max_len=20, block_num=1).build_weights()
    logits = model(tf.constant([[0, 0, 5, 7] + [3] * 16]))  # shape [1, 20, 101]

  Args:
    num_items: V.
    max_len: Input length.
    embedding_dim: Width of the embedding and of every convolution (channels).
    dilations: Dilations δ of the first convolution of consecutive blocks.
    block_num: How many times the dilation list is repeated.
    kernel_size: Convolution width.
    layer_norm_epsilon: Epsilon of the LayerNorms inside the blocks.
    embeddings_stddev: Standard deviation of the normal embedding initialisation.
  """

  causal = True

  def __init__(self,
               num_items: int,
               max_len: int = 30,
               embedding_dim: int = 128,
               dilations: Sequence[int] = (1, 4),
               block_num: int = 8,
               kernel_size: int = 3,
               layer_norm_epsilon: float = 1e-8,
               embeddings_stddev: float = 1.0,
               **kwargs):
    kwargs.setdefault('name', 'nextitnet')
    super().__init__(num_items=num_items, max_len=max_len, **kwargs)
    dilations = checks.units('dilations', dilations)
    block_num = checks.positive_int('block_num', block_num)
    self._store_config(
        num_items=num_items, max_len=max_len, embedding_dim=embedding_dim,
        dilations=list(dilations), block_num=block_num, kernel_size=kernel_size,
        layer_norm_epsilon=layer_norm_epsilon, embeddings_stddev=embeddings_stddev,
        name=self.name)

    self.embedding = SequenceEmbedding(
        vocab_size=self.num_items + 1, embedding_dim=embedding_dim,
        embeddings_stddev=embeddings_stddev, name='embedding')
    self.encoder = [
        DilatedResidualBlock(channels=embedding_dim, dilation=dilation,
                             kernel_size=kernel_size, layer_norm_epsilon=layer_norm_epsilon,
                             name=f'block_{index}')
        for index, dilation in enumerate(list(dilations) * block_num)
    ]
    self.head = ItemScoringHead(self.num_items, name='head')


def build(feature_info, hparams) -> NextItNet:
  """Builds NextItNet from the task's FeatureInfo and resolved hyper-parameters."""
  base.check_training_hparams(hparams)
  kwargs = base.architecture_kwargs(hparams)
  num_items = base.num_items_from_feature_info(feature_info, kwargs['max_len'])
  return NextItNet(num_items=num_items, **kwargs).build_weights()


SPEC = registry.register_model(registry.ModelSpec(
    task='sbr',
    name='nextitnet',
    display_name='NextItNet',
    build=build,
    default_hparams={
        'max_len': 30,
        'embedding_dim': 128,
        'dilations': (1, 4),
        'block_num': 8,
        'kernel_size': 3,
        'layer_norm_epsilon': 1e-8,
        'embeddings_stddev': 1.0,
        'learning_rate': 1e-4,
        'batch_size': 32,
        'epochs': 20,
        'weight_decay': 0.0,
    },
    description='NextItNet: dilated causal convolution blocks, next-item softmax.',
    paper_metrics={'HR@20': 0.05112, 'NDCG@20': 0.0199},
))
