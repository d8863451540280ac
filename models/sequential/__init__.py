"""Sequential (session-based) recommenders: GRU4Rec, NextItNet, SASRec, BERT4Rec.

Importing the package registers every model under task 'sbr' in models.registry. The shared
structure (embedding, encoder blocks, head) is in `base`; inputs, training windows and
evaluation read-outs are in `inputs`; SavedModel signatures are in `export`.
"""

from models.sequential import base
from models.sequential import bert4rec
from models.sequential import gru4rec
from models.sequential import inputs
from models.sequential import nextitnet
from models.sequential import sasrec
from models.sequential.base import SequentialRecommender
from models.sequential.bert4rec import BERT4Rec
from models.sequential.gru4rec import GRU4Rec
from models.sequential.nextitnet import NextItNet
from models.sequential.sasrec import SASRec

__all__ = [
    'BERT4Rec',
    'GRU4Rec',
    'NextItNet',
    'SASRec',
    'SequentialRecommender',
    'base',
    'bert4rec',
    'gru4rec',
    'inputs',
    'nextitnet',
    'sasrec',
]
