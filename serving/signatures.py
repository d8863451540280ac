"""SavedModel signature descriptions, checks against an expected schema, and reload checks.

A `SignatureSpec` describes one SignatureDef: input and output names, dtypes (TensorFlow enum
names such as `DT_INT64`) and shapes (-1 for an unknown dimension, None for an unknown rank).
The same description is built from every place a signature can come from:

* the `saved_model.pb` file (`read_signature_defs`), as `saved_model_cli show --all` does;
* a `SignatureDefMap` proto (gRPC `GetModelMetadata`) or its JSON form (REST `/metadata`);
* a SavedModel loaded in a fresh Python process (`describe_saved_model`), which also proves that
  the export loads with TensorFlow alone, without this project's Keras classes.

Example:

  described = describe_saved_model('/models/ctr_deepfm/1')
  problems = compare_signatures(described, expected_ctr_signatures(['click']))
  assert not problems, problems
  print(format_signatures(described))
"""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from google.protobuf import json_format
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import get_model_metadata_pb2

SERVE_TAG = 'serve'
PREDICT_METHOD = 'tensorflow/serving/predict'
# Signature that TensorFlow adds to every TF2 SavedModel to run table initialisers. It takes no
# inputs, so TF Serving cannot run it as a predict signature.
INIT_OP_SIGNATURE = '__saved_model_init_op'

Shape = Optional[Tuple[int, ...]]


@dataclasses.dataclass(frozen=True)
class TensorInfo:
  """One input or output of a signature.

  Attributes:
    dtype: TensorFlow dtype enum name, for example 'DT_INT64'.
    shape: Dimensions with -1 for unknown sizes, or None for an unknown rank.
    tensor_name: Graph tensor name (empty for expected schemas).
  """

  dtype: str
  shape: Shape
  tensor_name: str = ''

  @property
  def rank(self) -> Optional[int]:
    return None if self.shape is None else len(self.shape)

  def to_dict(self) -> Dict[str, object]:
    return {'dtype': self.dtype, 'shape': None if self.shape is None else list(self.shape),
            'name': self.tensor_name}

  @classmethod
  def from_dict(cls, values: Mapping[str, object]) -> 'TensorInfo':
    shape = values.get('shape')
    return cls(dtype=str(values['dtype']),
               shape=None if shape is None else tuple(int(d) for d in shape),
               tensor_name=str(values.get('name', '')))


@dataclasses.dataclass(frozen=True)
class SignatureSpec:
  """Inputs and outputs of one SignatureDef, keyed by their signature names."""

  name: str
  inputs: Mapping[str, TensorInfo]
  outputs: Mapping[str, TensorInfo]
  method_name: str = PREDICT_METHOD

  def to_dict(self) -> Dict[str, object]:
    return {'inputs': {k: v.to_dict() for k, v in sorted(self.inputs.items())},
            'outputs': {k: v.to_dict() for k, v in sorted(self.outputs.items())},
            'method_name': self.method_name}

  @classmethod
  def from_dict(cls, name: str, values: Mapping[str, object]) -> 'SignatureSpec':
    return cls(name=name,
               inputs={k: TensorInfo.from_dict(v) for k, v in values['inputs'].items()},
               outputs={k: TensorInfo.from_dict(v) for k, v in values['outputs'].items()},
               method_name=str(values.get('method_name', '')))


def _tensor_info_from_proto(proto: meta_graph_pb2.TensorInfo) -> TensorInfo:
  if proto.tensor_shape.unknown_rank:
    shape = None
  else:
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
  return TensorInfo(dtype=types_pb2.DataType.Name(proto.dtype), shape=shape,
                    tensor_name=proto.name)


def signature_from_proto(name: str, proto: meta_graph_pb2.SignatureDef) -> SignatureSpec:
  """Converts a SignatureDef proto to a SignatureSpec."""
  return SignatureSpec(
      name=name,
      inputs={k: _tensor_info_from_proto(v) for k, v in proto.inputs.items()},
      outputs={k: _tensor_info_from_proto(v) for k, v in proto.outputs.items()},
      method_name=proto.method_name)


def signatures_from_proto_map(
    signature_defs: Mapping[str, meta_graph_pb2.SignatureDef]) -> Dict[str, SignatureSpec]:
  """Converts a map of SignatureDef protos (a MetaGraphDef's or a SignatureDefMap's)."""
  return {name: signature_from_proto(name, proto) for name, proto in signature_defs.items()}


