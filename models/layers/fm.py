"""Factorization-machine interactions: the FM term (DeepFM) and bi-interaction pooling (NFM)."""

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package='tenrec')
class FMInteraction(keras.layers.Layer):
  """Second-order factorization-machine term over field embeddings.

  For field embeddings e_1..e_F in R^d,

    FM(e) = sum_{i<j} <e_i, e_j> = 1/2 * sum_k [(sum_i e_{i,k})^2 - sum_i e_{i,k}^2],

  computed in O(F d) with the right-hand identity.

  Input shape: [batch, F, d]; output shape: [batch, 1].

  Example:

    fm = FMInteraction()
    fm(tf.constant([[[1.0, 2.0], [3.0, 4.0]]]))  # [[11.0]] = 1*3 + 2*4
  """

  def call(self, inputs):
    square_of_sum = tf.square(tf.reduce_sum(inputs, axis=1))
    sum_of_square = tf.reduce_sum(tf.square(inputs), axis=1)
    return 0.5 * tf.reduce_sum(square_of_sum - sum_of_square, axis=1, keepdims=True)

  def compute_output_shape(self, input_shape):
    return tf.TensorShape([input_shape[0], 1])


@keras.utils.register_keras_serializable(package='tenrec')
class BiInteractionPooling(keras.layers.Layer):
  """Bi-interaction pooling of NFM (He and Chua, SIGIR 2017).

    BI(e) = sum_{i<j} e_i * e_j = 1/2 * [(sum_i e_i)^2 - sum_i e_i^2]   (element-wise)

  Input shape: [batch, F, d]; output shape: [batch, d].

  Example:

    bi = BiInteractionPooling()
    bi(tf.constant([[[1.0, 2.0], [3.0, 4.0]]]))  # [[3.0, 8.0]]
  """

  def call(self, inputs):
    square_of_sum = tf.square(tf.reduce_sum(inputs, axis=1))
    sum_of_square = tf.reduce_sum(tf.square(inputs), axis=1)
    return 0.5 * (square_of_sum - sum_of_square)

  def compute_output_shape(self, input_shape):
    return tf.TensorShape([input_shape[0], input_shape[2]])
