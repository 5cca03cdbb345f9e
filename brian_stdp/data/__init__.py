"""Images in: datasets as uint8 arrays, image files, and the encoders that turn pixels into
the input layer's drive.

- :mod:`~brian_stdp.data.datasets`: MNIST, Fashion-MNIST, scikit-learn digits; training-image
  selections.
- :mod:`~brian_stdp.data.images`: image files and arrays as network input.
- :mod:`~brian_stdp.data.encoding`: pixels to input rates (the model file's ``[input]``).
"""
