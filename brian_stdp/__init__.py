"""brian_stdp: unsupervised STDP-trained spiking networks on images, built on Brian2."""

__version__ = "0.1.0"
