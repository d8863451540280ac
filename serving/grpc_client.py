"""Client of TF Serving's gRPC API (tensorflow-serving-api PredictionService and ModelService).

Requests are built and validated by `serving.request` against the signature that
`GetModelMetadata` reports, the same builder the REST client uses. Server errors raise
`ServingError` with the gRPC status code name and the server's message.

Example:

  with GrpcClient('127.0.0.1:8500', 'ctr_deepfm') as client:
    client.predict(examples=[example.SerializeToString()])['click']     # [batch, 1]
"""

from typing import Any, Dict, Mapping, Optional, Sequence

import grpc
import numpy as np
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import prediction_service_pb2_grpc

from serving import request as request_lib
from serving import signatures as signatures_lib

DEFAULT_TIMEOUT_S = 30.0
# gRPC's default limit on received messages is 4 MiB, below a large batch's response.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class GrpcClient:
  """Calls one served model over gRPC.

  Args:
    address: HOST:PORT of the server's gRPC port, for example 127.0.0.1:8500.
    model_name: Served model name.
    version: Model version; None uses the server's latest.
    timeout_s: Deadline of each call in seconds.
    max_batch_size: Largest batch the client sends; None sets no client-side limit.
    max_message_bytes: Largest message sent or received.
  """

  def __init__(self, address: str, model_name: str, version: Optional[int] = None,
               timeout_s: float = DEFAULT_TIMEOUT_S, max_batch_size: Optional[int] = None,
               max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
    if ':' not in address:
      raise ValueError(f'address must be HOST:PORT, got {address!r}.')
    self.address = address
    self.model_name = model_name
    self.version = version
    self.timeout_s = timeout_s
    self.max_batch_size = max_batch_size
    self._channel = grpc.insecure_channel(
        address, options=[('grpc.max_send_message_length', max_message_bytes),
                          ('grpc.max_receive_message_length', max_message_bytes)])
    self._prediction = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
    self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)
    self._signatures: Optional[Dict[str, signatures_lib.SignatureSpec]] = None

  def close(self) -> None:
    self._channel.close()

  def __enter__(self) -> 'GrpcClient':
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()

  def _fill_model_spec(self, model_spec) -> None:
    model_spec.name = self.model_name
    if self.version is not None:
      model_spec.version.value = self.version

  def _call(self, method, request):
    try:
      return method(request, timeout=self.timeout_s)
    except grpc.RpcError as error:
      raise request_lib.ServingError(error.details() or str(error), error.code().name) from None

  def status(self) -> get_model_status_pb2.GetModelStatusResponse:
    """Returns ModelService.GetModelStatus for the model (and version, when set)."""
    request = get_model_status_pb2.GetModelStatusRequest()
    self._fill_model_spec(request.model_spec)
    return self._call(self._models.GetModelStatus, request)

  def metadata(self) -> get_model_metadata_pb2.GetModelMetadataResponse:
    """Returns PredictionService.GetModelMetadata with the signature_def field."""
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    self._fill_model_spec(request.model_spec)
    request.metadata_field.append('signature_def')
    return self._call(self._prediction.GetModelMetadata, request)

  def signatures(self) -> Dict[str, signatures_lib.SignatureSpec]:
    """Returns the model's signatures from GetModelMetadata (read once, then cached)."""
    if self._signatures is None:
      response = self.metadata()
      signature_map = get_model_metadata_pb2.SignatureDefMap()
      if not response.metadata['signature_def'].Unpack(signature_map):
        raise request_lib.ServingError('GetModelMetadata returned no SignatureDefMap.')
      self._signatures = signatures_lib.signatures_from_proto_map(signature_map.signature_def)
    return self._signatures

  def signature(self, name: str = request_lib.DEFAULT_SIGNATURE) -> signatures_lib.SignatureSpec:
    found = self.signatures().get(name)
    if found is None:
      raise request_lib.RequestError(f'model {self.model_name!r} has no signature {name!r}; it '
                                     f'has {sorted(self.signatures())}.')
    return found

  def build_request(self, features: Optional[Mapping[str, Any]] = None,
                    examples: Optional[Sequence[Any]] = None, k: Optional[int] = None,
                    signature_name: str = request_lib.DEFAULT_SIGNATURE
                    ) -> request_lib.PredictRequest:
    """Builds and validates a request against the served signature."""
    return request_lib.build_request(self.signature(signature_name), self.model_name,
                                     features=features, examples=examples, k=k,
                                     version=self.version, max_batch_size=self.max_batch_size)

  def predict_request(self, request: request_lib.PredictRequest) -> Dict[str, np.ndarray]:
    """Sends a built request and returns {output name: array}."""
    response = self._call(self._prediction.Predict, request_lib.encode_grpc_request(request))
    return request_lib.decode_grpc_response(response)

  def predict(self, features: Optional[Mapping[str, Any]] = None, *,
              examples: Optional[Sequence[Any]] = None, k: Optional[int] = None,
              signature_name: str = request_lib.DEFAULT_SIGNATURE) -> Dict[str, np.ndarray]:
    """Predicts from feature values or tf.Example protos.

    Raises:
      RequestError: The request does not fit the signature (nothing is sent).
      ServingError: The server returned an error; `.status` is the gRPC code name.
    """
    return self.predict_request(self.build_request(features, examples, k, signature_name))
