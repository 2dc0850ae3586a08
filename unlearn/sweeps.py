"""`python -m unlearn.sweeps`: the command's short name; code in unlearn/experiment/sweeps.py."""

import sys

from unlearn.experiment.sweeps import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