def signatures_from_metadata_json(metadata: Mapping[str, object]) -> Dict[str, SignatureSpec]:
  """Parses the body of TF Serving's REST `GET /v1/models/NAME/metadata` response.

  Raises:
    ValueError: The body has no `metadata.signature_def` SignatureDefMap.
  """
  try:
    signature_map_json = metadata['metadata']['signature_def']
  except (KeyError, TypeError) as error:
    raise ValueError('Model metadata has no metadata.signature_def field; got keys '
                     f'{sorted(metadata) if isinstance(metadata, Mapping) else metadata!r}.'
                     ) from error
  signature_map = get_model_metadata_pb2.SignatureDefMap()
  json_format.ParseDict(signature_map_json, signature_map, ignore_unknown_fields=True)
  return signatures_from_proto_map(signature_map.signature_def)


def read_meta_graph(export_dir: str, tag: str = SERVE_TAG) -> meta_graph_pb2.MetaGraphDef:
  """Reads the MetaGraphDef with `tag` from `export_dir/saved_model.pb`.

  Raises:
    FileNotFoundError: `export_dir` has no saved_model.pb.
    ValueError: No MetaGraphDef has the tag.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  path = os.path.join(export_dir, 'saved_model.pb')
  if not tf.io.gfile.exists(path):
    raise FileNotFoundError(f'{path} not found: {export_dir} is not a SavedModel folder '
                            '(pass a version folder such as MODEL_BASE_PATH/1).')
  saved_model = saved_model_pb2.SavedModel()
  with tf.io.gfile.GFile(path, 'rb') as f:
    saved_model.ParseFromString(f.read())
  for meta_graph in saved_model.meta_graphs:
    if tag in meta_graph.meta_info_def.tags:
      return meta_graph
  tags = [list(m.meta_info_def.tags) for m in saved_model.meta_graphs]
  raise ValueError(f'{path} has no MetaGraphDef with tag {tag!r}; its tag-sets are {tags}.')


def read_signature_defs(export_dir: str,
                        tag: str = SERVE_TAG) -> Dict[str, meta_graph_pb2.SignatureDef]:
  """Returns the SignatureDef protos of a SavedModel, as TF Serving reads them."""
  return dict(read_meta_graph(export_dir, tag).signature_def)


def read_signatures(export_dir: str, tag: str = SERVE_TAG) -> Dict[str, SignatureSpec]:
  """Returns every SignatureSpec of a SavedModel, read from saved_model.pb in this process."""
  return signatures_from_proto_map(read_signature_defs(export_dir, tag))


# Runs in a fresh interpreter that imports TensorFlow only. It prints one JSON object with the
# SignatureDefs read from saved_model.pb and the signatures that tf.saved_model.load restored.
_DESCRIBE_SCRIPT = textwrap.dedent('''
    import json
    import os
    import sys

    os.environ['TF_USE_LEGACY_KERAS'] = '1'
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    export_dir, tag = sys.argv[1], sys.argv[2]

    def info(proto):
      shape = None if proto.tensor_shape.unknown_rank else [
          int(d.size) for d in proto.tensor_shape.dim]
      return {'dtype': types_pb2.DataType.Name(proto.dtype), 'shape': shape,
              'name': proto.name}

    saved_model = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(os.path.join(export_dir, 'saved_model.pb'), 'rb') as f:
      saved_model.ParseFromString(f.read())
    meta_graphs = [m for m in saved_model.meta_graphs if tag in m.meta_info_def.tags]
    if not meta_graphs:
      sys.exit(f'no MetaGraphDef with tag {tag!r} in {export_dir}')
    signatures = {
        name: {'inputs': {k: info(v) for k, v in s.inputs.items()},
               'outputs': {k: info(v) for k, v in s.outputs.items()},
               'method_name': s.method_name}
        for name, s in meta_graphs[0].signature_def.items()}

    loaded = tf.saved_model.load(export_dir, tags=[tag])
    loaded_signatures = {}
    for name, function in loaded.signatures.items():
      outputs = function.structured_outputs
      loaded_signatures[name] = {
          'inputs': sorted(function.structured_input_signature[1]),
          'outputs': sorted(outputs) if isinstance(outputs, dict) else [],
      }
    print(json.dumps({'signatures': signatures, 'loaded_signatures': loaded_signatures,
                      'tensorflow': tf.__version__}))
''')


@dataclasses.dataclass(frozen=True)
class SavedModelDescription:
  """What a fresh process found in a SavedModel.

  Attributes:
    export_dir: The SavedModel folder.
    signatures: Every SignatureDef of the serving MetaGraphDef, including the init-op one.
    loaded_signatures: {signature: {'inputs': names, 'outputs': names}} of the signatures that
      `tf.saved_model.load` restored as callables.
    tensorflow_version: TensorFlow version of the process that loaded the model.
  """

  export_dir: str
  signatures: Mapping[str, SignatureSpec]
  loaded_signatures: Mapping[str, Mapping[str, Sequence[str]]]
  tensorflow_version: str

  def to_dict(self) -> Dict[str, object]:
    return {'export_dir': self.export_dir,
            'signatures': {k: v.to_dict() for k, v in sorted(self.signatures.items())},
            'loaded_signatures': {k: dict(v) for k, v in sorted(self.loaded_signatures.items())},
            'tensorflow': self.tensorflow_version}


def describe_saved_model(export_dir: str, tag: str = SERVE_TAG,
                         timeout_s: float = 300.0) -> SavedModelDescription:
  """Loads a SavedModel in a fresh Python process and describes its signatures.

  The child process imports TensorFlow and nothing from this project, so a model that needs
  project code to load (an unregistered Keras class, a Python-only function) fails here as it
  would in TF Serving.

  Raises:
    RuntimeError: The child process failed to read or load the SavedModel; the message has the
      end of its error output.
  """
  env = dict(os.environ)
  env['TF_USE_LEGACY_KERAS'] = '1'
  # Run outside the project folder so that `import models` and friends cannot resolve.
  completed = subprocess.run([sys.executable, '-c', _DESCRIBE_SCRIPT, export_dir, tag],
                             capture_output=True, text=True, timeout=timeout_s, env=env,
                             cwd=os.path.dirname(os.path.abspath(export_dir)), check=False)
  if completed.returncode != 0:
    tail = '\n'.join(completed.stderr.strip().splitlines()[-15:])
    raise RuntimeError(f'Loading the SavedModel {export_dir} in a fresh process failed '
                       f'(exit status {completed.returncode}):\n{tail}')
  payload = json.loads(completed.stdout.strip().splitlines()[-1])
  signatures = {name: SignatureSpec.from_dict(name, values)
                for name, values in payload['signatures'].items()}
  return SavedModelDescription(export_dir=export_dir, signatures=signatures,
                               loaded_signatures=payload['loaded_signatures'],
                               tensorflow_version=payload['tensorflow'])


def _format_shape(shape: Shape) -> str:
  if shape is None:
    return 'unknown_rank'
  return '(' + ', '.join(str(d) for d in shape) + ')'


def format_signatures(signatures: Mapping[str, SignatureSpec] | SavedModelDescription,
                      tag: str = SERVE_TAG) -> str:
  """Formats signatures in the layout of `saved_model_cli show --all` (SignatureDef part)."""
  if isinstance(signatures, SavedModelDescription):
    signatures = signatures.signatures
  lines = [f"MetaGraphDef with tag-set: '{tag}' contains the following SignatureDefs:", '']
  for name in sorted(signatures):
    signature = signatures[name]
    lines.append(f"signature_def['{name}']:")
    lines.append('  The given SavedModel SignatureDef contains the following input(s):')
    for key in sorted(signature.inputs):
      lines.extend(_format_tensor('inputs', key, signature.inputs[key]))
    lines.append('  The given SavedModel SignatureDef contains the following output(s):')
    for key in sorted(signature.outputs):
      lines.extend(_format_tensor('outputs', key, signature.outputs[key]))
    lines.append(f'  Method name is: {signature.method_name}')
    lines.append('')
  return '\n'.join(lines).rstrip('\n') + '\n'


def _format_tensor(kind: str, key: str, info: TensorInfo) -> List[str]:
  return [f"    {kind}['{key}'] tensor_info:",
          f'        dtype: {info.dtype}',
          f'        shape: {_format_shape(info.shape)}',
          f'        name: {info.tensor_name}']


def _shape_matches(actual: Shape, expected: Shape) -> bool:
  """True when `actual` fits `expected`; -1 in `expected` accepts any size."""
  if expected is None:
    return True
  if actual is None or len(actual) != len(expected):
    return False
  return all(e == -1 or a == e for a, e in zip(actual, expected))


def compare_signatures(actual: Mapping[str, SignatureSpec] | SavedModelDescription,
                       expected: Mapping[str, SignatureSpec]) -> List[str]:
  """Lists every difference between a model's signatures and an expected schema.

  Each expected signature must exist with exactly the expected input and output names. Dtypes
  must be equal. Shapes must have the expected rank and every expected fixed size, and -1 in
  the expected shape accepts any size. Signatures that are not expected are ignored. When
  `actual` is a SavedModelDescription, expected signatures must also have been restored as
  callables by the fresh process.

  Returns:
    One readable line per problem; an empty list means the model matches.
  """
  loaded = None
  if isinstance(actual, SavedModelDescription):
    loaded = actual.loaded_signatures
    actual = actual.signatures
  problems = []
  for name, want in sorted(expected.items()):
    got = actual.get(name)
    if got is None:
      problems.append(f'signature {name!r} is missing; the model has {sorted(actual)}')
      continue
    if loaded is not None and name not in loaded:
      problems.append(f'signature {name!r} is in saved_model.pb but tf.saved_model.load did '
                      'not restore it')
    for kind, got_tensors, want_tensors in (('input', got.inputs, want.inputs),
                                            ('output', got.outputs, want.outputs)):
      problems.extend(_compare_tensors(name, kind, got_tensors, want_tensors))
    if want.method_name and got.method_name != want.method_name:
      problems.append(f'signature {name!r} has method {got.method_name!r}, expected '
                      f'{want.method_name!r}')
  return problems


def _compare_tensors(signature: str, kind: str, got: Mapping[str, TensorInfo],
                     want: Mapping[str, TensorInfo]) -> List[str]:
  problems = []
  for key in sorted(set(want) - set(got)):
    problems.append(f'signature {signature!r} has no {kind} {key!r}; its {kind}s are '
                    f'{sorted(got)}')
  for key in sorted(set(got) - set(want)):
    problems.append(f'signature {signature!r} has an unexpected {kind} {key!r}')
  for key in sorted(set(got) & set(want)):
    if got[key].dtype != want[key].dtype:
      problems.append(f'{kind} {key!r} of signature {signature!r} is {got[key].dtype}, '
                      f'expected {want[key].dtype}')
    if not _shape_matches(got[key].shape, want[key].shape):
      problems.append(f'{kind} {key!r} of signature {signature!r} has shape '
                      f'{_format_shape(got[key].shape)}, expected '
                      f'{_format_shape(want[key].shape)}')
  return problems


def _spec(name: str, inputs: Mapping[str, Tuple[str, Shape]],
          outputs: Mapping[str, Tuple[str, Shape]]) -> SignatureSpec:
  return SignatureSpec(name=name,
                       inputs={k: TensorInfo(d, s) for k, (d, s) in inputs.items()},
                       outputs={k: TensorInfo(d, s) for k, (d, s) in outputs.items()})


def expected_ctr_signatures(objectives: Iterable[str] = ('click',),
                            scalar_features: Sequence[str] = ('user_id', 'item_id',
                                                              'video_category', 'gender', 'age'),
                            history_feature: str = 'hist_item_ids',
                            history_length: int = 10) -> Dict[str, SignatureSpec]:
  """Expected signatures of a CTR or multi-task export (`serving.export`).

  `serving_default` takes serialized tf.Example protos. `serving_raw` takes the raw int64 ids:
  scalar features as [batch, 1], the shape SchemaGen infers for single-valued features, and
  the history as [batch, history_length]. Each objective is a float32 [batch, 1] probability.
  """
  outputs = {name: ('DT_FLOAT', (-1, 1)) for name in objectives}
  raw_inputs = {name: ('DT_INT64', (-1, 1)) for name in scalar_features}
  raw_inputs[history_feature] = ('DT_INT64', (-1, history_length))
  return {
      'serving_default': _spec('serving_default', {'examples': ('DT_STRING', (-1,))}, outputs),
      'serving_raw': _spec('serving_raw', raw_inputs, outputs),
  }


def expected_sequential_signatures() -> Dict[str, SignatureSpec]:
  """Expected signatures of a sequential export (`models.sequential.export`).

  `serving_default` maps serialized tf.Example protos to `scores` [batch, V + 1]; `top_k`
  maps `item_ids` [batch, L] and a scalar int32 `k` to `item_ids` (int64) and `scores`
  (float32), both [batch, min(k, V)].
  """
  return {
      'serving_default': _spec('serving_default', {'examples': ('DT_STRING', (-1,))},
                               {'scores': ('DT_FLOAT', (-1, -1))}),
      'top_k': _spec('top_k', {'item_ids': ('DT_INT64', (-1, -1)), 'k': ('DT_INT32', ())},
                     {'item_ids': ('DT_INT64', (-1, -1)), 'scores': ('DT_FLOAT', (-1, -1))}),
  }
