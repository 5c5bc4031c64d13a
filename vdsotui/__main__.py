import sys

from vdsotui.cli import main

sys.exit(main())
