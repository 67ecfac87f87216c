"""Turns: a person's message and the answer it starts. Above chat and
agents: starting, retrying and stopping a turn, and handing its model calls
to the workers, with a quick answer and a contemplation behind one
interface (``TurnRun``)."""
