"""Predict requests: one builder and validator shared by both clients and the test double.

A `PredictRequest` contains NumPy arrays that already match a signature (dtype, rank, fixed sizes,
one batch size). It is built from feature values or serialized tf.Example protos by
`build_request`, which validates:

* unknown inputs (not in the signature) and missing inputs;
* dtypes: ints for integer inputs (no floats, booleans or strings), numbers for float inputs,
  bytes or text for string inputs;
* shapes: the signature's rank and fixed sizes, and one batch size shared by every batched
  input (rows of different lengths are rejected, not padded);
* the batch size: at least 1 and at most `max_batch_size` when one is set;
* `k` of a top-k signature: a scalar integer of at least 1 (at most `max_k` when set).

The same checks run on the server side of the test double (`validate_inputs`), after decoding
a REST body or a gRPC PredictRequest, so clients and server reject the same requests.

Wire formats follow TF Serving 2.x:

* REST: `{"signature_name": S, "inputs": {name: values}}` (columnar) or
  `{"signature_name": S, "instances": [{name: value}, ...]}` (row). Bytes travel as
  `{"b64": base64 text}`. Responses are `{"outputs": ...}` or `{"predictions": [...]}`;
  errors are `{"error": message}`.
* gRPC: `tensorflow.serving.PredictRequest` with one TensorProto per input.

Example:

  request = build_request(signature, 'ctr_deepfm', examples=[example.SerializeToString()])
  body = encode_rest_body(request)            # for POST /v1/models/ctr_deepfm:predict
  proto = encode_grpc_request(request)        # for PredictionService.Predict
"""

import base64
import dataclasses
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from serving import signatures as signatures_lib

DEFAULT_SIGNATURE = 'serving_default'
COLUMNAR = 'columnar'
ROW = 'row'
REQUEST_FORMATS = (COLUMNAR, ROW)
# Largest tensor a decoded gRPC request may expand to (64 Mi elements, 512 MiB as int64).
DEFAULT_MAX_TENSOR_ELEMENTS = 64 * 1024 * 1024
# Name of the scalar input that sets the list length of a top-k signature.
TOP_K_INPUT = 'k'

_INTEGER_DTYPES = {
    'DT_INT8': np.int8, 'DT_INT16': np.int16, 'DT_INT32': np.int32, 'DT_INT64': np.int64,
    'DT_UINT8': np.uint8, 'DT_UINT16': np.uint16, 'DT_UINT32': np.uint32,
    'DT_UINT64': np.uint64,
}
_FLOAT_DTYPES = {'DT_HALF': np.float16, 'DT_FLOAT': np.float32, 'DT_DOUBLE': np.float64}


class RequestError(ValueError):
  """A predict request that does not fit the signature (HTTP 400, gRPC INVALID_ARGUMENT)."""


class ServingError(RuntimeError):
  """An error response from a model server.

  Attributes:
    message: The server's error message.
    status: HTTP status code (REST) or gRPC status code name, for example 'INVALID_ARGUMENT'.
  """

  def __init__(self, message: str, status: Any = None):
    super().__init__(f'{message} (status {status})' if status is not None else message)
    self.message = message
    self.status = status


@dataclasses.dataclass
class PredictRequest:
  """A validated predict request.

  Attributes:
    model_name: Served model name.
    signature_name: Signature to run.
    inputs: Input name -> array with the signature's NumPy dtype (bytes objects for strings).
    batch_size: Size of the batch dimension shared by the batched inputs.
    version: Model version, or None for the server's latest.
  """

  model_name: str
  signature_name: str
  inputs: Dict[str, np.ndarray]
  batch_size: int
  version: Optional[int] = None


def numpy_dtype(dtype: str):
  """Returns the NumPy dtype of a TensorFlow dtype name (`object` for DT_STRING)."""
  if dtype in _INTEGER_DTYPES:
    return _INTEGER_DTYPES[dtype]
  if dtype in _FLOAT_DTYPES:
    return _FLOAT_DTYPES[dtype]
  if dtype == 'DT_BOOL':
    return np.bool_
  if dtype == 'DT_STRING':
    return object
  raise RequestError(f'dtype {dtype} is not supported by the tenrec serving clients; supported: '
                     f'{sorted(_INTEGER_DTYPES) + sorted(_FLOAT_DTYPES)} DT_BOOL DT_STRING.')


