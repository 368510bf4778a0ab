"""Issue 11's benchmark (``make bench``): the tenant's flows against a bare ``rasa init`` bot.

Both servers run side by side in one run and are measured interleaved, so the machine's speed
at the moment weighs on both the same way (``python -m bench.speed --help``).
"""
