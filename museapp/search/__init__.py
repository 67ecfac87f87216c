"""Finding a person's conversations by their titles and messages: one
function (services.conversations_search) over PostgreSQL's full-text search
or SQLite's FTS5, whichever the database is."""