def _as_array(name: str, value: Any) -> np.ndarray:
  if isinstance(value, np.ndarray):
    return value
  try:
    return np.asarray(value)
  except ValueError as error:
    raise RequestError(f'input {name!r} has rows of different lengths (a ragged value); send '
                       f'one rectangular array per input, padded where the model expects '
                       f'padding ({error}).') from None


def convert_input(name: str, value: Any, info: signatures_lib.TensorInfo) -> np.ndarray:
  """Converts one input value to the signature dtype, or raises RequestError.

  Integers must be integers (floats such as 3.0 are rejected because they usually mean a wrong
  column), float inputs accept integers and floats, string inputs accept bytes and text (text is
  UTF-8 encoded). Values that do not fit the integer dtype are rejected. Pass bytes as lists or
  object arrays: a fixed-width NumPy bytes array (dtype 'S') has already lost trailing NUL
  bytes.
  """
  if info.dtype == 'DT_STRING':
    # np.asarray would make a fixed-width bytes array, which drops trailing NUL bytes (a
    # serialized tf.Example can end in one); an object array keeps every byte.
    array = value if isinstance(value, np.ndarray) else np.array(value, dtype=object)
    return _to_bytes_array(name, array)
  array = _as_array(name, value)
  kind = array.dtype.kind

  if info.dtype in _INTEGER_DTYPES:
    target = np.dtype(_INTEGER_DTYPES[info.dtype])
    if kind not in 'iu':
      raise RequestError(f'input {name!r} must be {info.dtype} integers, got '
                         f'{_describe_dtype(array)}.')
    if array.size:
      limits = np.iinfo(target)
      low, high = array.min(), array.max()
      if low < limits.min or high > limits.max:
        raise RequestError(f'input {name!r} has value {low if low < limits.min else high} '
                           f'outside the {info.dtype} range [{limits.min}, {limits.max}].')
    return array.astype(target, copy=False)

  if info.dtype in _FLOAT_DTYPES:
    if kind not in 'iuf':
      raise RequestError(f'input {name!r} must be {info.dtype} numbers, got '
                         f'{_describe_dtype(array)}.')
    return array.astype(_FLOAT_DTYPES[info.dtype], copy=False)

  if info.dtype == 'DT_BOOL':
    if kind != 'b':
      raise RequestError(f'input {name!r} must be booleans, got {_describe_dtype(array)}.')
    return array

  raise RequestError(f'input {name!r} has dtype {info.dtype}, which the tenrec serving clients '
                     'do not support.')


def _describe_dtype(array: np.ndarray) -> str:
  if array.dtype.kind == 'O':
    kinds = sorted({type(v).__name__ for v in array.reshape(-1)[:20]})
    return 'values of type ' + ', '.join(kinds)
  names = {'b': 'booleans', 'f': 'floats', 'U': 'strings', 'S': 'bytes', 'i': 'integers',
           'u': 'unsigned integers', 'c': 'complex numbers'}
  return names.get(array.dtype.kind, str(array.dtype))


def _to_bytes_array(name: str, array: np.ndarray) -> np.ndarray:
  if array.dtype.kind == 'S':
    return array.astype(object)
  if array.dtype.kind == 'U':
    return np.vectorize(lambda s: s.encode('utf-8'), otypes=[object])(array) if array.size else (
        array.astype(object))
  if array.dtype.kind == 'O':
    flat = array.reshape(-1)
    out = np.empty(flat.shape, dtype=object)
    for i, item in enumerate(flat):
      if isinstance(item, bytes):
        out[i] = item
      elif isinstance(item, str):
        out[i] = item.encode('utf-8')
      elif isinstance(item, (list, tuple)):
        raise RequestError(f'input {name!r} has rows of different lengths (a ragged value); '
                           'send one rectangular array per input.')
      else:
        raise RequestError(f'input {name!r} must be DT_STRING (bytes or text), got a value of '
                           f'type {type(item).__name__} at flat position {i}.')
    return out.reshape(array.shape)
  raise RequestError(f'input {name!r} must be DT_STRING (bytes or text), got '
                     f'{_describe_dtype(array)}.')


def _format_shape(shape: Sequence[int]) -> str:
  return '[' + ', '.join('batch' if d == -1 else str(d) for d in shape) + ']'


def _is_batched(info: signatures_lib.TensorInfo) -> bool:
  return info.shape is not None and len(info.shape) >= 1 and info.shape[0] == -1


