import sys

from imgloop.cli import main

sys.exit(main())
