"""Images in: datasets as uint8 arrays, image files, and the encoders that turn pixels into
the input layer's drive.

- :mod:`~brian_stdp.data.datasets`: MNIST, Fashion-MNIST, scikit-learn digits as uint8 arrays;
  training-image selections.
- :mod:`~brian_stdp.data.sources`: where each dataset's files are looked for; MNIST's download.
- :mod:`~brian_stdp.data.formats`: idx files and the Keras ``mnist.npz``, read and written.
- :mod:`~brian_stdp.data.images`: image files and arrays as network input.
- :mod:`~brian_stdp.data.encoding`: pixels to input rates (the model file's ``[input]``).
"""
