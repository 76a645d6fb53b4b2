import sys

from proclient.cli import main

sys.exit(main())
