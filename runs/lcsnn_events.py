"""Synapses and expected input-to-excitatory synaptic events per image of the LC-SNN and
Diehl & Cook networks (runs/README.md, "LC-SNN"):

    BRIAN_STDP_DATA=DIR python runs/lcsnn_events.py

Events of an image's first presentation, in expectation: the sum over pixels of the pixel's
Poisson rate (pixel x rate_scale x intensity_start) x t_present x the pixel's number of
input synapses, averaged over the first 10,000 MNIST training images.
"""

import gzip
import os
from pathlib import Path

import numpy as np

from brian_stdp.backends.network import group_sizes, model_synapse_pairs
from brian_stdp.model.spec import load_model

NETWORKS = [("lc_snn", 900), ("lc_snn_k16", 900), ("lc_snn", 2250), ("lc_snn_k16", 2250),
            ("diehl_cook_2015", 400), ("diehl_cook_2015", 1600)]

path = Path(os.environ["BRIAN_STDP_DATA"]) / "train-images-idx3-ubyte.gz"
with gzip.open(path) as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:10000]
for model, neurons in NETWORKS:
    spec = load_model(model)
    proto = spec.protocol
    sizes = group_sizes(spec, neurons, 784)
    counts = {name: len(model_synapse_pairs(spec, name, sizes)[0]) for name in spec.synapses}
    pre, _ = model_synapse_pairs(spec, "inp_exc", sizes)
    fan_out = np.bincount(pre, minlength=784)
    spikes = images * float(proto.rate_scale) * proto.intensity_start * float(proto.t_present)
    print(f"{model} {neurons} neurons: synapses {counts}, input spikes per image "
          f"{spikes.sum(1).mean():,.0f}, input events per image {(spikes @ fan_out).mean():,.0f}")
