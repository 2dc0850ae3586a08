"""`python -m unlearn.sync`: the command's short name; the code is unlearn/loggers/sync.py."""

import sys

from unlearn.loggers.sync import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
