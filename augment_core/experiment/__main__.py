"""``python -m augment_core.experiment`` - see :mod:`augment_core.experiment.cli`."""

import sys

from augment_core.experiment.cli import main

sys.exit(main())
