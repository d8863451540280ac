"""Sub-commands of the `tenrec` command line, one module each."""
