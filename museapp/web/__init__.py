"""The person's side of the wire: the chat pages and their WebSocket. Thin:
it parses, checks ownership (museapp/chat/access.py), hands work to
museapp/turns, and renders frames from the same partial templates as the
pages."""