def validate_inputs(signature: signatures_lib.SignatureSpec,
                    inputs: Mapping[str, Any],
                    max_batch_size: Optional[int] = None,
                    max_k: Optional[int] = None) -> Tuple[Dict[str, np.ndarray], int]:
  """Checks and converts the inputs of one request for `signature`.

  Returns:
    (arrays with the signature dtypes, batch size).

  Raises:
    RequestError: An input is unknown or missing, has the wrong dtype or shape, the batched
      inputs disagree on the batch size, the batch is empty or larger than `max_batch_size`,
      or `k` is not an integer in [1, max_k].
  """
  unknown = sorted(set(inputs) - set(signature.inputs))
  if unknown:
    raise RequestError(f'unknown input {unknown[0]!r} for signature {signature.name!r}; its '
                       f'inputs are {sorted(signature.inputs)}.')
  missing = sorted(set(signature.inputs) - set(inputs))
  if missing:
    raise RequestError(f'missing input {missing[0]!r} for signature {signature.name!r}; its '
                       f'inputs are {sorted(signature.inputs)}.')

  arrays = {}
  batch_sizes = {}
  for name in sorted(signature.inputs):
    info = signature.inputs[name]
    array = convert_input(name, inputs[name], info)
    if info.shape is not None:
      if array.ndim != len(info.shape) or any(
          want != -1 and got != want for got, want in zip(array.shape, info.shape)):
        raise RequestError(f'input {name!r} has shape {list(array.shape)}, signature '
                           f'{signature.name!r} expects {_format_shape(info.shape)}.')
    if _is_batched(info):
      batch_sizes[name] = array.shape[0]
    arrays[name] = array

  if len(set(batch_sizes.values())) > 1:
    raise RequestError(f'inputs have different batch sizes {batch_sizes}; every batched input '
                       'of a request must have the same first dimension.')
  batch_size = next(iter(batch_sizes.values()), 1)
  if batch_sizes and batch_size == 0:
    raise RequestError(f'the request for signature {signature.name!r} has an empty batch; send '
                       'at least one example.')
  if max_batch_size is not None and batch_size > max_batch_size:
    raise RequestError(f'batch size {batch_size} exceeds the limit of {max_batch_size} '
                       'examples per request; split the batch.')

  if TOP_K_INPUT in arrays and signature.inputs[TOP_K_INPUT].shape == ():
    _check_k(arrays[TOP_K_INPUT], max_k)
  return arrays, batch_size


def _check_k(k: np.ndarray, max_k: Optional[int]) -> None:
  value = int(k)
  if value < 1:
    raise RequestError(f'k must be at least 1, got {value}.')
  if max_k is not None and value > max_k:
    raise RequestError(f'k {value} exceeds the limit of {max_k}.')


def _examples_input(signature: signatures_lib.SignatureSpec) -> str:
  candidates = [name for name, info in signature.inputs.items()
                if info.dtype == 'DT_STRING' and _is_batched(info)]
  others = [name for name in signature.inputs if name not in candidates and name != TOP_K_INPUT]
  if len(candidates) != 1 or others:
    raise RequestError(f'signature {signature.name!r} does not take serialized examples (its '
                       f'inputs are {sorted(signature.inputs)}); pass features instead.')
  return candidates[0]


def _serialize_examples(examples: Sequence[Any]) -> List[bytes]:
  serialized = []
  for i, example in enumerate(examples):
    if isinstance(example, bytes):
      serialized.append(example)
    elif hasattr(example, 'SerializeToString'):
      serialized.append(example.SerializeToString())
    else:
      raise RequestError(f'example {i} is a {type(example).__name__}; pass tf.train.Example '
                         'protos or their serialized bytes.')
  return serialized


def _expand_trailing_unit_dim(value: Any, info: signatures_lib.TensorInfo) -> Any:
  """Lets callers send [batch] values for a [batch, 1] input, a common shape of raw ids."""
  if info.shape is None or len(info.shape) != 2 or info.shape[1] != 1:
    return value
  array = np.asarray(value) if not isinstance(value, np.ndarray) else value
  return array.reshape(-1, 1) if array.ndim == 1 else value


