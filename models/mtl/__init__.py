"""Multi-task models. Importing this package registers every model in models.registry."""

from models.mtl import esmm  # pylint: disable=unused-import
from models.mtl import mmoe  # pylint: disable=unused-import
from models.mtl import ple  # pylint: disable=unused-import
from models.mtl import single_task  # pylint: disable=unused-import
