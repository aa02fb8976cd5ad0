import os

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
