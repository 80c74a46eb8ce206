"""Discord helpers shared by the cogs (answers, access, autocomplete, notices, Events).
Not an extension: the loader skips packages whose name starts with an underscore."""
