"""`tenrec benchmark`: several models over several seeds, with mean ± std tables.

The command (`pipeline/commands/benchmark.py`) adds the options shared by every task
(`common.add_shared_arguments`) and those of every task module listed in `TASK_MODULES`, then
hands the parsed arguments to the module of `--task`. A task module provides:

  TASKS                     the `--task` values it handles, for example ('sbr',)
  add_arguments(parser)     its own options. Their flags must not clash with another task
                            module's, except flags of the shared `pipeline.commands.common_args`
                            groups, which the benchmark parser resolves to one option.
  run(args, command)        runs the benchmark, writes the report with `common.write_report`
                            and returns the `common.BenchmarkReport`
"""

import importlib
from types import ModuleType
from typing import Dict

# Benchmark task -> module that runs it.
TASK_MODULES = {
    'sbr': 'pipeline.benchmark.sbr',
    'ctr': 'pipeline.benchmark.ctr',
    'mtl': 'pipeline.benchmark.ctr',
}


def available_modules() -> Dict[str, ModuleType]:
  """Imports the task modules and returns {task: module}."""
  return {task: importlib.import_module(name) for task, name in TASK_MODULES.items()}