def build_request(signature: signatures_lib.SignatureSpec,
                  model_name: str,
                  features: Optional[Mapping[str, Any]] = None,
                  examples: Optional[Sequence[Any]] = None,
                  k: Optional[int] = None,
                  version: Optional[int] = None,
                  max_batch_size: Optional[int] = None,
                  max_k: Optional[int] = None) -> PredictRequest:
  """Builds a validated PredictRequest from feature values or tf.Example protos.

  Args:
    signature: The signature to call (see `serving.signatures`).
    model_name: Served model name.
    features: Input name -> values (lists or arrays). A [batch] value is accepted for an input
      of shape [batch, 1].
    examples: tf.train.Example protos or serialized bytes, for a signature whose only batched
      input is a string tensor (the `examples` input of `serving_default`).
    k: List length of a top-k signature (its scalar input `k`).
    version: Model version; None requests the latest.
    max_batch_size: Largest accepted batch; None sets no limit.
    max_k: Largest accepted k; None sets no limit.

  Raises:
    RequestError: The request does not fit the signature (see `validate_inputs`).
  """
  if (features is None) == (examples is None):
    raise RequestError('pass either features or examples (exactly one of them).')
  if not model_name:
    raise RequestError('model_name is empty.')
  if version is not None and int(version) < 0:
    raise RequestError(f'model version must be non-negative, got {version}.')

  if examples is not None:
    inputs: Dict[str, Any] = {_examples_input(signature): np.array(
        _serialize_examples(list(examples)), dtype=object)}
  else:
    inputs = {}
    for name, value in features.items():
      info = signature.inputs.get(name)
      inputs[name] = _expand_trailing_unit_dim(value, info) if info is not None else value

  if k is not None:
    if TOP_K_INPUT not in signature.inputs:
      raise RequestError(f'signature {signature.name!r} has no input {TOP_K_INPUT!r}; k applies '
                         'to top-k signatures only.')
    if TOP_K_INPUT in inputs:
      raise RequestError('k is given twice: as an argument and as a feature.')
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
      raise RequestError(f'k must be an integer, got {k!r}.')
    inputs[TOP_K_INPUT] = k

  arrays, batch_size = validate_inputs(signature, inputs, max_batch_size, max_k)
  return PredictRequest(model_name=model_name, signature_name=signature.name, inputs=arrays,
                        batch_size=batch_size, version=None if version is None else int(version))


# ---------------------------------------------------------------------------------------------
# REST (JSON) encoding.


def _to_json_value(array: np.ndarray) -> Any:
  if array.dtype.kind == 'O':
    return _bytes_to_json(array.tolist())
  return array.tolist()


def _bytes_to_json(value: Any) -> Any:
  if isinstance(value, list):
    return [_bytes_to_json(v) for v in value]
  if isinstance(value, bytes):
    return {'b64': base64.b64encode(value).decode('ascii')}
  return value


def _from_json_value(name: str, value: Any) -> Any:
  """Decodes `{"b64": ...}` objects to bytes, recursively."""
  if isinstance(value, list):
    return [_from_json_value(name, v) for v in value]
  if isinstance(value, dict):
    if set(value) != {'b64'} or not isinstance(value['b64'], str):
      raise RequestError(f'input {name!r} contains the object {json.dumps(value)[:80]}; the '
                         'only object allowed inside a value is {"b64": base64 text}.')
    try:
      return base64.b64decode(value['b64'], validate=True)
    except ValueError as error:
      raise RequestError(f'input {name!r} has invalid base64 text in a "b64" object: '
                         f'{error}.') from None
  return value


def encode_rest_body(request: PredictRequest, request_format: str = COLUMNAR) -> Dict[str, Any]:
  """Builds the JSON body of `POST /v1/models/NAME[/versions/V]:predict`.

  The row format needs every input to be batched, so it cannot send the scalar `k` of a top-k
  signature; use the columnar format there.
  """
  if request_format not in REQUEST_FORMATS:
    raise RequestError(f'request format must be one of {REQUEST_FORMATS}, got '
                       f'{request_format!r}.')
  body: Dict[str, Any] = {'signature_name': request.signature_name}
  if request_format == COLUMNAR:
    body['inputs'] = {name: _to_json_value(array) for name, array in request.inputs.items()}
    return body

  scalars = [name for name, array in request.inputs.items() if array.ndim == 0]
  if scalars:
    raise RequestError(f'the row ("instances") format needs batched inputs, but {scalars} are '
                       'scalars; use the columnar ("inputs") format.')
  columns = {name: _to_json_value(array) for name, array in request.inputs.items()}
  body['instances'] = [{name: values[i] for name, values in columns.items()}
                       for i in range(request.batch_size)]
  return body


