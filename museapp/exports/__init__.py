"""Taking one's data out: a conversation as Markdown or JSON, everything of
a person's as one streamed JSON file, and a conversation's JSON imported
back. Sits at the top of the layers, beside evals: it reads chat, agents
and feedback alike."""
