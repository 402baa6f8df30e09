"""`python -m hwsim.cli`."""

import sys

from hwsim.cli import main

sys.exit(main())
