"""CTR models. Importing this package registers every model in models.registry."""

from models.ctr import afm  # pylint: disable=unused-import
from models.ctr import dcn  # pylint: disable=unused-import
from models.ctr import dcnv2  # pylint: disable=unused-import
from models.ctr import deepfm  # pylint: disable=unused-import
from models.ctr import dien  # pylint: disable=unused-import
from models.ctr import din  # pylint: disable=unused-import
from models.ctr import nfm  # pylint: disable=unused-import
from models.ctr import wide_deep  # pylint: disable=unused-import
from models.ctr import xdeepfm  # pylint: disable=unused-import
