"""Streams: one run of model output shown live on a page (an answer, or one
agent's draft), from the model call to the frames the web process forwards.

Below chat and agents: imports only museapp.llm, museapp.ops, Django,
Channels and Redis. A token's path through here: ``run.run_stream`` reads
the llm adapter, ``publisher`` records each frame's text (``livetext``) and
sends it to the conversation's group as an ``events.Tokens``; ``stopping``,
``leases`` and ``reaper`` make sure a run ends exactly once, whatever dies.
"""
