"""The command line: Hydra entry points and callbacks. The only code that knows Hydra."""
