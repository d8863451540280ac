"""Evaluates the selected checkpoint of an SBR training run on the validation and test splits.

A run of `models.trainers.sbr.train_and_evaluate` (directly, through `tenrec benchmark --task
sbr --no-through-pipeline` or inside the TFX Trainer) saves the weights of its best validation
epoch to `<run>/checkpoints/best` whenever they improve, beside `model_config.json`. When a long
run is stopped before early stopping ends it, this script still gives the test metrics of the
epoch that validation selected so far, with the same full-ranking evaluator (pessimistic ties,
mean over users) as a finished run.

  python benchmarks/sbr_evaluate_checkpoint.py --run-dir RUN --examples SBR_DIR \
      --output RUN/checkpoint_metrics.json

The JSON records the run folder, the dataset, the checkpoint's file time and both splits'
metrics. The log of the run names the epoch that wrote the checkpoint.
"""

import argparse
import datetime
import json
import logging
import os
import sys
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# Runs as a script from the repository root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.trainers import sbr  # pylint: disable=wrong-import-position
from models.trainers import sbr_data  # pylint: disable=wrong-import-position
from models.trainers import sbr_evaluation  # pylint: disable=wrong-import-position


def evaluate(run_dir: str, examples_dir: str, ks, readout: str) -> dict:
  """Returns the validation and test metrics of the run's selected checkpoint."""
  dataset = sbr_data.load_sbr_dataset(examples_dir)
  model = sbr.load_trained_model(run_dir)
  batch_size = sbr_evaluation.default_eval_batch_size(dataset.num_items)

  result = {'run_dir': os.path.abspath(run_dir), 'examples': os.path.abspath(examples_dir),
            'num_items': dataset.num_items, 'readout': readout, 'ks': list(ks),
            'protocol': 'full ranking over all items, pessimistic ties, mean over users, '
                        'no masking of seen items'}
  checkpoint = os.path.join(run_dir, 'checkpoints', 'best.index')
  result['checkpoint_written'] = datetime.datetime.fromtimestamp(
      os.path.getmtime(checkpoint), datetime.timezone.utc).isoformat(timespec='seconds')

  for name, split in (('validation', dataset.eval), ('test', dataset.test)):
    started = time.perf_counter()
    evaluator = sbr_evaluation.RankingEvaluator(model, split, readout, ks, batch_size)
    metrics, _ = evaluator.evaluate()
    result[name] = {'users': split.num_users, 'metrics': metrics,
                    'seconds': time.perf_counter() - started}
    logging.info('%s (%d users): %s', name, split.num_users,
                 ', '.join(f'{key} {value:.4f}' for key, value in sorted(metrics.items())))
  return result


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--run-dir', required=True,
                      help='Output folder of the run (model_config.json, checkpoints/).')
  parser.add_argument('--examples', required=True,
                      help='The SBR dataset the run trained on (Split-*/, item_vocabulary.txt).')
  parser.add_argument('--ks', default='5,10,20', help='Comma-separated cut-offs k of HR@k and NDCG@k (default: 5,10,20).')
  parser.add_argument('--readout', default='last',
                      help='Score read-out, as in `tenrec run --task sbr --readout` (default: last).')
  parser.add_argument('--output', required=True, help='Path of the JSON file to write (overwritten).')
  args = parser.parse_args(argv)
  logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(message)s')

  ks = [int(k) for k in args.ks.split(',')]
  result = evaluate(args.run_dir, args.examples, ks, args.readout)
  with open(args.output, 'w', encoding='utf-8') as handle:
    json.dump(result, handle, indent=2, sort_keys=True)
  logging.info('Wrote %s.', args.output)
  return 0


if __name__ == '__main__':
  sys.exit(main())
