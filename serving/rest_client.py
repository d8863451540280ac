"""Client of TF Serving's REST API (`/v1/models/NAME[/versions/V]:predict` and friends).

Requests are built and validated by `serving.request` against the signature that the server
reports in its metadata, so a wrong input fails in the client before anything is sent. Server
errors raise `ServingError` with the server's own message.

Example:

  client = RestClient('http://127.0.0.1:8501', 'ctr_deepfm')
  client.predict(examples=[example.SerializeToString()])['click']       # [batch, 1]
  client.predict({'user_id': [3], 'item_id': [7], ...}, signature_name='serving_raw')
  client.predict({'item_ids': [[3, 5, 8]]}, k=10, signature_name='top_k')
"""

import json
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np
import requests

from serving import request as request_lib
from serving import signatures as signatures_lib

DEFAULT_TIMEOUT_S = 30.0


class RestClient:
  """Calls one served model over REST.

  Args:
    url: Server root, for example http://127.0.0.1:8501.
    model_name: Served model name.
    version: Model version; None uses the server's latest.
    timeout_s: Seconds to wait for each response.
    max_batch_size: Largest batch the client sends; None sets no client-side limit.
    session: A requests.Session to reuse (keeps the HTTP connection alive between calls).
  """

  def __init__(self, url: str, model_name: str, version: Optional[int] = None,
               timeout_s: float = DEFAULT_TIMEOUT_S, max_batch_size: Optional[int] = None,
               session: Optional[requests.Session] = None):
    if not url.startswith(('http://', 'https://')):
      raise ValueError(f'url must start with http:// or https://, got {url!r}.')
    self.url = url.rstrip('/')
    self.model_name = model_name
    self.version = version
    self.timeout_s = timeout_s
    self.max_batch_size = max_batch_size
    self._session = session or requests.Session()
    self._signatures: Optional[Dict[str, signatures_lib.SignatureSpec]] = None

  @property
  def model_url(self) -> str:
    path = f'{self.url}/v1/models/{self.model_name}'
    return path if self.version is None else f'{path}/versions/{self.version}'

  def close(self) -> None:
    self._session.close()

  def __enter__(self) -> 'RestClient':
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()

  def _call(self, method: str, url: str, body: Optional[bytes] = None) -> Any:
    try:
      response = self._session.request(
          method, url, data=body, timeout=self.timeout_s,
          headers={'Content-Type': 'application/json'} if body is not None else None)
    except requests.RequestException as error:
      raise request_lib.ServingError(f'{method} {url} failed: {error}', 'UNAVAILABLE') from None
    try:
      payload = response.json()
    except ValueError:
      payload = None
    if response.status_code != 200:
      message = (payload.get('error') if isinstance(payload, dict) and 'error' in payload
                 else response.text[:500])
      raise request_lib.ServingError(str(message), response.status_code)
    if payload is None:
      raise request_lib.ServingError(f'{method} {url} returned a body that is not JSON: '
                                     f'{response.text[:200]!r}', response.status_code)
    return payload

  def status(self) -> Dict[str, Any]:
    """Returns `GET /v1/models/NAME[/versions/V]`: {'model_version_status': [...]}."""
    return self._call('GET', self.model_url)

  def metadata(self) -> Dict[str, Any]:
    """Returns `GET .../metadata`: the model spec and its SignatureDefMap as JSON."""
    return self._call('GET', f'{self.model_url}/metadata')

  def signatures(self) -> Dict[str, signatures_lib.SignatureSpec]:
    """Returns the model's signatures from the metadata endpoint (read once, then cached)."""
    if self._signatures is None:
      self._signatures = signatures_lib.signatures_from_metadata_json(self.metadata())
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

  def predict_request(self, request: request_lib.PredictRequest,
                      request_format: str = request_lib.COLUMNAR) -> Dict[str, np.ndarray]:
    """Sends a built request and returns {output name: array}."""
    body = json.dumps(request_lib.encode_rest_body(request, request_format)).encode('utf-8')
    payload = self._call('POST', f'{self.model_url}:predict', body)
    return request_lib.decode_rest_response(payload, self.signature(request.signature_name))

  def predict(self, features: Optional[Mapping[str, Any]] = None, *,
              examples: Optional[Sequence[Any]] = None, k: Optional[int] = None,
              signature_name: str = request_lib.DEFAULT_SIGNATURE,
              request_format: str = request_lib.COLUMNAR) -> Dict[str, np.ndarray]:
    """Predicts from feature values or tf.Example protos.

    Args:
      features: Input name -> values, for signatures that take tensors.
      examples: tf.train.Example protos or serialized bytes, for `serving_default`.
      k: List length of a top-k signature.
      signature_name: Signature to call.
      request_format: 'columnar' (`inputs`) or 'row' (`instances`).

    Raises:
      RequestError: The request does not fit the signature (nothing is sent).
      ServingError: The server returned an error; `.message` is the server's message.
    """
    request = self.build_request(features, examples, k, signature_name)
    return self.predict_request(request, request_format)
