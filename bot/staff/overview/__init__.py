"""The console's overview ("Vue d'ensemble"): what a team lead looks at each morning.

::

    topics.py   which intents are topics (small talk is left out)
    metrics.py  the figures of a period, read from the conversation index and the validation queue
    charts.py   the geometry of the SVG charts (``staff/overview_charts.html`` draws them)

Nothing here imports the web layer. The flows the index follows (form that starts one,
response that ends it) are in ``bot.staff.transcripts.flows``, next to the index that records them.
"""
