"""SavedModel export of a sequential recommender with serving signatures.

Signatures:

* `serving_default(examples)`: `examples` is a batch of serialized tf.Example protos with an
  int64 var-len feature `item_ids` (the user's history, oldest first). Returns
  `{'scores': float32 [batch, V + 1]}`, one logit per item index; column 0 is padding and
  is never a valid item.
* `top_k(item_ids, k)`: `item_ids` is an int64 [batch, L] matrix of histories in which 0 is
  padding. Zeros are dropped wherever they are, so left- and right-padding both work. `k` is
  an int32 scalar. Returns `{'item_ids': int64 [batch, k'], 'scores': float32 [batch, k']}`
  with k' = min(k, V), best first, padding excluded.

Both build the model input exactly as the trainer's evaluation does for the chosen read-out
(`inputs.build_eval_inputs_tf`), so served scores equal the evaluated scores.

Example:

  export_saved_model(model, '/tmp/sasrec/1')
  loaded = tf.saved_model.load('/tmp/sasrec/1')
  loaded.signatures['top_k'](item_ids=tf.constant([[3, 5, 8]], tf.int64),
                             k=tf.constant(10))
"""

import tensorflow as tf

from models.metrics import ranking
from models.sequential import inputs


class SequentialServingModule(tf.Module):
  """tf.Module wrapping a trained SequentialRecommender with its serving functions."""

  def __init__(self, model, readout: str = 'last'):
    super().__init__(name='sequential_serving')
    self.model = model
    self.readout = readout
    self._pooling = inputs.readout_pooling(readout)

  def _score_histories(self, histories: tf.RaggedTensor) -> tf.Tensor:
    model_inputs = inputs.build_eval_inputs_tf(
        histories, self.model.max_len, readout=self.readout,
        mask_token=self.model.mask_token)
    return self.model.score(model_inputs, pooling=self._pooling, training=False)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def serve_examples(self, examples):
    parsed = tf.io.parse_example(examples, {'item_ids': tf.io.VarLenFeature(tf.int64)})
    histories = tf.RaggedTensor.from_sparse(parsed['item_ids'])
    return {'scores': self._score_histories(histories)}

  @tf.function(input_signature=[
      tf.TensorSpec([None, None], tf.int64, name='item_ids'),
      tf.TensorSpec([], tf.int32, name='k'),
  ])
  def top_k(self, item_ids, k):
    histories = tf.ragged.boolean_mask(item_ids, tf.not_equal(item_ids, 0))
    scores = self._score_histories(histories)
    top_items, top_scores = ranking.top_k_items(scores, k)
    return {'item_ids': top_items, 'scores': top_scores}


def export_saved_model(model, export_dir: str, readout: str = 'last') -> str:
  """Saves `model` with the `serving_default` and `top_k` signatures; returns export_dir."""
  module = SequentialServingModule(model, readout=readout)
  signatures = {
      'serving_default': module.serve_examples.get_concrete_function(),
      'top_k': module.top_k.get_concrete_function(),
  }
  tf.saved_model.save(module, export_dir, signatures=signatures)
  return export_dir
