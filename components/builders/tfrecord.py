"""TFRecord files of serialized tf.Example, written without TensorFlow.

A TFRecord file is a sequence of records, each framed as

  uint64 length (little-endian) | uint32 masked CRC-32C of the length | data | uint32 masked
  CRC-32C of the data

where masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2**32).

`encode_records` serializes feature columns with tfx_bsl's RecordBatchToExamplesEncoder and
frames them. `tf.data.TFRecordDataset` reads the result (gzip-compressed by the caller).
"""

import struct
from typing import Any, List, Mapping, Sequence

import google_crc32c
import numpy as np

from components.builders import tfexample

MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes) -> int:
  crc = google_crc32c.value(data)
  return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def _mask_crcs(crcs: np.ndarray) -> np.ndarray:
  crcs = crcs.astype(np.uint32)
  return ((crcs >> np.uint32(15)) | (crcs << np.uint32(17))) + np.uint32(MASK_DELTA)


def frame_records(records: Sequence[bytes]) -> bytes:
  """Frames serialized records in the TFRecord format.

  Each record costs one C call for its CRC-32C. Records of equal length share their header,
  and list slice assignments interleave the pieces without a Python loop.
  """
  count = len(records)
  if count == 0:
    return b''
  lengths = list(map(len, records))
  headers = {}
  for length in set(lengths):
    packed = struct.pack('<Q', length)
    headers[length] = packed + struct.pack('<I', masked_crc32c(packed))
  crcs = np.fromiter(map(google_crc32c.value, records), dtype=np.uint32, count=count)
  footer_bytes = _mask_crcs(crcs).astype('<u4').tobytes()
  parts = [b''] * (3 * count)
  parts[0::3] = [headers[length] for length in lengths]
  parts[1::3] = records
  parts[2::3] = [footer_bytes[i:i + 4] for i in range(0, 4 * count, 4)]
  return b''.join(parts)


def encode_records(columns: Mapping[str, Any]) -> bytes:
  """Serializes one tf.Example per row of `columns` (tfx_bsl) and returns them framed."""
  if not columns:
    return b''
  return frame_records(tfexample.encode_examples(columns))


def read_records(data: bytes) -> List[bytes]:
  """Splits uncompressed TFRecord bytes into records, checking both CRCs (for tests)."""
  records = []
  position = 0
  while position < len(data):
    header = data[position:position + 8]
    (length,) = struct.unpack('<Q', header)
    (header_crc,) = struct.unpack('<I', data[position + 8:position + 12])
    if header_crc != masked_crc32c(header):
      raise ValueError(f'Corrupt TFRecord length at byte {position}.')
    record = data[position + 12:position + 12 + length]
    (data_crc,) = struct.unpack('<I', data[position + 12 + length:position + 16 + length])
    if data_crc != masked_crc32c(record):
      raise ValueError(f'Corrupt TFRecord data at byte {position}.')
    records.append(record)
    position += 16 + length
  return records