def decode_rest_body(body: bytes, signatures: Mapping[str, signatures_lib.SignatureSpec]
                     ) -> Tuple[signatures_lib.SignatureSpec, Dict[str, Any], str]:
  """Parses a REST predict body into (signature, raw input values, request format).

  The values still need `validate_inputs`. A signature with one input also accepts the unnamed
  forms `{"inputs": values}` and `{"instances": [value, ...]}`, as TF Serving does.

  Raises:
    RequestError: The body is not JSON, not an object, has neither or both of `inputs` and
      `instances`, names an unknown signature, or has inconsistent instances.
  """
  try:
    payload = json.loads(body.decode('utf-8') if isinstance(body, bytes) else body)
  except (UnicodeDecodeError, json.JSONDecodeError) as error:
    raise RequestError(f'the request body is not valid JSON: {error}.') from None
  if not isinstance(payload, dict):
    raise RequestError(f'the request body must be a JSON object, got {type(payload).__name__}.')

  signature_name = payload.get('signature_name') or DEFAULT_SIGNATURE
  if not isinstance(signature_name, str):
    raise RequestError(f'signature_name must be a string, got {signature_name!r}.')
  signature = signatures.get(signature_name)
  if signature is None:
    raise RequestError(f'Serving signature name: "{signature_name}" not found in signature def; '
                       f'the model has {sorted(s for s in signatures)}.')

  has_inputs = 'inputs' in payload
  has_instances = 'instances' in payload
  if has_inputs == has_instances:
    raise RequestError('the request body must contain exactly one of "inputs" (columnar '
                       'format) and "instances" (row format).')
  if has_inputs:
    return signature, _decode_columnar(payload['inputs'], signature), COLUMNAR
  return signature, _decode_rows(payload['instances'], signature), ROW


def _single_input_name(signature: signatures_lib.SignatureSpec, form: str) -> str:
  if len(signature.inputs) != 1:
    raise RequestError(f'{form} without input names needs a signature with one input; '
                       f'{signature.name!r} has {sorted(signature.inputs)}.')
  return next(iter(signature.inputs))


def _decode_columnar(inputs: Any, signature: signatures_lib.SignatureSpec) -> Dict[str, Any]:
  if isinstance(inputs, dict) and not set(inputs) <= {'b64'}:
    return {name: _from_json_value(name, value) for name, value in inputs.items()}
  name = _single_input_name(signature, '"inputs"')
  return {name: _from_json_value(name, inputs)}


def _decode_rows(instances: Any, signature: signatures_lib.SignatureSpec) -> Dict[str, Any]:
  if not isinstance(instances, list) or not instances:
    raise RequestError('"instances" must be a non-empty list.')
  named = [isinstance(i, dict) and not set(i) <= {'b64'} for i in instances]
  if any(named) and not all(named):
    raise RequestError('"instances" mixes objects with input names and bare values.')
  if not named[0]:
    name = _single_input_name(signature, '"instances"')
    return {name: [_from_json_value(name, value) for value in instances]}

  keys = set(instances[0])
  columns: Dict[str, List[Any]] = {key: [] for key in keys}
  for i, instance in enumerate(instances):
    if set(instance) != keys:
      raise RequestError(f'instance {i} has inputs {sorted(instance)}, instance 0 has '
                         f'{sorted(keys)}; every instance needs the same inputs.')
    for key in keys:
      columns[key].append(_from_json_value(key, instance[key]))
  return columns


def encode_rest_response(outputs: Mapping[str, np.ndarray], request_format: str) -> Dict[str, Any]:
  """Builds the JSON response of a predict call in the format of the request."""
  values = {name: _to_json_value(np.asarray(array)) for name, array in outputs.items()}
  if request_format == COLUMNAR:
    if len(values) == 1:
      return {'outputs': next(iter(values.values()))}
    return {'outputs': values}
  batch = len(next(iter(values.values())))
  if len(values) == 1:
    return {'predictions': next(iter(values.values()))}
  return {'predictions': [{name: column[i] for name, column in values.items()}
                          for i in range(batch)]}


