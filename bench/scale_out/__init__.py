"""Issue 12's benchmark (``make bench-scale-out``): does a second Rasa server behind nginx pay?

The embedded default and the production topology with one and with two Rasa servers run side
by side in one run and are measured interleaved; the report gives the ratios reached and, from
each process's CPU seconds, what limits them (``python -m bench.scale_out --help``).
"""
