"""The commands of the `kpibot` command line, one module each."""