def decode_rest_response(payload: Any, signature: signatures_lib.SignatureSpec
                         ) -> Dict[str, np.ndarray]:
  """Converts a REST predict response to {output name: array with the signature dtype}.

  Raises:
    ServingError: The response is an error or has neither `outputs` nor `predictions`.
  """
  if not isinstance(payload, dict):
    raise ServingError(f'unexpected predict response {str(payload)[:200]!r}.')
  if 'error' in payload:
    raise ServingError(str(payload['error']))
  names = sorted(signature.outputs)
  if 'outputs' in payload:
    outputs = payload['outputs']
    if not isinstance(outputs, dict) or (len(names) == 1 and names[0] not in outputs):
      outputs = {names[0]: outputs}
  elif 'predictions' in payload:
    rows = payload['predictions']
    if rows and isinstance(rows[0], dict) and not set(rows[0]) <= {'b64'}:
      outputs = {name: [row[name] for row in rows] for name in rows[0]}
    else:
      outputs = {names[0]: rows}
  else:
    raise ServingError(f'predict response has neither "outputs" nor "predictions": '
                       f'{str(payload)[:200]!r}.')

  arrays = {}
  for name, value in outputs.items():
    info = signature.outputs.get(name)
    decoded = _from_json_value(name, value)
    if info is not None and info.dtype != 'DT_STRING':
      arrays[name] = np.asarray(decoded, dtype=numpy_dtype(info.dtype))
    else:
      arrays[name] = np.asarray(decoded, dtype=object if info is not None else None)
  return arrays


# ---------------------------------------------------------------------------------------------
# gRPC (protobuf) encoding.


def encode_grpc_request(request: PredictRequest):
  """Builds a `tensorflow.serving.PredictRequest` proto."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel

  proto = predict_pb2.PredictRequest()
  proto.model_spec.name = request.model_name
  proto.model_spec.signature_name = request.signature_name
  if request.version is not None:
    proto.model_spec.version.value = request.version
  for name, array in request.inputs.items():
    proto.inputs[name].CopyFrom(tf.make_tensor_proto(array))
  return proto


def decode_grpc_request(proto, signatures: Mapping[str, signatures_lib.SignatureSpec],
                        max_elements: int = DEFAULT_MAX_TENSOR_ELEMENTS
                        ) -> Tuple[signatures_lib.SignatureSpec, Dict[str, np.ndarray]]:
  """Converts a PredictRequest proto into (signature, arrays); dtypes must match exactly.

  A TensorProto with a few values and a large shape expands to the full shape in memory, so
  tensors with more than `max_elements` elements are rejected before conversion.

  Raises:
    RequestError: Unknown signature, a tensor whose dtype differs from the signature's, or a
      tensor proto whose content does not match its shape.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow.core.framework import types_pb2  # pylint: disable=import-outside-toplevel

  signature_name = proto.model_spec.signature_name or DEFAULT_SIGNATURE
  signature = signatures.get(signature_name)
  if signature is None:
    raise RequestError(f'Serving signature name: "{signature_name}" not found in signature def; '
                       f'the model has {sorted(signatures)}.')
  arrays = {}
  for name, tensor in proto.inputs.items():
    info = signature.inputs.get(name)
    try:
      dtype = types_pb2.DataType.Name(tensor.dtype)
    except ValueError:
      dtype = f'unknown dtype enum {tensor.dtype}'
    if info is not None and dtype != info.dtype:
      raise RequestError(f'input {name!r} is {dtype}, signature {signature.name!r} expects '
                         f'{info.dtype}.')
    dims = [d.size for d in tensor.tensor_shape.dim]
    if any(d < 0 for d in dims) or int(np.prod(dims, dtype=np.float64)) > max_elements:
      raise RequestError(f'input {name!r} has shape {dims}; sizes must be non-negative and the '
                         f'tensor at most {max_elements} elements.')
    try:
      arrays[name] = tf.make_ndarray(tensor)
    except (TypeError, ValueError) as error:
      raise RequestError(f'input {name!r} is not a valid TensorProto: {error}.') from None
  return signature, arrays


def encode_grpc_response(outputs: Mapping[str, np.ndarray], model_name: str, version: int,
                         signature_name: str):
  """Builds a `tensorflow.serving.PredictResponse` proto."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel

  proto = predict_pb2.PredictResponse()
  proto.model_spec.name = model_name
  proto.model_spec.version.value = version
  proto.model_spec.signature_name = signature_name
  for name, array in outputs.items():
    proto.outputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(array)))
  return proto


def decode_grpc_response(proto) -> Dict[str, np.ndarray]:
  """Converts a PredictResponse proto to {output name: array}."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  return {name: tf.make_ndarray(tensor) for name, tensor in proto.outputs.items()}
