"""``python -m brian_stdp.ann``: see :mod:`brian_stdp.ann.cli`."""

import sys

from brian_stdp.ann.cli import main

sys.exit(main())
